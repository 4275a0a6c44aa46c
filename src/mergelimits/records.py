"""What made an output (seed, sizes, source commit, config, ...), written beside it as JSON.

One layout for every record: sorted keys, two-space indent, a final newline, so that the
records of two runs compare line by line. Written whole or not at all (a sibling file,
then a rename): a job killed mid-write leaves no record that looks complete. Light on
imports, since the data jobs that write one import little else.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def write_record(path: str | Path, /, **record) -> None:
    path = Path(path)
    text = json.dumps(record, indent=2, sort_keys=True) + "\n"  # before any file: unserialisable, nothing written
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
