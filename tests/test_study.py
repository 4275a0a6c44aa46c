"""The study's design, from the config: the paper's models, merges, evaluations and tables."""

import copy
import re

import pytest

from mergelimits import languages, modelid
from mergelimits.study import EXPERTS, HEAVY, Study, successive_order


@pytest.fixture(scope="module")
def paper(paper_config):
    return Study.from_config(paper_config)


def test_paper_models_and_merges(paper):
    assert paper.languages == ("ara", "deu", "eng", "fra", "ita", "nld", "rus", "spa", "tur", "zho")
    assert paper.mixed == "mixed10" and paper.final == 47684 and len(paper.steps) == 8
    assert 10000 in paper.steps  # the text's "after only 10,000 steps" read off Figure 1
    assert paper.trained == ["mixed10"]  # the experts are HPLT's
    merges = paper.merges
    assert len(set(merges)) == len(merges)
    alls = [(m, s) for m, s in merges if modelid.parse(m).family == "all"]
    assert {m for m, _ in alls} == {"linear-all10", "ties-all10", "dare_ties-all10"}
    # the authors' grid: linear at every saved checkpoint, TIES and DARE-TIES at the final step
    assert [s for m, s in alls if m == "linear-all10"] == list(paper.steps)
    assert [s for m, s in alls if m != "linear-all10"] == [paper.final] * 2
    pairs = [m for m, s in merges if modelid.parse(m).family == "pair"]
    assert len(pairs) == 45 and all(s == paper.final for m, s in merges if m in pairs)
    assert {frozenset(modelid.parse(m).pair) for m in pairs} == {
        frozenset((a, b)) for i, a in enumerate(paper.languages) for b in paper.languages[i + 1:]}
    succ = [m for m, _ in merges if modelid.parse(m).family == "succ"]
    assert succ == [f"linear-succ{k}" for k in range(2, 11)]


def test_successive_merges_follow_one_order(paper, paper_config):
    order = paper.successive_order
    assert order == ["eng", "fra", "deu", "ara", "ita", "nld", "rus", "spa", "tur", "zho"]  # the authors'
    for k in range(2, 11):
        assert paper.members(f"linear-succ{k}") == order[:k]  # each adds one language to the last
    seeded = copy.deepcopy(paper_config)
    seeded["merge"]["successive"]["order"] = "seeded"
    drawn = Study.from_config(seeded).successive_order
    assert sorted(drawn) == sorted(paper.languages)
    assert drawn == successive_order(list(paper.languages), paper_config["seeds"]["successive"])
    seeded["seeds"]["successive"] += 1
    assert Study.from_config(seeded).successive_order != drawn
    assert paper.members("ties-all10") == list(paper.languages)
    assert paper.members("linear-deu+fra") == ["deu", "fra"]
    with pytest.raises(ValueError, match="merges 4 models but 10"):
        paper.members("ties-all4")
    with pytest.raises(ValueError, match="not a merged model"):
        paper.members("mono-deu")


def _readers(study):
    """What each table and figure reads: (model, step, benchmark, language), computed apart
    from the evaluation plan."""
    need = set()
    for model, bench, lang in study.table_cells():  # Tables 1-6: the final step, a baseline's own
        step = 0 if model.startswith("ext-") else study.final
        need.add((model, step, bench, lang))
        if bench in ("belebele", "hellaswag", "xcsqa"):  # the controls table: the same cells, question-blind
            need |= {(model, step, f"{bench}~{c}", lang) for c in study.controls}
    mb = languages.available("multiblimp", list(study.languages))
    for model, step in study.merges:  # Figure 1 (Merged-N), Figure 2 (successive), Table 8 (pairs)
        mid = modelid.parse(model)
        langs = [lang for lang in mid.pair if lang in mb] if mid.family == "pair" else mb
        need |= {(model, step, "multiblimp", lang) for lang in langs}
    for step in study.all_steps:  # Figure 1: Mixed beside Merged-N at every step
        need |= {(study.mixed, step, "multiblimp", lang) for lang in mb}
    if study.successive_methods:  # Figure 2's k = 1: the first expert alone on every language
        need |= {(modelid.mono(study.successive_order[0]), study.final, "multiblimp", lang) for lang in mb}
    for a, b in study.pairs:  # Δ: each expert on its own language
        need |= {(modelid.mono(lang), study.final, "multiblimp", lang) for lang in (a, b) if lang in mb}
    for branch in study.branch_steps:  # Figure 4: each family's experts on their own language, its Merged-N
        for bench in study.benchmarks:  # on every language (and each branched pair's Δ)
            have = languages.available(bench, list(study.languages))
            need |= {(modelid.mono(lang, branch), study.final, bench, lang) for lang in have}
            need |= {(modelid.merged_all(m, len(study.languages), branch), study.final, bench, lang)
                     for m in study.branch_methods for lang in have}
    return need


def test_every_table_cell_is_evaluated_and_nothing_else(paper):
    cells = paper.table_cells()
    planned = {(m, s, b, lang) for (m, s), tasks in paper.eval_plan.items() for b, lang in tasks}
    assert planned == _readers(paper)
    # Table 1-6 rows: experts, Mixed10 and Merged10 by method; zho has no MultiBLiMP, tur no X-CSQA
    assert [r for _, r in paper.table_rows] == [EXPERTS, "mixed10", "linear-all10", "ties-all10", "dare_ties-all10",
                                                 "ext-eurollm_1b7", "ext-gemma2_2b", "ext-tiny_aya_base"]
    assert [label for label, _ in paper.table_rows][-3:] == ["EuroLLM-1.7B", "Gemma-2-2B", "Tiny-Aya-Base"]
    assert ("ext-gemma2_2b", "xcsqa", "zho") in cells and ("ext-gemma2_2b", "multiblimp", "zho") not in cells
    assert ("mixed10", "multiblimp", "zho") not in cells and ("mixed10", "xcsqa", "tur") not in cells
    assert ("mono-zho", "flores", "zho") in cells
    assert paper.table_stems == ["table1", "table2_multiblimp", "table3_belebele", "table4_hellaswag",
                                 "table5_xcsqa", "table6_flores", "controls", "table7_flores_examples"]
    assert paper.controls == ("blind", "shuffled")
    # controls beside the tables' cells only: never for Figure 1's steps, pairs or successive merges
    assert ("mixed10", 1000, "xcsqa~blind", "deu") not in planned
    assert ("linear-all10", paper.final, "belebele~shuffled", "zho") in planned
    assert not any("~" in b for (m, s), t in paper.eval_plan.items() if "+" in m or "succ" in m for b, _ in t)
    assert not any(b.startswith(("multiblimp~", "flores~")) for b in {b for *_, b, _ in planned})


def test_a_subset_config(tiny_config):
    cfg = copy.deepcopy(tiny_config)
    cfg.update(languages=["deu", "eng", "fra", "zho"], benchmarks=["multiblimp", "flores"])
    cfg["merge"]["pairs"] = ["zho+deu"]
    cfg["merge"]["all"]["steps"] = [120, 240]
    study = Study.from_config(cfg)
    assert study.pairs == (("deu", "zho"),)  # in the order of `languages`
    assert study.merges[:2] == [("linear-all4", 120), ("linear-all4", 240)]
    assert study.eval_plan[("linear-deu+zho", 240)] == [("multiblimp", "deu")]  # zho has no MultiBLiMP
    assert study.eval_plan[("mixed4", 120)] == [("multiblimp", lang) for lang in ("deu", "eng", "fra")]
    assert ("mixed4", 60) not in study.eval_plan  # no Merged-N at step 60, so no Figure 1 point
    assert study.table_stems == ["table1", "table2_multiblimp", "table6_flores", "table7_flores_examples"]
    assert planned_equals_readers(study)


def planned_equals_readers(study):
    return {(m, s, b, lang) for (m, s), t in study.eval_plan.items() for b, lang in t} == _readers(study)


def test_a_branch_family_is_merged_and_evaluated_as_the_experts(tiny_config):
    """Experts branched from Mixed at a step form a family with its own ids, merges against
    that Mixed checkpoint, and evaluations: what Figure 4 and its Table 8 read, no more."""
    cfg = copy.deepcopy(tiny_config)
    cfg.update(languages=["deu", "eng", "fra", "zho"], benchmarks=["multiblimp", "xcsqa"])
    cfg["pretrain"]["branch"] = {"steps": [180, 60]}
    cfg["merge"]["branch"] = {"methods": ["linear_wm"], "pairs": ["deu+eng", "fra+deu", "zho+eng"],
                              "successive": True}
    study = Study.from_config(cfg)
    assert study.families == (0, 60, 180)  # sorted, 0 first
    assert study.experts(60) == ["mono-deu-br60", "mono-eng-br60", "mono-fra-br60", "mono-zho-br60"]
    assert study.branched == study.experts(60) + study.experts(180)
    assert "mono-deu-br60" not in study.trained  # its own rule: from Mixed's state, not the init
    fam = study.branch_merges(180)
    assert fam[0] == "linear_wm-all4-br180"
    assert fam[1:4] == ["linear-deu+eng-br180", "linear-deu+fra-br180", "linear-eng+zho-br180"]
    assert fam[4:] == [f"linear-succ{k}-br180" for k in range(2, 5)]
    assert all((m, 240) in study.merges for m in fam)
    assert study.member_models("linear-deu+fra-br180") == ["mono-deu-br180", "mono-fra-br180"]
    assert study.member_models("linear_wm-all4") == ["mono-deu", "mono-eng", "mono-fra", "mono-zho"]
    assert study.merge_base("linear-deu+fra-br180") == ("mixed4", 180)
    assert study.merge_base("linear-deu+fra") == ("init", 0)
    with pytest.raises(ValueError, match="no branch family at step 120"):
        study.members("linear-deu+fra-br120")
    assert study.eval_plan[("mono-zho-br60", 240)] == [("xcsqa", "zho")]  # zho has no MultiBLiMP
    assert study.eval_plan[("linear-eng+zho-br180", 240)] == [("multiblimp", "eng")]
    assert planned_equals_readers(study)
    cfg["merge"]["branch"]["successive"] = False
    assert not any("succ" in m for m in Study.from_config(cfg).branch_merges(60))


def test_a_published_mixed_model_is_fetched_not_trained(paper_config):
    cfg = copy.deepcopy(paper_config)
    cfg["pretrain"]["mixed"] = "hub"
    study = Study.from_config(cfg)
    assert study.trained == [] and study.pretrained[-1] == "mixed10"
    assert study.eval_plan == Study.from_config(paper_config).eval_plan  # the same study, other sources


def test_table1_tokens_follow_the_training_and_the_model_cards(paper):
    # HPLT's recipe: 47,684 steps × 1,024 sequences × 2,048 tokens ≈ 100B per expert and for Mixed10
    assert paper.tokens_b(EXPERTS) == paper.tokens_b("mixed10") == pytest.approx(100.0, rel=1e-3)
    assert paper.tokens_b("linear-all10") == pytest.approx(10 * paper.tokens_b("mixed10"))  # its members' together
    assert paper.tokens_b("linear-deu+fra") == pytest.approx(2 * paper.tokens_b("mixed10"))
    assert paper.tokens_b("ext-eurollm_1b7") == 4000 and paper.tokens_b("ext-tiny_aya_base") is None
    assert paper.step_of("ext-gemma2_2b") == 0 and paper.step_of("mixed10") == paper.final


@pytest.mark.parametrize("overlays", [[], ["paper-branch.yaml"]])
def test_the_catalog_holds_every_model_once_and_the_tables_rows_in_order(paper_config, overlays):
    """models.tsv: each merge with the members it merges, each expert by language and family,
    and the table rows (the experts' one resolved per language) in Study's order."""
    from mergelimits import catalog
    from mergelimits.synthetic.hub_cache import load_config

    from .conftest import ROOT

    cfg = load_config([ROOT / "config" / "paper.yaml", *(ROOT / "config" / o for o in overlays)])
    study = Study.from_config(cfg)
    models = catalog.frame(study.catalog())
    assert models["model"].is_unique
    assert set(models["model"]) == {*study.pretrained, *study.branched, *dict(study.merges), *study.baseline_models}
    for model in dict(study.merges):
        row = models.set_index("model").loc[model]
        assert row["members"].split("+") == study.members(model) and row["k"] == len(study.members(model))
    assert catalog.pair(models, "linear", "deu", "nld") == modelid.merged_pair("linear", "deu", "nld")
    for family in study.families:
        assert [catalog.expert(models, lang, family) for lang in study.languages] == study.experts(family)
    rows = catalog.table_rows(models)
    assert [label for label, _ in rows] == [label for label, _ in study.table_rows]
    experts = dict(rows)[[label for label, m in study.table_rows if m == EXPERTS][0]]
    assert experts == {lang: modelid.mono(lang) for lang in study.languages}
    with pytest.raises(KeyError, match="models.tsv: 0 rows for the xxx expert"):
        catalog.expert(models, "xxx")


def test_no_module_but_study_and_modelid_builds_a_model_id():
    """What is made and what is read are decided once: analyses, tables and figures look
    models up in the catalog (the synthetic fixtures stand in for the outside world)."""
    import re

    from .conftest import ROOT

    builders = re.compile(r"modelid\.(mono|mixed|merged_all|merged_pair|merged_succ|external|format_id)\(")
    src = ROOT / "src" / "mergelimits"
    files = [*src.glob("*.py"), *src.glob("benchmarks/*.py"), *(ROOT / "scripts").glob("*.py")]
    offenders = [p.name for p in files if p.name not in ("study.py", "modelid.py") and builders.search(p.read_text())]
    assert offenders == []


def _worth(jobs: dict, counts) -> dict:
    return {k: sum(counts(m) for m in v) for k, v in jobs.items()}


def test_merge_jobs_hold_each_merge_once_and_count_the_tables_merged_n_heavy(tiny_config):
    """merge.per_job groups a kind's merges in order, light ones first, a job filled up to
    per_job merged models' worth before the next begins; a Merged-N scored on every task at
    the final step (its tables' row) outweighs HEAVY of its kind's cheapest and counts HEAVY."""
    study = Study.from_config(tiny_config)
    final_all = [(m, s) for m, s in study.merges if s == study.final and m.endswith(f"-all{len(study.languages)}")]
    assert len(final_all) == 4  # linear, TIES, DARE-TIES, weight-matched linear
    early = [(m, s) for m, s in study.merges if s != study.final]
    assert len(early) == 3
    plan = study.eval_plan
    assert min(len(plan[m]) for m in final_all) > HEAVY * max(len(plan[m]) for m in early)

    def counts(m):
        return HEAVY if m in final_all else 1

    for per_job in (tiny_config["merge"]["per_job"], 2 * HEAVY, HEAVY + 2, HEAVY - 1, 2):
        jobs = study.merge_jobs(per_job)
        made = [m for models in jobs.values() for m in models]
        assert sorted(made) == sorted(study.merges) and len(made) == len(set(made))
        all_jobs = [jobs[k] for k in jobs if re.fullmatch(r"all_\d+", k)]
        assert [m for job in all_jobs for m in job] == early + final_all
        worth = _worth(jobs, counts)
        assert all(worth[k] <= per_job or len(jobs[k]) == 1 for k in jobs)
        # a job closes only when its kind's next merge would not fit
        names = list(jobs)
        for this, after in zip(names, names[1:]):
            if this.rsplit("_", 1)[0] == after.rsplit("_", 1)[0]:
                assert worth[this] + counts(jobs[after][0]) > per_job
    assert {k: v for k, v in study.merge_jobs(23).items() if re.fullmatch(r"all_\d+", k)} == {
        "all_1": early + final_all[:2], "all_2": final_all[2:]}
    assert [len(v) for k, v in study.merge_jobs(23).items() if k.startswith("pair_")] == [23, 22]
    assert [study.merge_jobs(2 * HEAVY)[f"all_{i}"] for i in (1, 2, 3)] == [early + final_all[:1], final_all[1:3],
                                                                           final_all[3:]]
    assert [study.merge_jobs(HEAVY - 1)[f"all_{i}"] for i in (2, 3, 4, 5)] == [[m] for m in final_all]
    assert study.merge_jobs(1) == {}


def test_mixed_checkpoints_are_evaluated_the_early_ones_first_the_final_one_counting_heavy(tiny_config):
    """evaluate.per_job also groups Mixed's evaluations: the early checkpoints (MultiBLiMP, for
    Figure 1) first, then the final one (every task and control, for the tables) counting
    HEAVY; none where Mixed is evaluated once or per_job is 1."""
    study = Study.from_config(tiny_config)
    early = [(study.mixed, s) for s in study.steps[:-1]]
    final = (study.mixed, study.final)
    assert len(early) == 3 and all(key in study.eval_plan for key in early)
    assert study.mixed_eval_jobs(10) == {"mixed_1": [*early, final]}
    assert study.mixed_eval_jobs(3 + HEAVY) == {"mixed_1": [*early, final]}
    assert study.mixed_eval_jobs(2 + HEAVY) == {"mixed_1": early, "mixed_2": [final]}
    assert study.mixed_eval_jobs(2) == {"mixed_1": early[:2], "mixed_2": early[2:], "mixed_3": [final]}
    assert study.mixed_eval_jobs(1) == {}
    once = copy.deepcopy(tiny_config)
    once["merge"]["all"]["steps"] = [study.final]
    assert Study.from_config(once).mixed_eval_jobs(10) == {}


def test_expert_evaluations_and_trainings_are_grouped_a_family_a_job_in_language_order(tiny_config):
    """evaluate.per_job and pretrain.per_job: every expert (the shared init's, then each branch
    family's) in exactly one job of at most per_job, never beside another family's, in the
    order of the languages; a training counts the share of a whole run it trains (branched at
    step 120 of 240: half); Mixed trains alone; 1 means a job per model (no groups)."""
    study = Study.from_config(tiny_config)
    langs = list(study.languages)
    evals = study.expert_eval_jobs(5)
    assert evals == {"expert_1": study.experts()[:5], "expert_2": study.experts()[5:],
                     "expert_br120_1": study.experts(120)[:5], "expert_br120_2": study.experts(120)[5:]}
    assert [modelid.mono_lang(m) for m in evals["expert_2"]] == langs[5:]
    assert study.steps[-1] == 2 * 120
    trains = study.train_jobs(4)
    assert list(trains) == ["mono_1", "mono_2", "mono_3", "br120_1", "br120_2"]
    assert [m for k in ("mono_1", "mono_2", "mono_3") for m in trains[k]] == study.mono
    assert [m for k in ("br120_1", "br120_2") for m in trains[k]] == study.experts(120)
    assert [len(v) for v in trains.values()] == [4, 4, 2, 8, 2]
    assert [len(v) for v in study.train_jobs(5).values()] == [5, 5, 10]
    assert study.mixed not in {m for v in trains.values() for m in v}
    assert study.expert_eval_jobs(1) == study.train_jobs(1) == {}
    assert study.corpus_of(study.experts(120)[0]) == study.mono[0] and study.corpus_of(study.mixed) == study.mixed
    with pytest.raises(ValueError, match=r"^pretrain\.per_job must be at least 1; got 0$"):
        study.train_jobs(0)


def test_a_training_job_holds_per_job_whole_runs_of_branched_experts(tiny_config):
    """Branched at 80 of 240 steps an expert trains two thirds of a run, at 160 one third:
    with pretrain.per_job 2, three and six of them a job."""
    cfg = copy.deepcopy(tiny_config)
    cfg["pretrain"].update(steps=240, checkpoints=[80, 160, 240], branch={"steps": [80, 160]})
    study = Study.from_config(cfg)
    jobs = study.train_jobs(2)
    assert [len(jobs[f"br80_{i}"]) for i in (1, 2, 3, 4)] == [3, 3, 3, 1]
    assert [len(jobs[f"br160_{i}"]) for i in (1, 2)] == [6, 4]
    assert [len(jobs[f"mono_{i}"]) for i in range(1, 6)] == [2] * 5
