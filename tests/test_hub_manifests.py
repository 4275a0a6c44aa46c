"""The paper config against the hub as it is: its file patterns must match the repositories'
recorded listings (src/mergelimits/resources/hub_manifests/, each with the pages it was read
from). The fixture hub is built from the same listings, so a pattern made up from this
project's picture of a repository fails here, not on LUMI."""

import fnmatch
import re
from collections import defaultdict

import pytest

from mergelimits import hub, languages
from mergelimits.synthetic import manifests


@pytest.mark.parametrize("name", manifests.names())
def test_every_manifest_says_where_and_when_it_was_read(name):
    m = manifests.load(name)
    assert {"repo", "repo_type", "revision", "seen", "sources", "what", "complete", "files"} <= set(m)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", m["seen"])
    # the hub's pages, or public code that fetches from the repository by path
    assert m["sources"] and all(u.startswith(("https://huggingface.co/", "https://github.com/"))
                                for u in m["sources"])
    assert m["files"] == sorted(set(m["files"]))


def test_every_recorded_shard_follows_the_recorded_naming_rule():
    """train-NNNNN-of-MMMMM.parquet in a language folder: each folder's shards are numbered
    0..M-1 of one M, so the rule the fixture hub names unseen languages' shards by is the
    listing's own."""
    m = manifests.load("HPLT--HPLT2.0_cleaned")
    rule = manifests.layout_regex(m["layout"])
    folders = defaultdict(list)
    for f in m["files"]:
        if f.endswith(".parquet"):
            hit = rule.match(f)
            assert hit, f
            folders[hit["folder"]].append((int(hit["index"]), int(hit["count"])))
    for folder, shards in folders.items():
        (count,) = {c for _, c in shards}
        assert sorted(i for i, _ in shards) == list(range(count)), folder


def _recorded_codes():
    m = manifests.load("HPLT--HPLT2.0_cleaned")
    return {re.sub(r"_\d+$", "", f.split("/")[0]) for f in m["files"] if "/" in f} | set(m["folders"])


def test_the_corpus_pattern_matches_every_recorded_language_and_only_its_own(paper_config):
    """For every language folder in the listing (the study's and others'), the configured
    pattern with that code picks that language's shards, split folders included, and no
    other language's."""
    m = manifests.load("HPLT--HPLT2.0_cleaned")
    pattern = paper_config["data"]["hub"]["corpus"]["files"]["train.jsonl"]
    for code in _recorded_codes():
        if code in m["folders"]:  # seen without its files: the recorded naming rule in its folder
            listing = manifests.corpus_shards(code, 2)
        else:
            listing = m["files"]
        hits = [f for f in listing if fnmatch.fnmatch(f, pattern.format(code=code))]
        assert hits, f"{pattern.format(code=code)!r} matches no recorded file of {code}"
        assert all(re.sub(r"_\d+$", "", h.split("/")[0]) == code for h in hits), hits


def test_the_study_languages_hplt_codes_are_folders_of_the_corpus(paper_config):
    """Arabic is `ara_Arab` there, not `arb_Arab`. The languages whose folder listing was not
    recorded yet are named here, so that recording one is a change to this test."""
    codes = {lang: languages.get(lang).source_code("hplt_text") for lang in paper_config["languages"]}
    assert codes["ara"] == "ara_Arab"
    unrecorded = {lang for lang, code in codes.items() if code not in _recorded_codes()}
    assert unrecorded == {"fra", "ita", "nld", "rus", "spa", "tur", "zho"}


def test_the_old_corpus_pattern_matches_nothing_on_main():
    """`{code}/train/*.parquet` was the hub's automatic conversion, not `main`: this is the
    failure the listing catches."""
    m = manifests.load("HPLT--HPLT2.0_cleaned")
    assert not [f for f in m["files"] if fnmatch.fnmatch(f, "deu_Latn/train/*.parquet")]


def test_hplt_checkpoints_are_fetched_in_the_format_their_repositories_hold(paper_config):
    """HPLT's weights are one pytorch_model.bin (no safetensors): the configured format's
    patterns select exactly the recorded weight files."""
    files = manifests.load("HPLT--hplt2c_checkpoints")["files"]
    weights = hub.WEIGHT_PATTERNS[paper_config["pretrain"]["hplt"]["weights"]]
    chosen = [f for f in files if any(fnmatch.fnmatch(f, p) for p in weights)]
    assert chosen == manifests.checkpoint_weights() == ["pytorch_model.bin"]
    assert not [f for f in files if fnmatch.fnmatch(f, hub.WEIGHT_PATTERNS["safetensors"][0])]


#: (benchmark, language) sources whose repository listing does not show that language yet
UNRECORDED_BENCH = {("multiblimp", "fra"), ("multiblimp", "ita"),
                    ("belebele", "nld"), ("belebele", "rus"), ("belebele", "spa"),
                    ("hellaswag", "nld"), ("hellaswag", "rus"), ("hellaswag", "tur"),
                    ("hellaswag", "zho"),
                    ("xcsqa", "fra"), ("xcsqa", "nld"), ("xcsqa", "rus"), ("xcsqa", "spa")}


def test_every_benchmark_pattern_matches_its_recorded_listing(paper_config):
    """Each (benchmark, language) the paper config fetches, from a repository with a recorded
    listing: its pattern matches one recorded file, in every recorded layout of the file."""
    checked, unrecorded = 0, set()
    for bench in paper_config["benchmarks"]:
        for lang in paper_config["languages"]:
            try:
                source = hub.resolve(paper_config["data"]["hub"][bench], bench, lang)
            except KeyError:  # the benchmark has no such language
                continue
            name = manifests.for_repo(source.repo)
            if name is None:
                continue
            listing = manifests.listing(name)
            for pattern in source.files.values():
                hits = [f for f in listing if fnmatch.fnmatch(f, pattern)]
                if not hits:
                    unrecorded.add((bench, lang))
                    continue
                checked += 1
                code = languages.get(lang).source_code(bench)
                if manifests.load(name).get("single_language") is None:  # else no file names a language
                    assert all(code in h for h in hits), (pattern, hits)
                else:
                    assert manifests.load(name)["single_language"] == code, name
                if name == "INK-USC--xcsr":  # both of the converter's layouts
                    m = manifests.load(name)
                    both = {f"X-CSQA-{code}/xcsr-validation.parquet", m["layout"].format(config=code, split="validation")}
                    assert all(fnmatch.fnmatch(f, pattern) for f in both), pattern
    assert checked >= 15
    assert unrecorded == UNRECORDED_BENCH


def test_the_fixture_hub_serves_the_recorded_names_not_the_configured_ones(paper_config):
    """Where a listing shows a language, the fixture hub's file is the listing's, whatever
    the config says: a made-up pattern (MultiBLiMP as `<code>/test.tsv`) then finds nothing
    locally either, as it would find nothing on the hub."""
    from mergelimits.synthetic import hub_cache as fixture_hub

    served = fixture_hub._served_name("jumelet/multiblimp", "eng", "eng/test.tsv")
    assert served == "eng/data.tsv" and not fnmatch.fnmatch(served, "eng/test.tsv")
    for bench in paper_config["benchmarks"]:
        for lang in paper_config["languages"]:
            if (bench, lang) in UNRECORDED_BENCH or not languages.get(lang).has(bench):
                continue
            source = hub.resolve(paper_config["data"]["hub"][bench], bench, lang)
            code = languages.get(lang).source_code(bench)
            recorded = manifests.recorded_files(source.repo, code)
            for pattern in source.files.values():
                name = fixture_hub._served_name(source.repo, code, pattern)
                assert name in recorded or not recorded, (bench, lang, name)
                assert fnmatch.fnmatch(name, pattern)


def test_multiblimp_is_read_per_iso_code_with_arabic_as_arb(paper_config):
    """The nine study languages MultiBLiMP has, by the dataset's own codes (zho has none)."""
    m = manifests.load("jumelet--multiblimp")
    study = {languages.get(lang).source_code("multiblimp") for lang in paper_config["languages"]
             if languages.get(lang).has("multiblimp")}
    assert study == set(m["items"]) and "arb" in study


def test_english_hellaswag_is_read_from_the_hubs_parquet_conversion(paper_config):
    """Rowan/hellaswag's `main` holds a loading script and no data file (datasets >= 4 runs
    no scripts): the old pattern on `main` matches nothing there, the configured one is a
    file of the conversion branch."""
    m = manifests.load("Rowan--hellaswag")
    assert not [f for f in m["main_files"] if fnmatch.fnmatch(f, "data/validation-*.parquet")]
    source = hub.resolve(paper_config["data"]["hub"]["hellaswag"], "hellaswag", "eng")
    assert source.revision == m["revision"] == "refs/convert/parquet"
    assert [f for f in m["files"] if fnmatch.fnmatch(f, source.files["validation.jsonl"])] == \
        ["default/validation/0000.parquet"]

