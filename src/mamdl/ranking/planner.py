"""Which search to send next, when MAM's search is strict.

MAM matches whole words, AND-ed, with no typo tolerance, accent folding or stemming: one wrong word
("Projct", "Bronte" for "Brontë", "11" for "Eleven", "Childhoods" for "Childhood's") and nothing
comes back. So each typed word is a small unknown, and each can be sent in several *forms*:

    EXACT     as typed                       "Rendevous"
    PREFIX    its first half and a wildcard  "Rende*"   (survives a late typo, "-'s", a plural)
    SANDWICH  two letters each end           "Re*us"    (survives a typo in the middle)
    SUFFIX    a wildcard and its second half "*vous"    (survives an early typo: "Usnouled")
    SKELETON  first letter and consonants     "R*n*d*v*s" (survives a lost, doubled or wrong
              vowel, a lost letter anywhere, swapped letters that keep the consonants' order --
              "Hobit" -> "H*b*t", "Tolkein" -> "T*l*k*n": the letters people keep when they mistype)
    ENDS      first and last letter          "G*r" for "Giner" (5-6 letters only: survives the wrong
              consonant that spoils every other form of a short word, "Giner"/"Giver"; so broad
              that it is only sent beside a word in another form, never alone or with ENDS only)

The word's unknown *state* is the set of forms that would match the work's record: all of them
when it is right, none when it is hopeless (accents, "11" vs "Eleven", "DaVinci" vs "Da Vinci"),
and for one typo at position i, exactly the forms whose fixed letters avoid i. Priors come from
the word's shape alone (no dictionary): longer words hide more typos, a final "-s" may be a lost
apostrophe, digits and number words clash with their other spelling, CamelCase may be two words.

A search is a few (word, form) probes and succeeds when every probe matches. The planner sends the
search with the best chance of success times narrowness, given what earlier failures proved (each
failed search had a probe that did not match): inclusion-exclusion over the failures, words
independent a priori, plus one shared unknown -- whether MAM's `*` works as we assume at all.
Priors also read the word's shape: a left-out accent (likelier in names) spoils one letter like a
typo, and a word that looks mistyped ("Projct", "Wighht") is doubted more.

Typos come together: someone who misspelled the title has likely misspelled the author too. So
the words are independent only given the typist, careful or sloppy (`SLOPPY_SHARE`), and one
failed search makes every other word's typo likelier -- "the hobit" by "tolkein" reaches
"H*b*t T*l*k*n" within the budget.

A surname alone counts as broader than in a pair (`LONE_NAME_FACTOR`): common ones fill a page
on MAM, so the planner pairs it with a title word instead of searching it alone.

Each search is also judged by the best search its failure would leave (one step ahead), and the
last request weighs narrowness less: with nothing left to learn, a single distinctive word that
probably holds the work beats a narrow pair that probably does not. So when two of three words
are wrong, the budget still reaches the one that is right.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from mamdl.mam.models import SearchField
from mamdl.ranking.models import Query
from mamdl.ranking.normalize import GENERIC_WORDS, NUMBER_WORDS, STOPWORDS, strip_format_words

# Forms of a probe, as bits; a word's state is the mask of forms that would match.
EXACT, PREFIX, SANDWICH, SUFFIX, SKELETON, ENDS = 1, 2, 4, 8, 16, 32
ALL_FORMS = EXACT | PREFIX | SANDWICH | SUFFIX | SKELETON | ENDS
WILDCARD_FORMS = PREFIX | SANDWICH | SUFFIX | SKELETON | ENDS

WILDCARD_TRUST = 0.9
"""Chance that MAM's `*` behaves as we assume (docs: one good source). One shared unknown, so a
failed wildcard search also casts doubt on every other wildcard search; and an exact search is
preferred when the odds are otherwise close."""
SKELETON_TRUST = 0.9
"""Chance that MAM also takes several `*` in one word, each matching a run that may be empty (the
sandbox does; MAM's docs show `*word*`). A second shared unknown, on top of `WILDCARD_TRUST`."""
SKELETON_MIN_CONSONANTS = 2
"""Consonants a skeleton fixes at least (with the first letter): "H*b*t" is about as narrow as a
three-letter prefix."""
DELETION_SHARE = 0.3
"""Share of typos that drop a letter: the skeleton survives those wherever they are."""
WILDCARD_SPEC = 0.8
"""Selectivity of a wildcard form relative to the whole word, times the share of
`WILDCARD_FULL_LETTERS` it fixes."""
WILDCARD_FULL_LETTERS = 5
"""Fixed letters at which a wildcard form selects about as well as a whole word: few words share
five letters ("Tolk*" is nearly as narrow as "Tolkien"), whatever the word's length."""
TRANSPOSITION_SHARE = 0.3
"""Share of typos that swap two neighbouring letters (and so spoil two positions)."""
ENDS_LENGTHS = (5, 6)
"""Word lengths that also get the ENDS form: in longer words the stems cover every typo between
them, and a four-letter word's outer letters ("H*d" for "Hard") fix too little for their use."""
LONE_NAME_FACTOR = 0.7
"""A surname alone selects less than in a pair: common ones ("Harris", "Child") fill pages."""
NARROW_ENOUGH = 1.0
"""Summed selectivity at which a search is narrow enough to hold the work within one page."""
MAX_WORDS = 8
MAX_PROBES_PER_SEARCH = 3
MIN_WILDCARD_LENGTH = 5
FIRST_LETTER_TYPO_WEIGHT = 0.3
"""A typo's chance of being in the first letter, relative to any other letter."""
LAST_LETTER_TYPO_WEIGHT = 0.5
"""The same for the last letter: people keep a word's outer letters best (readers and typists
anchor on them), which is what makes the ENDS form worth sending."""
SLOPPY_SHARE = 0.65
"""Prior chance that the person typed carelessly. Typos are not independent: someone who
misspelled the title has likely misspelled the author too ("the hobit" by "tolkein"). The planner
mixes two typists -- careful and sloppy -- each with independent words, so one failed exact search
raises the odds of a second typo and makes "Hob* Tolk*" worth sending before the single words."""
SLOPPY_TYPO_RATE = 0.1
"""Per typed letter, for the sloppy typist (the careful one slips about four times less)."""
NARROW_POWER = 2.0
"""Searches before the last are judged by success chance x narrowness ** this."""
LOOKAHEAD_WIDTH = 6
"""How many of the best next searches are also judged by what their failure would leave."""

PROBE_STOPWORDS = STOPWORDS | frozenset(["dem", "e", "ein", "eine", "et", "gli", "o", "os", "un", "und", "une", "y"])
"""Words never worth sending: ranking's stopwords plus the short articles and conjunctions of the
other languages on MAM. They add an AND condition and select almost nothing (and "and" fails
against "&"), and a search probe spends one of at most four requests."""

_NAME_SUFFIXES = frozenset(["jr", "sr", "ii", "iii", "iv", "phd"])
_MAM_WORD = re.compile(r"[^\W_]+")
"""MAM splits on punctuation; so do we, so that each probe is one MAM word."""
_CAMEL = re.compile(r"[a-z][A-Z]")

_FIELDS_ORDER = (SearchField.title, SearchField.author, SearchField.narrator, SearchField.series)


def _length_spec(n: int, digits: bool = False) -> float:
    if digits:
        return 0.5 if n >= 3 else 0.2
    return {1: 0.1, 2: 0.2, 3: 0.25, 4: 0.4, 5: 0.45, 6: 0.5, 7: 0.55, 8: 0.6}.get(n, 0.65)


@dataclass(frozen=True, slots=True)
class Word:
    """One typed word: its forms, our beliefs about it, and how much each form narrows a search."""

    text: str
    role: str
    """"title", "author", "narrator", "series" or "text"."""
    states: dict[int, float]
    """State (mask of the forms that would match) -> prior probability."""
    forms: dict[int, str]
    """Form bit -> text to send."""
    specs: dict[int, float]
    """Form bit -> selectivity."""
    p_by_mask: tuple[float, ...] = field(default=(), repr=False)
    """Index: a mask of required forms; value: chance that all of them match (careful typist)."""
    p_sloppy: tuple[float, ...] = field(default=(), repr=False)
    """The same for a sloppy typist (see `SLOPPY_SHARE`)."""

    @property
    def p_exact(self) -> float:
        return self.p_by_mask[EXACT]


def _table(states: dict[int, float]) -> tuple[float, ...]:
    total = sum(states.values())
    return tuple(sum(p for m, p in states.items() if m & need == need) / total for need in range(ALL_FORMS + 1))


def _with_table(
    text: str,
    role: str,
    states: dict[int, float],
    forms: dict[int, str],
    specs: dict[int, float],
    sloppy: dict[int, float] | None = None,
) -> Word:
    total = sum(states.values())
    states = {m: p / total for m, p in states.items()}
    return Word(text, role, states, forms, specs, _table(states), _table(sloppy or states))


_VOWELS = frozenset("aeiouy")
_ACCENTABLE = frozenset("aeiouycnsz")
"""Letters that often carry an accent or other mark the person left out ("Bronte" for "Brontë")."""
_RARE_DOUBLES = frozenset("ahijkquvwxy")
"""Letters that almost never double in English words or names ("Wighht", "Isaaccson" aside)."""


def looks_mistyped(text: str) -> bool:
    """Shape signs of a typo, no dictionary: no vowel at all ("Crwn"), a rarely doubled letter
    ("Puullman", "Wighht"), a letter three times in a row, "q" without "u", "j" before a consonant
    ("Projct"), or a run of five consonants."""
    lower = text.lower()
    n = len(lower)
    if n < 3 or not lower.isalpha() or not lower.isascii() or text.isupper():
        return False  # short words, numbers, acronyms ("NYPD") have other shapes
    if not any(c in _VOWELS for c in lower):
        return True
    run = 0
    for i, c in enumerate(lower):
        nxt = lower[i + 1] if i + 1 < n else ""
        if c == nxt and (c in _RARE_DOUBLES or (i + 2 < n and lower[i + 2] == c)):
            return True
        if c == "q" and nxt and nxt != "u":
            return True
        if c == "j" and nxt and nxt not in _VOWELS:
            return True
        run = 0 if c in _VOWELS else run + 1
        if run >= 5:
            return True
    return False


def skeleton(text: str) -> str | None:
    """ "Tolkein" -> "T*l*k*n", "Hobbit" -> "H*b*t": the first letter, then each consonant (a
    doubled one once), `*` between them and after a final vowel; None when it would fix too few
    letters."""
    lower = text.lower()
    kept = [text[0]]
    for i in range(1, len(text)):
        if lower[i] not in _VOWELS and lower[i] != lower[i - 1]:
            kept.append(text[i])
    if len(kept) - 1 < SKELETON_MIN_CONSONANTS:
        return None
    out = "*".join(kept)
    return out if lower[-1] not in _VOWELS else out + "*"


def make_word(text: str, role: str) -> Word:
    """A word with priors from its shape."""
    n = len(text)
    lower = text.lower()
    is_name = role in ("author", "narrator")
    if is_name:
        exact_spec = 0.85 if role == "author" else 0.7
    elif role == "series":
        exact_spec = 0.8 * _length_spec(n, text.isdigit())
    else:
        exact_spec = _length_spec(n, text.isdigit())
    if text.isdigit():
        return _with_table(text, role, {ALL_FORMS: 0.7, 0: 0.3}, {EXACT: text}, {EXACT: exact_spec})

    typo = (0.018 if is_name else 0.014) * n  # each typed letter may slip
    if looks_mistyped(text):
        typo += 0.35
    absent = 0.05 if is_name else 0.02
    if _CAMEL.search(text):
        absent += 0.2
    if lower in NUMBER_WORDS:
        absent += 0.2
    if lower in GENERIC_WORDS:
        absent += 0.4  # "the hobbit book": said of the work, rarely in its record
    # A left-out accent spoils one letter, like a typo that keeps the word's length. Names are
    # often foreign and accented; titles less so. Typed accents are likely right.
    accent = (0.08 if is_name else 0.025) if text.isascii() else 0.0
    accent_at = [i for i, c in enumerate(lower) if c in _ACCENTABLE]
    if not text.isascii():
        absent = max(0.01, absent - 0.03)  # accents typed on purpose are likely right
    ending = 0.1 if (not is_name and n >= 5 and lower.endswith("s")) else 0.01

    forms = {EXACT: text}
    fixed = {EXACT: n}
    wild = n >= MIN_WILDCARD_LENGTH and text.isalpha()
    k = min(n - 2, max(4, round(n * 0.5)))  # prefix letters kept ("Proj*" for "Projct")
    m = max(3, round(n * 0.5))  # suffix letters kept
    if wild:
        forms[PREFIX] = text[:k] + "*"
        forms[SANDWICH] = text[:2] + "*" + text[-2:]
        forms[SUFFIX] = "*" + text[-m:]
        fixed.update({PREFIX: k, SANDWICH: 4, SUFFIX: m})
        bones = skeleton(text)
        if bones is not None:
            forms[SKELETON] = bones
            fixed[SKELETON] = len(bones) - bones.count("*")
    if ENDS_LENGTHS[0] <= n <= ENDS_LENGTHS[1] and text.isalpha():
        forms[ENDS] = text[0] + "*" + text[-1]
        fixed[ENDS] = 2
    skel = SKELETON in forms

    def bones_survive(first: int, last: int) -> float:
        """Chance that the skeleton still matches when typed letters first..last are wrong."""
        if not skel or first == 0:
            return 0.0
        if all(lower[i] in _VOWELS or lower[i] == lower[i - 1] for i in range(first, last + 1)):
            return 1.0  # a wrong, doubled or extra vowel; a doubled consonant
        if last > first and sum(lower[i] not in _VOWELS for i in (first, last)) == 1:
            return 1.0  # a vowel and a consonant swapped: the consonants keep their order
        return DELETION_SHARE

    def build(typo: float) -> dict[int, float]:
        """States for a typist who slips with chance `typo` on this word."""
        states: dict[int, float] = {}

        def spoil(first: int, last: int, p: float) -> None:
            """Letters first..last are wrong: only the forms whose fixed letters avoid them match."""
            state = 0
            if wild:
                state |= PREFIX if first >= k else 0
                state |= SANDWICH if first >= 2 and last <= n - 3 else 0
                state |= SUFFIX if last < n - m else 0
            if ENDS in forms:
                state |= ENDS if first >= 1 and last <= n - 2 else 0
            keep = bones_survive(first, last)
            if keep > 0.0:
                states[state | SKELETON] = states.get(state | SKELETON, 0.0) + p * keep
            states[state] = states.get(state, 0.0) + p * (1.0 - keep)

        # One typo at position i (and i+1 for a swap); the first letter is rarely the one that slips.
        weights = [FIRST_LETTER_TYPO_WEIGHT if i == 0 else 1.0 for i in range(n)]
        weights[-1] = min(weights[-1], LAST_LETTER_TYPO_WEIGHT)
        total = sum(weights)
        for i in range(n):
            spoil(i, i, typo * (1.0 - TRANSPOSITION_SHARE) * weights[i] / total)
            spoil(i, min(i + 1, n - 1), typo * TRANSPOSITION_SHARE * weights[i] / total)
        for i in accent_at:
            spoil(i, i, accent / len(accent_at))  # an accent is a vowel or a consonant like a typo
        ending_state = PREFIX if wild else 0  # "Childhoods" for "Childhood's": only "Childh*" survives
        states[ending_state] = states.get(ending_state, 0.0) + ending
        states[0] = states.get(0, 0.0) + absent
        states[ALL_FORMS] = max(0.05, 1.0 - sum(states.values()))
        return states

    specs = {
        f: exact_spec if f == EXACT else exact_spec * WILDCARD_SPEC * min(1.0, fixed[f] / WILDCARD_FULL_LETTERS)
        for f in forms
    }
    careful = build(typo)
    sloppy = build(max(typo, min(0.9, typo + SLOPPY_TYPO_RATE * n)))
    return _with_table(text, role, careful, forms, specs, sloppy)


def _content_words(text: str) -> list[str]:
    words = _MAM_WORD.findall(strip_format_words(text))
    kept = [w for w in words if w.lower() not in PROBE_STOPWORDS and (len(w) > 1 or w.isdigit())]
    return kept or [w for w in words if len(w) > 1 or w.isdigit()] or words


def _surnames(text: str) -> list[str]:
    """Surnames from an author box: "Butcher, Jim" -> Butcher; "C. S. Lewis" -> Lewis;
    "Preston & Child" -> Preston, Child. Given names and initials are risky and select little."""
    out = []
    for part in re.split(r"\s*(?:;|&|\band\b|/|\+)\s*", text):
        if "," in part:
            part = part.split(",")[0]
        words = [w for w in _MAM_WORD.findall(part) if w.lower() not in _NAME_SUFFIXES]
        if words:
            out.append(words[-1])
    return out


def words_of(query: Query) -> list[Word]:
    """The probe words of a query, at most `MAX_WORDS` (the most useful), in typed order."""
    found: list[Word] = []
    seen: set[str] = set()

    def add(text: str, role: str) -> None:
        if text.lower() not in seen:
            seen.add(text.lower())
            found.append(make_word(text, role))

    for w in _content_words(query.title):
        add(w, "title")
    for w in _surnames(query.author):
        add(w, "author")
    for w in _content_words(query.series):
        add(w, "series")
    for w in _surnames(query.narrator):
        add(w, "narrator")
    for w in _content_words(query.text):
        add(w, "text")
    if len(found) > MAX_WORDS:
        best = sorted(range(len(found)), key=lambda i: -found[i].specs[EXACT] * found[i].p_exact)
        keep = set(best[:MAX_WORDS])
        found = [w for i, w in enumerate(found) if i in keep]
    return found


Probe = tuple[tuple[int, int], ...]
"""A search: sorted (word index, form bit) pairs."""


def _merge(a: dict[int, int], probe: Probe) -> dict[int, int]:
    out = dict(a)
    for i, form in probe:
        out[i] = out.get(i, 0) | form
    return out


@dataclass
class Planner:
    """Chooses the next search from what earlier ones showed. Pure: no I/O."""

    words: list[Word]
    has_author: bool
    failed: list[Probe] = field(default_factory=list)
    broad: list[Probe] = field(default_factory=list)
    sent: list[Probe] = field(default_factory=list)

    def _chance(self, need: dict[int, int]) -> float:
        """Chance that every required form matches (words independent for each typist, `*` trusted once)."""
        careful = sloppy = 1.0
        wildcard = bones = False
        for i, mask in need.items():
            careful *= self.words[i].p_by_mask[mask]
            sloppy *= self.words[i].p_sloppy[mask]
            wildcard = wildcard or bool(mask & WILDCARD_FORMS)
            bones = bones or bool(mask & SKELETON)
        p = (1.0 - SLOPPY_SHARE) * careful + SLOPPY_SHARE * sloppy
        p = p * WILDCARD_TRUST if wildcard else p
        return p * SKELETON_TRUST if bones else p

    def _failure_terms(self) -> list[tuple[float, dict[int, int]]]:
        """(sign, merged requirements) for every subset of the failed searches."""
        terms = []
        for k in range(len(self.failed) + 1):
            for combo in itertools.combinations(self.failed, k):
                need: dict[int, int] = {}
                for probe in combo:
                    need = _merge(need, probe)
                terms.append((-1.0 if k % 2 else 1.0, need))
        return terms

    def success_chance(self, probe: Probe, terms: list[tuple[float, dict[int, int]]] | None = None) -> float:
        """P(every probe matches | each failed search had a probe that did not)."""
        terms = terms if terms is not None else self._failure_terms()
        den = sum(sign * self._chance(need) for sign, need in terms)
        if den <= 1e-12:
            return 0.0
        num = sum(sign * self._chance(_merge(need, probe)) for sign, need in terms)
        return max(0.0, num / den)

    def narrowness(self, probe: Probe) -> float:
        spec = sum(self.words[i].specs[form] for i, form in probe)
        if len(probe) == 1 and self.words[probe[0][0]].role in ("author", "narrator"):
            spec *= LONE_NAME_FACTOR
        return min(1.0, spec / NARROW_ENOUGH)

    def candidates(self) -> list[Probe]:
        out: list[Probe] = []
        n = len(self.words)
        for size in range(1, min(MAX_PROBES_PER_SEARCH, n) + 1):
            for idx in itertools.combinations(range(n), size):
                for forms in itertools.product(*(list(self.words[i].forms) for i in idx)):
                    probe = tuple(zip(idx, forms))
                    if probe in self.sent or any(set(probe) <= set(b) for b in self.broad):
                        continue
                    if all(form == ENDS for _, form in probe):
                        continue  # "G*r" alone, or "G*r L*y": thousands of rows on the real site
                    out.append(probe)
        return out

    def _pool(self) -> list[tuple[float, Probe]]:
        """(narrowness, search) for every candidate, narrowest first, so that a scan can stop as
        soon as even certain success could not beat the best found so far."""
        pool = [(self.narrowness(probe), probe) for probe in self.candidates()]
        pool.sort(key=lambda row: (-row[0], len(row[1])))
        return pool

    def _best(
        self, terms: list[tuple[float, dict[int, int]]], power: float, pool: list[tuple[float, Probe]], limit: int = 1
    ) -> list[tuple[float, float, int, float, Probe]]:
        """The `limit` searches with the best success chance x narrowness^power, best first (ties:
        narrower, fewer probes), as (utility, narrowness, -probes, success chance, search)."""
        den = sum(sign * self._chance(need) for sign, need in terms)
        if den <= 1e-12:
            return []
        top: list[tuple[float, float, int, float, Probe]] = []
        for narrow, probe in pool:
            fit = narrow**power
            if len(top) == limit and fit <= top[-1][0]:
                break  # the pool is narrowest first: nothing later can do better
            if probe in self.sent or any(set(probe) <= set(b) for b in self.broad):
                continue
            num = sum(sign * self._chance(_merge(need, probe)) for sign, need in terms)
            success = max(0.0, num / den)
            utility = round(success * fit, 9)
            if utility <= 1e-6:
                continue
            top.append((utility, narrow, -len(probe), success, probe))
            top.sort(key=lambda row: row[:3], reverse=True)
            del top[limit:]
        return top

    def next_probe(self, remaining: int = 2) -> Probe | None:
        """The next search, for success chance x narrowness^2, looking one failure ahead.

        On the last request (`remaining` 1) x narrowness only: nothing is left to learn from a
        failure, so only the chance that the work comes back counts, and a broader search that
        holds it beats a narrow one that probably does not. Before that, each of the few searches
        with the best immediate value is also credited with the best search that would follow
        its failure, so that the budget is not spent on near-duplicates ("Projct Hail", then
        "Projct Marry", ...) when two words are wrong."""
        terms = self._failure_terms()
        pool = self._pool()
        if remaining <= 1:
            best = self._best(terms, 1, pool)
            return best[0][4] if best else None
        shortlist = self._best(terms, NARROW_POWER, pool, LOOKAHEAD_WIDTH)
        if not shortlist:
            return None
        next_power = 1 if remaining - 1 <= 1 else NARROW_POWER
        best_probe, best_value = shortlist[0][4], -1.0
        for utility, _narrow, _neg, success, probe in shortlist:
            after = 0.0
            if success < 1.0 - 1e-9:
                self.failed.append(probe)
                self.sent.append(probe)
                try:
                    follow = self._best(self._failure_terms(), next_power, pool)
                finally:
                    self.failed.pop()
                    self.sent.pop()
                after = follow[0][0] if follow else 0.0
            value = utility + (1.0 - success) * after
            if value > best_value + 1e-9:
                best_probe, best_value = probe, value
        return best_probe

    def record(self, probe: Probe, *, overflowed: bool) -> None:
        """After a search that did not find the work: it failed, or it overflowed one page."""
        self.sent.append(probe)
        if overflowed:
            self.broad.append(probe)
        else:
            self.failed.append(probe)

    def render(self, probe: Probe) -> tuple[str, list[SearchField]]:
        """The search text (words in typed order) and the fields to search in."""
        text = " ".join(self.words[i].forms[form] for i, form in sorted(probe))
        fields: set[SearchField] = set()
        for i, _ in probe:
            role = self.words[i].role
            if role == "title":
                fields |= {SearchField.title, SearchField.series}
                if not self.has_author:
                    fields.add(SearchField.author)  # people type "dune herbert" in a title box
            elif role == "author":
                fields.add(SearchField.author)
            elif role == "narrator":
                fields.add(SearchField.narrator)
            elif role == "series":
                fields.add(SearchField.series)
            else:
                fields |= set(_FIELDS_ORDER)
        return text, [f for f in _FIELDS_ORDER if f in fields]
