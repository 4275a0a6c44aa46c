"""The tiny study's data stage: generated corpora and benchmark files for every language.

Each kind of item draws from its own seeded stream (seed, kind), so changing one size
leaves the other files unchanged, and the same config always gives the same bytes.
"""

from __future__ import annotations

import random
from pathlib import Path

from .. import benchmarks, languages
from ..benchfiles import write_benchmark, write_jsonl
from . import grammar


def _rng(seed: int, *kind: str) -> random.Random:
    return random.Random(grammar._stable_seed(seed, *kind))


def corpus_docs(code: str, seed: int, n_docs: int, sentences_per_doc: int) -> list[str]:
    lang = grammar.Language(code, seed)
    return grammar.corpus(lang, _rng(seed, "corpus", code), n_docs, sentences_per_doc)


def mix(docs_by_lang: dict[str, list[str]], n_docs: int, seed: int) -> list[dict]:
    """An equal mix: n_docs // len(langs) documents of each language, shuffled with the seed."""
    share = n_docs // len(docs_by_lang)
    if share < 1:
        raise ValueError(f"{n_docs} documents cannot be split over {len(docs_by_lang)} languages")
    rows = [{"text": doc, "lang": code} for code, docs in docs_by_lang.items() for doc in docs[:share]]
    _rng(seed, "mix").shuffle(rows)
    return rows


def write_corpora(codes: list[str], seed: int, n_docs: int, sentences_per_doc: int,
                  out: dict[str, tuple[str, list[str]]]) -> None:
    """out: corpus id -> (path of its train.jsonl, its languages): one language's documents,
    or, for several, their equal mix (Mixed's)."""
    docs = {c: corpus_docs(c, seed, n_docs, sentences_per_doc) for c in codes}
    for corpus, (path, langs) in out.items():
        unknown = sorted(set(langs) - set(docs))
        if unknown:
            raise KeyError(f"corpus {corpus}: no generated language {', '.join(unknown)}")
        if len(langs) == 1:
            write_jsonl([{"text": d, "lang": langs[0]} for d in docs[langs[0]]], path)
        else:
            write_jsonl(mix({c: docs[c] for c in langs}, n_docs, seed), path)


def benchmark_rows(codes: list[str], seed: int, sizes: dict) -> dict[str, dict[str, dict[str, list[dict]]]]:
    """bench -> lang -> file name -> rows, for the languages each benchmark covers (each
    benchmark module's `generate`, every stream seeded by (seed, its kind))."""
    langs = grammar.make_languages(codes, seed)
    return {name: entry.generate({c: langs[c] for c in languages.available(name, codes)},
                                 lambda *kind: _rng(seed, *kind), sizes)
            for name, entry in benchmarks.BENCHMARKS.items()}


def write_benchmarks(codes: list[str], seed: int, sizes: dict, out_dir_for,
                     benches: list[str] | None = None) -> list[Path]:
    """out_dir_for(bench, lang) -> the directory that lang's files of bench go to. Only
    `benches` are written; all are generated, so an item does not depend on which are."""
    written = []
    for bench, by_lang in benchmark_rows(codes, seed, sizes).items():
        if benches is not None and bench not in benches:
            continue
        for code, files in by_lang.items():
            written += write_benchmark(bench, files, out_dir_for(bench, code))
    return written

