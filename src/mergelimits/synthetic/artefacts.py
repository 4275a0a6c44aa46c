"""Option-only rules: how much of a generated benchmark can be answered without reading it.

A rule scores each option from the option's own text (and, for frequency, unigram counts
of the pre-training corpus) and picks the top one. When k options tie on top, the item
counts 1/k if the answer is among them: the rule's expected accuracy, with no random
tie-break. On a benchmark whose options differ only in their relation to the question,
every rule scores chance (tests/test_generate.py holds the generated benchmarks to that).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable

from .. import benchmarks

#: items of one benchmark and language as (options, index of the right one)
Items = list[tuple[list[str], int]]


def items(bench: str, rows: list[dict]) -> Items:
    """The options and answer of each row, in the real dataset's schema: the benchmark's own
    `options`, the same the prompts use."""
    entry = benchmarks.get(bench)
    if entry.kind != "choice":
        raise KeyError(f"no option-only rules for {bench}")
    return [entry.options(r) for r in rows]


def rules(tokenize: Callable[[str], list], counts: Counter, marker: str | None = None) -> dict[str, Callable]:
    """Each rule: option text -> score (the rule picks the highest). `marker`: the
    language's plural suffix, for "pick a marked form"."""
    def words(text):
        return text.split() or [text]

    def log_freq(text):
        return [math.log1p(counts[w.strip(".,?。？").lower()]) for w in words(text)]

    out = {
        "longest": lambda t: len(t),
        "shortest": lambda t: -len(t),
        "most tokens": lambda t: len(tokenize(t)),
        "fewest tokens": lambda t: -len(tokenize(t)),
        "most words": lambda t: len(words(t)),
        "most frequent words": lambda t: sum(log_freq(t)) / len(log_freq(t)),
        "rarest words": lambda t: -sum(log_freq(t)) / len(log_freq(t)),
    }
    if marker:
        out["marked (plural)"] = lambda t: sum(w.strip(".,?").lower().endswith(marker) for w in words(t))
    return out


def accuracy(data: Items, score: Callable[[str], float]) -> float:
    """Expected accuracy of picking the option with the highest score (ties split)."""
    total = 0.0
    for options, answer in data:
        scores = [score(o) for o in options]
        top = max(scores)
        winners = [i for i, s in enumerate(scores) if s == top]
        total += (answer in winners) / len(winners)
    return total / len(data)


def chance(data: Items) -> float:
    return sum(1 / len(options) for options, _ in data) / len(data)


def half_width(p: float, n: int, z: float = 1.96) -> float:
    """The normal-approximation CI half-width of a proportion p over n items."""
    return z * math.sqrt(p * (1 - p) / n)


def report(data: Items, named_rules: dict[str, Callable], z: float = 1.96) -> Iterable[tuple[str, float, float, float]]:
    """(rule, accuracy, chance, CI half-width at chance) for every rule."""
    c = chance(data)
    for name, score in named_rules.items():
        yield name, accuracy(data, score), c, half_width(c, len(data), z)
