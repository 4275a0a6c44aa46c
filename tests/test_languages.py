from mergelimits import languages


def test_every_language_has_a_code_in_every_source():
    table = languages.table()
    assert list(table) == "ara deu eng fra ita nld rus spa tur zho".split()
    for lang in table.values():
        assert set(lang.codes) == set(languages.sources())


def test_codes_the_paper_scripts_mixed_up():
    assert languages.get("ara").source_code("multiblimp") == "arb"
    assert languages.get("zho").source_code("hplt") == "zhos"
    assert languages.get("zho").source_code("flores") == "cmn_Hans"
    assert languages.get("zho").source_code("belebele") == "zho_Hans"
    assert languages.get("zho").source_code("lang2vec") == "cmn"


def test_missing_combinations_are_explicit():
    langs = list(languages.table())
    assert languages.missing("multiblimp", langs) == ["zho"]
    assert languages.missing("xcsqa", langs) == ["tur"]
    assert languages.missing("flores", langs) == []
    assert len(languages.available("multiblimp", langs)) == 9


def test_unknown_names_fail_loudly():
    import pytest

    with pytest.raises(KeyError, match="unknown language 'xx'"):
        languages.get("xx")
    with pytest.raises(KeyError, match="unknown benchmark"):
        languages.available("mmlu", ["deu"])
    with pytest.raises(KeyError, match="unknown source"):
        languages.get("deu").source_code("wikipedia")


def test_lang2vec_knows_every_code():
    import lang2vec.lang2vec as l2v

    have = set(l2v.available_languages())
    assert all(lang.source_code("lang2vec") in have for lang in languages.table().values())
