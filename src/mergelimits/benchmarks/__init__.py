"""The study's benchmarks, one module each, beside its lm-eval task template.

`benchmarks/<name>.py` holds everything that is particular to one benchmark: its facts
(`BENCHMARK`: files, columns, metric, chance, the paper's table), `options(doc)` (the options
and the right one, for the prompts and for the option-only rules alike), `prompt(lang,
layout, doc)`, the normalisation of its source files (`from_hub`, `to_hub`, `check`), how
the tiny study generates it (`generate`) and its per-language codes (a `languages.tsv`
column, or the module's `CODES`). `benchmarks/<name>.yaml` is its lm-eval template.

Everything else (the config schema's per-benchmark keys, the table stems, the readers and
writers, the task files) derives from this registry. More benchmarks load from the folders
named in $MERGELIMITS_BENCHMARKS (os.pathsep-separated), each `<name>.py` with its
`<name>.yaml`: an extension without a change to the package (tests/test_extending.py).

Controls (`CONTROLS`) are variants of a benchmark's task, `<bench>~<control>`, scored with
what the item says taken away.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType

PLUGIN_ENV = "MERGELIMITS_BENCHMARKS"


@dataclass(frozen=True)
class Benchmark:
    name: str  #: in the config, task names and file paths
    label: str  #: in text: "X-CSQA"
    title: str  #: what its per-language table reports
    table: int  #: the paper's table number of its per-language table
    files: tuple[str, ...]  #: under data/benchmarks/<name>/lang~<lang>/
    columns: tuple[str, ...]  #: required in every file (the real dataset's schema)
    split: str  #: lm-eval's test split (FLORES: dev gives the few-shot examples, devtest the test)
    metric: str  #: the per-item score column its tables report
    kind: str  #: "choice" (log-likelihood of options) or "generation"
    #: % of items a uniform guess gets right (None: not a choice among options)
    chance: float | None
    #: whether options follow a context (a passage, question or sentence start): MultiBLiMP's
    #: sentences are scored alone, so it takes no few-shot examples and has no controls
    context: bool = True
    #: the same items realised in every language (translations, or the generator's shared
    #: meanings): languages' scores are then not independent samples, and a CI of a mean
    #: over languages must resample whole items, not (item, language) cells
    parallel: bool = True
    #: at paper scale, for mergelimits.cost: items per language, requests per item and
    #: tokens per request with the configured few-shot examples (Gemma-3 tokenizer)
    paper_items: int = 1000
    requests: int = 1
    tokens: int = 100
    module: ModuleType | None = field(default=None, compare=False, repr=False)

    @property
    def controllable(self) -> bool:
        """Multiple-choice with a context to take away (registry of CONTROLS)."""
        return self.kind == "choice" and self.context

    @property
    def template(self) -> Path:
        return Path(self.module.__file__).with_suffix(".yaml")

    @property
    def codes(self) -> dict[str, str] | None:
        """Project language -> this benchmark's code, where languages.tsv has no column."""
        return getattr(self.module, "CODES", None)

    def options(self, doc: dict) -> tuple[list[str], int]:
        """The item's options as the dataset gives them, and the index of the right one."""
        return self.module.options(doc)

    def prompt(self, lang: str, layout: str, doc: dict) -> tuple[str, list[str]]:
        """(context, options) the model reads; lm-eval joins them with the task's delimiter."""
        return self.module.prompt(lang, layout, doc)

    def keep(self, doc: dict) -> bool:
        """Whether an item is scored at all (the module's `keep`; every item without one)."""
        fn = getattr(self.module, "keep", None)
        return fn(doc) if fn else True

    def from_hub(self, df):
        """A source file as the hub serves it -> the local file's schema (hub.prepare)."""
        fn = getattr(self.module, "from_hub", None)
        return fn(df) if fn else df

    def to_hub(self, df):
        """The local schema -> the hub's format (the fixture hub, synthetic.hub_cache)."""
        fn = getattr(self.module, "to_hub", None)
        return fn(df) if fn else df

    def check(self, df, path):
        """A local file as read back (benchfiles.load): its own checks and normalisation."""
        fn = getattr(self.module, "check", None)
        return fn(df, path) if fn else df

    def generate(self, langs: dict, rng, sizes: dict) -> dict[str, dict[str, list[dict]]]:
        """The tiny study's items: code -> file name -> rows, for the generated `langs`
        (code -> synthetic.grammar.Language) that have the benchmark; `rng(*kind)` is a
        seeded random.Random per stream; `sizes`: items per benchmark by name (FLORES: per
        split, `flores_dev`, `flores_devtest`)."""
        return self.module.generate(langs, rng, sizes)


BENCHMARKS: dict[str, Benchmark] = {}


def register(module: ModuleType) -> Benchmark:
    """Add the benchmark a module declares; it must not shadow another."""
    entry = replace(module.BENCHMARK, module=module)
    if not entry.name.isalpha() or not entry.name.islower():  # task names split at "_", controls at "~"
        raise ValueError(f"benchmark name {entry.name!r}: lower-case letters only")
    if entry.name in BENCHMARKS and BENCHMARKS[entry.name].module is not module:
        raise ValueError(f"benchmark {entry.name!r} is registered already")
    if entry.kind not in ("choice", "generation"):
        raise ValueError(f"benchmark {entry.name}: kind {entry.kind!r} is neither 'choice' nor 'generation'")
    if not entry.template.is_file():
        raise FileNotFoundError(f"benchmark {entry.name}: no lm-eval template {entry.template}")
    clash = [b.name for b in BENCHMARKS.values() if b.table == entry.table and b.name != entry.name]
    if clash:
        raise ValueError(f"benchmark {entry.name}: table {entry.table} is {clash[0]}'s")
    BENCHMARKS[entry.name] = entry
    ordered = sorted(BENCHMARKS.values(), key=lambda b: b.table)
    BENCHMARKS.clear()
    BENCHMARKS.update((b.name, b) for b in ordered)
    return entry


def _load() -> None:
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            register(importlib.import_module(f"{__name__}.{info.name}"))
    for folder in filter(None, os.environ.get(PLUGIN_ENV, "").split(os.pathsep)):
        for path in sorted(Path(folder).glob("*.py")):
            spec = importlib.util.spec_from_file_location(f"{__name__}._ext_{path.stem}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            register(module)


def get(name: str) -> Benchmark:
    if name not in BENCHMARKS:
        raise KeyError(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
    return BENCHMARKS[name]


#: Controls: a multiple-choice benchmark scored again with what the item says taken away, to
#: tell how much of a score needs no reading. A control is a variant of its benchmark's task
#: (`<bench>~<control>` in task names and the score store), not a benchmark of its own.
CONTROLS = {
    "blind": "the options alone, the passage, question or context removed",
    "shuffled": "each item's options after another item's context (a seeded derangement, the same in every language)",
}
VARIANT_SEP = "~"


def task_name(bench: str, lang: str) -> str:
    """The lm-eval task of one benchmark (or a control's variant) in one language."""
    return f"ml_{bench}_{lang}"


def variant(bench: str, control: str) -> str:
    """The store's and the task's name of a control: "xcsqa~blind"."""
    if control not in CONTROLS:
        raise KeyError(f"unknown control {control!r}; known: {', '.join(CONTROLS)}")
    if not get(bench).controllable:
        raise ValueError(f"{bench} has no context to take away: no controls")
    return f"{bench}{VARIANT_SEP}{control}"


def split_variant(name: str) -> tuple[str, str | None]:
    """("xcsqa", "blind") for "xcsqa~blind", ("xcsqa", None) for "xcsqa"."""
    base, _, control = name.partition(VARIANT_SEP)
    get(base)
    if control and control not in CONTROLS:
        raise KeyError(f"unknown control {control!r} in {name!r}; known: {', '.join(CONTROLS)}")
    return base, control or None


def base(name: str) -> Benchmark:
    """The benchmark of a task name or a control ("xcsqa~blind" -> xcsqa's)."""
    return get(split_variant(name)[0])


#: `evaluate.acc_norm`: what a length-normalised accuracy divides each option's log-likelihood
#: by before the argmax: its tokens under the model's tokenizer (the paper's text) or its
#: characters (lighteval's `acc_norm`, which the authors reported)
NORMALISATIONS = ("token", "char")


def metric(name: str, acc_norm: str = "token") -> str:
    """The per-item score column reported for a benchmark (or control): its module's metric,
    with a length-normalised accuracy normalised as `acc_norm` says (both are in the store)."""
    if acc_norm not in NORMALISATIONS:
        raise ValueError(f"evaluate.acc_norm: {acc_norm!r} is not one of {', '.join(NORMALISATIONS)}")
    declared = base(name).metric
    return f"acc_norm_{acc_norm}" if declared.startswith("acc_norm_") else declared


_load()
