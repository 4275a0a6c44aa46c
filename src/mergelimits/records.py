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


def temp_beside(path: str | Path) -> tuple[Path, Path]:
    """`path`, its directory made, and the hidden sibling to write it through before
    `os.replace(tmp, path)`, so that a killed job leaves no complete-looking file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path, path.with_name(f".{path.name}.tmp")


def write_record(path: str | Path, /, **record) -> None:
    text = json.dumps(record, indent=2, sort_keys=True) + "\n"  # before any file: unserialisable, nothing written
    path, tmp = temp_beside(path)
    tmp.write_text(text)
    os.replace(tmp, path)
