"""What a model reads for each item: the prompt layouts and the item selection, applied by
lm-eval's `process_docs` to every task the workflow renders (one code path for every
benchmark and config).

Each benchmark's own layout is in its module (mergelimits.benchmarks); the shared pieces
are here. Two layouts (`evaluate.prompts`):

* ``bare``: the stem as it stands (passage and question, the HellaSwag context, the X-CSQA
  question), each option's text as the continuation. What suits the tiny study's generated
  languages, which have no words for "question" and "answer".
* ``cloze``: lighteval's multilingual cloze formulation (`_cf` tasks, which the authors ran):
  ``{Passage}\\n{Question word}: {question}\\n{Answer word}:`` with the option as continuation
  (lighteval `templates/multichoice.py`, `MULTI_CHOICE_QA_QUERY` with `CFFormulation`), the
  words of the item's language (`resources/prompt_words.tsv`, from lighteval's
  `translation_literals.py`), and for HellaSwag the WikiHow clean-up both harnesses apply
  (lm-eval `tasks/hellaswag/utils.py`, lighteval `hellaswag_preprocess`) before context
  and ending are joined (lighteval `templates/hellaswag.py`).

MultiBLiMP is the same in both: each sentence scored alone. `max_items` keeps at most that
many items of a task, a selection seeded by `seeds.evaluate` and the benchmark (the same
items in every language where the languages share them, as Belebele's), in their original
order; every item keeps its index in the file as `item`, the key of the per-item store.
"""

from __future__ import annotations

import csv
import logging
import re
import zlib
from functools import cache, partial
from importlib.resources import files

import numpy as np

from . import benchmarks

PROMPT_WORDS = files("mergelimits") / "resources" / "prompt_words.tsv"
LAYOUTS = ("bare", "cloze")


@cache
def words(lang: str) -> dict[str, str]:
    """lighteval's question and answer words, colon and sentence space for a language."""
    with open(PROMPT_WORDS, newline="", encoding="utf-8") as fh:
        rows = {r["lang"]: r for r in csv.DictReader((line for line in fh if not line.startswith("#")),
                                                      delimiter="\t", quoting=csv.QUOTE_NONE)}
    if lang not in rows:
        raise KeyError(f"no cloze prompt words for {lang!r} in {PROMPT_WORDS}")
    row = dict(rows[lang])
    row["space"] = "" if row["space"] == "none" else " "
    return row


def cap(text: str) -> str:
    """Upper-case the first letter only (lighteval's `capitalize`; str.capitalize lowers the rest)."""
    text = str(text).strip()
    return text[:1].upper() + text[1:]


def wikihow_clean(text: str, tags: tuple[str, ...] = (" [title]",), multilingual: bool = True) -> str:
    """HellaSwag's WikiHow artefacts removed, as lighteval's `hellaswag_preprocess`: each of
    `tags` replaced by ". ", every other [bracketed] tag dropped, double spaces made single;
    `multilingual` (its multilingual template's `truncate_dots` and `strip_text`): ".." made
    "." and the ends stripped, which the leaderboard's (lm-eval's) preprocessing does not."""
    text = str(text)
    for tag in tags:
        text = text.replace(tag, ". ")
    text = re.sub(r"\[.*?\]", "", text).replace("  ", " ")
    return text.replace("..", ".").strip() if multilingual else text


def question_answer(lang: str, layout: str, stem: str | None, question: str, options: list[str]) -> tuple[str, list[str]]:
    """A question (after a passage, if any) and its answers in either layout: the cloze
    layout's "{Passage}\\n{Question word}: {question}\\n{Answer word}:" in the item's language."""
    if layout == "bare":
        return "\n".join(s for s in (stem, question) if s), list(options)
    w = words(lang)
    context = f"{cap(stem)}\n" if stem else ""
    q, a = cap(w["question"]), cap(w["answer"])
    return f"{context}{q}{w['colon']}{w['space']}{cap(question)}\n{a}{w['colon']}", [cap(o) for o in options]


def layouts(bench: str) -> tuple[str, ...]:
    """The layouts a benchmark can be read in: every benchmark's, and its module's own (`LAYOUTS`)."""
    return LAYOUTS + tuple(getattr(benchmarks.get(bench).module, "LAYOUTS", ()))


def gold(bench: str, doc: dict) -> int:
    return benchmarks.get(bench).options(doc)[1]


def prompt(bench: str, lang: str, layout: str, doc: dict) -> tuple[str, list[str]]:
    """(context, options) of one item (the benchmark module's layout); lm-eval joins them
    with the task's target delimiter."""
    entry = benchmarks.get(bench)
    if layout not in layouts(bench):
        raise ValueError(f"{bench}: layout {layout!r} is not one of {', '.join(layouts(bench))}")
    if entry.kind != "choice":
        raise KeyError(f"no multiple-choice prompt for {bench!r}")
    return entry.prompt(lang, layout, doc)


def select(n: int, max_items: int | None, seed: int, bench: str) -> list[int]:
    """Indices of the items kept: all, or a seeded sample of `max_items` in file order."""
    if not max_items or n <= max_items:
        return list(range(n))
    rng = np.random.default_rng([seed, zlib.crc32(bench.encode())])
    return sorted(int(i) for i in rng.choice(n, size=max_items, replace=False))


def blind_query(layout: str, lang: str) -> str:
    """What a blind control reads before the options: nothing (bare), or the layout's answer
    cue alone (cloze: "Answer:" in the item's language), so that only the item is missing."""
    if layout == "bare":
        return ""
    w = words(lang)
    return f"{cap(w['answer'])}{w['colon']}"


def derangement(n: int, seed: int, bench: str) -> list[int]:
    """For item j, the item whose context it is shown with: a cyclic shift of a seeded
    permutation, so no item keeps its own (n ≥ 2). Seeded by the benchmark, not the
    language: where the languages share items, each is paired with the same other item."""
    if n < 2:
        raise ValueError(f"{bench}: a shuffled control needs at least 2 items, not {n}")
    order = np.random.default_rng([seed, zlib.crc32(f"{bench}/shuffled".encode())]).permutation(n)
    source = [0] * n
    for j in range(n):
        source[int(order[j])] = int(order[(j + 1) % n])
    return source


#: the documents process_docs selects and prompts (an Arrow table), in this process, by the
#: dataset's fingerprint and the hook's arguments:
#: lm-eval calls the hook each time it reads a task's documents (five times a task), and a job
#: that evaluates several models builds the same tasks again for each.
_PROCESSED: dict[tuple, object] = {}


def process_docs(dataset, *, bench: str, lang: str, layout: str, max_items: int | None, seed: int):
    """lm-eval's `process_docs` hook: the selected items, each with `item`, `query`,
    `options` and `gold` (FLORES: `item` only). A control ("xcsqa~blind", benchmarks.CONTROLS)
    keeps each item's options and answer and changes what is read before them. Every call
    a new list of new documents, as a Dataset yields new rows: what lm-eval does to one
    evaluation's documents never reaches the next model's in the same job."""
    key = (dataset._fingerprint, bench, lang, layout, max_items, seed)
    if key not in _PROCESSED:
        _PROCESSED[key] = _process_docs(dataset, bench=bench, lang=lang, layout=layout, max_items=max_items,
                                        seed=seed)
    return Docs(_PROCESSED[key])


def _process_docs(dataset, *, bench: str, lang: str, layout: str, max_items: int | None, seed: int):
    # pyarrow and datasets (a second of imports) only where lm-eval runs this hook: the Snakefile imports this module
    import pyarrow as pa

    name = bench
    bench, control = benchmarks.split_variant(name)
    entry = benchmarks.get(bench)
    # Selected first, then filtered: the selection stays the same in every language, and a
    # language's unscorable items (benchmarks' `keep`) drop out of it alone.
    docs = dataset.to_list()  # one conversion: a row read from a Dataset costs 50 µs
    selected = select(len(docs), max_items, seed, bench)
    kept = [i for i in selected if entry.keep(docs[i])]
    logging.getLogger("mergelimits.prompts").info(
        "%s/%s: %d of %d items (evaluate.max_items %s; %d not scorable), %s prompts", name, lang, len(kept),
        len(docs), max_items, len(selected) - len(kept), layout)
    rows = []
    for i in kept:
        doc = dict(docs[i])
        doc["item"] = i
        if entry.kind == "choice":
            doc["query"], doc["options"] = prompt(bench, lang, layout, doc)
            doc["gold"] = entry.options(doc)[1]
        rows.append(doc)
    if control == "blind":
        for doc in rows:
            doc["query"] = blind_query(layout, lang)
    elif control == "shuffled":
        queries = [doc["query"] for doc in rows]
        for doc, j in zip(rows, derangement(len(rows), seed, bench)):
            doc["query"] = queries[j]
    return pa.Table.from_pylist(rows)


class Docs(list):
    """A task's documents as lm-eval reads them: a list, which lm-eval's Task takes for its
    documents (lm_eval/api/task.py, `eval_docs`), with the `features` that ConfigurableTask
    reads the field names from. A `datasets.Dataset` would format every row it yields (50 µs
    a row), and lm-eval reads the documents three times an evaluation (its few-shot pool,
    the requests, the scoring): 34 of the tiny study's 536 job-seconds. Each document is the
    row the Arrow table gives, as a Dataset's row would be: one schema for all (a field one
    item lacks is None in it)."""

    def __init__(self, table):
        from datasets import Features

        super().__init__(table.to_pylist())
        self.features = Features.from_arrow_schema(table.schema)


def processor(bench: str, lang: str, layout: str, max_items: int | None, seed: int):
    """What a rendered task's `process_docs: !function` names (see tasks.render_tasks)."""
    return partial(process_docs, bench=bench, lang=lang, layout=layout, max_items=max_items, seed=seed)
