"""The per-item score store: one TSV per model and step (`evaluate` writes it), the one
input of every table, CI and figure."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

#: the per-item scores (empty where a benchmark has no such score)
METRICS = ["acc", "acc_norm_char", "acc_norm_token", "chrf"]
SCORE_COLUMNS = ["model", "step", "benchmark", "lang", "item", *METRICS, "source", "hypothesis", "reference"]


def write_scores(df: pd.DataFrame, path: str | Path) -> None:
    """Per-item scores as TSV, every text field quoted: a generation may hold any character,
    a carriage return among them, which an unquoted TSV reader takes for a line break."""
    df.to_csv(path, sep="\t", index=False, quoting=csv.QUOTE_NONNUMERIC)


def read_scores(path: str | Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", keep_default_na=False, na_values={c: [""] for c in METRICS})
