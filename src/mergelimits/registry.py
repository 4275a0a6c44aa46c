"""Merge methods and benchmarks, each declared once (as mergekit's merge_methods/registry.py).

Everything else derives from these entries: the model-id grammar's methods, the config
schema's enums (checked by tests/test_registry.py), the merge's mergekit configuration,
the benchmark files and readers, the metric each table reports, the table numbers and
titles. Adding a method or a benchmark means an entry here, its template or
implementation (src/mergelimits/resources/lm_eval/<bench>.yaml), and tests.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MergeMethod:
    name: str  #: in model ids and the config; underscores only (the id grammar splits at "-")
    label: str  #: in tables and figures
    mergekit: str  #: mergekit's merge_method
    task_vectors: bool  #: merges differences to the shared initialisation (needs base_model)
    sparsified: bool  #: takes a density (share of each task vector kept)
    #: mergekit's own default `normalize` (weights divided by their sum), as the authors kept it;
    #: tests/test_registry.py pins it to mergekit's. None: the method has no such option
    normalize: bool | None
    reference: str
    #: members weight-matched to the first member (mergelimits.align) before mergekit merges them
    aligned: bool = False


@dataclass(frozen=True)
class Benchmark:
    name: str  #: in the config, task names and file paths
    title: str  #: what its per-language table reports
    table: int  #: the paper's table number of its per-language table
    files: tuple[str, ...]  #: under data/benchmarks/<name>/lang~<lang>/
    columns: tuple[str, ...]  #: required in every file (the real dataset's schema)
    split: str  #: lm-eval's test split (FLORES: dev gives the few-shot examples, devtest the test)
    metric: str  #: the per-item score column its tables report
    kind: str  #: "choice" (log-likelihood of options) or "generation"
    #: the same items realised in every language (translations, or the generator's shared
    #: meanings): languages' scores are then not independent samples, and a CI of a mean
    #: over languages must resample whole items, not (item, language) cells
    parallel: bool = True


MERGE_METHODS: dict[str, MergeMethod] = {m.name: m for m in (
    MergeMethod("linear", "linear", "linear", task_vectors=False, sparsified=False, normalize=True,
                reference="Wortsman et al. 2022, model soups"),
    MergeMethod("ties", "TIES", "ties", task_vectors=True, sparsified=True, normalize=True,
                reference="Yadav et al. 2023, arXiv:2306.01708"),
    MergeMethod("dare_ties", "DARE-TIES", "dare_ties", task_vectors=True, sparsified=True, normalize=False,
                reference="Yu et al. 2024, arXiv:2311.03099"),
    MergeMethod("task_arithmetic", "TA", "task_arithmetic", task_vectors=True, sparsified=False, normalize=False,
                reference="Ilharco et al. 2023, arXiv:2212.04089"),
    # Not in the paper: its recommendation of aligning before merging, as Git Re-Basin's weight
    # matching. Linear only: a task-vector method would subtract an unpermuted initialisation.
    MergeMethod("linear_wm", "linear + WM", "linear", task_vectors=False, sparsified=False, normalize=True,
                reference="Ainsworth et al. 2023, arXiv:2209.04836 (weight matching), then averaging", aligned=True),
)}

BENCHMARKS: dict[str, Benchmark] = {b.name: b for b in (
    Benchmark("multiblimp", "MultiBLiMP accuracy", 2, ("test.tsv",), ("sen", "wrong_sen", "phenomenon"),
              "test", "acc", "choice", parallel=False),
    Benchmark("belebele", "Belebele token-normalised accuracy", 3, ("test.jsonl",),
              ("flores_passage", "question", "mc_answer1", "mc_answer2", "mc_answer3", "mc_answer4",
               "correct_answer_num"), "test", "acc_norm_token", "choice"),
    Benchmark("hellaswag", "HellaSwag token-normalised accuracy", 4, ("validation.jsonl",),
              ("ctx_a", "ctx_b", "ctx", "endings", "label"), "validation", "acc_norm_token", "choice"),
    Benchmark("xcsqa", "X-CSQA token-normalised accuracy", 5, ("validation.jsonl",),
              ("id", "question", "answerKey"), "validation", "acc_norm_token", "choice"),
    Benchmark("flores", "FLORES chrF++", 6, ("dev.jsonl", "devtest.jsonl"), ("id", "text"),
              "devtest", "chrf", "generation"),
)}


def method(name: str) -> MergeMethod:
    if name not in MERGE_METHODS:
        raise KeyError(f"unknown merge method {name!r}; known: {', '.join(MERGE_METHODS)}")
    return MERGE_METHODS[name]


#: Controls: a multiple-choice benchmark scored again with what the item says taken away, to
#: tell how much of a score needs no reading. A control is a variant of its benchmark's task
#: (`<bench>~<control>` in task names and the score store), not a benchmark of its own.
CONTROLS = {
    "blind": "the options alone, the passage, question or context removed",
    "shuffled": "each item's options after another item's context (a seeded derangement, the same in every language)",
}
VARIANT_SEP = "~"


def variant(bench: str, control: str) -> str:
    """The store's and the task's name of a control: "xcsqa~blind"."""
    if control not in CONTROLS:
        raise KeyError(f"unknown control {control!r}; known: {', '.join(CONTROLS)}")
    if not controllable(bench):
        raise ValueError(f"{bench} has no context to take away: no controls")
    return f"{bench}{VARIANT_SEP}{control}"


def split_variant(name: str) -> tuple[str, str | None]:
    """("xcsqa", "blind") for "xcsqa~blind", ("xcsqa", None) for "xcsqa"."""
    base, _, control = name.partition(VARIANT_SEP)
    benchmark(base)
    if control and control not in CONTROLS:
        raise KeyError(f"unknown control {control!r} in {name!r}; known: {', '.join(CONTROLS)}")
    return base, control or None


def controllable(bench: str) -> bool:
    """Multiple-choice with a context to remove: not MultiBLiMP (each sentence is scored
    alone) nor FLORES (generation)."""
    entry = benchmark(bench)
    return entry.kind == "choice" and bench != "multiblimp"


def benchmark(name: str) -> Benchmark:
    if name not in BENCHMARKS:
        raise KeyError(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
    return BENCHMARKS[name]


def register_method(entry: MergeMethod) -> None:
    """Add a merge method (an extension, or a test); it must not shadow another."""
    if entry.name in MERGE_METHODS:
        raise ValueError(f"merge method {entry.name!r} is registered already")
    if "-" in entry.name or not entry.name.replace("_", "").isalpha() or not entry.name.islower():
        raise ValueError(f"merge method name {entry.name!r}: lower-case letters and underscores only")
    if entry.name in ("init", "mono", "mixed", "ext"):
        raise ValueError(f"merge method name {entry.name!r} is a model-id prefix (mergelimits.modelid)")
    MERGE_METHODS[entry.name] = entry
