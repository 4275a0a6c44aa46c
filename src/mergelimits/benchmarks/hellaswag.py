"""HellaSwag (Zellers et al. 2019) and Okapi's translations (Lai et al. 2023): a context
and four endings. The cloze layout cleans WikiHow's artefacts as both harnesses do
(mergelimits.prompts.wikihow_clean) before context and ending are joined; `leaderboard` is
the Open LLM Leaderboard's English template, which the authors ran for English."""

from __future__ import annotations

from .. import prompts
from ..synthetic import grammar
from . import Benchmark

BENCHMARK = Benchmark(
    "hellaswag", "HellaSwag", "HellaSwag token-normalised accuracy", table=4, files=("validation.jsonl",),
    columns=("ctx_a", "ctx_b", "ctx", "endings", "label"), split="validation", metric="acc_norm_token",
    kind="choice", chance=25.0, paper_items=1000, requests=4, tokens=6 * 110)

#: layouts of this benchmark beyond every benchmark's (`evaluate.layouts`)
LAYOUTS = ("leaderboard",)
#: WikiHow's section tags replaced by ". ", where a translation translated them: the authors'
#: Turkish task (lighteval `community_hellaswag_tur`, after malhajar17's Turkish harness);
#: elsewhere " [title]" alone
WIKIHOW_TAGS = {"tur": (" [title]", " [başlık]", " [adım]", " [header]")}


def options(doc: dict) -> tuple[list[str], int]:
    return list(doc["endings"]), int(doc["label"])


def prompt(lang: str, layout: str, doc: dict) -> tuple[str, list[str]]:
    if layout == "bare":
        return f"{doc['ctx_a']} {doc['ctx_b']}".strip(), options(doc)[0]
    if layout == "leaderboard":
        # lighteval's `hellaswag_harness` (`leaderboard|hellaswag`): "{activity_label}: {ctx_a}
        # {ctx_b.capitalize()}", cleaned without stripping; its trailing space is lm-eval's
        # delimiter here
        if "activity_label" not in doc:
            raise KeyError("hellaswag: the leaderboard layout needs the items' activity_label column")
        ctx = f"{doc['activity_label']}: {doc['ctx_a']} {str(doc['ctx_b']).capitalize()}"
        clean = [prompts.wikihow_clean(t, multilingual=False) for t in (ctx, *doc["endings"])]
        return clean[0].rstrip(), clean[1:]
    tags = WIKIHOW_TAGS.get(lang, (" [title]",))
    ctx_a, ctx_b = prompts.cap(prompts.wikihow_clean(doc["ctx_a"], tags)), prompts.wikihow_clean(doc["ctx_b"], tags)
    return (f"{ctx_a} {ctx_b}" if ctx_b else ctx_a), [prompts.wikihow_clean(e, tags) for e in doc["endings"]]


def from_hub(df):
    df = df.copy()
    df["label"] = df["label"].astype(str)  # Rowan/hellaswag's Parquet stores an integer, the JSONL a string
    return df


def to_hub(df):
    df = df.copy()
    df["label"] = df["label"].astype(int)  # as Rowan/hellaswag's Parquet
    return df


def generate(langs: dict, rng, sizes: dict) -> dict:
    items = grammar.cloze_items(langs, rng("hellaswag"), sizes["hellaswag"])
    return {code: {"validation.jsonl": rows} for code, rows in items.items()}
