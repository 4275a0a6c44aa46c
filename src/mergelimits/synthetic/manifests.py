"""The hub's real file listings, recorded with where they were seen
(`resources/hub_manifests/*.json`): what the local fixture hub serves, and what the tests hold
the paper config's file patterns against, so that a pattern made up from this project's own
picture of a repository fails here rather than on LUMI.

Each manifest: `repo` (may hold `{code}`), `revision`, `seen` (date), `sources` (the pages
read), `what` (the reading, in words), `complete` (whether `files` is the whole listing),
`files` (data files), and optionally `layout` (the naming rule every listed shard follows),
`folders` (folders seen whose files were not), `main_files` (the repository's other files
seen, where `files` are another branch's or none) and `single_language` (the code of the one
language a repository holds, whose file names then name no language).
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib.resources import files as package_files

DIR = package_files("mergelimits") / "resources" / "hub_manifests"


@cache
def load(name: str) -> dict:
    """One manifest by file stem, e.g. `HPLT--HPLT2.0_cleaned`."""
    return json.loads((DIR / f"{name}.json").read_text(encoding="utf-8"))


def names() -> list[str]:
    return sorted(p.name.removesuffix(".json") for p in DIR.iterdir() if p.name.endswith(".json"))


def layout_regex(layout: str) -> re.Pattern:
    """The naming rule `{folder}/train-{index:05d}-of-{count:05d}.parquet` as a regex."""
    out, pos = "", 0
    for m in re.finditer(r"\{(\w+)(?::0(\d)d)?\}", layout):
        out += re.escape(layout[pos:m.start()])
        out += rf"(?P<{m.group(1)}>[^/]+)" if m.group(2) is None else rf"(?P<{m.group(1)}>\d{{{m.group(2)}}})"
        pos = m.end()
    return re.compile(out + re.escape(layout[pos:]) + r"\Z")


def corpus_shards(code: str, n: int) -> list[str]:
    """The first `n` shards of one language of HPLT 2.0 cleaned, as `main` names them: the
    recorded files of its folder (or of its split folders, `eng_Latn_10`, ...) where the
    listing was seen, otherwise the recorded naming rule in the folder named after the code."""
    m = load("HPLT--HPLT2.0_cleaned")
    folder = re.compile(rf"{re.escape(code)}(_\d+)?/")
    seen = sorted(f for f in m["files"] if folder.match(f))
    if seen:
        return seen[:n]
    return [m["layout"].format(folder=code, index=i, count=n) for i in range(n)]


def checkpoint_weights() -> list[str]:
    """The weight files of an HPLT checkpoint repository (`pytorch_model.bin`)."""
    return [f for f in load("HPLT--hplt2c_checkpoints")["files"] if f.endswith((".bin", ".safetensors"))]


def listing(name: str) -> list[str]:
    """The recorded files of a repository, with the names its recorded `layout` gives each
    recorded `configs` entry (a README's `data_files` rule, or the hub converter's)."""
    m = load(name)
    rule = [m["layout"].format(config=c, split="validation") for c in m.get("configs", [])]
    return sorted(set(m["files"]) | set(rule))


def recorded_files(repo: str, code: str) -> list[str]:
    """The recorded files of one language in a repository: those with `code` as a whole name
    part (`data/arb_Arab.jsonl`, `X-CSQA-ar/...`, not `arb_Latn` nor `arz`); [] when the
    repository or that language was not recorded."""
    name = for_repo(repo)
    if name is None:
        return []
    if "single_language" in load(name):
        return listing(name) if load(name)["single_language"] == code else []
    part = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(code)}(?![A-Za-z0-9_])")
    return [f for f in listing(name) if part.search(f)]


def for_repo(repo: str) -> str | None:
    """The manifest recorded for a repository (`HPLT/hplt2c_{code}_checkpoints` stands for
    each language's), or None."""
    for name in names():
        pattern = load(name)["repo"]
        if re.fullmatch(re.escape(pattern).replace(r"\{code\}", r"[^/]+"), repo):
            return name
    return None
