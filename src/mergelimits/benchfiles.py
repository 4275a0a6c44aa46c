"""Local benchmark files in the real datasets' schemas: one writer and one reader each.

Both configurations end in the same files, whether generated (tiny study) or fetched
from the hub (paper config), so the readers here, the lm-eval task YAMLs and the scorers
never know which. Every reader checks its columns and names the file when one is missing.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pandas as pd  # at parse time too, where Snakemake has imported it already

from . import benchmarks
from .records import temp_beside


class SchemaError(ValueError):
    pass


def bench_files(bench: str) -> tuple[str, ...]:
    """The file names under results/data/benchmarks/<bench>/lang~<lang>/."""
    return benchmarks.get(bench).files


def write_jsonl(rows: list[dict], path: str | Path) -> None:
    path, tmp = temp_beside(path)
    with open(tmp, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def write_tsv(rows: list[dict], path: str | Path) -> None:
    path, tmp = temp_beside(path)
    pd.DataFrame(rows).to_csv(tmp, sep="\t", index=False, quoting=csv.QUOTE_MINIMAL)
    os.replace(tmp, path)


def read_table(path: str | Path) -> pd.DataFrame:
    """Any of the formats the hub serves these datasets in, as a DataFrame."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"benchmark file missing: {path}")
    suffix = "".join(path.suffixes[-1:])
    try:
        if suffix == ".tsv":
            return pd.read_csv(path, sep="\t", keep_default_na=False, quoting=csv.QUOTE_MINIMAL)
        if suffix == ".csv":
            return pd.read_csv(path, keep_default_na=False)
        if suffix in (".jsonl", ".json"):
            return pd.read_json(path, lines=suffix == ".jsonl", dtype=False)
        if suffix == ".parquet":
            return pd.read_parquet(path)
    except (ValueError, OSError) as err:
        raise SchemaError(f"{path}: cannot be read as {suffix}: {err}") from err
    raise SchemaError(f"{path}: unknown file type {suffix!r}")


def check_columns(df: pd.DataFrame, required: tuple[str, ...], path: str | Path) -> pd.DataFrame:
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise SchemaError(f"{path}: missing column(s) {', '.join(missing)}; has {', '.join(map(str, df.columns))}")
    if df.empty:
        raise SchemaError(f"{path}: no rows")
    return df


def load(bench: str, path: str | Path) -> pd.DataFrame:
    """Read one local benchmark file and check it has the benchmark's columns."""
    entry = benchmarks.get(bench)
    return entry.check(check_columns(read_table(path), entry.columns, path), path)


def write_benchmark(bench: str, rows_by_file: dict[str, list[dict]], out_dir: str | Path) -> list[Path]:
    """Write one language's benchmark files, checking them against the schema first."""
    files = bench_files(bench)
    if sorted(rows_by_file) != sorted(files):
        raise ValueError(f"{bench}: expected files {files}, got {sorted(rows_by_file)}")
    return [write_file(bench, rows, Path(out_dir) / name) for name, rows in rows_by_file.items()]


def write_file(bench: str, rows: list[dict], path: str | Path) -> Path:
    """Write one benchmark file after checking its rows have the benchmark's columns."""
    path, entry = Path(path), benchmarks.get(bench)
    if path.name not in entry.files:
        raise ValueError(f"{path}: {bench} files are named {', '.join(entry.files)}")
    check_columns(pd.DataFrame(rows), entry.columns, path)
    (write_tsv if path.suffix == ".tsv" else write_jsonl)(rows, path)
    return path
