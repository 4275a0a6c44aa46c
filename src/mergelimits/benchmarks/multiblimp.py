"""MultiBLiMP (Jumelet et al. 2025): minimal pairs, the grammatical sentence of each pair
scored above the other. Each sentence is scored alone (log P(sentence | BOS)), as lm-eval's
own multiblimp tasks: no context, so no few-shot examples and no controls."""

from __future__ import annotations

from .. import benchfiles, languages
from ..synthetic import grammar
from . import Benchmark

BENCHMARK = Benchmark(
    "multiblimp", "MultiBLiMP", "MultiBLiMP accuracy", table=2, files=("test.tsv",),
    columns=("sen", "wrong_sen", "phenomenon"),
    split="test", metric="acc", kind="choice", chance=50.0, context=False,
    # each language its own pairs; the largest of the study's (rus) has 3,832
    parallel=False, paper_items=3832, requests=2, tokens=20)


def options(doc: dict) -> tuple[list[str], int]:
    return [doc["sen"], doc["wrong_sen"]], 0


def prompt(lang: str, layout: str, doc: dict) -> tuple[str, list[str]]:
    return "", options(doc)[0]  # the same in both layouts


def check(df, path):
    if (df["sen"] == df["wrong_sen"]).any():
        raise benchfiles.SchemaError(f"{path}: a minimal pair whose two sentences are identical")
    return df


def generate(langs: dict, rng, sizes: dict) -> dict:
    out = {}
    for code, lang in langs.items():
        rows = grammar.minimal_pairs(lang, rng("multiblimp", code), sizes["multiblimp"])
        src = languages.get(code).source_code("multiblimp")
        out[code] = {"test.tsv": [{**r, "lang": src} for r in rows]}
    return out
