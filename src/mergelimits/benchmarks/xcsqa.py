"""X-CSQA (Lin et al. 2021): a commonsense question and five labelled answers."""

from __future__ import annotations

import json

from .. import languages, prompts
from ..synthetic import grammar
from . import Benchmark

BENCHMARK = Benchmark(
    "xcsqa", "X-CSQA", "X-CSQA token-normalised accuracy", table=5, files=("validation.jsonl",),
    columns=("id", "question", "answerKey"), split="validation", metric="acc_norm_token", kind="choice",
    chance=20.0, paper_items=1000, requests=5, tokens=6 * 30)


def options(doc: dict) -> tuple[list[str], int]:
    choices = doc["question"]["choices"]
    return [c["text"] for c in choices], [c["label"] for c in choices].index(doc["answerKey"])


def prompt(lang: str, layout: str, doc: dict) -> tuple[str, list[str]]:
    return prompts.question_answer(lang, layout, None, doc["question"]["stem"], options(doc)[0])


def keep(doc: dict) -> bool:
    """Items with an empty option are not scored, as the authors' lighteval task (its
    `hf_filter`: every choice's text non-empty after strip); some translations left one empty."""
    return all(str(text).strip() for text in options(doc)[0])


def normalise_question(q) -> dict:
    """The question as {stem, choices: [{label, text}, ...]}. The original JSONL holds a list
    of choice objects; the hub's Parquet conversion turns it into a struct of lists."""
    if isinstance(q, str):
        q = json.loads(q)
    choices = q["choices"]
    if isinstance(choices, dict):
        choices = [{"label": lab, "text": txt} for lab, txt in zip(choices["label"], choices["text"])]
    return {"stem": q["stem"], "choices": [{"label": c["label"], "text": c["text"]} for c in choices]}


def from_hub(df):
    df = df.copy()
    df["question"] = df["question"].map(normalise_question)
    return df[df["answerKey"].astype(str).str.len() > 0]  # the test split hides its answers


def to_hub(df):
    df = df.copy()
    df["question"] = [{"stem": q["stem"], "choices": {"label": [c["label"] for c in q["choices"]],
                                                      "text": [c["text"] for c in q["choices"]]}}
                      for q in df["question"]]
    return df


def check(df, path):
    df["question"] = df["question"].map(normalise_question)
    return df


def generate(langs: dict, rng, sizes: dict) -> dict:
    items = grammar.question_items(langs, rng("xcsqa"), sizes["xcsqa"])
    return {code: {"validation.jsonl": [{**r, "lang": languages.get(code).source_code("xcsqa")} for r in rows]}
            for code, rows in items.items()}
