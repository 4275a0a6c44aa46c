"""What a model reads: lighteval's cloze layout in each language, HellaSwag's clean-up, and
the seeded item selection."""

import pytest
from datasets import Dataset

from mergelimits import prompts

BELEBELE = {"flores_passage": "der Hund schläft.", "question": "wer schläft?", "mc_answer1": "der Hund",
            "mc_answer2": "die Katze", "mc_answer3": "niemand", "mc_answer4": "alle", "correct_answer_num": "1"}


def test_cloze_follows_lightevals_multichoice_query_in_the_items_language():
    query, options = prompts.prompt("belebele", "deu", "cloze", BELEBELE)
    # MULTI_CHOICE_QA_QUERY with CFFormulation: context, question word, question, answer word
    assert query == "Der Hund schläft.\nFrage: Wer schläft?\nAntwort:"
    assert options == ["Der Hund", "Die Katze", "Niemand", "Alle"]
    zh, _ = prompts.prompt("belebele", "zho", "cloze", {**BELEBELE, "flores_passage": "狗在睡觉。", "question": "谁在睡觉？"})
    assert zh == "狗在睡觉。\n问题：谁在睡觉？\n答案："  # Chinese: full-width colon, no space
    assert prompts.words("zho")["space"] == "" and prompts.words("ara")["question"] == "سؤال"
    xcsqa = {"question": {"stem": "where is it?", "choices": [{"label": "A", "text": "here"},
                                                              {"label": "B", "text": "there"}]}, "answerKey": "B"}
    assert prompts.prompt("xcsqa", "fra", "cloze", xcsqa) == ("Question: Where is it?\nRéponse:", ["Here", "There"])
    assert prompts.gold("xcsqa", xcsqa) == 1 and prompts.gold("belebele", BELEBELE) == 0


def test_bare_keeps_the_stem_and_multiblimp_is_the_same_in_both():
    assert prompts.prompt("belebele", "deu", "bare", BELEBELE) == (
        "der Hund schläft.\nwer schläft?", ["der Hund", "die Katze", "niemand", "alle"])
    mb = {"sen": "Er geht.", "wrong_sen": "Er gehen."}
    assert prompts.prompt("multiblimp", "deu", "bare", mb) == prompts.prompt("multiblimp", "deu", "cloze", mb) == (
        "", ["Er geht.", "Er gehen."])
    with pytest.raises(ValueError, match="belebele: layout 'mcf' is not one of bare, cloze"):
        prompts.prompt("belebele", "deu", "mcf", BELEBELE)
    with pytest.raises(ValueError, match="belebele: layout 'leaderboard'"):  # HellaSwag's own
        prompts.prompt("belebele", "deu", "leaderboard", BELEBELE)


def test_hellaswag_cloze_removes_wikihow_artefacts():
    doc = {"ctx_a": "[header] How to cook rice [title] Rinse the rice.", "ctx_b": "then", "label": "2",
           "endings": ["[step] boil it.", " eat it  raw.", "x", "y"]}
    query, options = prompts.prompt("hellaswag", "eng", "cloze", doc)
    assert query == "How to cook rice. Rinse the rice. then"
    assert options == ["boil it.", "eat it raw.", "x", "y"]
    assert prompts.wikihow_clean("Stir well.. [step] Serve.") == "Stir well. Serve."
    assert prompts.prompt("hellaswag", "eng", "bare", doc)[0] == "[header] How to cook rice [title] Rinse the rice. then"
    assert prompts.gold("hellaswag", doc) == 2


def test_hellaswag_turkish_and_the_english_leaderboard_template_as_the_authors():
    """The authors' lighteval tasks: Turkish replaces four WikiHow tags by ". " (their
    community_hellaswag_tur); English is the Open LLM Leaderboard's template (hellaswag_harness):
    the activity label first, ctx_b capitalised (str.capitalize: the rest lower-cased), cleaned
    without stripping or merging dots."""
    tur = {"ctx_a": "Pilav nasıl pişirilir [başlık] Pirinci yıkayın [adım] Suyu ekleyin.", "ctx_b": "sonra",
           "endings": ["[header] kaynatın..", "yiyin"], "label": "0"}
    assert prompts.prompt("hellaswag", "tur", "cloze", tur) == (
        "Pilav nasıl pişirilir. Pirinci yıkayın. Suyu ekleyin. sonra", ["kaynatın.", "yiyin"])  # a tag needs its space
    # the same tags are left alone elsewhere: only " [title]" is a full stop
    assert prompts.prompt("hellaswag", "deu", "cloze", tur)[0] == "Pilav nasıl pişirilir Pirinci yıkayın Suyu ekleyin. sonra"
    eng = {"activity_label": "Cooking rice", "ctx_a": "[header] How to cook rice [title] Rinse the rice.",
           "ctx_b": "then YOU drain it", "endings": [" boil it..", "eat it  raw."], "label": "0"}
    assert prompts.prompt("hellaswag", "eng", "leaderboard", eng) == (
        "Cooking rice: How to cook rice. Rinse the rice. Then you drain it", [" boil it..", "eat it raw."])
    with pytest.raises(KeyError, match="activity_label"):
        prompts.prompt("hellaswag", "eng", "leaderboard", {k: v for k, v in eng.items() if k != "activity_label"})


def test_max_items_is_a_seeded_cap_shared_by_languages():
    kept = prompts.select(100, 10, seed=1, bench="belebele")
    assert len(kept) == 10 and kept == sorted(kept) and len(set(kept)) == 10
    assert len(set(prompts.select(20, 19, seed=1, bench="belebele"))) == 19  # without replacement
    assert kept == prompts.select(100, 10, seed=1, bench="belebele")  # the same items in every language
    assert kept != prompts.select(100, 10, seed=2, bench="belebele")
    assert kept != prompts.select(100, 10, seed=1, bench="xcsqa")
    assert prompts.select(7, 10, seed=1, bench="belebele") == list(range(7))  # a cap: fewer items, all kept
    assert prompts.select(7, None, seed=1, bench="belebele") == list(range(7))


def test_process_docs_keeps_each_items_index(caplog):
    ds = Dataset.from_list([{**BELEBELE, "question": f"q{i}?"} for i in range(20)])
    with caplog.at_level("INFO", logger="mergelimits.prompts"):
        out = prompts.processor("belebele", "deu", "cloze", 5, 3)(ds)
    assert caplog.messages == ["belebele/deu: 5 of 20 items (evaluate.max_items 5; 0 not scorable), cloze prompts"]
    assert len(out) == 5 and [d["item"] for d in out] == prompts.select(20, 5, 3, "belebele")
    for row in out:
        assert row["query"].endswith(f"Frage: Q{row['item']}?\nAntwort:") and row["gold"] == 0


def test_documents_are_what_a_dataset_yields_and_new_at_every_call():
    """prompts.Docs is a list of what a Dataset of the same rows yields, one schema for all (a
    field an item lacks is None), with the same features; each call of the hook gives new
    documents, so a change lm-eval makes to one evaluation's never reaches the next one's."""
    import pyarrow as pa

    rows = [{"item": 0, "query": "a", "options": ["x", "y"], "extra": 1.5}, {"item": 3, "query": "b", "options": ["z"]}]
    docs, ds = prompts.Docs(pa.Table.from_pylist(rows)), Dataset.from_list(rows)
    assert list(docs) == list(ds) and docs[1]["extra"] is None
    assert docs.features == ds.features and list(docs.features) == ["item", "query", "options", "extra"]
    hook = prompts.processor("belebele", "deu", "cloze", None, 3)
    source = Dataset.from_list([{**BELEBELE, "question": f"q{i}?"} for i in range(3)])
    first = hook(source)
    first[0]["query"] = "changed"
    again = hook(source)
    assert again is not first and again[0]["query"] != "changed" and again[1:] == first[1:]


def test_xcsqa_items_with_an_empty_option_are_not_scored():
    """As the authors' lighteval task (hf_filter): an item with an option empty after strip is
    dropped, in its language only; the others keep their index in the file."""
    def item(i, texts):
        return {"id": str(i), "answerKey": "A", "question": {"stem": f"q{i}?", "choices": [
            {"label": label, "text": text} for label, text in zip("ABCDE", texts)]}}

    full = ["a", "b", "c", "d", "e"]
    rows = [item(i, full) for i in range(6)]
    rows[2] = item(2, ["a", " ", "c", "d", "e"])
    rows[4] = item(4, ["a", "b", "c", "d", ""])
    out = prompts.processor("xcsqa", "deu", "cloze", None, 0)(Dataset.from_list(rows))
    assert [d["item"] for d in out] == [0, 1, 3, 5]
    other = prompts.processor("xcsqa", "eng", "cloze", None, 0)(Dataset.from_list([item(i, full) for i in range(6)]))
    assert [d["item"] for d in other] == list(range(6))


def test_shuffled_control_pairs_every_item_with_another_the_same_in_every_language():
    from mergelimits import prompts

    for n in (2, 3, 10, 57):
        src = prompts.derangement(n, 1, "belebele")
        assert sorted(src) == list(range(n)) and all(src[j] != j for j in range(n))
    assert prompts.derangement(30, 1, "belebele") == prompts.derangement(30, 1, "belebele")
    assert prompts.derangement(30, 1, "belebele") != prompts.derangement(30, 2, "belebele")
    with pytest.raises(ValueError, match="at least 2 items"):
        prompts.derangement(1, 1, "xcsqa")


def test_blind_control_reads_nothing_or_only_the_answer_cue():
    from mergelimits import prompts

    assert prompts.blind_query("bare", "deu") == ""
    assert prompts.blind_query("cloze", "deu") == "Antwort:"
