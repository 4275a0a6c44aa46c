"""The paper config's downloads, run for real against a local hub cache of fixture files.

`huggingface_hub` resolves revisions from the cache when HF_HUB_OFFLINE=1, so the fetch
code (and the Snakemake rules around it) run unchanged with no network.
"""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from mergelimits import benchfiles, benchmarks, hub, tokenizer
from mergelimits.synthetic import hub_cache as fixture_hub
from mergelimits.synthetic import manifests, writers

from .conftest import ROOT

FIX = ROOT / "tests" / "fixtures" / "hub"
def _put(snap: Path, rel: str, src: Path | None = None, frame: pd.DataFrame | None = None):
    dest = snap / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    if frame is not None:
        frame.to_parquet(dest)
    else:
        shutil.copyfile(src, dest)


@pytest.fixture(scope="module")
def hub_cache(tmp_path_factory, paper_config):
    """A hub cache laid out as the hub serves the paper's sources (German, plus the
    English and Turkish HellaSwag overrides, plus the tokenizer)."""
    cache = tmp_path_factory.mktemp("hub")
    src = paper_config["data"]["hub"]

    def snap(bench, lang=None):
        entry = {**src[bench], **src[bench].get("overrides", {}).get(lang, {})}
        return fixture_hub.snapshot(cache, entry["repo"], entry["revision"], entry.get("repo_type", "dataset"))

    _put(snap("multiblimp"), "deu/data.tsv", FIX / "multiblimp_deu.tsv")
    _put(snap("belebele"), "data/deu_Latn.jsonl", FIX / "belebele_deu_Latn.jsonl")
    _put(snap("hellaswag"), "data/de/val.jsonl", FIX / "m_hellaswag_de_val.jsonl")
    rowan = pd.read_json(FIX / "m_hellaswag_de_val.jsonl", lines=True, dtype=False)
    rowan["label"] = rowan["label"].astype(int)  # the original's Parquet stores it as an integer here
    _put(snap("hellaswag", "eng"), "default/validation/0000.parquet", frame=rowan)
    _put(snap("hellaswag", "tur"), "data/validation-00000-of-00001.parquet",
         frame=pd.read_json(FIX / "hellaswag_tr_validation.jsonl", lines=True, dtype=False))
    # The hub's Parquet conversion of X-CSQA: choices become a struct of lists.
    rows = [json.loads(line) for line in (FIX / "xcsqa_de_validation.jsonl").read_text().splitlines()]
    for r in rows:
        ch = r["question"]["choices"]
        r["question"]["choices"] = {"label": [c["label"] for c in ch], "text": [c["text"] for c in ch]}
    _put(snap("xcsqa"), "X-CSQA-de/validation/0000.parquet", frame=pd.DataFrame(rows))
    flores = pd.read_json(FIX / "flores_deu_Latn.jsonl", lines=True, dtype=False)
    _put(snap("flores"), "dev/deu_Latn.parquet", frame=flores)
    _put(snap("flores"), "devtest/deu_Latn.parquet", frame=flores)
    # HPLT 2.0 cleaned as the hub serves it: Parquet shards with a text column (and more).
    # The shard names are the recorded listing's (resources/hub_manifests), not the config's.
    corpus_snap = snap("corpus")
    for code, lang in (("deu_Latn", "deu"), ("eng_Latn", "eng")):
        for shard, name in enumerate(manifests.corpus_shards(code, 3)):
            docs = writers.corpus_docs(lang, 10 + shard, 20, 4)
            _put(corpus_snap, name, frame=pd.DataFrame({"id": [f"{shard}-{i}" for i in range(len(docs))],
                                                        "text": docs, "lang": [code] * len(docs)}))
    # A small real tokenizer stands in for Gemma-3's files (same file names, same loader).
    corpus = cache.parent / "tok.jsonl"
    benchfiles.write_jsonl([{"text": t} for t in writers.corpus_docs("deu", 1, 50, 4)], corpus)
    tok_dir = tokenizer.train([corpus], 400, cache.parent / "tok")
    tsnap = snap("tokenizer")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        _put(tsnap, name, tok_dir / name)
    return cache


@pytest.fixture
def offline(hub_cache, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(hub_cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_CACHE", str(hub_cache))
    monkeypatch.setattr(c, "HF_HUB_OFFLINE", True)
    return hub_cache


CASES = [("multiblimp", "deu"), ("belebele", "deu"), ("hellaswag", "deu"), ("hellaswag", "eng"),
         ("hellaswag", "tur"), ("xcsqa", "deu"), ("flores", "deu")]


@pytest.mark.parametrize("bench,lang", CASES)
def test_fetch_and_prepare_give_the_files_the_loader_reads(offline, paper_config, tmp_path, bench, lang):
    source = hub.resolve(paper_config["data"]["hub"][bench], bench, lang)
    for name in benchfiles.bench_files(bench):
        snapshot = hub.fetch(source, [source.files[name]])
        assert snapshot.name == fixture_hub.commit_of(source.repo, source.revision)
        out = hub.prepare(bench, source, name, snapshot, tmp_path / name)
        df = benchfiles.load(bench, out)
        assert len(df) >= 1
    if bench == "xcsqa":
        q = df["question"][0]
        assert q["choices"][0] == {"label": "A", "text": "Zimmer"}
    if bench == "hellaswag":
        assert isinstance(df["label"][0], str)


def test_generated_and_fetched_files_share_a_schema(offline, paper_config, tmp_path):
    """The same columns, whichever configuration made the file."""
    gen = tmp_path / "gen"
    writers.write_benchmarks(["deu"], 1, {"multiblimp": 5, "belebele": 5, "hellaswag": 5, "xcsqa": 5,
                                           "flores_dev": 5, "flores_devtest": 5}, lambda b, c: gen / b)
    for bench, lang in CASES:
        if lang != "deu":
            continue
        source = hub.resolve(paper_config["data"]["hub"][bench], bench, lang)
        name = benchfiles.bench_files(bench)[0]
        fetched = benchfiles.load(bench, hub.prepare(bench, source, name, hub.fetch(source), tmp_path / bench / name))
        generated = benchfiles.load(bench, gen / bench / name)
        assert set(benchmarks.get(bench).columns) <= set(fetched.columns) & set(generated.columns)


def test_a_missing_file_names_the_pattern_and_the_snapshot(offline, paper_config):
    source = hub.resolve(paper_config["data"]["hub"]["multiblimp"], "multiblimp", "deu")
    snapshot = hub.fetch(source)
    with pytest.raises(FileNotFoundError, match=r"no file matching 'fra/\*\.tsv'.*deu/data\.tsv"):
        hub.find(snapshot, "fra/*.tsv")


def test_a_revision_not_in_the_cache_fails_offline(offline, paper_config):
    entry = {**paper_config["data"]["hub"]["belebele"], "revision": "f" * 40}
    with pytest.raises(Exception, match="(?i)cannot find|not found|offline"):
        hub.fetch(hub.resolve(entry, "belebele", "deu"))


def test_gated_source_without_token_says_which_variable(paper_config, monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    source = hub.resolve(paper_config["data"]["hub"]["flores"], "flores", "deu")
    with pytest.raises(RuntimeError, match="set the environment variable HF_TOKEN"):
        hub.fetch(source)


def test_the_corpus_fetch_reads_hplt2_parquet_and_only_the_shards_it_uses(offline, paper_config, tmp_path,
                                                                         monkeypatch):
    source = hub.resolve_corpus(paper_config["data"]["hub"]["corpus"], "deu")
    asked = []
    real_fetch = hub.fetch
    monkeypatch.setattr(hub, "fetch", lambda src, patterns=None: asked.append(patterns) or real_fetch(src, patterns))
    snapshot, info = hub.fetch_corpus(source, tmp_path / "train.jsonl", max_files=2)
    # the chosen, not the pattern; German's, not English's split folders
    assert asked == [["deu_Latn/train-00000-of-00086.parquet", "deu_Latn/train-00001-of-00086.parquet"]]
    assert info == {"files": asked[0], "documents": 40}
    assert snapshot.name == fixture_hub.commit_of(source.repo, source.revision)
    texts = [json.loads(line)["text"] for line in (tmp_path / "train.jsonl").read_text().splitlines()]
    assert texts == writers.corpus_docs("deu", 10, 20, 4) + writers.corpus_docs("deu", 11, 20, 4)


def test_english_is_read_from_its_split_folders(offline, paper_config, tmp_path):
    """HPLT 2.0 splits English over eng_Latn_1 ... eng_Latn_110: the configured pattern reads them."""
    source = hub.resolve_corpus(paper_config["data"]["hub"]["corpus"], "eng")
    _, info = hub.fetch_corpus(source, tmp_path / "train.jsonl", max_files=3)
    assert info["files"] == manifests.corpus_shards("eng_Latn", 3)
    assert all(f.startswith("eng_Latn_") for f in info["files"])


def test_a_corpus_pattern_that_matches_nothing_names_it(offline, paper_config, tmp_path):
    cfg = {**paper_config["data"]["hub"]["corpus"], "files": {"train.jsonl": "{code}/*.jsonl.zst"}}
    with pytest.raises(FileNotFoundError, match=r"HPLT/HPLT2.0_cleaned@main: no file matches 'deu_Latn/\*.jsonl.zst'"):
        hub.fetch_corpus(hub.resolve_corpus(cfg, "deu"), tmp_path / "train.jsonl")
    assert not (tmp_path / "train.jsonl").exists()


def test_a_language_the_benchmark_lacks_is_refused(paper_config):
    with pytest.raises(KeyError, match="multiblimp has no zho"):
        hub.resolve(paper_config["data"]["hub"]["multiblimp"], "multiblimp", "zho")


def test_a_baseline_that_cannot_be_evaluated_is_named(tmp_path, monkeypatch):
    """A repository without a tokenizer, or with an architecture transformers does not know,
    stops its fetch in one line naming the config entry, and leaves no checkpoint."""
    import huggingface_hub.constants as c

    from .conftest import MINI_BASELINE

    cache = tmp_path / "hub"
    fixture_hub.publish_baseline(cache, "someorg/no-tokenizer", with_tokenizer=False)
    fixture_hub.publish_baseline(cache, "someorg/unknown-arch")
    cfg = fixture_hub.snapshot(cache, "someorg/unknown-arch", "main", "model") / "config.json"
    cfg.write_text(cfg.read_text().replace('"gpt2"', '"no_such_architecture"'))
    monkeypatch.setattr(c, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(c, "HF_HUB_OFFLINE", True)
    entry = {**MINI_BASELINE, "name": "broken", "repo": "someorg/no-tokenizer"}
    with pytest.raises(ValueError, match=r"^baselines\[broken\] \(someorg/no-tokenizer@main\): the repository has no "
                                         r"tokenizer"):
        hub.fetch_baseline(entry, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    entry = {**entry, "repo": "someorg/unknown-arch"}
    with pytest.raises(ValueError, match=r"^baselines\[broken\] \(someorg/unknown-arch@main\): cannot be loaded"):
        hub.fetch_baseline(entry, tmp_path / "out")
    assert not (tmp_path / "out").exists()
