"""The study's models, one row each: `results/<study>/models.tsv`, written from
`Study.catalog` by the `model_catalog` rule. Analyses, tables and figures look models up
here (an expert by language and family, a merge by method, scope and members) rather than
build ids, so that what is made and what is read are decided once, in mergelimits.study.

Columns: model, kind (expert, mixed, merged, baseline), family (the Mixed step a branch
family left; 0: the paper's, from the shared init), method and scope (merged: all, pair or
succ), k (models merged), members (languages, "+"-joined, in merge order), steps (where
it exists, ","-joined) and row (the Tables 1-6 row it feeds, empty if none).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

COLUMNS = ["model", "kind", "family", "method", "scope", "k", "members", "steps", "row"]


def write(rows: list[dict], path: str | Path) -> None:
    pd.DataFrame(rows, columns=COLUMNS).to_csv(path, sep="\t", index=False)


def read(path: str | Path) -> pd.DataFrame:
    return frame(pd.read_csv(path, sep="\t", keep_default_na=False, dtype=str))


def frame(rows) -> pd.DataFrame:
    """The catalog as a DataFrame, from its rows or its file's table."""
    df = pd.DataFrame(rows, columns=COLUMNS).astype(str)
    return df.astype({"family": int, "k": int})


def _one(models: pd.DataFrame, what: str, **where) -> str:
    hit = models
    for col, value in where.items():
        hit = hit[hit[col] == value]
    if len(hit) != 1:
        raise KeyError(f"models.tsv: {len(hit)} rows for {what} ({', '.join(f'{k}={v}' for k, v in where.items())})")
    return hit["model"].iloc[0]


def expert(models: pd.DataFrame, lang: str, family: int = 0) -> str:
    """The monolingual model of a language in a branch family."""
    return _one(models, f"the {lang} expert", kind="expert", members=lang, family=family)


def pair(models: pd.DataFrame, method: str, a: str, b: str, family: int = 0) -> str:
    return _one(models, f"the {a}+{b} {method} merge", kind="merged", scope="pair", method=method,
                members=f"{a}+{b}", family=family)


def merged_all(models: pd.DataFrame, method: str, family: int = 0) -> str:
    """Merged-N of a method: every language's expert of the family."""
    return _one(models, f"Merged-N {method}", kind="merged", scope="all", method=method, family=family)


def successive(models: pd.DataFrame, method: str, family: int = 0) -> pd.DataFrame:
    """The successive merges of a method: model, k and members, by k."""
    hit = models[(models["kind"] == "merged") & (models["scope"] == "succ") & (models["method"] == method)
                 & (models["family"] == family)]
    return hit[["model", "k", "members"]].sort_values("k").reset_index(drop=True)


def table_rows(models: pd.DataFrame) -> list[tuple[str, str | dict[str, str]]]:
    """(label, model) of every Tables 1-6 row in order; the experts' row (each expert on its
    own language) as {language: its expert}."""
    rows: dict[str, str | dict[str, str]] = {}
    for r in models[models["row"] != ""].itertuples():
        if r.kind == "expert":
            rows.setdefault(r.row, {})[r.members] = r.model
        else:
            rows[r.row] = r.model
    return list(rows.items())
