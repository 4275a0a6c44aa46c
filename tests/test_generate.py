"""The generated languages: deterministic, in the real schemas, and hard in the right way."""

import collections
import json
import math
import random

import pytest

from mergelimits import benchfiles, benchmarks, languages, tokenizer
from mergelimits.synthetic import grammar, writers

LANGS = list(languages.table())
SIZES = {"multiblimp": 60, "belebele": 20, "hellaswag": 30, "xcsqa": 30, "flores_dev": 10, "flores_devtest": 20}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    writers.write_benchmarks(LANGS, 7, SIZES, lambda b, c: root / b / f"lang~{c}")
    return root


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a, b, c = (tmp_path / n for n in "abc")
    for root, seed in ((a, 1), (b, 1), (c, 2)):
        writers.write_benchmarks(["deu", "zho"], seed, SIZES, lambda bn, code, r=root: r / bn / f"lang~{code}")
    files = sorted(p.relative_to(a) for p in a.rglob("*.*"))
    assert files
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    assert any((a / f).read_bytes() != (c / f).read_bytes() for f in files)


def test_a_benchmark_subset_writes_only_its_files_with_the_same_items(written, tmp_path):
    files = writers.write_benchmarks(LANGS, 7, SIZES, lambda b, c: tmp_path / b / f"lang~{c}", ["multiblimp", "flores"])
    assert {p.relative_to(tmp_path).parts[0] for p in files} == {"multiblimp", "flores"}
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.*")) == sorted(p.relative_to(tmp_path) for p in files)
    assert all((tmp_path / f.relative_to(tmp_path)).read_bytes() == (written / f.relative_to(tmp_path)).read_bytes()
               for f in files)


def test_every_file_is_read_by_the_benchmark_loader(written):
    for bench in benchmarks.BENCHMARKS:
        for code in languages.available(bench, LANGS):
            for name in benchfiles.bench_files(bench):
                df = benchfiles.load(bench, written / bench / f"lang~{code}" / name)
                assert len(df) == SIZES.get(bench) or len(df) == SIZES[f"flores_{name.split('.')[0]}"]


def test_no_files_for_missing_combinations(written):
    assert not (written / "multiblimp" / "lang~zho").exists()
    assert not (written / "xcsqa" / "lang~tur").exists()


def test_minimal_pairs_differ_only_in_the_verb(written):
    for code in languages.available("multiblimp", LANGS):
        df = benchfiles.load("multiblimp", written / "multiblimp" / f"lang~{code}" / "test.tsv")
        assert set(df.phenomenon) <= {"SV-#", "SV-P", "SV-G"}
        assert (df["lang"] == languages.get(code).source_code("multiblimp")).all()
        for sen, wrong, verb, wrong_verb in zip(df.sen, df.wrong_sen, df.verb, df.wrong_verb):
            a, b = sen.split(), wrong.split()
            diff = [(x, y) for x, y in zip(a, b) if x != y]
            assert len(a) == len(b) and len(diff) == 1, (sen, wrong)
            assert verb.lower() in diff[0][0].lower() and wrong_verb.lower() in diff[0][1].lower()


def test_gender_agreement_only_where_the_real_language_has_it(written):
    phen = {}
    for code in languages.available("multiblimp", LANGS):
        df = benchfiles.load("multiblimp", written / "multiblimp" / f"lang~{code}" / "test.tsv")
        phen[code] = set(df.phenomenon)
    assert "SV-G" in phen["ara"] and "SV-G" in phen["rus"]
    assert all("SV-G" not in phen[c] for c in ("deu", "eng", "fra", "tur"))


def test_chinese_has_no_agreement_to_violate():
    with pytest.raises(RuntimeError, match="zho: could only generate 0"):
        grammar.minimal_pairs(grammar.Language("zho", 1), random.Random(0), 5)


def test_flores_is_parallel_and_in_flores_plus_codes(written):
    for split in ("dev", "devtest"):
        frames = {c: benchfiles.load("flores", written / "flores" / f"lang~{c}" / f"{split}.jsonl") for c in LANGS}
        assert {len(f) for f in frames.values()} == {SIZES[f"flores_{split}"]}
        assert all(list(f.id) == list(frames["eng"].id) for f in frames.values())
        assert frames["zho"].iso_639_3[0] == "cmn" and frames["zho"].iso_15924[0] == "Hans"
        assert len({f.text[0] for f in frames.values()}) == len(LANGS)  # each language its own words


def test_reading_items_answer_is_in_the_passage(written):
    df = benchfiles.load("belebele", written / "belebele" / "lang~deu" / "test.jsonl")
    for row in df.to_dict(orient="records"):
        answer = row[f"mc_answer{row['correct_answer_num']}"]
        assert answer.lower() in row["flores_passage"].lower()
        assert len({row[f"mc_answer{i}"] for i in range(1, 5)}) == 4


def test_cloze_right_ending_fits_the_verb():
    rng = random.Random(3)
    langs = {"eng": grammar.Language("eng", 3)}
    rows = grammar.cloze_items(langs, rng, 20)["eng"]
    for row in rows:
        assert 0 <= int(row["label"]) < 4 and len(set(row["endings"])) == 4
        assert row["ctx"].startswith(row["ctx_a"])


def test_scripts_follow_the_real_languages():
    ev = grammar.sample_event(random.Random(0))
    text = {c: grammar.Language(c, 1).sentence(ev) for c in ("rus", "ara", "zho", "deu")}
    assert any("\u0400" <= ch <= "\u04ff" for ch in text["rus"])
    assert any("\u0600" <= ch <= "\u06ff" for ch in text["ara"])
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text["zho"]) and " " not in text["zho"]
    assert text["deu"].isascii()


def _trigram_scorer(tok, docs):
    c3, c2, vocab = collections.Counter(), collections.Counter(), len(tok)
    for doc in docs:
        ids = [tok.bos_token_id] + tok(doc)["input_ids"]
        for i in range(2, len(ids)):
            c3[tuple(ids[i - 2 : i + 1])] += 1
            c2[tuple(ids[i - 2 : i])] += 1

    def logp(text):
        ids = [tok.bos_token_id] + tok(text)["input_ids"]
        return sum(math.log((c3[tuple(ids[i - 2 : i + 1])] + 0.01) / (c2[tuple(ids[i - 2 : i])] + 0.01 * vocab))
                   for i in range(2, len(ids)))

    return logp


def _accuracy(logp, pairs):
    score = 0.0
    for good, bad in pairs:
        a, b = logp(good), logp(bad)
        score += 1.0 if a > b else 0.5 if a == b else 0.0
    return score / len(pairs)


def test_agreement_is_learnable_in_language_and_not_across(tmp_path):
    """A trigram LM over the shared BPE, trained on one language's corpus, beats chance
    on its own minimal pairs and stays near chance on a related language's."""
    codes = ["deu", "nld", "ita"]
    corpora = {}
    for code in codes:
        path = tmp_path / f"{code}.jsonl"
        docs = writers.corpus_docs(code, 11, 1200, 8)
        benchfiles.write_jsonl([{"text": d} for d in docs], path)
        corpora[code] = (path, docs)
    tok = tokenizer.load(tokenizer.train([p for p, _ in corpora.values()], 2000, tmp_path / "tok"))
    pairs = {}
    langs = grammar.make_languages(codes, 11)
    for code in codes:
        rows = grammar.minimal_pairs(langs[code], random.Random(5), 300)
        pairs[code] = [(r["sen"], r["wrong_sen"]) for r in rows]
    logp = _trigram_scorer(tok, corpora["deu"][1])
    own = _accuracy(logp, pairs["deu"])
    others = [_accuracy(logp, pairs[c]) for c in ("nld", "ita")]
    assert own > 0.75, own
    assert all(abs(o - 0.5) < 0.08 for o in others), others


def test_mixed_corpus_is_an_equal_share(tmp_path):
    docs = {c: [f"{c}{i}" for i in range(50)] for c in ("deu", "nld", "ita", "spa", "fra")}
    rows = writers.mix(docs, 50, seed=3)
    assert collections.Counter(r["lang"] for r in rows) == {c: 10 for c in docs}
    assert rows != writers.mix(docs, 50, seed=4)


def test_tokenizer_loads_with_autotokenizer_and_round_trips(tmp_path):
    texts = {c: writers.corpus_docs(c, 2, 50, 4) for c in ("rus", "zho", "ara", "deu")}
    paths = []
    for code, docs in texts.items():
        paths.append(tmp_path / f"{code}.jsonl")
        benchfiles.write_jsonl([{"text": d} for d in docs], paths[-1])
    tok = tokenizer.load(tokenizer.train(paths, 500, tmp_path / "tok"))
    assert tok.bos_token == "<s>" and tok.eos_token == "</s>" and tok.pad_token == "<pad>"
    for docs in texts.values():
        assert tok.decode(tok(docs[0])["input_ids"]) == docs[0]
    assert json.loads((tmp_path / "tok" / "tokenizer_config.json").read_text())


# --- no answer-revealing artefacts -----------------------------------------------------------

ARTEFACT_ITEMS = 300  # per language: a rule 10 points off chance fails even at the strict per-language level


@pytest.fixture(scope="module")
def artefact_setup(tmp_path_factory):
    """The ten languages' corpora (for word counts and the shared BPE) and every generated
    multiple-choice benchmark at ARTEFACT_ITEMS items per language."""
    from mergelimits.synthetic import artefacts

    root = tmp_path_factory.mktemp("artefacts")
    docs = {c: writers.corpus_docs(c, 1234, 600, 8) for c in LANGS}
    paths = []
    for code, d in docs.items():
        paths.append(root / f"{code}.jsonl")
        benchfiles.write_jsonl([{"text": x} for x in d], paths[-1])
    tok = tokenizer.load(tokenizer.train(paths, 1024, root / "tok"))
    langs = grammar.make_languages(LANGS, 1234)
    n = ARTEFACT_ITEMS
    rows = {"multiblimp": {c: grammar.minimal_pairs(langs[c], random.Random(7), n)
                           for c in languages.available("multiblimp", LANGS)},
            "hellaswag": grammar.cloze_items(langs, random.Random(8), n),
            "xcsqa": grammar.question_items({c: langs[c] for c in languages.available("xcsqa", LANGS)},
                                            random.Random(9), n),
            "belebele": grammar.reading_items(langs, random.Random(10), n)}
    out = {}
    for bench, by_lang in rows.items():
        for code, r in by_lang.items():
            lang = langs[code]
            counts = collections.Counter(w.strip(".,?。？").lower() for d in docs[code] for w in d.split())
            marker = lang.script(lang.plural).lower() if lang.typ.plural and lang.typ.spaces else None
            rules = artefacts.rules(lambda t: tok(t)["input_ids"], counts, marker)
            out[bench, code] = (artefacts.items(bench, r), rules)
    return out


def test_no_option_only_rule_beats_chance_on_any_generated_benchmark(artefact_setup):
    """Shortest, longest, fewest or most tokens, most or least frequent words, a marked
    (plural) form: none picks the answer more or less often than chance. Per benchmark, the
    mean over languages lies within chance ± its 95% CI (n = the items, as the same items
    are realised in every language); per language, within a Bonferroni-corrected CI over
    every (benchmark, language, rule) checked. Before the items were counterbalanced,
    "pick a singular option" scored 42% on X-CSQA (chance 20%), "pick the longest ending"
    42% on HellaSwag (25%), and German's shorter sentence won 42% of MultiBLiMP pairs."""
    from scipy.stats import norm

    from mergelimits.synthetic import artefacts

    checks = sum(len(rules) for _, rules in artefact_setup.values())
    z_each = norm.isf(0.05 / 2 / checks)
    per_rule, failures = collections.defaultdict(list), []
    for (bench, code), (data, rules) in artefact_setup.items():
        for rule, acc, chance, hw in artefacts.report(data, rules, z=z_each):
            per_rule[bench, rule].append((acc, chance))
            if abs(acc - chance) > hw:
                failures.append(f"{bench} {code} {rule}: {acc:.3f} (chance {chance:.3f} ± {hw:.3f})")
    for (bench, rule), accs in per_rule.items():
        mean, chance = sum(a for a, _ in accs) / len(accs), accs[0][1]
        hw = artefacts.half_width(chance, ARTEFACT_ITEMS)
        if abs(mean - chance) > hw:
            failures.append(f"{bench} mean over languages, {rule}: {mean:.3f} (chance {chance:.3f} ± {hw:.3f})")
    assert not failures, "\n".join(failures)
    assert len(per_rule) >= 4 * 7


def test_option_rules_catch_an_artefact():
    """The check has teeth: a benchmark whose answer is always its longest option fails it."""
    from mergelimits.synthetic import artefacts

    data = [(["aa", "bbbb", "c"], 1), (["dddddd", "e", "ff"], 0)] * 50
    rules = artefacts.rules(lambda t: list(t), collections.Counter())
    assert artefacts.accuracy(data, rules["longest"]) == 1.0
    assert artefacts.accuracy(data, rules["shortest"]) == 0.0
    assert artefacts.chance(data) == pytest.approx(1 / 3)
    # ties are split: two equally long options, the answer one of them
    assert artefacts.accuracy([(["ab", "cd", "e"], 0)], rules["longest"]) == 0.5


def test_minimal_pairs_are_counterbalanced():
    """Every verb-form cell is as often the grammatical as the ungrammatical one, in every
    language, so no preference for a form (its length or frequency) can score off chance."""
    langs = grammar.make_languages(languages.available("multiblimp", LANGS), 1234)
    for code, lang in langs.items():
        rows = grammar.minimal_pairs(lang, random.Random(3), 100)
        right = collections.Counter((r["phenomenon"], r["grammatical_feature"]) for r in rows)
        wrong = collections.Counter((r["phenomenon"], r["ungrammatical_feature"]) for r in rows)
        assert right == wrong, code


def test_distractors_break_the_verb_and_match_the_answer():
    """X-CSQA and HellaSwag distractors: objects no verb of the item takes, never persons,
    with number and adjective drawn as the answer's (all options carry an adjective about as
    often, and plural about as often)."""
    rng = random.Random(4)
    langs = {"eng": grammar.Language("eng", 3)}
    rows = grammar.question_items(langs, rng, 400)["eng"]
    lang = langs["eng"]
    plural = lang.plural
    right_pl = wrong_pl = 0
    for row in rows:
        texts = [c["text"] for c in row["question"]["choices"]]
        key = "ABCDE".index(row["answerKey"])
        pl = [any(w.endswith(plural) for w in t.split()) for t in texts]
        right_pl += pl[key]
        wrong_pl += sum(pl) - pl[key]
    assert abs(right_pl / 400 - wrong_pl / 1600) < 0.08
    for _ in range(200):
        ev = grammar.sample_event(rng)
        objs = grammar._distractor_objects(rng, ev.verb, ev.obj, 4)
        if objs is None:
            continue
        assert all(grammar.CATEGORY[o.noun] not in grammar.VERBS[ev.verb][1] for o in objs)
        assert all(grammar.CATEGORY[o.noun] != "person" for o in objs)
        assert len({o.noun for o in objs}) == 4
