"""Ten generated languages for the tiny study, one per real language code.

No real corpus or benchmark can be fetched offline, so the tiny study generates its
languages. One seeded generator draws a shared *meaning* (who does what to whom, when),
and each language *realises* it with its own lexicon, script, word order and agreement
morphology, loosely following the real language's typology (see `TYPOLOGY`). Because
meanings are shared, the same generator gives pre-training text, minimal pairs,
parallel sentences and cloze items; `benchfiles.py` writes them in the real datasets'
schemas. The words are invented: nothing here is real Arabic, German, ...

Related languages (Romance, Germanic) derive their words from one family proto-lexicon
by per-language sound changes, so that similarity between languages is graded as in the
real set, while inflections are drawn per language, so agreement must be learnt per
language.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field
from itertools import product

# --- the shared semantic core --------------------------------------------------------

#: Noun concepts by category; verbs select their object's category (selectional
#: restrictions), which makes the cloze items answerable from pre-training text alone.
NOUNS = {
    "person": ["man", "woman", "child", "teacher", "doctor", "farmer", "king", "baker", "sailor"],
    "animal": ["dog", "cat", "horse", "bird", "cow", "fox", "wolf", "goat"],
    "food": ["bread", "apple", "fish", "rice", "cheese", "soup", "egg", "cake"],
    "place": ["city", "river", "market", "school", "village", "forest", "church", "harbour"],
    "vehicle": ["car", "boat", "train", "cart", "bicycle", "ship"],
    "text": ["book", "letter", "map", "poem", "story", "newspaper"],
    "tool": ["hammer", "knife", "rope", "bucket", "key", "ladder"],
}
CATEGORY = {noun: cat for cat, nouns in NOUNS.items() for noun in nouns}
AGENTS = ("person", "animal")

#: verb -> (subject categories, object categories)
VERBS = {
    "eat": (("person", "animal"), ("food",)),
    "cook": (("person",), ("food",)),
    "sell": (("person",), ("food", "vehicle", "tool", "text")),
    "visit": (("person",), ("place",)),
    "leave": (("person", "animal"), ("place",)),
    "drive": (("person",), ("vehicle",)),
    "repair": (("person",), ("vehicle", "tool")),
    "read": (("person",), ("text",)),
    "write": (("person",), ("text",)),
    "hold": (("person",), ("tool", "food", "text")),
    "chase": (("animal", "person"), ("animal",)),
    "feed": (("person",), ("animal",)),
}
ADJECTIVES = ["big", "small", "old", "new", "red", "green", "good", "bad", "young", "quiet"]
ADVERBS = ["today", "yesterday", "later", "often"]
PERSONS = (1, 2, 3)
NUMBERS = ("sg", "pl")
TENSES = ("pres", "past")
FUNCTION_WORDS = ["who", "what", "question", "answer"]


@dataclass(frozen=True)
class NP:
    noun: str | None  # None: a pronoun
    number: str
    person: int = 3
    adj: str | None = None
    gender_hint: str = "m"  # pronouns only: the referent's gender


@dataclass(frozen=True)
class Event:
    subj: NP
    verb: str
    obj: NP
    tense: str
    adv: str | None = None


def _number_and_adjective(rng: random.Random) -> tuple[str, str | None]:
    """How every noun phrase gets its number and (40% of the time) an adjective."""
    number = rng.choice(NUMBERS)
    return number, rng.choice(ADJECTIVES) if rng.random() < 0.4 else None


def sample_np(rng: random.Random, cats: tuple[str, ...], pronoun_p: float = 0.0) -> NP:
    number, adj = _number_and_adjective(rng)
    if rng.random() < pronoun_p:
        return NP(None, number, rng.choice((1, 2, 3)), None, rng.choice("mf"))
    cat = rng.choice(cats)
    return NP(rng.choice(NOUNS[cat]), number, 3, adj)


def sample_event(rng: random.Random, pronoun_p: float = 0.3) -> Event:
    verb = rng.choice(list(VERBS))
    subj_cats, obj_cats = VERBS[verb]
    subj = sample_np(rng, subj_cats, pronoun_p if "person" in subj_cats else 0.0)
    obj = sample_np(rng, obj_cats)
    adv = rng.choice(ADVERBS) if rng.random() < 0.3 else None
    return Event(subj, verb, obj, rng.choice(TENSES), adv)


# --- typology: what each language marks, loosely after the real one ------------------

@dataclass(frozen=True)
class Typology:
    family: str
    script: str
    order: str  # SVO, SOV, VSO or V2 (verb second; SVO unless an adverb is fronted)
    adj_after: bool
    genders: tuple[str, ...]  # () : no grammatical gender
    articles: bool
    plural: bool
    accusative: bool
    #: tense -> agreement features the verb shows in that tense
    agreement: dict[str, tuple[str, ...]] = field(default_factory=dict)
    spaces: bool = True


PN = ("person", "number")
TYPOLOGY = {
    "ara": Typology("afroasiatic", "Arab", "VSO", True, ("m", "f"), True, True, False,
                    {"pres": ("person", "number", "gender"), "past": ("person", "number", "gender")}),
    "deu": Typology("germanic", "Latn", "V2", False, ("m", "f", "n"), True, True, False, {"pres": PN, "past": PN}),
    "eng": Typology("germanic", "Latn", "SVO", False, (), True, True, False, {"pres": PN, "past": ()}),
    "fra": Typology("romance", "Latn", "SVO", True, ("m", "f"), True, True, False, {"pres": PN, "past": PN}),
    "ita": Typology("romance", "Latn", "SVO", True, ("m", "f"), True, True, False, {"pres": PN, "past": PN}),
    "nld": Typology("germanic", "Latn", "V2", False, ("c", "n"), True, True, False, {"pres": PN, "past": ("number",)}),
    "rus": Typology("slavic", "Cyrl", "SVO", False, ("m", "f", "n"), False, True, True,
                    {"pres": PN, "past": ("number", "gender")}),
    "spa": Typology("romance", "Latn", "SVO", True, ("m", "f"), True, True, False, {"pres": PN, "past": PN}),
    "tur": Typology("turkic", "Latn", "SOV", False, (), False, True, True, {"pres": PN, "past": PN}),
    "zho": Typology("sinitic", "Hans", "SVO", False, (), False, False, False, {"pres": (), "past": ()}, spaces=False),
}

#: MultiBLiMP's names for the agreement phenomena we generate.
PHENOMENON = {"number": "SV-#", "person": "SV-P", "gender": "SV-G"}

# --- word shapes ----------------------------------------------------------------------

PHONOLOGY = {  # consonants, vowels, max syllables of a stem
    "afroasiatic": ("b t d k q s z sh h m n l r f w y", "a i u aa", 3),
    "germanic": ("b p d t g k f v s z sch h m n l r w j", "a e i o u ei au", 2),
    "romance": ("b p d t g c f v s m n l r", "a e i o u", 3),
    "slavic": ("b p d t g k v s z zh ch m n l r", "a e i o u y", 3),
    "turkic": ("b p d t g k s z sh ch m n l r y", "a e i o u", 3),
    "sinitic": ("b p d t g k zh ch sh m n l h x j q", "a e i o u ai ao ou", 2),
}
CYRILLIC = {"sch": "щ", "sh": "ш", "zh": "ж", "ch": "ч", "a": "а", "b": "б", "v": "в", "g": "г", "d": "д",
            "e": "е", "z": "з", "i": "и", "y": "ы", "k": "к", "l": "л", "m": "м", "n": "н", "o": "о",
            "p": "п", "r": "р", "s": "с", "t": "т", "u": "у", "f": "ф", "h": "х", "c": "ц", "j": "й",
            "w": "в", "q": "к", "x": "кс"}
ARABIC = {"sch": "ش", "sh": "ش", "zh": "ج", "ch": "تش", "aa": "ا", "a": "َ", "i": "ي", "u": "و", "e": "ي",
          "o": "و", "b": "ب", "t": "ت", "d": "د", "k": "ك", "q": "ق", "s": "س", "z": "ز", "h": "ح", "m": "م",
          "n": "ن", "l": "ل", "r": "ر", "f": "ف", "w": "و", "y": "ي", "g": "غ", "p": "ب", "v": "ف",
          "c": "ك", "j": "ج", "x": "خ"}


def _transliterate(word: str, table: dict[str, str]) -> str:
    out, i = [], 0
    keys = sorted(table, key=len, reverse=True)
    while i < len(word):
        for k in keys:
            if word.startswith(k, i):
                out.append(table[k])
                i += len(k)
                break
        else:
            out.append(word[i])
            i += 1
    return "".join(out)


class WordMaker:
    """Draws word shapes from a phonology; never the same shape twice."""

    def __init__(self, family: str, rng: random.Random):
        cons, vows, self.max_syll = PHONOLOGY[family]
        self.cons, self.vows = cons.split(), vows.split()
        self.rng = rng
        self.used: set[str] = set()

    def syllable(self) -> str:
        s = self.rng.choice(self.cons) + self.rng.choice(self.vows)
        if self.rng.random() < 0.3:
            s += self.rng.choice(self.cons)
        return s

    def word(self, min_syll: int = 1, max_syll: int | None = None) -> str:
        for _ in range(1000):
            n = self.rng.randint(min_syll, max_syll or self.max_syll)
            w = "".join(self.syllable() for _ in range(n))
            if w not in self.used:
                self.used.add(w)
                return w
        raise RuntimeError("word space exhausted; raise the phonology's size")


def _stable_seed(*parts: object) -> int:
    return zlib.crc32("/".join(map(str, parts)).encode())


def _sound_change(word: str, changes: dict[str, str]) -> str:
    return "".join(changes.get(ch, ch) for ch in word)


# --- one language ---------------------------------------------------------------------

class Language:
    """A generated language: its lexicon, inflections and the realisation of meanings."""

    def __init__(self, code: str, seed: int):
        self.code = code
        self.typ = TYPOLOGY[code]
        rng = random.Random(_stable_seed(seed, "lang", code))
        family_rng = random.Random(_stable_seed(seed, "family", self.typ.family))
        proto = WordMaker(self.typ.family, family_rng)
        own = WordMaker(self.typ.family, rng)
        letters = "bpdtgkfvszmnlrh"
        changes = {c: rng.choice(letters) for c in letters if rng.random() < 0.25}
        concepts = list(CATEGORY) + list(VERBS) + ADJECTIVES + ADVERBS + FUNCTION_WORDS
        self.lex: dict[str, str] = {}
        for concept in concepts:
            shared = proto.word(1)  # drawn for every language of the family, in one order
            if rng.random() < 0.75:
                self.lex[concept] = _sound_change(shared, changes)
            else:
                self.lex[concept] = own.word(1)
        self.gender = {n: rng.choice(self.typ.genders) if self.typ.genders else "-" for n in CATEGORY}
        short = lambda: own.word(1, 1)  # noqa: E731 - inflections are one syllable
        self.article = {(g, n): short() for g in (self.typ.genders or ("-",)) for n in NUMBERS}
        self.plural = short()
        self.accusative = short()
        self.pronoun = {
            (p, n, g): short() for p, n, g in product(PERSONS, NUMBERS, (self.typ.genders or ("-",)))
        }
        # One distinct suffix per cell of each tense's agreement paradigm, so that every
        # agreement violation changes the verb's form.
        self.verb_suffix: dict[tuple, str] = {}
        for tense in TENSES:
            feats = self.typ.agreement[tense]
            for cell in self._cells(feats):
                self.verb_suffix[(tense, cell)] = short()
        self.wh = {"who": self.lex["who"], "what": self.lex["what"]}

    # features -> the cells of that paradigm, as sorted (feature, value) tuples
    def _cells(self, feats: tuple[str, ...]) -> list[tuple]:
        values = {"person": PERSONS, "number": NUMBERS, "gender": self.typ.genders or ("-",)}
        return [tuple(zip(feats, combo)) for combo in product(*(values[f] for f in feats))]

    def np_gender(self, np: NP) -> str:
        if not self.typ.genders:
            return "-"
        if np.noun is None:
            return np.gender_hint if np.gender_hint in self.typ.genders else self.typ.genders[0]
        return self.gender[np.noun]

    def agreement_cell(self, tense: str, np: NP, **override) -> tuple:
        feats = {"person": np.person, "number": np.number, "gender": self.np_gender(np)}
        feats.update(override)
        return tuple((f, feats[f]) for f in self.typ.agreement[tense])

    def verb_form(self, verb: str, tense: str, cell: tuple) -> str:
        return self.lex[verb] + self.verb_suffix[(tense, cell)]

    def np_words(self, np: NP, case: str = "nom") -> list[str]:
        if np.noun is None:
            g = self.np_gender(np)
            return [self.pronoun[(np.person, np.number, g)]]
        noun = self.lex[np.noun]
        if self.typ.plural and np.number == "pl":
            noun += self.plural
        if case == "acc" and self.typ.accusative:
            noun += self.accusative
        words = [noun]
        if np.adj:
            words = words + [self.lex[np.adj]] if self.typ.adj_after else [self.lex[np.adj]] + words
        if self.typ.articles:
            words = [self.article[(self.np_gender(np), np.number)]] + words
        return words

    def clause(self, ev: Event, verb_cell: tuple | None = None, obj_words: list[str] | None = None,
               subj_words: list[str] | None = None) -> tuple[list[list[str]], int]:
        """The constituents of a clause in surface order, and the index of the object's slot."""
        cell = verb_cell if verb_cell is not None else self.agreement_cell(ev.tense, ev.subj)
        s = subj_words if subj_words is not None else self.np_words(ev.subj)
        v = [self.verb_form(ev.verb, ev.tense, cell)]
        o = obj_words if obj_words is not None else self.np_words(ev.obj, "acc")
        adv = [self.lex[ev.adv]] if ev.adv else []
        order = self.typ.order
        if order == "V2" and adv:
            parts = [adv, v, s, o]
        elif order == "V2" or order == "SVO":
            parts = [adv, s, v, o]
        elif order == "SOV":
            parts = [adv, s, o, v]
        else:  # VSO
            parts = [adv, v, s, o]
        return parts, parts.index(o)

    def join(self, words: list[str], end: str = ".") -> str:
        sep = " " if self.typ.spaces else ""
        text = sep.join(self.script(w) for w in words if w)
        if self.typ.script in ("Latn", "Cyrl"):
            text = text[:1].upper() + text[1:]
        if self.typ.script == "Hans":
            end = {".": "。", "?": "？"}.get(end, end)
        return text + end

    def script(self, text: str) -> str:
        if self.typ.script == "Cyrl":
            return _transliterate(text, CYRILLIC)
        if self.typ.script == "Arab":
            return _transliterate(text, ARABIC)
        if self.typ.script == "Hans":
            return "".join(_han(s) for s in _syllables(text))
        return text

    def sentence(self, ev: Event, **kw) -> str:
        parts, _ = self.clause(ev, **kw)
        return self.join([w for part in parts for w in part])

    def split_at_object(self, ev: Event, obj: NP | None = None) -> tuple[str, str]:
        """(text before the object, object and the rest) — HellaSwag's ctx_b and ending."""
        parts, i = self.clause(ev, obj_words=self.np_words(obj or ev.obj, "acc"))
        head = [w for part in parts[:i] for w in part]
        tail = [w for part in parts[i:] for w in part]
        full = self.join(head + tail)
        start = self.join(head, end="") if head else ""
        assert full.startswith(start), (full, start)
        return start, full[len(start):].lstrip()


def _syllables(word: str) -> list[str]:
    """Split one Latin-shaped word into syllable-like chunks for the Han script."""
    out, cur = [], ""
    vowels = set("aeiou")
    for i, ch in enumerate(word):
        cur += ch
        nxt = word[i + 1] if i + 1 < len(word) else " "
        if ch in vowels and nxt not in vowels:
            out.append(cur)
            cur = ""
    if cur:
        out.append(cur)
    return out


def _han(syllable: str) -> str:
    # One CJK ideograph per syllable shape, stable across runs.
    return chr(0x4E00 + zlib.crc32(syllable.encode()) % 0x5000)


def make_languages(codes: list[str], seed: int) -> dict[str, Language]:
    return {c: Language(c, seed) for c in codes}


# --- items ---------------------------------------------------------------------------

#: the items' design, a param of rule generate_benchmarks: changing it regenerates them
ITEM_DESIGN = "2: counterbalanced minimal pairs; distractors matched to the answer (number, adjective, frequency rank)"


def _minimal_pair(lang: Language, ev: Event, feat: str, wrong_value) -> dict:
    cell = lang.agreement_cell(ev.tense, ev.subj)
    right = dict(cell)
    wrong_cell = lang.agreement_cell(ev.tense, ev.subj, **{feat: wrong_value})
    good_verb = lang.verb_form(ev.verb, ev.tense, cell)
    bad_verb = lang.verb_form(ev.verb, ev.tense, wrong_cell)
    return {
        "sen": lang.sentence(ev),
        "wrong_sen": lang.sentence(ev, verb_cell=wrong_cell),
        "verb": lang.script(good_verb),
        "wrong_verb": lang.script(bad_verb),
        "phenomenon": PHENOMENON[feat],
        "grammatical_feature": f"{feat}={right[feat]}",
        "ungrammatical_feature": f"{feat}={wrong_value}",
    }


def _event_in_cell(lang: Language, rng: random.Random, tense: str, cell: tuple, pronoun: bool,
                   tries: int = 2000) -> Event | None:
    """A fresh event of this tense whose subject agrees in exactly this paradigm cell."""
    for _ in range(tries):
        ev = sample_event(rng, pronoun_p=0.5 if pronoun else 0.3)
        ev = Event(ev.subj, ev.verb, ev.obj, tense, ev.adv)
        if lang.agreement_cell(tense, ev.subj) == cell and (ev.subj.noun is None) >= pronoun:
            return ev
    return None


def minimal_pairs(lang: Language, rng: random.Random, n: int) -> list[dict]:
    """Agreement violations: the verb takes the form of another cell of its paradigm.

    Counterbalanced: every pair (right form of cell A, wrong form of cell B) comes with a
    mirror pair, another event whose subject is in cell B, wrongly given A's form. Over the
    set each verb form is as often right as wrong, so a preference for short, long or
    frequent forms scores exactly chance and only agreement tells the sentences apart (an
    uncounterbalanced set had German's right forms longer in tokens twice as often as
    shorter, and weak models below chance)."""
    rows: list[dict] = []
    tries = 0
    while len(rows) < n and tries < 50 * n:
        tries += 1
        ev = sample_event(rng)
        feats = lang.typ.agreement[ev.tense]
        if not feats:
            continue
        feat = rng.choice(feats)
        values = {"person": PERSONS, "number": NUMBERS, "gender": lang.typ.genders}[feat]
        right = dict(lang.agreement_cell(ev.tense, ev.subj))
        if feat == "person" and ev.subj.noun is not None:
            continue  # nouns are third person: a person violation needs a pronoun subject
        wrong_value = rng.choice([v for v in values if v != right[feat]])
        mirror = _event_in_cell(lang, rng, ev.tense, lang.agreement_cell(ev.tense, ev.subj, **{feat: wrong_value}),
                                pronoun=feat == "person")
        if mirror is None:
            continue
        rows.append(_minimal_pair(lang, ev, feat, wrong_value))
        if len(rows) < n:
            rows.append(_minimal_pair(lang, mirror, feat, right[feat]))
    if len(rows) < n:
        raise RuntimeError(f"{lang.code}: could only generate {len(rows)} of {n} minimal pairs")
    return rows


def _expected_counts() -> dict[str, float]:
    """Each noun's expected occurrences per generated sentence (`sample_event`: a uniform
    verb, its subject's and object's category uniform among those it selects, the noun
    uniform in its category; person subjects are pronouns 30% of the time)."""
    counts = dict.fromkeys(CATEGORY, 0.0)
    for subj_cats, obj_cats in VERBS.values():
        noun_p = 0.7 if "person" in subj_cats else 1.0
        for cats, p in ((subj_cats, noun_p), (obj_cats, 1.0)):
            for cat in cats:
                for noun in NOUNS[cat]:
                    counts[noun] += p / len(VERBS) / len(cats) / len(NOUNS[cat])
    return counts


#: how often each noun occurs in the corpora, in expectation: distractors are matched to it
NOUN_FREQ = _expected_counts()


def _dress(rng: random.Random, noun: str) -> NP:
    """A noun given number and adjective as `sample_np` gives them to every object."""
    number, adj = _number_and_adjective(rng)
    return NP(noun, number, 3, adj)


def _distractor_objects(rng: random.Random, verb: str, answer: NP, k: int) -> list[NP] | None:
    """k options that break the verb's selectional restriction and are otherwise like the
    answer: nouns that occur as objects (never persons, which no verb takes), with number
    and adjective drawn as the answer's are, and a frequency rank for the answer that is
    uniform over the k + 1 options (a drawn number of distractors is more frequent in the
    corpora than the answer, the rest less). None when this answer cannot be matched so:
    the caller draws another item. (Distractors drawn from every other noun, bare and
    singular-or-plural, against a bare singular answer made "pick a singular", "pick the
    most frequent noun" and "pick the longest" beat chance.)"""
    allowed = set(VERBS[verb][1])
    objects = {cat for _, obj_cats in VERBS.values() for cat in obj_cats}
    pool = [noun for noun, cat in CATEGORY.items() if cat in objects and cat not in allowed]
    f = NOUN_FREQ[answer.noun]
    above = [n for n in pool if NOUN_FREQ[n] > f or (NOUN_FREQ[n] == f and rng.random() < 0.5)]
    below = [n for n in pool if n not in above]
    more = rng.randrange(k + 1)
    if len(above) < more or len(below) < k - more:
        return None
    return [_dress(rng, noun) for noun in rng.sample(above, more) + rng.sample(below, k - more)]


def cloze_items(langs: dict[str, Language], rng: random.Random, n: int) -> dict[str, list[dict]]:
    """HellaSwag-style items: a context sentence, then a sentence cut before its object.

    The right ending's object fits the verb; the three distractors break its selectional
    restriction (`_distractor_objects`: otherwise matched to the answer). The same meanings
    are realised in every language.
    """
    out: dict[str, list[dict]] = {c: [] for c in langs}
    for i in range(n):
        objs = None
        while objs is None:
            first, ev = sample_event(rng), sample_event(rng)
            objs = _distractor_objects(rng, ev.verb, ev.obj, 3)
        label = rng.randrange(4)
        objs.insert(label, ev.obj)
        for code, lang in langs.items():
            ctx_a = lang.sentence(first)
            ctx_b, _ = lang.split_at_object(ev)
            endings = [lang.split_at_object(ev, o)[1] for o in objs]
            out[code].append({
                "ind": i, "activity_label": lang.script(lang.lex[ev.verb]),
                "ctx_a": ctx_a, "ctx_b": ctx_b, "ctx": f"{ctx_a} {ctx_b}".strip(),
                "endings": endings, "label": str(label), "split": "val", "split_type": "indomain",
                "source_id": f"generated~{i}",
            })
    return out


def question_items(langs: dict[str, Language], rng: random.Random, n: int) -> dict[str, list[dict]]:
    """X-CSQA-style items: a what-question about a verb's object, five labelled choices."""
    out: dict[str, list[dict]] = {c: [] for c in langs}
    for i in range(n):
        choices = None
        while choices is None:
            ev = sample_event(rng)
            choices = _distractor_objects(rng, ev.verb, ev.obj, 4)
        key = rng.randrange(5)
        choices.insert(key, ev.obj)
        for code, lang in langs.items():
            wh = [lang.wh["what"]]
            stem = lang.join([w for part in lang.clause(ev, obj_words=wh)[0] for w in part], end="?")
            labels = "ABCDE"
            out[code].append({
                "id": f"generated-{i}", "lang": code,
                "question": {
                    "stem": stem,
                    "choices": [{"label": labels[j], "text": lang.join(lang.np_words(c), end="")}
                                for j, c in enumerate(choices)],
                },
                "answerKey": labels[key],
            })
    return out


def reading_items(langs: dict[str, Language], rng: random.Random, n: int, sentences: int = 4) -> dict[str, list[dict]]:
    """Belebele-style items: a passage of events by different people, a who-question."""
    out: dict[str, list[dict]] = {c: [] for c in langs}
    people = NOUNS["person"]
    for i in range(n):
        agents = rng.sample(people, sentences)
        events = []
        for a in agents:
            ev = sample_event(rng, pronoun_p=0.0)
            while "person" not in VERBS[ev.verb][0]:
                ev = sample_event(rng, pronoun_p=0.0)
            events.append(Event(NP(a, "sg"), ev.verb, ev.obj, ev.tense, ev.adv))
        asked = rng.randrange(sentences)
        options = rng.sample([a for j, a in enumerate(agents) if j != asked], 3)
        correct = rng.randrange(4)
        options.insert(correct, agents[asked])
        for code, lang in langs.items():
            passage = " ".join(lang.sentence(e) for e in events)
            q_ev = events[asked]
            subj = [lang.wh["who"]]
            question = lang.join([w for part in lang.clause(q_ev, subj_words=subj)[0] for w in part], end="?")
            row = {
                "link": f"generated/{i}", "question_number": 1, "flores_passage": passage,
                "question": question, "correct_answer_num": str(correct + 1),
                "dialect": code, "ds": "generated",
            }
            for j, a in enumerate(options):
                row[f"mc_answer{j + 1}"] = lang.join(lang.np_words(NP(a, "sg")), end="")
            out[code].append(row)
    return out


def parallel(langs: dict[str, Language], rng: random.Random, n: int) -> dict[str, list[str]]:
    """FLORES-style parallel sentences: one meaning, realised in every language."""
    events = [sample_event(rng) for _ in range(n)]
    return {code: [lang.sentence(ev) for ev in events] for code, lang in langs.items()}


def corpus(lang: Language, rng: random.Random, n_docs: int, sentences_per_doc: int,
           question_p: float = 0.3) -> list[str]:
    """Pre-training documents: runs of sentences, some followed by a question and its answer.

    The questions (who did it? what did they act on?) are what makes the reading and
    question items answerable at all, as quiz-like text does in real web corpora.
    """
    docs = []
    for _ in range(n_docs):
        events = [sample_event(rng) for _ in range(sentences_per_doc)]
        text = [lang.sentence(ev) for ev in events]
        if rng.random() < question_p:
            ev = rng.choice(events)
            if rng.random() < 0.5 and ev.subj.noun is not None:
                q = lang.clause(ev, subj_words=[lang.wh["who"]])[0]
                answer = lang.np_words(ev.subj)
            else:
                q = lang.clause(ev, obj_words=[lang.wh["what"]])[0]
                answer = lang.np_words(ev.obj)
            text += [lang.join([w for part in q for w in part], end="?"), lang.join(answer)]
        docs.append(" ".join(text))
    return docs
