"""Belebele (Bandarkar et al. 2024): a FLORES passage, a question and four answers; the
answer's text is scored (not its letter, unlike lm-eval's belebele tasks)."""

from __future__ import annotations

from .. import languages, prompts
from ..synthetic import grammar
from . import Benchmark

BENCHMARK = Benchmark(
    "belebele", "Belebele", "Belebele token-normalised accuracy", table=3, files=("test.jsonl",),
    columns=("flores_passage", "question", "mc_answer1", "mc_answer2", "mc_answer3", "mc_answer4",
             "correct_answer_num"),
    split="test", metric="acc_norm_token", kind="choice", chance=25.0, paper_items=900, requests=4, tokens=6 * 350)


def options(doc: dict) -> tuple[list[str], int]:
    return [doc[f"mc_answer{i}"] for i in range(1, 5)], int(doc["correct_answer_num"]) - 1


def prompt(lang: str, layout: str, doc: dict) -> tuple[str, list[str]]:
    return prompts.question_answer(lang, layout, doc["flores_passage"], doc["question"], options(doc)[0])


def generate(langs: dict, rng, sizes: dict) -> dict:
    items = grammar.reading_items(langs, rng("belebele"), sizes["belebele"])
    return {code: {"test.jsonl": [{**r, "dialect": languages.get(code).source_code("belebele")} for r in rows]}
            for code, rows in items.items()}
