"""The study's design as one object: which models, merges, evaluations and table rows a
validated config asks for. The workflow's rules only turn these into paths.

    study = Study.from_config(config)
    study.merges        [(model id, step)] of every merged model
    study.eval_plan     (model id, step) -> [(benchmark, language)]
    study.table_rows    [(label, model id or "mono")] of Tables 1-6

Everything is derived once from the config; tests/test_study.py pins the paper design.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from itertools import combinations

from . import benchmarks, languages, modelid

TABLE1 = "table1"
FLORES_EXAMPLES = "table7_flores_examples"
CONTROLS = "controls"  #: the controls table: each multiple-choice score beside its question-blind controls
EXPERTS = "mono"  #: the table row of each monolingual expert on its own language
EXPERTS_LABEL = "Monolingual experts"


def successive_order(langs: list[str], seed: int) -> list[str]:
    """The order in which languages join the successive merges (Figure 2), from the seed."""
    return random.Random(seed).sample(list(langs), len(langs))


def pretrain_tokens_b(pre: dict) -> float:
    """Tokens (billions) each pre-trained model sees: steps × sequences per step × length
    (HPLT's experts and Mixed10: 47,684 × 1,024 × 2,048 ≈ 100B)."""
    per_step = pre["megatron"]["global_batch"] if pre["engine"] == "megatron" else pre["batch_size"]
    return pre["steps"] * per_step * pre["arch"]["seq_len"] / 1e9


def steps_of(spec, checkpoints: tuple[int, ...]) -> tuple[int, ...]:
    """A step list of the config: "all" checkpoints, the "final" one, or a list of them."""
    if spec == "all":
        return checkpoints
    if spec == "final":
        return checkpoints[-1:]
    return tuple(spec)


def merged_all_grid(spec, methods, checkpoints) -> tuple[tuple[str, int], ...]:
    """(method, step) of every Merged-N: `merge.all.steps` for all methods, or per method
    (the authors' grid: linear at every checkpoint, TIES and DARE-TIES at the final one)."""
    per = spec if isinstance(spec, dict) else dict.fromkeys(methods, spec)
    return tuple((m, s) for m in methods for s in steps_of(per.get(m, "all"), checkpoints))


#: A member whose evaluation has more than this many times the tasks of its group's lightest
#: is heavy: it counts as HEAVY members in its job. As measured in the tiny study (session 17's
#: run, less each job's start-up; perf/README.md): a Merged-10 scored on every task and control
#: took 19.6 s against 2.8 s for one scored on MultiBLiMP alone, Mixed's final checkpoint 19.7 s
#: against 2.6 s. Counted as one, a heavy member made its job a run's long tail.
HEAVY = 7


def _jobs(section: str, groups: dict[str, list], per_job: int, weight) -> dict[str, list]:
    """Each group's members in jobs named `<group>_<n>`: the light ones in order, then the
    heavy ones, a job filled up to `per_job` members' worth before the next begins, and one
    member at least. `weight(members)` maps each member of a group to what it counts (a
    light member 1). `per_job` 1: no jobs (the rules' wildcards)."""
    if per_job < 1:
        raise ValueError(f"{section}.per_job must be at least 1; got {per_job}")
    if per_job == 1:
        return {}
    jobs: dict[str, list] = {}
    for kind, members in groups.items():
        if not members:
            continue
        counts = weight(members)
        chunks: list[list] = []
        load = 0
        for m in sorted(members, key=lambda m: counts[m] > 1):  # stable: light first, each in order
            if chunks and load + counts[m] <= per_job:
                chunks[-1].append(m)
                load += counts[m]
            else:
                chunks.append([m])
                load = counts[m]
        jobs.update({f"{kind}_{i}": chunk for i, chunk in enumerate(chunks, 1)})
    return jobs


def _by_tasks(tasks):
    """`weight` for _jobs from each member's number of tasks: HEAVY for a member with more than
    HEAVY times the tasks of its group's lightest, else 1."""
    def weight(members: list) -> dict:
        lightest = min(tasks(m) for m in members)
        return {m: HEAVY if tasks(m) > HEAVY * lightest else 1 for m in members}
    return weight


@dataclass(frozen=True)
class Study:
    languages: tuple[str, ...]
    benchmarks: tuple[str, ...]
    steps: tuple[int, ...]  #: the pre-training checkpoints
    train_monolingual: bool  #: trained here, or fetched (HPLT)
    train_mixed: bool  #: trained here, or fetched (the authors' published checkpoints)
    all_methods: tuple[str, ...]  #: Merged-N (Figure 1)
    all_grid: tuple[tuple[str, int], ...]  #: (method, step) of every Merged-N
    pairs: tuple[tuple[str, str], ...]
    pair_methods: tuple[str, ...]
    successive_methods: tuple[str, ...]
    successive_seed: int
    successive_spec: tuple[str, ...] | None = None  #: a configured order; None: drawn from the seed
    baselines: tuple[tuple[str, str], ...] = ()  #: (model id, label) of each external baseline
    pretrain_tokens: float = 0.0  #: training tokens (billions) of each pre-trained model
    baseline_tokens: tuple[tuple[str, float | None], ...] = ()  #: (model id, its model card's tokens)
    #: (model id, step) of each merge compared with a published one (merge.published)
    published_merges: tuple[tuple[str, int], ...] = ()
    controls: tuple[str, ...] = ()  #: evaluate.controls: question-blind variants of the tables' tasks
    #: beyond the paper: the Mixed steps experts branch from (pretrain.branch), and each
    #: branch family's merges at the final step (merge.branch)
    branch_steps: tuple[int, ...] = ()
    branch_methods: tuple[str, ...] = ()
    branch_pairs: tuple[tuple[str, str], ...] = ()
    branch_successive: bool = False

    @classmethod
    def from_config(cls, cfg: dict) -> Study:
        langs = tuple(cfg["languages"])
        m = cfg["merge"]
        steps = tuple(cfg["pretrain"]["checkpoints"])
        order = m["successive"].get("order", "seeded")
        pub = m.get("published")
        return cls(
            languages=langs,
            benchmarks=tuple(cfg["benchmarks"]),
            steps=steps,
            train_monolingual=cfg["pretrain"]["monolingual"] == "train",
            train_mixed=cfg["pretrain"].get("mixed", "train") == "train",
            all_methods=tuple(m["all"]["methods"]),
            all_grid=merged_all_grid(m["all"].get("steps", "all"), m["all"]["methods"], steps),
            pairs=tuple(pairs_of(langs, m["pairs"])),
            pair_methods=tuple(m["pair_methods"]),
            successive_methods=tuple(m["successive"]["methods"]),
            successive_seed=cfg["seeds"]["successive"],
            successive_spec=None if order == "seeded" else tuple(order),
            baselines=tuple((modelid.external(b["name"]), b["label"]) for b in cfg.get("baselines", [])),
            pretrain_tokens=pretrain_tokens_b(cfg["pretrain"]),
            baseline_tokens=tuple((modelid.external(b["name"]), b["tokens_b"]) for b in cfg.get("baselines", [])),
            published_merges=tuple((modelid.merged_all(pub["method"], len(langs)), s)
                                   for s in steps_of(pub["steps"], steps)) if pub else (),
            controls=tuple(cfg["evaluate"].get("controls", [])),
            branch_steps=tuple(sorted(cfg["pretrain"].get("branch", {}).get("steps", []))),
            branch_methods=tuple(m.get("branch", {}).get("methods", [])),
            branch_pairs=tuple(pairs_of(langs, m.get("branch", {}).get("pairs", []))),
            branch_successive=m.get("branch", {}).get("successive", False),
        )

    # Models -----------------------------------------------------------------------------

    @property
    def final(self) -> int:
        return self.steps[-1]

    @property
    def mixed(self) -> str:
        return modelid.mixed(len(self.languages))

    @property
    def mono(self) -> list[str]:
        return [modelid.mono(lang) for lang in self.languages]

    def experts(self, branch: int = 0) -> list[str]:
        """The monolingual models of one branch family (0: the paper's, from the shared init)."""
        return [modelid.mono(lang, branch) for lang in self.languages]

    @property
    def families(self) -> tuple[int, ...]:
        """The branch steps of every family of experts: 0 (the shared init), then pretrain.branch."""
        return (0, *self.branch_steps)

    @property
    def branched(self) -> list[str]:
        """The experts that continue a Mixed checkpoint on their own language (beyond the paper)."""
        return [m for b in self.branch_steps for m in self.experts(b)]

    def merge_base(self, model: str) -> tuple[str, int]:
        """(model, step) of the checkpoint a merge's task vectors start from: the shared init,
        or the Mixed checkpoint its branch family continued."""
        branch = modelid.branch_of(model)
        return (self.mixed, branch) if branch else ("init", 0)

    @property
    def corpora(self) -> list[str]:
        """Pre-training corpora: one per language and their equal mix, named as the models."""
        return [*self.mono, self.mixed]

    @property
    def pretrained(self) -> list[str]:
        """Every pre-trained model, trained here or fetched."""
        return [*self.mono, self.mixed]

    @property
    def trained(self) -> list[str]:
        """The pre-trained models this workflow trains itself."""
        return [*(self.mono if self.train_monolingual else []), *([self.mixed] if self.train_mixed else [])]

    def model_corpora(self, model: str) -> list[str]:
        """The corpora a model is trained on: its own language's (a branched expert too), or
        all of them (Mixed)."""
        if model == self.mixed:
            return self.mono
        return [modelid.mono(modelid.mono_lang(model))]

    def corpus_of(self, model: str) -> str:
        """The corpus a trained model reads, named as a model: its own; a branched expert's,
        its language's (Mixed saw them all before the branch)."""
        return model if model == self.mixed else modelid.mono(modelid.mono_lang(model))

    def corpus_languages(self, corpus: str) -> list[str]:
        """The languages of a pre-training corpus (named as the model trained on it)."""
        return list(self.languages) if corpus == self.mixed else [modelid.mono_lang(corpus)]

    @property
    def baseline_models(self) -> list[str]:
        return [model for model, _ in self.baselines]

    def sized_by(self, model: str) -> str:
        """The model whose checkpoint gives a table row's size: merges and the experts' row
        have the first expert's shape."""
        if model in self.pretrained or model in self.baseline_models:
            return model
        return self.mono[0]

    @property
    def sized_models(self) -> list[str]:
        return sorted({self.sized_by(model) for _, model in self.table_rows})

    # Merges -----------------------------------------------------------------------------

    @cached_property
    def successive_order(self) -> list[str]:
        if self.successive_spec is not None:
            return list(self.successive_spec)
        return successive_order(list(self.languages), self.successive_seed)

    @property
    def all_steps(self) -> tuple[int, ...]:
        """Every step some Merged-N is made at (Figure 1's x axis)."""
        return tuple(sorted({s for _, s in self.all_grid}))

    @cached_property
    def merges(self) -> list[tuple[str, int]]:
        n = len(self.languages)
        return ([(modelid.merged_all(m, n), s) for m, s in self.all_grid]
                + [(modelid.merged_pair(m, a, b), self.final) for m in self.pair_methods for a, b in self.pairs]
                + [(modelid.merged_succ(m, k), self.final) for m in self.successive_methods
                   for k in range(2, n + 1)]
                + [(model, self.final) for b in self.branch_steps for model in self.branch_merges(b)])

    def merge_jobs(self, per_job: int) -> dict[str, list[tuple[str, int]]]:
        """The merges (model, step) grouped into merge_evaluate jobs (config merge.per_job),
        named `<family>_<n>` (a branch family's `<family>_br<step>_<n>`), in the order of
        `merges`, those whose evaluation has more than HEAVY times the tasks of their kind's
        cheapest (a Merged-N of the tables, scored on every task and control at the final
        step) last. A job holds `per_job` merged models' worth, a heavy one counting HEAVY.
        Jobs never mix kinds or branch families, so that adding one (a branch family, the
        pairs) leaves every other job as it was. `per_job` 1: none (one job per merged model,
        the wildcard rule)."""
        groups: dict[str, list[tuple[str, int]]] = {}
        for model, step in self.merges:
            mid = modelid.parse(model)
            groups.setdefault(mid.family + (f"_br{mid.branch}" if mid.branch else ""), []).append((model, step))
        plan = self.eval_plan
        return _jobs("merge", groups, per_job, _by_tasks(lambda m: len(plan[m])))

    def expert_eval_jobs(self, per_job: int) -> dict[str, list[str]]:
        """The experts' evaluations at the final step (with their activations for CKA)
        grouped into jobs (config evaluate.per_job), a branch family each: `expert_<n>`,
        `expert_br<step>_<n>`, in the order of the languages. `per_job` 1: none (the
        wildcard rule, a job per expert)."""
        groups = {"expert" + (f"_br{b}" if b else ""): self.experts(b) for b in self.families}
        plan = self.eval_plan
        return _jobs("evaluate", groups, per_job, _by_tasks(lambda m: len(plan[(m, self.final)])))

    def mixed_eval_jobs(self, per_job: int) -> dict[str, list[tuple[str, int]]]:
        """Mixed's evaluations at its checkpoints (Figure 1's line and the tables' row),
        grouped into evaluate_model jobs (config evaluate.per_job) as the merges are:
        `mixed_<n>`, the early checkpoints first, the final one (every task and control)
        counting HEAVY. None where Mixed is evaluated once (no job to spare) or `per_job` is 1."""
        plan = self.eval_plan
        members = [(self.mixed, s) for s in self.steps if (self.mixed, s) in plan]
        if len(members) < 2:
            return {}
        return _jobs("evaluate", {"mixed": members}, per_job, _by_tasks(lambda m: len(plan[m])))

    def train_jobs(self, per_job: int) -> dict[str, list[str]]:
        """The experts this workflow trains, grouped into jobs (config pretrain.per_job) a
        family each: `mono_<n>` from the shared init, `br<step>_<n>` from Mixed's checkpoint,
        in the order of the languages. An expert counts the share of a whole run it trains:
        one branched at step 120 of 240 half. Mixed trains alone. `per_job` 1: none."""
        groups = {"mono": self.mono} if self.train_monolingual else {}
        groups.update({f"br{b}": self.experts(b) for b in self.branch_steps})
        # Fractions: three experts branched at two thirds make exactly one run, no rounding
        share = {m: Fraction(self.final - modelid.branch_of(m), self.final) for g in groups.values() for m in g}
        return _jobs("pretrain", groups, per_job, lambda members: share)

    def branch_merges(self, branch: int) -> list[str]:
        """The merges of one branch family (at the final step): Merged-N by method, the
        bilingual pairs and, if configured, the successive merges."""
        n = len(self.languages)
        return ([modelid.merged_all(m, n, branch) for m in self.branch_methods]
                + [modelid.merged_pair(m, a, b, branch) for m in self.pair_methods for a, b in self.branch_pairs]
                + [modelid.merged_succ(m, k, branch) for m in self.successive_methods if self.branch_successive
                   for k in range(2, n + 1)])

    def member_models(self, model: str) -> list[str]:
        """The expert ids a merged model merges, in merge order (of its branch family)."""
        branch = modelid.branch_of(model)
        return [modelid.mono(lang, branch) for lang in self.members(model)]

    def members(self, model: str) -> list[str]:
        """The languages whose monolingual models a merged model id merges, in merge order."""
        mid = modelid.parse(model)
        if mid.kind != "merge":
            raise ValueError(f"{model} is not a merged model")
        if mid.branch and mid.branch not in self.branch_steps:
            raise ValueError(f"{model}: no branch family at step {mid.branch} (pretrain.branch.steps: "
                             f"{list(self.branch_steps)})")
        n = len(self.languages)
        if mid.family == "all":
            if mid.n != n:
                raise ValueError(f"{model} merges {mid.n} models but {n} languages are configured")
            return list(self.languages)
        if mid.family == "pair":
            return list(mid.pair)
        if not 2 <= mid.n <= n:
            raise ValueError(f"{model}: successive merges take 2..{n} models")
        return self.successive_order[: mid.n]

    # Evaluation -------------------------------------------------------------------------

    @cached_property
    def eval_plan(self) -> dict[tuple[str, int], list[tuple[str, str]]]:
        """What each (model, step) is evaluated on: what the tables and figures read, no more.

        Table 1-6 rows at the final step get every benchmark × language (the experts their
        own language only) and each multiple-choice task's configured controls; Figure 1's
        earlier checkpoints, Figure 2's successive merges and the bilingual merges (for Δ)
        get MultiBLiMP only, on the languages they need; the
        first expert of the successive order also gets every language's MultiBLiMP (Figure 2's
        k = 1, as the authors plot it).
        """
        def cover(benches, langs):
            return [(b, lang) for b in benches for lang in languages.available(b, list(langs))]

        mb = [b for b in self.benchmarks if b == "multiblimp"]
        out: dict[tuple[str, int], list[tuple[str, str]]] = {}
        for lang, model in zip(self.languages, self.mono):
            out[(model, self.final)] = cover(self.benchmarks, [lang])
        out[(self.mixed, self.final)] = cover(self.benchmarks, self.languages)
        for b in self.branch_steps:  # Figure 4's reference lines and each family's Δ
            for lang, model in zip(self.languages, self.experts(b)):
                out[(model, self.final)] = cover(self.benchmarks, [lang])
        for model, step in self.merges:
            mid = modelid.parse(model)
            if mid.family == "all":
                out[(model, step)] = cover(self.benchmarks if step == self.final else mb, self.languages)
            elif mid.family == "pair":
                out[(model, step)] = cover(mb, mid.pair)
            else:
                out[(model, step)] = cover(mb, self.languages)
        for step in sorted(set(self.all_steps) - {self.final}):
            out[(self.mixed, step)] = cover(mb, self.languages)  # Figure 1: Mixed beside Merged-N
        for model, _ in self.baselines:  # evaluated once, on every task of the tables
            out[(model, modelid.EXTERNAL_STEP)] = cover(self.benchmarks, self.languages)
        # The controls of every task a table row reads (the rows' models at the step they are
        # read), beside it in the same evaluation: one model load.
        rows = {(model, self.step_of(model)) for model, _, _ in self.table_cells()}
        for key in sorted(rows):
            if key in out:
                out[key] = out[key] + [(benchmarks.variant(b, c), lang) for b, lang in out[key]
                                       if benchmarks.get(b).controllable for c in self.controls]
        if self.successive_methods:
            first = (modelid.mono(self.successive_order[0]), self.final)
            out[first] = out[first] + [t for t in cover(mb, self.languages) if t not in out[first]]
        return {k: v for k, v in out.items() if v}

    @property
    def pair_method(self) -> str:
        """The merge method of the pairs that Δ, Table 8 and Figure 3 read (the first)."""
        return self.pair_methods[0]

    @property
    def flores_langs(self) -> list[str]:
        """Languages whose FLORES direction some evaluation translates."""
        return [lang for b, lang in self.tasks if b == "flores"]

    @cached_property
    def tasks(self) -> list[tuple[str, str]]:
        """Every (benchmark, language) some evaluation runs."""
        return sorted({t for tasks in self.eval_plan.values() for t in tasks})

    # Tables and figures -----------------------------------------------------------------

    @property
    def merged_all_rows(self) -> list[tuple[str, str]]:
        """(label, model) of Merged-N by method, as in Table 1 and Figure 1."""
        n = len(self.languages)
        return [(modelid.display(modelid.merged_all(m, n)), modelid.merged_all(m, n)) for m in self.all_methods]

    @property
    def translation_rows(self) -> list[tuple[str, str]]:
        """(label, model) of Table 7 when it is decoded for itself (evaluate.flores_examples.decoding):
        Mixed and Merged-N by method at the final step, the models of the authors' flores.py."""
        return [(modelid.display(self.mixed), self.mixed), *self.merged_all_rows]

    @property
    def table_rows(self) -> list[tuple[str, str]]:
        """Experts, Mixed, Merged-N by method, then the external baselines ("Multilingual
        baselines" in the paper's tables)."""
        return [(EXPERTS_LABEL, EXPERTS), (modelid.display(self.mixed), self.mixed), *self.merged_all_rows,
                *((label, model) for model, label in self.baselines)]

    def catalog(self) -> list[dict]:
        """Every model of the study, one row each (results/<study>/models.tsv, mergelimits.catalog):
        its id, kind, branch family, merge method and scope, k (models merged), member
        languages in merge order, the steps it exists at and the table row it feeds."""
        n, rows = len(self.languages), []
        table = {model: label for label, model in self.table_rows}

        def row(model, kind, family, members, steps, method="", scope="", k=1):
            rows.append({"model": model, "kind": kind, "family": family, "method": method, "scope": scope, "k": k,
                         "members": "+".join(members), "steps": ",".join(map(str, steps)),
                         "row": EXPERTS_LABEL if kind == "expert" and family == 0 else table.get(model, "")})

        for family in self.families:
            for lang in self.languages:
                row(modelid.mono(lang, family), "expert", family, [lang], self.steps if family == 0 else [self.final])
        row(self.mixed, "mixed", 0, self.languages, self.steps, k=n)
        merged: dict[str, list[int]] = {}
        for model, step in self.merges:
            merged.setdefault(model, []).append(step)
        for model, steps in merged.items():
            mid = modelid.parse(model)
            members = self.members(model)
            row(model, "merged", mid.branch, members, sorted(steps), mid.method, mid.family, len(members))
        for model, _ in self.baselines:
            row(model, "baseline", 0, [], [modelid.EXTERNAL_STEP])
        return rows

    def tokens_b(self, model: str) -> float | None:
        """Training tokens (billions) behind a table row: a merge counts its members' together;
        a baseline what its model card states (config), None if it states nothing."""
        if model == EXPERTS or model in self.pretrained:
            return self.pretrain_tokens
        if modelid.is_external(model):
            return dict(self.baseline_tokens)[model]
        return self.pretrain_tokens * len(self.members(model))

    def step_of(self, model: str) -> int:
        """The step a table row's model is evaluated at: the final one, a baseline's own."""
        return modelid.EXTERNAL_STEP if modelid.is_external(model) else self.final

    @property
    def table_stems(self) -> list[str]:
        return ([TABLE1] + [table_stem(b) for b in self.benchmarks]
                + ([CONTROLS] if self.has_controls else [])
                + ([FLORES_EXAMPLES] if "flores" in self.benchmarks else []))

    @property
    def has_controls(self) -> bool:
        return bool(self.controls) and any(benchmarks.get(b).controllable for b in self.benchmarks)

    def table_cells(self) -> list[tuple[str, str, str]]:
        """(model, benchmark, language) behind every number of Tables 1-6 (at `step_of` the model)."""
        cells = []
        for _, model in self.table_rows:
            for bench in self.benchmarks:
                for lang in languages.available(bench, list(self.languages)):
                    cells.append((modelid.mono(lang) if model == EXPERTS else model, bench, lang))
        return cells


def table_stem(bench: str) -> str:
    return f"table{benchmarks.get(bench).table}_{bench}"


def pairs_of(langs, spec) -> list[tuple[str, str]]:
    """The bilingual pairs to merge ("all", or "a+b" strings), each in the order of `langs`."""
    if spec == "all":
        return list(combinations(langs, 2))
    order = {c: i for i, c in enumerate(langs)}
    return [tuple(sorted(p.split("+"), key=order.__getitem__)) for p in spec]
