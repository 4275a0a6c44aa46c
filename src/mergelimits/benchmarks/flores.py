"""FLORES-200 (NLLB Team 2022), as FLORES+: translation, eng→xxx (fra→eng for English),
few-shot from dev, scored on devtest with chrF++ (sacrebleu) from the generations. The
tasks read the translation pairs the `flores_pairs` rule builds from these files."""

from __future__ import annotations

from .. import languages
from ..synthetic import grammar
from . import Benchmark

BENCHMARK = Benchmark(
    "flores", "FLORES", "FLORES chrF++", table=6, files=("dev.jsonl", "devtest.jsonl"), columns=("id", "text"),
    split="devtest", metric="chrf", kind="generation", chance=None, paper_items=1000, requests=1,
    tokens=6 * 2 * 35)


def source(lang: str) -> str:
    """The language FLORES translates into `lang` from: English, and French for English."""
    return "fra" if lang == "eng" else "eng"


def options(doc: dict):
    raise TypeError("FLORES is generated, not chosen among options")


def prompt(lang: str, layout: str, doc: dict):
    raise TypeError("FLORES's prompt is its template's (source and target names)")


def generate(langs: dict, rng, sizes: dict) -> dict:
    out: dict = {}
    for split in ("dev", "devtest"):
        sents = grammar.parallel(langs, rng("flores", split), sizes[f"flores_{split}"])
        for code, texts in sents.items():
            iso, script = languages.get(code).source_code("flores").split("_")
            rows = [{"id": i, "iso_639_3": iso, "iso_15924": script, "glottocode": None, "text": t,
                     "url": None, "domain": "generated", "topic": "generated"} for i, t in enumerate(texts)]
            out.setdefault(code, {})[f"{split}.jsonl"] = rows
    return out
