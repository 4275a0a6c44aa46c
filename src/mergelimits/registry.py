"""Merge methods, each declared once (as mergekit's merge_methods/registry.py).

Everything else derives from these entries: the model-id grammar's methods, the config
schema's enum (checked by tests/test_registry.py) and the merge's mergekit configuration.
Adding a method means an entry here and tests. (Benchmarks: mergelimits.benchmarks, one
module each.)
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


def method(name: str) -> MergeMethod:
    if name not in MERGE_METHODS:
        raise KeyError(f"unknown merge method {name!r}; known: {', '.join(MERGE_METHODS)}")
    return MERGE_METHODS[name]


def register_method(entry: MergeMethod) -> None:
    """Add a merge method (an extension, or a test); it must not shadow another."""
    if entry.name in MERGE_METHODS:
        raise ValueError(f"merge method {entry.name!r} is registered already")
    if "-" in entry.name or not entry.name.replace("_", "").isalpha() or not entry.name.islower():
        raise ValueError(f"merge method name {entry.name!r}: lower-case letters and underscores only")
    if entry.name in ("init", "mono", "mixed", "ext"):
        raise ValueError(f"merge method name {entry.name!r} is a model-id prefix (mergelimits.modelid)")
    MERGE_METHODS[entry.name] = entry
