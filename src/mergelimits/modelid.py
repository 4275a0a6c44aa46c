"""The one model-id grammar of the study, parsed and formatted here only.

    init                    the shared random initialisation
    mono-<lang>             a monolingual model            mono-deu
    mixed<N>                the mixed-data model           mixed10
    <method>-all<N>         merge of all N monolingual     ties-all10
    <method>-<l1>+<l2>      bilingual merge                linear-deu+nld
    <method>-succ<k>        successive merge, first k      dare_ties-succ4
    ext-<name>              an external baseline           ext-gemma2_2b
    <expert or merge>-br<B> a branch family (beyond the paper): mono-deu-br120,
                            linear-all10-br120: experts that continue Mixed's
                            step-B checkpoint on their own language, and their merges.
                            No suffix: branched at 0, the shared init (the paper's)

A checkpoint adds the step as a path segment: results/<study>/models/<id>/step~<N>/; an
external baseline has no step of this study and is kept at step~0.

Methods use underscores, never hyphens, so the first hyphen always ends the method.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from . import registry

WEIGHTS = "model.safetensors"  # every checkpoint's single weights file

_RE = re.compile(
    r"^(?:(?P<init>init)|mono-(?P<mono>[a-z]{3})|mixed(?P<mixed>\d+)|ext-(?P<ext>[a-z0-9_]+)"
    r"|(?P<method>[a-z_]+)-(?:all(?P<all>\d+)|(?P<a>[a-z]{3})\+(?P<b>[a-z]{3})|succ(?P<succ>\d+)))"
    r"(?:-br(?P<branch>[1-9]\d*))?$"
)
BRANCH = "-br"  #: the suffix of a branch family's ids


@dataclass(frozen=True)
class ModelId:
    kind: str  # init | mono | mixed | merge | external
    lang: str | None = None  # mono
    name: str | None = None  # external
    n: int | None = None  # mixed<N>, all<N>, succ<k>
    method: str | None = None  # merges
    family: str | None = None  # all | pair | succ
    pair: tuple[str, str] | None = None
    branch: int = 0  #: the Mixed step the experts (of a merge) branched from; 0: the shared init

    def __str__(self) -> str:
        return format_id(self)


def parse(text: str) -> ModelId:
    m = _RE.match(text)
    if not m:
        raise ValueError(f"not a model id: {text!r} (see mergelimits.modelid)")
    if m["branch"]:
        if not (m["mono"] or m["method"]):
            raise ValueError(f"{text!r}: only experts and their merges belong to a branch family")
        return replace(parse(text[: m.start("branch") - len(BRANCH)]), branch=int(m["branch"]))
    if m["init"]:
        return ModelId("init")
    if m["mono"]:
        return ModelId("mono", lang=m["mono"])
    if m["mixed"]:
        return ModelId("mixed", n=int(m["mixed"]))
    if m["ext"]:
        return ModelId("external", name=m["ext"])
    method = m["method"]
    if method not in registry.MERGE_METHODS:
        raise ValueError(f"unknown merge method {method!r} in {text!r}; known: {', '.join(registry.MERGE_METHODS)}")
    if m["all"]:
        return ModelId("merge", n=int(m["all"]), method=method, family="all")
    if m["succ"]:
        return ModelId("merge", n=int(m["succ"]), method=method, family="succ")
    if m["a"] == m["b"]:
        raise ValueError(f"{text!r} merges a language with itself")
    return ModelId("merge", method=method, family="pair", pair=(m["a"], m["b"]))


def format_id(mid: ModelId) -> str:
    if mid.branch:
        return f"{format_id(replace(mid, branch=0))}{BRANCH}{mid.branch}"
    if mid.kind == "init":
        return "init"
    if mid.kind == "mono":
        return f"mono-{mid.lang}"
    if mid.kind == "mixed":
        return f"mixed{mid.n}"
    if mid.kind == "external":
        return f"ext-{mid.name}"
    tail = {"all": f"all{mid.n}", "succ": f"succ{mid.n}"}.get(mid.family) or "+".join(mid.pair)
    return f"{mid.method}-{tail}"


def display(text: str) -> str:
    """The name tables and figures show for a model id, from this one place: "Mixed10",
    "Merged10 TIES", "eng expert", "Successive3 linear", "deu+nld linear"; an external
    baseline shows its config label, which the tables take from the config."""
    mid = parse(text)
    if mid.branch:
        return f"{display(format_id(replace(mid, branch=0)))}, branched at {mid.branch}"
    if mid.kind == "init":
        return "Init"
    if mid.kind == "mono":
        return f"{mid.lang} expert"
    if mid.kind == "mixed":
        return f"Mixed{mid.n}"
    if mid.kind == "external":
        return mid.name
    label = registry.method(mid.method).label
    if mid.family == "all":
        return f"Merged{mid.n} {label}"
    if mid.family == "succ":
        return f"Successive{mid.n} {label}"
    return f"{'+'.join(mid.pair)} {label}"


def merged_pattern() -> str:
    """A regex matching exactly the merged-model ids of the registered methods: the `model`
    wildcard's constraint for merged models."""
    methods = "|".join(sorted(registry.MERGE_METHODS, key=len, reverse=True))
    return rf"(?:{methods})-(?:all\d+|[a-z]{{3}}\+[a-z]{{3}}|succ\d+)(?:{BRANCH}[1-9]\d*)?"


def mono(lang: str, branch: int = 0) -> str:
    return format_id(ModelId("mono", lang=lang, branch=branch))


def branch_of(model_id: str) -> int:
    """The step an expert, or a merge's experts, branched from Mixed (0: the shared init)."""
    return parse(model_id).branch


def mixed(n: int) -> str:
    return format_id(ModelId("mixed", n=n))


#: the step an external baseline's checkpoint and evaluation are kept under
EXTERNAL_STEP = 0


def external(name: str) -> str:
    return format_id(ModelId("external", name=name))


def is_external(model: str) -> bool:
    """An external baseline's id (tables ask this of any row label, valid id or not)."""
    return model.startswith("ext-")


def mono_lang(model_id: str) -> str:
    """The language of a monolingual model id."""
    mid = parse(model_id)
    if mid.kind != "mono":
        raise ValueError(f"{model_id!r} is not a monolingual model")
    return mid.lang


def merged_all(method: str, n: int, branch: int = 0) -> str:
    return format_id(ModelId("merge", n=n, method=method, family="all", branch=branch))


def merged_pair(method: str, a: str, b: str, branch: int = 0) -> str:
    return format_id(ModelId("merge", method=method, family="pair", pair=(a, b), branch=branch))


def merged_succ(method: str, k: int, branch: int = 0) -> str:
    return format_id(ModelId("merge", n=k, method=method, family="succ", branch=branch))
