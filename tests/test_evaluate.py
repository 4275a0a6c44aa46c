"""Evaluation: the lm-eval tasks, per-item scores against hand computation, bootstrap CIs
and Table 1 recomputed from the store."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from mergelimits import benchfiles, benchmarks, bootstrap, captions, evaluate, model, tables, tokenizer
from mergelimits import scores as store
from mergelimits import tasks as taskfiles
from mergelimits.benchmarks import flores
from mergelimits.synthetic import writers

from .conftest import ROOT

ARCH = {"layers": 1, "hidden": 32, "ffn": 64, "heads": 4, "kv_heads": 4, "seq_len": 128, "tie_embeddings": True}
SIZES = {"multiblimp": 12, "belebele": 4, "hellaswag": 6, "xcsqa": 6, "flores_dev": 3, "flores_devtest": 4}
SETTINGS = {"prompts": "bare", "num_fewshot": {"multiblimp": 0, "belebele": 0, "hellaswag": 0, "xcsqa": 0, "flores": 1},
            "max_items": None, "flores": {"max_gen_toks": 8}}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    langs = ["eng", "fra", "deu"]
    writers.write_benchmarks(langs, 4, SIZES, lambda b, c: root / "bench" / b / f"lang~{c}")
    corpus = root / "c.jsonl"
    benchfiles.write_jsonl([{"text": d} for c in langs for d in writers.corpus_docs(c, 4, 40, 4)], corpus)
    tok = tokenizer.train([corpus], 400, root / "tok")
    model.make_init(ARCH, tok, 2, root / "model")
    files = {}
    for lang in ("deu", "eng"):
        for b, split in (("multiblimp", "test"), ("belebele", "test"), ("hellaswag", "validation"),
                         ("xcsqa", "validation")):
            name = benchfiles.bench_files(b)[0]
            files[(b, lang)] = {split: str(root / "bench" / b / f"lang~{lang}" / name)}
        pairs = {}
        for split in ("dev", "devtest"):
            src = flores.source(lang)
            rows = taskfiles.flores_pairs(
                benchfiles.load("flores", root / "bench" / "flores" / f"lang~{src}" / f"{split}.jsonl").to_dict("records"),
                benchfiles.load("flores", root / "bench" / "flores" / f"lang~{lang}" / f"{split}.jsonl").to_dict("records"),
                src, lang)
            pairs[split] = str(root / "pairs" / lang / f"{split}.jsonl")
            benchfiles.write_jsonl(rows, pairs[split])
        files[("flores", lang)] = pairs
    taskfiles.render_tasks(files, root / "tasks", SETTINGS, 0)
    tasks = [benchmarks.task_name(b, lang) for b, lang in files]
    scores = evaluate.evaluate_model(root / "model", "mono-deu", 6, tasks, root / "tasks", 8, 0, root / "samples.jsonl")
    return root, files, scores


def _logp(m, tok, context, continuation):
    """log P(continuation | context) by hand, BOS standing in for an empty context."""
    if context == "":
        ctx = [tok.bos_token_id]
    else:
        ctx = tok(context, add_special_tokens=False)["input_ids"]
    whole = tok(context + continuation, add_special_tokens=False)["input_ids"] if context else ctx + tok(
        continuation, add_special_tokens=False)["input_ids"]
    n_ctx = len(ctx) if context else 1
    ids = torch.tensor([whole])
    with torch.no_grad():
        lp = m(ids).logits.log_softmax(-1)[0]
    return sum(lp[i - 1, whole[i]].item() for i in range(n_ctx, len(whole)))


def test_multiblimp_scores_equal_hand_computed_loglikelihoods(env):
    root, files, scores = env
    m = model.load_model(root / "model").eval()
    tok = tokenizer.load(root / "model")
    df = benchfiles.load("multiblimp", files[("multiblimp", "deu")]["test"])
    got = scores[(scores.benchmark == "multiblimp") & (scores.lang == "deu")].sort_values("item")
    samples = [json.loads(line) for line in open(root / "samples.jsonl")]
    mb = sorted([s for s in samples if s["task"] == "ml_multiblimp_deu"], key=lambda s: s["doc_id"])
    assert len(df) == len(mb) == len(got) > 0  # every item compared, none skipped by zip
    for (_, row), s, acc in zip(df.iterrows(), mb, got["acc"]):
        good, bad = _logp(m, tok, "", row["sen"]), _logp(m, tok, "", row["wrong_sen"])
        assert float(s["filtered_resps"][0][0]) == pytest.approx(good, abs=1e-3)
        assert float(s["filtered_resps"][1][0]) == pytest.approx(bad, abs=1e-3)
        assert acc == float(good > bad)


def test_token_normalisation_counts_continuation_tokens(env):
    root, _, _ = env
    tok = tokenizer.load(root / "model")
    count = evaluate.TokenCounter(tok)
    cont = " Kaffee und Kuchen"
    assert count("Was trinkt man?", cont) == len(tok("Was trinkt man?" + cont, add_special_tokens=False)["input_ids"]) \
        - len(tok("Was trinkt man?", add_special_tokens=False)["input_ids"])
    assert count("", "Hallo welt.") == len(tok("Hallo welt.", add_special_tokens=False)["input_ids"])
    # lm-eval moves trailing context spaces onto the continuation
    assert count("Frage ", "Antwort") == count("Frage", " Antwort")


def test_item_scores_from_samples_by_hand():
    class Tok:  # a token a word; one text or a batch, as a Hugging Face tokenizer
        def __call__(self, text, add_special_tokens=False):
            ids = [list(range(len(t.split()))) for t in ([text] if isinstance(text, str) else text)]
            return {"input_ids": ids[0] if isinstance(text, str) else ids}

    samples = {"ml_xcsqa_deu": [{"doc_id": 0, "doc": {"item": 7}, "target": 1, "arguments": [["Q", " a b c"], ["Q", " d"]],
                                 "filtered_resps": [[-3.0, False], [-2.0, False]]},
                                # one long token against three short ones: characters and tokens disagree
                                {"doc_id": 1, "doc": {"item": 9}, "target": 1,
                                 "arguments": [["Q", " aaaaaaaaaa"], ["Q", " b c d"]],
                                 "filtered_resps": [[-4.0, False], [-4.5, False]]},
                                # characters pick the gold option, the raw log-likelihood does not
                                {"doc_id": 2, "doc": {"item": 4}, "target": 1, "arguments": [["Q", " a"], ["Q", " bbbbbb"]],
                                 "filtered_resps": [[-1.0, False], [-3.0, False]]},
                                # the context's trailing space belongs to the continuation (lm-eval's
                                # _encode_pair): "Q a b c" counts 3 tokens after "Q", "Q d" one
                                {"doc_id": 3, "doc": {"item": 5}, "target": 1,
                                 "arguments": [["Q ", "a b c"], ["Q ", "d"]],
                                 "filtered_resps": [[-2.0, False], [-0.5, False]]}],
               "ml_flores_deu": [{"doc_id": 0, "target": "das ist gut", "filtered_resps": ["das ist gut"],
                                  "doc": {"item": 0, "source": "this is good"}},
                                 # lm-eval logs a generation as a list or as the string itself
                                 {"doc_id": 1, "target": "ein altes Haus am Fluss", "filtered_resps": "das alte Haus am Fluss",
                                  "doc": {"item": 3, "source": "an old house by the river"}}]}
    df = evaluate.item_scores(samples, Tok(), "m", 1)
    x = df[df.benchmark == "xcsqa"].iloc[0]
    # raw: -2 > -3 → choice 1 (gold); per char: -3/6 = -0.5 > -2/2 = -1 → choice 0; per token: -1 > -2 → 0
    assert (x.acc, x.acc_norm_char, x.acc_norm_token) == (1.0, 0.0, 0.0)
    y = df[df.benchmark == "xcsqa"].iloc[1]
    # raw: -4 > -4.5 → 0; per char: -4/11 > -4.5/6 → 0; per token: -4/1 < -4.5/3 → 1 (gold)
    assert (y.acc, y.acc_norm_char, y.acc_norm_token) == (0.0, 0.0, 1.0)
    z = df[df.benchmark == "xcsqa"].iloc[2]
    # raw: -1 > -3 → 0; per char: -1/2 < -3/7 → 1 (gold); per token: -1 > -3 → 0
    assert (z.acc, z.acc_norm_char, z.acc_norm_token) == (0.0, 1.0, 0.0)
    w = df[df.benchmark == "xcsqa"].iloc[3]
    # per token: -2/3 < -0.5/1 → 1 (gold); per char: -2/5 > -0.5/1 → 0
    assert (w.acc, w.acc_norm_char, w.acc_norm_token) == (1.0, 0.0, 1.0)
    assert list(df[df.benchmark == "xcsqa"]["item"]) == [7, 9, 4, 5]  # the item's index in its file, not lm-eval's
    f, g = df[df.benchmark == "flores"].iloc[0], df[df.benchmark == "flores"].iloc[1]
    assert f.chrf == pytest.approx(100.0) and f.source == "this is good"
    from sacrebleu.metrics import CHRF

    assert (g["item"], g.source, g.hypothesis, g.reference) == (3, "an old house by the river", "das alte Haus am Fluss",
                                                                "ein altes Haus am Fluss")
    # chrF++: character 6-grams and word bigrams (CHRF's word_order 2; a trigram would score otherwise)
    chrf_pp = CHRF(word_order=2).sentence_score(g.hypothesis, [g.reference]).score
    assert g.chrf == pytest.approx(chrf_pp) != pytest.approx(CHRF(word_order=3).sentence_score(g.hypothesis, [g.reference]).score)
    assert list(df.columns) == store.SCORE_COLUMNS and set(df.model) == {"m"} and set(df.step) == {1}
    # evaluate.acc_norm picks the column the tables report: items 9 and 5 count under tokens, 4 under characters
    for norm, score in (("token", 50.0), ("char", 25.0)):
        cell = bootstrap.aggregate(df, 10, 0, acc_norm=norm).set_index("benchmark").loc["xcsqa"]
        assert (cell.metric, cell.score) == (f"acc_norm_{norm}", score)
        caption = captions.captions("s", ["xcsqa"], 1, 10, 0, "linear", 3, {"lang": "deu", "n": 3}, acc_norm=norm)["table5_xcsqa"]
        assert f"divided by its number of {'tokens' if norm == 'token' else 'characters'}" in caption
    assert bootstrap.aggregate(df, 10, 0, acc_norm="char").set_index("benchmark").loc["flores", "metric"] == "chrf"
    # one kind of task alone: the store's columns all the same, in its order
    for only in ("ml_xcsqa_deu", "ml_flores_deu"):
        alone = evaluate.item_scores({only: samples[only]}, Tok(), "m", 1)
        assert list(alone.columns) == store.SCORE_COLUMNS and len(alone) == len(samples[only])



def test_stored_scores_keep_any_generation_and_their_types(tmp_path):
    """An untrained model generates control characters, a carriage return among them (the
    paper-smoke run did): each item stays one row, with its text and its numbers."""
    odd = 'ak\r\x1b9\n"x"\tend\x0b'
    df = pd.DataFrame({"model": ["m", "m"], "step": [8, 8], "benchmark": ["flores", "multiblimp"],
                       "lang": ["fra", "fra"], "item": [0, 1], "acc": [np.nan, 1.0], "acc_norm_char": [np.nan, 0.0],
                       "acc_norm_token": [np.nan, 1.0], "chrf": [2.5, np.nan], "source": ["s", ""],
                       "hypothesis": [odd, ""], "reference": ["r", ""]})
    store.write_scores(df, tmp_path / "scores.tsv")
    back = store.read_scores(tmp_path / "scores.tsv")
    assert len(back) == 2 and back["hypothesis"][0] == odd and back["hypothesis"][1] == ""
    assert list(back["step"]) == [8, 8] and list(back["item"]) == [0, 1]
    assert back["acc"].isna().tolist() == [True, False] and back["chrf"][0] == 2.5 and back["chrf"].isna()[1]

def test_chrf_equals_sacrebleu(env):
    from sacrebleu.metrics import CHRF

    _, _, scores = env
    fl = scores[scores.benchmark == "flores"]
    hyps, refs = list(fl.hypothesis), list(fl.reference)
    want = CHRF(word_order=2).corpus_score(hyps, [refs]).score
    score, se = bootstrap.chrf_bootstrap(hyps, refs, 200, np.random.default_rng(0))
    assert score == pytest.approx(want) and bootstrap.chrf_corpus(hyps, refs) == pytest.approx(want)
    for h, r, c in zip(hyps, refs, fl.chrf):
        assert c == pytest.approx(CHRF(word_order=2).sentence_score(h, [r]).score)


def test_bootstrap_ci_on_a_known_distribution():
    rng = np.random.default_rng(0)
    values = rng.binomial(1, 0.7, size=2000).astype(float)
    se = bootstrap.bootstrap_se(values, 1000, np.random.default_rng(1))
    analytic = np.sqrt(values.mean() * (1 - values.mean()) / len(values))
    assert se == pytest.approx(analytic, rel=0.1)
    assert bootstrap.bootstrap_se(values, 1000, np.random.default_rng(1)) == se  # seeded
    # the same resamples written out: the SD over resampled means, sample SD (ddof 1)
    draws = np.random.default_rng(1).integers(0, len(values), size=(1000, len(values)))
    means = [values[d].mean() for d in draws]
    assert se == pytest.approx(np.sqrt(np.sum((means - np.mean(means)) ** 2) / (1000 - 1)), rel=1e-12)


def test_chrf_bootstrap_resamples_sentences_and_rescores_the_corpus():
    """Each resample is a corpus of resampled sentences scored by sacrebleu's public API;
    the SE is their sample SD, and the CI 1.96 SE."""
    from sacrebleu.metrics import CHRF

    hyps = ["das ist gut", "ein Hund", "er läuft schnell", "Kaffee", "sie lesen Bücher heute", "x"]
    refs = ["das ist gut", "eine Katze", "er rennt schnell", "Kaffee und Kuchen", "sie lesen heute", "y z"]
    score, se = bootstrap.chrf_bootstrap(hyps, refs, 300, np.random.default_rng(4))
    draws = np.random.default_rng(4).integers(0, len(hyps), size=(300, len(hyps)))
    boots = [CHRF(word_order=2).corpus_score([hyps[i] for i in d], [[refs[i] for i in d]]).score for d in draws]
    assert se > 0 and se == pytest.approx(np.std(boots, ddof=1), rel=1e-9)
    store = pd.DataFrame({"model": "m", "step": 1, "benchmark": "flores", "lang": "deu", "item": range(6),
                          "hypothesis": hyps, "reference": refs, "chrf": np.nan})
    agg = bootstrap.aggregate(store, n=300, seed=4).iloc[0]
    assert agg.score == pytest.approx(CHRF(word_order=2).corpus_score(hyps, [refs]).score)
    assert agg.se > 0 and agg.ci95 == pytest.approx(1.96 * agg.se, rel=1e-12)


def test_every_task_ran_and_the_store_has_every_item(env):
    _, files, scores = env
    for (b, lang) in files:
        n = len(scores[(scores.benchmark == b) & (scores.lang == lang)])
        assert n == SIZES.get(b, SIZES.get("flores_devtest")), (b, lang)
    mc = scores[scores.benchmark != "flores"]
    assert mc[["acc", "acc_norm_char", "acc_norm_token"]].isin([0.0, 1.0]).all().all()


def test_table1_is_recomputed_from_the_store():
    rows = []
    rng = np.random.default_rng(0)
    for model_id, p in (("mixed10", 0.8), ("linear-all10", 0.55), ("mono-deu", 0.9), ("mono-zho", 0.9),
                        ("mono-eng", 0.9)):
        for lang in ("deu", "eng", "zho"):
            # an expert on another language is much worse: a row mapped to the wrong language shows
            p_lang = 0.3 if model_id.startswith("mono-") and model_id != f"mono-{lang}" else p
            for i in range(50):
                rows.append({"model": model_id, "step": 1, "benchmark": "multiblimp", "lang": lang, "item": i,
                             "acc": float(rng.random() < p_lang), "acc_norm_char": np.nan, "acc_norm_token": np.nan,
                             "chrf": np.nan, "source": None, "hypothesis": None, "reference": None})
    store = pd.DataFrame(rows)
    store = store[~((store.lang == "zho") & (store.benchmark == "multiblimp"))]  # zho has no MultiBLiMP
    agg = bootstrap.aggregate(store, 100, 0)
    expert_row = {lang: f"mono-{lang}" for lang in ("deu", "eng", "zho")}  # as the catalog gives it
    t1 = tables.table1(agg, [("Experts", expert_row), ("Mixed10", "mixed10"), ("Merged", "linear-all10")],
                      ["deu", "eng", "zho"], ["multiblimp"], 1).set_index("model")
    for label, model_id in (("Mixed10", "mixed10"), ("Merged", "linear-all10")):
        per_lang = [100 * store[(store.model == model_id) & (store.lang == lang)].acc.mean() for lang in ("deu", "eng")]
        assert t1.loc[label, "multiblimp μ"] == pytest.approx(np.mean(per_lang))
        assert t1.loc[label, "multiblimp CV%"] == pytest.approx(np.std(per_lang, ddof=1) / np.mean(per_lang) * 100)
    experts = [100 * store[(store.model == f"mono-{lang}") & (store.lang == lang)].acc.mean() for lang in ("deu", "eng")]
    assert t1.loc["Experts", "multiblimp μ"] == pytest.approx(np.mean(experts))
    # tables.table1_languages: the authors' HPLT row left languages out of some benchmarks'
    # cells; only the experts' row, only those benchmarks
    left = tables.table1(agg, [("Experts", expert_row), ("Mixed10", "mixed10")], ["deu", "eng", "zho"],
                         ["multiblimp"], 1, languages_of={"experts": {"leave_out": ["eng", "zho"],
                                                                      "benchmarks": ["multiblimp"]}}).set_index("model")
    assert left.loc["Experts", "multiblimp μ"] == pytest.approx(experts[0])
    assert np.isnan(left.loc["Experts", "multiblimp CV%"])
    assert left.loc["Mixed10", "multiblimp μ"] == t1.loc["Mixed10", "multiblimp μ"]
    t2 = tables.per_language(agg, "multiblimp", [("Mixed10", "mixed10"), ("Experts", expert_row)], ["deu", "eng", "zho"], 1)
    assert t2.loc[0, "zho"] == tables.DASH and t2.loc[1, "zho"] == tables.DASH
    # The experts' row: each expert on its own language (the store also has mono-deu on eng).
    for lang in ("deu", "eng"):
        own = store[(store.model == f"mono-{lang}") & (store.lang == lang)].acc
        cell = agg[(agg.model == f"mono-{lang}") & (agg.lang == lang)].iloc[0]
        assert t2.loc[1, lang] == f"{100 * own.mean():.1f} ± {cell.ci95:.1f}"
    # 95% CI = 1.96 × the bootstrap SE, in every cell
    assert np.allclose(agg.ci95, 1.96 * agg.se) and (agg.se > 0).all()


def test_missing_inputs_are_named_before_the_harness(env, tmp_path):
    root, files, _ = env
    with pytest.raises(FileNotFoundError, match="^ml_multiblimp_deu: data file missing: "):
        taskfiles.render_tasks({("multiblimp", "deu"): {"test": str(tmp_path / "none.tsv")}}, tmp_path / "t",
                              SETTINGS, 0)
    bare = tmp_path / "bare"
    bare.mkdir()
    for f in ("config.json", "model.safetensors"):
        (bare / f).write_bytes((root / "model" / f).read_bytes())
    with pytest.raises(FileNotFoundError, match="has no tokenizer"):
        evaluate.run_harness(bare, ["ml_multiblimp_deu"], root / "tasks", 8, 0)
    (bare / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match=f"^{bare}: model.safetensors missing$"):
        evaluate.run_harness(bare, ["ml_multiblimp_deu"], root / "tasks", 8, 0)
    with pytest.raises(KeyError, match="no task YAML .* ml_multiblimp_zho"):
        evaluate.run_harness(root / "model", ["ml_multiblimp_zho"], root / "tasks", 8, 0)


def test_cloze_few_shot_and_max_items_reach_lm_eval(env, tmp_path):
    """The rendered tasks as lm-eval runs them: the cloze layout in the item's language, the
    configured few-shot examples before it, only the selected items, scored under their index."""
    from mergelimits import prompts

    root, files, _ = env
    settings = {**SETTINGS, "prompts": "cloze", "max_items": 3,
                "num_fewshot": {**SETTINGS["num_fewshot"], "belebele": 1}}
    taskfiles.render_tasks({("belebele", "deu"): files[("belebele", "deu")]}, tmp_path, settings, 5)
    out = evaluate.run_harness(root / "model", ["ml_belebele_deu"], tmp_path, 8, 0)
    samples = out["samples"]["ml_belebele_deu"]
    n = len(benchfiles.load("belebele", files[("belebele", "deu")]["test"]))
    assert sorted(s["doc"]["item"] for s in samples) == prompts.select(n, 3, 5, "belebele")
    for s in samples:
        context, option = s["arguments"][0][0], s["arguments"][0][1]
        assert context.endswith(s["doc"]["query"]) and context.count("\nAntwort:") == 2  # one example, then the item
        assert option == " " + s["doc"]["options"][0]


def test_every_cloze_option_starts_with_a_space_chinese_too(env, tmp_path):
    """The authors' lighteval runs put a space before every option
    (multichoice_continuations_start_space=True), though Chinese writes none between
    sentences: the requests lm-eval builds for a Chinese task (German items, Chinese words)."""
    root, files, _ = env
    settings = {**SETTINGS, "prompts": "cloze"}
    taskfiles.render_tasks({("xcsqa", "zho"): files[("xcsqa", "deu")], ("xcsqa~blind", "zho"): files[("xcsqa", "deu")]},
                          tmp_path, settings, 0)
    out = evaluate.run_harness(root / "model", ["ml_xcsqa_zho", "ml_xcsqa~blind_zho"], tmp_path, 8, 0)["samples"]
    for s in out["ml_xcsqa_zho"]:
        assert s["arguments"][0][0].endswith("答案：")
        assert [a[1] for a in s["arguments"]] == [" " + o for o in s["doc"]["options"]]
    for s in out["ml_xcsqa~blind_zho"]:  # a cloze control keeps the space: only the bare layout drops it
        assert [a[1] for a in s["arguments"]] == [" " + o for o in s["doc"]["options"]]


def test_controls_reach_lm_eval_as_variants_of_the_task(env, tmp_path):
    """A blind control scores each item's own options with nothing before them (bare
    layout: as a sentence of its own, MultiBLiMP-like); a shuffled control after another
    item's question. Same items, same answers, same template; stored under <bench>~<control>."""
    root, files, _ = env
    src = files[("xcsqa", "deu")]
    taskfiles.render_tasks({("xcsqa", "deu"): src, ("xcsqa~blind", "deu"): src, ("xcsqa~shuffled", "deu"): src},
                          tmp_path, SETTINGS, 0)
    names = ["ml_xcsqa_deu", "ml_xcsqa~blind_deu", "ml_xcsqa~shuffled_deu"]
    out = evaluate.run_harness(root / "model", names, tmp_path, 8, 0)["samples"]
    real, blind, shuffled = ({s["doc"]["item"]: s for s in out[n]} for n in names)
    assert set(real) == set(blind) == set(shuffled) and len(real) == SIZES["xcsqa"]
    m = model.load_model(root / "model").eval()
    tok = tokenizer.load(root / "model")
    for item, s in real.items():
        options = s["doc"]["options"]
        assert [a[1] for a in blind[item]["arguments"]] == options  # no delimiter: nothing precedes
        assert [a[1] for a in s["arguments"]] == [" " + o for o in options]  # the real task keeps its delimiter
        assert all(a[0] == "" for a in blind[item]["arguments"])
        assert float(blind[item]["filtered_resps"][0][0]) == pytest.approx(_logp(m, tok, "", options[0]), abs=1e-3)
        assert shuffled[item]["doc"]["gold"] == s["doc"]["gold"]
        assert [a[1] for a in shuffled[item]["arguments"]] == [a[1] for a in s["arguments"]]
        assert shuffled[item]["arguments"][0][0] != s["arguments"][0][0]
    assert sorted(a["arguments"][0][0] for a in shuffled.values()) == sorted(a["arguments"][0][0] for a in real.values())
    scores = evaluate.item_scores(out, tok, "mono-deu", 6)
    assert set(scores.benchmark) == {"xcsqa", "xcsqa~blind", "xcsqa~shuffled"}
    agg = bootstrap.aggregate(scores, n=20, seed=0)
    assert set(agg.metric) == {"acc_norm_token"}


def test_max_items_per_benchmark_reaches_each_task(tmp_path):
    """The paper config's caps: MultiBLiMP uncapped, the others 1,000 each, each task's
    process_docs hook given its own benchmark's."""
    import yaml

    caps = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())["evaluate"]["max_items"]
    assert caps["multiblimp"] is None and {caps[b] for b in ("belebele", "hellaswag", "xcsqa", "flores")} == {1000}
    files = {}
    for bench in ("multiblimp", "belebele"):
        path = tmp_path / f"{bench}.{'tsv' if bench == 'multiblimp' else 'jsonl'}"
        path.write_text("")
        files[(bench, "deu")] = {"test": str(path)}
    taskfiles.render_tasks(files, tmp_path / "t", {**SETTINGS, "max_items": caps}, 3)
    hooks = (tmp_path / "t" / f"{taskfiles.PROCESSORS}.py").read_text()
    assert "ml_multiblimp_deu = processor('multiblimp', 'deu', 'bare', None, 3)" in hooks
    assert "ml_belebele_deu = processor('belebele', 'deu', 'bare', 1000, 3)" in hooks
    assert taskfiles.max_items({"max_items": 7}, "multiblimp") == 7


def test_table7_translations_are_the_authors_prompt_and_beam_search(env):
    """evaluate.translate_examples: the authors' flores.py, by hand: their instruction prompt,
    beam search without sampling, only the new tokens, stripped; the reference by id."""
    from transformers import AutoModelForCausalLM

    root, _, _ = env
    src = [{"id": 3, "text": "Der Hund schläft."}, {"id": 1, "text": "Die Katze läuft."}, {"id": 2, "text": "x"}]
    tgt = [{"id": 1, "text": "Le chat court."}, {"id": 3, "text": "Le chien dort."}, {"id": 2, "text": "y"}]
    df = evaluate.translate_examples(root / "model", "deu", src, {"fra": tgt}, n=2, num_beams=2, max_new_tokens=5)
    assert list(df["id"]) == [3, 1] and list(df["reference"]) == ["Le chien dort.", "Le chat court."]
    tok = tokenizer.load(root / "model")
    m = AutoModelForCausalLM.from_pretrained(root / "model").eval()
    prompt = "Translate the following sentence from German to French.\nGerman: Der Hund schläft.\nFrench:"
    assert evaluate.TRANSLATE_PROMPT.format(source="German", target="French", text="Der Hund schläft.") == prompt
    assert list(df.columns) == ["source_lang", "target_lang", "item", "id", "source", "reference", "hypothesis", "prompt"]
    assert df["prompt"].tolist() == [prompt, prompt.replace("Der Hund schläft.", "Die Katze läuft.")]
    assert (df["source_lang"].tolist(), df["target_lang"].tolist(), df["item"].tolist()) == (["deu"] * 2, ["fra"] * 2,
                                                                                            [0, 1])
    ids = tok(prompt, return_tensors="pt")
    with torch.no_grad():
        out = m.generate(**ids, max_new_tokens=5, do_sample=False, num_beams=2,
                         pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id)
    assert df["hypothesis"][0] == tok.decode(out[0][ids["input_ids"].shape[-1]:], skip_special_tokens=True).strip()
    table = tables.translation_examples({"Mixed": df, "Merged": df.assign(hypothesis="…")})
    assert list(table.columns) == ["target", "source", "reference", "Mixed", "Merged"]
    assert list(table["Merged"]) == ["…", "…"] and list(table["target"]) == ["fra", "fra"]
    with pytest.raises(ValueError, match="not the others' sentences"):
        tables.translation_examples({"Mixed": df, "Merged": df.iloc[::-1]})


def test_each_task_reads_its_languages_layout_and_floress_decoding(env, tmp_path):
    """The task files as written: `evaluate.layouts` picks one language's layout (the hook
    names it), every other language reads `evaluate.prompts`; FLORES samples with the
    configured settings where `evaluate.flores.sampling` is set and is greedy otherwise; the
    TSV files are read with no word taken for a missing value; the written paths come back."""
    import yaml

    _, files, _ = env
    settings = {**SETTINGS, "layouts": {"multiblimp": {"eng": "cloze"}},
                "flores": {"max_gen_toks": 8, "sampling": {"temperature": 0.7, "top_k": 50}}}
    chosen = {k: files[k] for k in [("multiblimp", "deu"), ("multiblimp", "eng"), ("flores", "deu")]}
    written = taskfiles.render_tasks(chosen, tmp_path / "a" / "b", settings, 3)
    assert written == [tmp_path / "a" / "b" / f"ml_{b}_{lang}.yaml" for b, lang in sorted(chosen)]
    hooks = (tmp_path / "a" / "b" / f"{taskfiles.PROCESSORS}.py").read_text().splitlines()
    assert "ml_multiblimp_deu = processor('multiblimp', 'deu', 'bare', None, 3)" in hooks
    assert "ml_multiblimp_eng = processor('multiblimp', 'eng', 'cloze', None, 3)" in hooks
    tsv = yaml.safe_load((tmp_path / "a" / "b" / "ml_multiblimp_deu.yaml").read_text().split("process_docs:")[0])
    assert tsv["dataset_kwargs"]["keep_default_na"] is False and tsv["dataset_kwargs"]["na_filter"] is False
    gen = yaml.safe_load((tmp_path / "a" / "b" / "ml_flores_deu.yaml").read_text().split("process_docs:")[0])
    assert {k: gen["generation_kwargs"][k] for k in ("do_sample", "temperature", "top_k", "max_gen_toks")} == \
        {"do_sample": True, "temperature": 0.7, "top_k": 50, "max_gen_toks": 8}
    taskfiles.render_tasks({("flores", "deu"): files[("flores", "deu")]}, tmp_path / "greedy", SETTINGS, 3)
    greedy = yaml.safe_load((tmp_path / "greedy" / "ml_flores_deu.yaml").read_text().split("process_docs:")[0])
    assert greedy["generation_kwargs"] == {"until": ["\n"], "do_sample": False, "temperature": 0.0, "max_gen_toks": 8}
    assert taskfiles.layout_of(settings, "multiblimp", "eng") == "cloze"
    assert taskfiles.layout_of(settings, "multiblimp", "deu") == taskfiles.layout_of(SETTINGS, "multiblimp", "eng") == "bare"


def test_flores_pairs_join_by_id_and_name_a_missing_target():
    src = [{"id": 1, "text": "one"}, {"id": 2, "text": "two"}]
    assert taskfiles.flores_pairs(src, [{"id": 2, "text": "deux"}, {"id": 1, "text": "un"}], "eng", "fra") == [
        {"id": 1, "source": "one", "target": "un", "source_name": "English", "target_name": "French"},
        {"id": 2, "source": "two", "target": "deux", "source_name": "English", "target_name": "French"}]
    with pytest.raises(ValueError, match=r"^FLORES eng→fra: 2 source ids have no target \(first: 1\)$"):
        taskfiles.flores_pairs(src, [{"id": 3, "text": "trois"}], "eng", "fra")


def test_write_flores_pairs_pairs_a_languages_own_source_in_its_file(env, tmp_path, caplog):
    """The flores_pairs job for one language: its configured source language's sentences
    (English for German, French for English) joined by id with its own, written as JSONL; the
    count returned and logged."""
    import logging

    root, _, _ = env
    bench = root / "bench" / "flores"
    for lang, src in (("deu", "eng"), ("eng", "fra")):
        out = tmp_path / f"{lang}.jsonl"
        with caplog.at_level(logging.INFO, logger="mergelimits.tasks"):
            n = taskfiles.write_flores_pairs(bench / f"lang~{src}" / "devtest.jsonl",
                                             bench / f"lang~{lang}" / "devtest.jsonl", out, lang)
        want = taskfiles.flores_pairs(benchfiles.load("flores", bench / f"lang~{src}" / "devtest.jsonl").to_dict("records"),
                                      benchfiles.load("flores", bench / f"lang~{lang}" / "devtest.jsonl").to_dict("records"),
                                      src, lang)
        assert flores.source(lang) == src and n == len(want) == SIZES["flores_devtest"]
        assert [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] == want
        assert caplog.messages[-1] == f"{src}→{lang}: {n} pairs"


def test_the_score_store_keeps_any_text_and_no_index(tmp_path):
    """A generation with a carriage return, a tab, quotes or the word "nan" comes back as
    written; an empty score is missing, not zero; the file has exactly the store's columns."""
    df = pd.DataFrame([{"model": "m", "step": 1, "benchmark": "flores", "lang": "deu", "item": 0, "acc": np.nan,
                        "acc_norm_char": np.nan, "acc_norm_token": np.nan, "chrf": 12.5, "source": "a\tb",
                        "hypothesis": 'x\r\ny "q"', "reference": "nan"},
                       {"model": "m", "step": 1, "benchmark": "multiblimp", "lang": "deu", "item": 1, "acc": 1.0,
                        "acc_norm_char": np.nan, "acc_norm_token": np.nan, "chrf": np.nan, "source": "",
                        "hypothesis": "", "reference": ""}], columns=store.SCORE_COLUMNS)
    store.write_scores(df, tmp_path / "s.tsv")
    assert (tmp_path / "s.tsv").read_text().splitlines()[0].split("\t") == [f'"{c}"' for c in store.SCORE_COLUMNS]
    back = store.read_scores(tmp_path / "s.tsv")
    assert back.loc[0, "hypothesis"] == 'x\r\ny "q"' and back.loc[0, "source"] == "a\tb"
    assert back.loc[0, "reference"] == "nan" and back.loc[1, "reference"] == ""
    assert np.isnan(back.loc[0, "acc"]) and back.loc[1, "acc"] == 1.0 and back.loc[0, "chrf"] == 12.5


def _copy_model(src, dst, dtype):
    """The model at `src` stored again in `dtype` at `dst`, with its tokenizer."""
    import shutil

    m = model.load_model(src).to(dtype)
    m.save_pretrained(dst)
    for f in src.iterdir():
        if f.name.startswith(("tokenizer", "special_tokens")):
            shutil.copy(f, dst / f.name)
    return dst


def test_token_counts_are_lm_evals_own_split_with_a_bos_adding_tokenizer_too(env):
    """TokenCounter against lm-eval's HFLM on the same tokenizer: _encode_pair's continuation
    for a context, and the continuation encoded without special tokens for an empty context
    (lm-eval scores it after the prefix token). A tokenizer that adds BOS (Gemma-3's does)
    must not count it as a token of the option."""
    from lm_eval.models.huggingface import HFLM
    from tokenizers.processors import TemplateProcessing

    root, _, _ = env
    plain = tokenizer.load(root / "model")
    with_bos = tokenizer.load(root / "model")
    with_bos.backend_tokenizer.post_processor = TemplateProcessing(
        single=f"{with_bos.bos_token} $A", special_tokens=[(with_bos.bos_token, with_bos.bos_token_id)])
    assert with_bos("Hallo")["input_ids"][0] == with_bos.bos_token_id != plain("Hallo")["input_ids"][0]
    pairs = [("Was trinkt man?", " Kaffee und Kuchen"), ("Frage ", "Antwort"), ("Q:  ", "a b"), ("", "Hallo welt."),
             ("", " Kaffee")]
    for tok in (plain, with_bos):
        lm = HFLM(pretrained=str(root / "model"), tokenizer=tok, device="cpu", batch_size=1)
        want = []
        for ctx, cont in pairs:
            if ctx:
                want.append(len(lm._encode_pair(ctx, cont)[1]))
            else:
                enc = lm.tok_encode(cont, add_special_tokens=False)
                want.append(len(enc) - (enc[0] == lm.prefix_token_id))
        assert evaluate.TokenCounter(tok).counts(pairs) == want


def test_requests_tokenized_ahead_are_the_ids_lm_eval_encodes_one_by_one(env):
    """HFModel encodes a run's requests in batches before lm-eval asks: for each request the
    context and continuation ids _encode_pair gives (the continuation alone, without special
    tokens, for an empty context), the same as HFLM's one call at a time, with a tokenizer
    that adds BOS and a context that already starts with it, and with lm-eval's add_bos_token
    off; served from the batches, except where lm-eval asks for something else (a cut to the
    last tokens, other special tokens)."""
    from lm_eval.models.huggingface import HFLM
    from tokenizers.processors import TemplateProcessing

    root, _, _ = env

    def tokenizers():
        plain, with_bos = tokenizer.load(root / "model"), tokenizer.load(root / "model")
        with_bos.backend_tokenizer.post_processor = TemplateProcessing(
            single=f"{with_bos.bos_token} $A", special_tokens=[(with_bos.bos_token, with_bos.bos_token_id)])
        return plain, with_bos

    for (theirs_tok, ours_tok), add_bos in [*zip(zip(tokenizers(), tokenizers()), (None, None)),
                                            ((tokenizers()[1], tokenizers()[1]), False)]:
        bos = ours_tok.bos_token
        pairs = [("Was trinkt man?", " Kaffee"), ("Was trinkt man?", " Tee"), ("Frage ", "Antwort"),
                 ("Q:  ", "a b"), ("", "Hallo welt."), ("", " Kaffee"), (f"{bos}Frage:", " ja")]
        kw = dict(pretrained=str(root / "model"), device="cpu", batch_size=1, add_bos_token=add_bos)
        theirs = HFLM(tokenizer=theirs_tok, **kw)
        ours = evaluate.HFModel(tokenizer=ours_tok, **kw)
        ours.encode_ahead(pairs)
        one_by_one = ours.tokenizer.encode
        ours.tokenizer.encode = None  # every id below must come from the batches
        for ctx, cont in pairs:
            if ctx:
                assert ours._encode_pair(ctx, cont) == theirs._encode_pair(ctx, cont)
            else:
                assert (ours.tok_encode(cont, add_special_tokens=False)
                        == theirs.tok_encode(cont, add_special_tokens=False))
        ours.tokenizer.encode = one_by_one
        for text, special in (("nicht gefragt", None), ("nicht gefragt", False), ("Was trinkt man? Kaffee", True)):
            assert ours.tok_encode(text, special) == theirs.tok_encode(text, special)
        assert ours.tok_encode("Was trinkt man? Kaffee", left_truncate_len=2) == theirs.tok_encode(
            "Was trinkt man? Kaffee", left_truncate_len=2)
        assert ours.max_length == theirs.max_length


def test_evaluate_to_files_writes_the_scores_its_samples_give(env, tmp_path, caplog):
    """One checkpoint's evaluation: the scores TSV holds what item_scores makes of the samples
    JSONL written beside it (one line per item, its task named), for the model and step
    given, and the log counts its cells."""
    import logging

    root, _, _ = env
    tasks = ["ml_multiblimp_deu", "ml_flores_eng"]
    with caplog.at_level(logging.INFO, logger="mergelimits.evaluate"):
        df = evaluate.evaluate_to_files(root / "model", "mono-eng", 9, tasks, root / "tasks", 4, 0,
                                        tmp_path / "scores.tsv", tmp_path / "samples.jsonl")
    lines = [json.loads(line) for line in (tmp_path / "samples.jsonl").read_text(encoding="utf-8").splitlines()]
    samples = {}
    for s in lines:
        samples.setdefault(s.pop("task"), []).append(s)
    assert sorted(samples) == sorted(tasks) and len(lines) == len(df)
    again = evaluate.item_scores(samples, tokenizer.load(root / "model"), "mono-eng", 9)
    store.write_scores(again, tmp_path / "again.tsv")
    assert (tmp_path / "scores.tsv").read_bytes() == (tmp_path / "again.tsv").read_bytes()
    pd.testing.assert_frame_equal(df.reset_index(drop=True), again)
    back = store.read_scores(tmp_path / "scores.tsv")
    assert set(back.model) == {"mono-eng"} and set(back.step) == {9}
    cells = back.groupby(["benchmark", "lang"]).ngroups
    assert f"harness call: {root / 'model'}, 2 tasks" in caplog.messages
    assert f"mono-eng step 9: {len(back)} items in {cells} benchmark × language cells" in caplog.messages


def test_samples_are_written_as_lm_eval_returns_them_and_a_task_without_any_stops(env, tmp_path, monkeypatch):
    """The samples file keeps any text as it is (UTF-8, not \\u escapes) and values JSON has no
    type for as their text; a task lm-eval returned nothing for is named, nothing written."""
    root, _, _ = env
    sample = {"doc_id": 0, "doc": {"item": 0, "source": "Straße 猫", "when": np.datetime64("2026-12-05")},
              "target": "Maß", "filtered_resps": ["Maß"], "resps": [[np.float32(0.5)]]}
    monkeypatch.setattr(evaluate, "run_harness", lambda *a: {"samples": {"ml_flores_deu": [sample]}})
    df = evaluate.evaluate_model(root / "model", "m", 3, ["ml_flores_deu"], root / "tasks", 4, 0, tmp_path / "s.jsonl")
    text = (tmp_path / "s.jsonl").read_text(encoding="utf-8")
    assert "Straße 猫" in text and "\\u" not in text
    assert json.loads(text)["doc"]["when"] == "2026-12-05" and json.loads(text)["resps"] == [["0.5"]]
    assert (df["model"].tolist(), df["step"].tolist(), df["hypothesis"].tolist()) == (["m"], [3], ["Maß"])
    with pytest.raises(RuntimeError, match="^lm-eval returned no samples for ml_belebele_deu, ml_xcsqa_deu$"):
        evaluate.evaluate_model(root / "model", "m", 3, ["ml_flores_deu", "ml_xcsqa_deu", "ml_belebele_deu"],
                                root / "tasks", 4, 0, tmp_path / "t.jsonl")
    assert not (tmp_path / "t.jsonl").exists()


def test_run_harness_seeds_and_scores_as_lm_evals_simple_evaluate(env, tmp_path):
    """run_harness is lm-eval's simple_evaluate without its environment report: the same
    few-shot examples, log-likelihoods and state of Python's, numpy's and torch's generators
    for the same seed, no bootstrap of lm-eval's own (the study bootstraps the items)."""
    import random

    import lm_eval
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    root, files, _ = env
    settings = {**SETTINGS, "prompts": "cloze", "num_fewshot": {**SETTINGS["num_fewshot"], "belebele": 2}}
    taskfiles.render_tasks({("belebele", "deu"): files[("belebele", "deu")]}, tmp_path, settings, 0)

    def states():
        return random.getstate(), np.random.get_state()[1].tolist(), torch.get_rng_state().tolist()

    lm = HFLM(pretrained=str(root / "model"), dtype="float32", device="cpu", batch_size=8)
    theirs = lm_eval.simple_evaluate(model=lm, tasks=["ml_belebele_deu"], log_samples=True, bootstrap_iters=0,
                                     task_manager=TaskManager(include_path=str(tmp_path), include_defaults=False),
                                     random_seed=11, numpy_random_seed=11, torch_random_seed=11,
                                     fewshot_random_seed=11)
    after = states()
    ours = evaluate.run_harness(root / "model", ["ml_belebele_deu"], tmp_path, 8, 11)
    assert states() == after
    a, b = (sorted(r["samples"]["ml_belebele_deu"], key=lambda s: s["doc_id"]) for r in (ours, theirs))
    assert [s["arguments"] for s in a] == [s["arguments"] for s in b]
    assert [s["filtered_resps"] for s in a] == [s["filtered_resps"] for s in b]
    other = evaluate.run_harness(root / "model", ["ml_belebele_deu"], tmp_path, 8, 12)["samples"]["ml_belebele_deu"]
    assert [s["arguments"] for s in sorted(other, key=lambda s: s["doc_id"])] != [s["arguments"] for s in a]
    assert ours["results"]["ml_belebele_deu"]["acc_stderr,none"] == "N/A"


def test_a_bfloat16_checkpoint_is_scored_and_decoded_in_float32_on_a_cpu(env, tmp_path):
    """EVAL_DTYPE: on a CPU every model is evaluated in float32 whatever its stored dtype, so a
    bf16 checkpoint scores exactly as its float32 copy (bf16 values are float32 values)."""
    root, _, _ = env
    half = _copy_model(root / "model", tmp_path / "bf16", torch.bfloat16)
    full = _copy_model(half, tmp_path / "fp32", torch.float32)
    task = ["ml_multiblimp_deu"]
    got = [evaluate.run_harness(d, task, root / "tasks", 4, 0)["samples"][task[0]] for d in (half, full)]
    assert [s["filtered_resps"] for s in got[0]] == [s["filtered_resps"] for s in got[1]]
    from safetensors.torch import load_file

    assert {t.dtype for t in load_file(half / "model.safetensors").values()} == {torch.bfloat16}  # stored as bf16
    src = [{"id": 0, "text": "Der Hund schläft im Garten."}]
    out = [evaluate.translate_examples(d, "deu", src, {"fra": [{"id": 0, "text": "x"}]}, 1, 2, 6) for d in (half, full)]
    assert out[0]["hypothesis"].tolist() == out[1]["hypothesis"].tolist()


def test_the_input_cap_reaches_lm_eval(env, monkeypatch):
    """cost.EVAL_MAX_TOKENS below a model's context: lm-eval keeps the last `cap` tokens of
    every longer input, so those items score otherwise, the others alike."""
    from mergelimits import cost

    root, _, _ = env
    task, cap = ["ml_belebele_deu"], 70
    full = evaluate.run_harness(root / "model", task, root / "tasks", 4, 0)["samples"][task[0]]
    monkeypatch.setattr(cost, "EVAL_MAX_TOKENS", cap)
    cut = evaluate.run_harness(root / "model", task, root / "tasks", 4, 0)["samples"][task[0]]
    tok = tokenizer.load(root / "model")
    longs = []
    for a, b in zip(sorted(full, key=lambda s: s["doc_id"]), sorted(cut, key=lambda s: s["doc_id"])):
        for (ctx, cont), x, y in zip(a["arguments"], a["filtered_resps"], b["filtered_resps"]):
            longs.append(len(tok(ctx + cont, add_special_tokens=False)["input_ids"]) > cap + 1)
            assert (x[0] != y[0]) == longs[-1]
    assert any(longs) and not all(longs)


def test_merge_and_evaluate_is_the_merge_then_its_evaluation_and_drops_the_weights(env, models, tmp_path):
    """The workflow's merge job (merge.merge_and_evaluate) for one DARE-TIES model in bf16:
    the same record, weights, scores and samples as merge.run followed by
    evaluate.evaluate_to_files with the same seeds; its weights deleted afterwards unless
    kept, and deleted too when the evaluation fails."""
    import shutil

    from safetensors.torch import load_file, save_file

    from mergelimits import merge

    root, _, _ = env
    init, experts = models  # the shared init moved two ways, evaluated on env's tasks
    members = experts[:2]
    tasks = ["ml_multiblimp_deu", "ml_flores_deu"]
    kw = dict(density=0.5, seed=5, dtype="bfloat16")
    by_hand = merge.run("dare_ties", members, tmp_path / "by_hand", base=init, options={"device": "cpu"}, **kw)
    evaluate.evaluate_to_files(tmp_path / "by_hand", "m", 6, tasks, root / "tasks", 4, 3, tmp_path / "want.tsv",
                               tmp_path / "want.jsonl")
    for keep in (True, False):
        out = tmp_path / f"job_{keep}"
        record = merge.merge_and_evaluate("dare_ties", members, init, out, "m", 6, tasks, root / "tasks",
                                          scores=tmp_path / f"s_{keep}.tsv", samples=tmp_path / f"s_{keep}.jsonl",
                                          batch_size=4, eval_seed=3, keep_weights=keep, **kw)
        assert record == by_hand
        assert (tmp_path / f"s_{keep}.tsv").read_bytes() == (tmp_path / "want.tsv").read_bytes()
        assert (tmp_path / f"s_{keep}.jsonl").read_bytes() == (tmp_path / "want.jsonl").read_bytes()
        assert (out / "model.safetensors").exists() == keep
        if keep:
            assert (out / "model.safetensors").read_bytes() == (tmp_path / "by_hand" / "model.safetensors").read_bytes()
    with pytest.raises(KeyError, match="ml_multiblimp_zho"):
        merge.merge_and_evaluate("dare_ties", members, init, tmp_path / "failed", "m", 6, ["ml_multiblimp_zho"],
                                 root / "tasks", scores=tmp_path / "f.tsv", samples=tmp_path / "f.jsonl", batch_size=4,
                                 eval_seed=3, keep_weights=False, **kw)
    assert (tmp_path / "failed" / "merge.json").exists() and not (tmp_path / "failed" / "model.safetensors").exists()
    assert not (tmp_path / "f.tsv").exists()
    # a merge that fails before writing any weights: its own error, not the clean-up's
    broken = shutil.copytree(members[1], tmp_path / "broken")
    weights = load_file(broken / "model.safetensors")
    save_file({k: v[:-1] if v.dim() == 2 else v for k, v in weights.items()}, broken / "model.safetensors")
    with pytest.raises(merge.MergeError, match="has shape"):
        merge.merge_and_evaluate("dare_ties", [members[0], broken], init, tmp_path / "never", "m", 6, tasks,
                                 root / "tasks", scores=tmp_path / "n.tsv", samples=tmp_path / "n.jsonl", batch_size=4,
                                 eval_seed=3, keep_weights=False, **kw)
