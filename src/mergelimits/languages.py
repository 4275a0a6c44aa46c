"""The one place that maps a project language code to its code in every source.

The paper's own scripts mixed `arb`/`ara` and `zho`/`zhos`, so averages silently lost
languages. Here every stage asks this table; a benchmark a language lacks is an explicit
`None` (written `-` in the TSV), never a missing key.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

from . import benchmarks

TABLE = files("mergelimits") / "resources" / "languages.tsv"  # package data

#: Sources that are not benchmarks but still have per-language codes.
OTHER_SOURCES = ("hplt", "hplt_text", "lang2vec")


def sources() -> tuple[str, ...]:
    """Every source with per-language codes: the others and each registered benchmark."""
    return (*OTHER_SOURCES, *benchmarks.BENCHMARKS)


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    family: str
    script: str
    codes: dict[str, str | None]

    def source_code(self, source: str) -> str | None:
        if source not in self.codes:
            raise KeyError(f"unknown source {source!r}; known: {', '.join(sources())}")
        return self.codes[source]

    def has(self, benchmark: str) -> bool:
        return self.source_code(benchmark) is not None


@cache
def table(path: Path = TABLE) -> dict[str, Language]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    langs, known = {}, sources()
    # a benchmark without a column of its own gives its codes in its module (`CODES`)
    given = {b.name: b.codes for b in benchmarks.BENCHMARKS.values() if b.codes is not None}
    for row in rows:
        for name, codes in given.items():
            row.setdefault(name, codes.get(row["lang"], "-"))
        missing = [s for s in known if s not in row]
        if missing:
            raise ValueError(f"{path}: columns missing: {', '.join(missing)}")
        codes = {s: (None if row[s] in ("", "-") else row[s]) for s in known}
        langs[row["lang"]] = Language(row["lang"], row["name"], row["family"], row["script"], codes)
    return langs


def get(code: str) -> Language:
    langs = table()
    if code not in langs:
        raise KeyError(f"unknown language {code!r}; known: {', '.join(langs)}")
    return langs[code]


def available(benchmark: str, codes: list[str]) -> list[str]:
    """The languages of `codes` that `benchmark` covers, in the given order."""
    benchmarks.get(benchmark)
    return [c for c in codes if get(c).has(benchmark)]


def missing(benchmark: str, codes: list[str]) -> list[str]:
    """The languages of `codes` that `benchmark` does not cover: reported, never dropped silently."""
    have = set(available(benchmark, codes))
    return [c for c in codes if c not in have]
