"""Full-name matching for `customer.name` entries (SPEC §14).

A full name is compared as a set of *name parts*, not as a string. The design takes from the
two matchers compliance teams use most:

- from OpenSanctions' nomenklatura (logic-v2 name matching): names are parsed into parts,
  titles and honorifics are dropped, particles (`bin`, `al`, `van`, `de`…) are weak words that
  neither match nor contradict, parts are aligned one to one regardless of order, the edit
  budget of a part grows with its length, and a part left over on both sides (a different given
  name) is a contradiction, not a weaker score;
- from Moov Watchman: Jaro-Winkler similarity per word (prefix-weighted: typos late in a word
  matter less), the best pairing of query words to listed words, a penalty per unmatched word,
  and length-weighted averaging so that a long surname counts more than an initial.

Every rule below is a published naming or transliteration convention, not a case list:

- non-Latin scripts are transliterated with anyascii (pure Python, so it installs from
  pyproject alone; ICU through PyICU would need the system's libicu-dev), then folded;
- `Abd al-X`, `Abdul X`, `Abdel X`, `Abdulx` are one name (servant of X): glued to `abdX`;
- parts sound alike through a Metaphone-like key (risk.matching.phonetic) that maps the
  spellings of one sound together (Usama / Osama, Husayn / Hussein, Mohammed / Muhammad);
- one letter matches a part starting with it (initials); adjacent parts may be written as one
  (Mary Ann / Maryann, Abu Bakr / Abubakar);
- when both names carry a patronymic particle (`bin`, `ibn`, `bint`, `ould`…), the order of
  the parts is meaningful (`Salman bin Muhammad` is Muhammad's son Salman), so only
  order-keeping alignments count.

Candidate keys (the index, see the table above name_keys): each pair of parts of every name of
an entry gives keys made of a *form* of each part (its sounds, its sounds with one letter
deleted for typos, its first letter, its consonant skeleton). Two names that match share at
least two aligned parts, so they share a key; a screened name looks up only the forms that can
find a listed name (query_keys), not every form it is indexed under, so a common given name
beside any letter pulls nothing. The look-up stays one indexed `IN` query whatever the list
size, and each index row says which of the entry's names give its key (name_masks), so only
those are compared.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import combinations

from anyascii import anyascii
from rapidfuzz.distance import JaroWinkler, Levenshtein

from risk.normalize import strip_marks
from risk.phonetics import phonetic as _phonetic
from risk.phonetics import sounds_of as _sounds_of

FULL_NAME = "customer.name"

# Titles, honorifics and ranks: dropped before comparing (they are not part of the name).
TITLES: frozenset[str] = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "mister",
        "madam",
        "madame",
        "mme",
        "mlle",
        "sir",
        "dame",
        "lord",
        "lady",
        "dr",
        "doctor",
        "prof",
        "professor",
        "rev",
        "reverend",
        "fr",
        "father",
        "sr",
        "jr",
        "sen",
        "senator",
        "hon",
        "honourable",
        "honorable",
        "excellency",
        "his",
        "her",
        "shaikh",
        "shaykh",
        "sheikh",
        "sheik",
        "shaik",
        "cheikh",
        "haji",
        "hajji",
        "hadji",
        "hajj",
        "alhaj",
        "alhaji",
        "alhajj",
        "hajjah",
        "sayyid",
        "sayed",
        "sayyed",
        "syed",
        "sayid",
        "seyed",
        "seyyed",
        "sharif",
        "mullah",
        "mulla",
        "maulana",
        "mawlana",
        "maulvi",
        "mawlawi",
        "molvi",
        "mufti",
        "imam",
        "qari",
        "hafiz",
        "ustad",
        "ustadh",
        "emir",
        "amir",
        "prince",
        "princess",
        "king",
        "queen",
        "general",
        "gen",
        "colonel",
        "col",
        "major",
        "maj",
        "captain",
        "capt",
        "lieutenant",
        "lt",
        "brigadier",
        "commander",
        "cmdr",
        "admiral",
        "marshal",
        "sergeant",
        "sgt",
    ]
)

# Patronymic particles: "son/daughter of". Their presence makes part order meaningful.
PATRONYMIC: frozenset[str] = frozenset(
    ["bin", "ibn", "ben", "bint", "binti", "bte", "bn", "ould", "ag", "walad"]
)

# Weak words: particles that neither match nor contradict (SPEC §14).
PARTICLES: frozenset[str] = PATRONYMIC | frozenset(
    [
        "al",
        "el",
        "ul",
        "ad",
        "ar",
        "as",
        "at",
        "az",
        "an",
        "abu",
        "abou",
        "bu",
        "van",
        "von",
        "vom",
        "der",
        "den",
        "de",
        "da",
        "das",
        "dos",
        "do",
        "di",
        "du",
        "del",
        "della",
        "dela",
        "la",
        "le",
        "les",
        "lo",
        "ter",
        "ten",
        "zu",
        "st",
        "dit",
    ]
)

# `Abd` (servant of) written as a word of its own or glued to the next one.
_ABD_WORDS = frozenset(
    [
        "abd",
        "bd",  # عبد transliterated from Arabic script (ayn dropped)
        "abdul",
        "abdel",
        "abdal",
        "abdol",
        "abdoul",
        "abdool",
        "abdu",
        "abdur",
        "abdar",
        "abdus",
    ]
)
_ABD_PREFIX = re.compile(r"^abd(?:ul|el|al|ol|oul|ool|ur|ar|us|u)?(?=[a-z]{3,})")
_ARTICLES = frozenset(["al", "el", "ul", "ar", "ur", "as", "us", "ad", "ud", "an", "un"])

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_NON_WORD = re.compile(r"[^0-9a-z]+")
_REPEATS = re.compile(r"(.)\1+")

# A part is an initial when it is one letter.
INITIAL_SIMILARITY = 0.8
# Least Jaro-Winkler similarity of two parts that sound alike (phonetic spelling variants).
SAME_SOUND_MIN_JW = 0.78
# ...when the sound key has three or more consonants (strong evidence of one name).
SAME_SOUND_LONG_MIN_JW = 0.65
# Two parts that sound alike and are spelled alike once diphthongs are folded (vowels_folded).
FOLDED_VOWELS_SIMILARITY = 0.9
# Least Jaro-Winkler similarity of two parts within their edit budget (typos).
TYPO_MIN_JW = 0.85
# Each part of the longer name left unaligned (a missing middle name) costs this much.
EXTRA_PART_PENALTY = 0.06
# At most this many unaligned parts on the longer side (long patronymic chains).
MAX_EXTRA_PARTS = 3
# Parts considered for candidate keys (the first ones; long names have more).
MAX_KEY_PARTS = 8


def transliterate(value: str) -> str:
    """Latin text of any script: marks stripped, then anyascii for what remains non-ASCII."""
    text = strip_marks(value)
    if not text.isascii():
        # anyascii writes CJK syllables and Hangul blocks as capitalised runs: split them
        text = _CAMEL.sub(" ", anyascii(text))
    return text


# Scripts that do not write short vowels: their transliteration is a consonant skeleton.
_ABJAD = re.compile(
    "[\u0590-\u05ff\u0600-\u06ff\u0700-\u074f\u0750-\u077f\u0780-\u07bf\ufb1d-\ufdff\ufe70-\ufeff]"
)
ABJAD_SIMILARITY = 0.88


phonetic = lru_cache(maxsize=65536)(_phonetic)

# Spellings of one sound in other transliteration conventions, tried as alternative readings:
# French `ou` before a vowel for `w` (Anouar / Anwar), German `sch` before a vowel for `zh`
# (Schukow / Zhukov) and a first `j` before a vowel for `y` (Jelzin / Yeltsin, Jewgeni).
_READINGS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"ou(?=[aeiy])"), "w"),
    (re.compile(r"sch(?=[aeiouy])"), "zh"),
    (re.compile(r"^j(?=[aeiou])"), "y"),
)


@lru_cache(maxsize=65536)
def sounds_of(word: str) -> tuple[str, ...]:
    """The sound keys of a name part: risk.phonetics.sounds_of, plus the readings of
    _READINGS (the full-name matcher only: the per-attribute index keeps its keys)."""
    sounds = list(_sounds_of(word))
    for pattern, replacement in _READINGS:
        other = pattern.sub(replacement, word)
        if other != word:
            sounds.extend(_sounds_of(other))
    return tuple(dict.fromkeys(sounds))


# Vowel spellings of one vowel or diphthong (Zayd / Zeid, Anouar / Anwar, Yousef / Yusef).
_VOWEL_SPELLINGS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"ou(?=[aeiy])"), "w"),
    (re.compile(r"ay|ai|ei|ey"), "ai"),
    (re.compile(r"aw|au|ou|oo"), "u"),
    (re.compile(r"ee"), "i"),
    (re.compile(r"(?<=[bcdfgklmnprstvz])yo"), "e"),  # Russian ё: Fyodor / Fedor, Pyotr / Petr
)


@lru_cache(maxsize=65536)
def vowels_folded(part: str) -> str:
    for pattern, replacement in _VOWEL_SPELLINGS:
        part = pattern.sub(replacement, part)
    return part


_LONE_H = re.compile(r"(?<=[^sktdgc])h")


@lru_cache(maxsize=65536)
def skeleton(part: str, abjad: bool = False) -> str:
    """The consonants of a part as an abjad writes them: a leading vowel and every `h`
    dropped (`usama` → `SM`, `ahmad` / `hmd` → `MT`); in a part transliterated from an abjad,
    inner `w` and `y` are long vowels and go too (`mhmwd` → `MT`)."""
    text = part
    if abjad:
        # an `h` after a letter it does not form a digraph with is a letter of its own
        # (`zwhry` is z-w-h-r-y, not `zh`)
        text = _LONE_H.sub("", part[0] + re.sub("[wy]", "", part[1:]))
    sound = phonetic(text).replace("H", "")
    return sound[1:] if sound[:1] == "A" and len(sound) > 1 else sound


# Arabic letters anyascii writes one way and Latin spellings another: ظ and ذ as `dh`
# (Latin `z` or `d`: al-Zawahiri), ث as `th` (Latin `s` or `t`).
_ABJAD_VARIANTS = (("dh", "z"), ("th", "s"))


@lru_cache(maxsize=65536)
def abjad_forms(part: str) -> tuple[str, ...]:
    """The skeletons of an abjad part, with and without a glued article (`lbshyr`, `lsd`),
    and with the letters of _ABJAD_VARIANTS read the other way."""
    spellings = [part]
    spellings += [part.replace(a, b) for a, b in _ABJAD_VARIANTS if a in part]
    forms: list[str] = []
    for text in spellings:
        forms.append(skeleton(text, True))
        if text.startswith("l") and len(text) >= 3:
            forms.append(skeleton(text[1:], True))
    return tuple(f for f in dict.fromkeys(forms) if f)


# Apostrophes and the marks transliterations write for hamza and ayn (`Ja'far`, anyascii's
# "`" for ع) are not word breaks: `msh`l` is one word, `mshl`.
_GLOTTAL = re.compile("['`\u2018\u2019\u02bc\u02be\u02bf]")


def _words(value: str) -> list[str]:
    text = _GLOTTAL.sub("", transliterate(value).casefold())
    return [w for w in _NON_WORD.split(text) if w]


@dataclass(frozen=True)
class Part:
    text: str
    strong: bool
    position: int  # index in the written order (weak words included)
    abjad: bool = False  # transliterated from Arabic or Hebrew script: no short vowels


@dataclass(frozen=True)
class ParsedName:
    """A full name as parts: titles dropped, `abd` names glued, particles weak."""

    parts: tuple[Part, ...]
    patronymic: bool  # carries bin / ibn / bint …: part order is meaningful

    @cached_property
    def strong(self) -> tuple[Part, ...]:
        return tuple(p for p in self.parts if p.strong)

    @cached_property
    def windows(self) -> tuple[tuple[frozenset[int], str], ...]:
        """Two, then three adjacent words that hold a strong part: (the indexes in `strong`
        of the parts they cover, the words joined). Built once per parsed name."""
        strong_index = {p.position: k for k, p in enumerate(self.strong)}
        found = []
        for width in (2, 3):
            for start in range(len(self.parts) - width + 1):
                window = self.parts[start : start + width]
                covered = frozenset(strong_index[p.position] for p in window if p.strong)
                if covered:
                    found.append((covered, "".join(p.text for p in window)))
        return tuple(found)


@lru_cache(maxsize=4096)
def parse(value: str) -> ParsedName:
    words = _words(value)
    abjad = bool(_ABJAD.search(value))
    # titles go only while a name part remains (a name that is only "Sheikh" stays); an
    # abjad's transliteration has no vowels, so its words are not compared with titles
    kept = words if abjad else [w for w in words if w not in TITLES] or words
    glued: list[str] = []
    index = 0
    while index < len(kept):
        word = kept[index]
        if word in _ABD_WORDS and index + 1 < len(kept):
            following = index + 1
            if kept[following] in _ARTICLES and following + 1 < len(kept):
                following += 1
            name = kept[following]
            if abjad and name.startswith("l") and len(name) >= 3:
                name = name[1:]  # the article glued in Arabic script (عبد العزيز: `bd lzyz`)
            glued.append("abd" + name)
            index = following + 1
            continue
        glued.append(_ABD_PREFIX.sub("abd", word))
        index += 1
    parts: list[Part] = []
    patronymic = False
    for position, word in enumerate(glued):
        weak = word in PARTICLES and not (position == 0 and word == "ben")
        if weak and word in PATRONYMIC and position > 0:
            patronymic = True
        parts.append(Part(word, not weak, position, abjad))
    if not any(p.strong for p in parts):  # only particles: compare them as they are
        parts = [Part(p.text, True, p.position, abjad) for p in parts]
    return ParsedName(tuple(parts), patronymic)


# --- one part against another --------------------------------------------------------------

_VOWEL_END = frozenset("aeiou")


def _different_names(a: str, b: str) -> bool:
    """Endings that make another name rather than a spelling variant: Carl / Carla,
    Maria / Mario, Anders / Andersen. A final `e` is a spelling variant (Scholz / Scholze)."""
    shorter, longer = sorted((a, b), key=len)
    if longer.startswith(shorter) and len(longer) - len(shorter) >= 2 and len(shorter) >= 3:
        return True
    a_end, b_end = a[-1], b[-1]
    if a_end == b_end:
        return False
    gendered = {"a", "o"}
    if a_end in gendered and b_end in gendered:
        return True  # Maria / Mario
    # Carl / Carla: a word plus a final a or o
    return longer[:-1] == shorter and longer[-1] in gendered


# Particles that are also written glued to the name (Alotaibi, Desouza, Vanrijn, Dupont)
_GLUED_PARTICLES = (
    "al",
    "el",
    "ul",
    "de",
    "der",
    "den",
    "da",
    "di",
    "du",
    "del",
    "van",
    "von",
    "ter",
    "ten",
    "le",
    "la",
)


_GLUED_LONGEST_FIRST = tuple(sorted(_GLUED_PARTICLES, key=len, reverse=True))


@lru_cache(maxsize=65536)
def unglued(part: str) -> str | None:
    """The name without a particle glued in front of it (at least four letters left)."""
    for particle in _GLUED_LONGEST_FIRST:
        if part.startswith(particle) and len(part) - len(particle) >= 4:
            return part[len(particle) :]
    return None


@lru_cache(maxsize=65536)
def _latin_forms(part: str) -> tuple[str, ...]:
    """The consonant skeletons of a Latin part as an abjad would write it: with and without a
    glued particle, its `w` and `y` kept (consonants) or dropped (long vowels: Qaradawi)."""
    forms = [skeleton(part), skeleton(part, True)]
    rest = unglued(part)
    if rest:
        forms += [skeleton(rest), skeleton(rest, True)]
    return tuple(f for f in dict.fromkeys(forms) if f)


def parts_similarity(a: Part, b: Part) -> float:
    """part_similarity, or for a part written without vowels (Arabic, Hebrew script) the
    agreement of the consonant skeletons (`smh` / `usama`, `hsyn` / `hussein`), or with a
    particle glued to one of them (`alotaibi` / `otaibi`)."""
    return _parts_similarity(a.text, a.abjad, b.text, b.abjad)


@lru_cache(maxsize=65536)
def _parts_similarity(a: str, a_abjad: bool, b: str, b_abjad: bool) -> float:
    # cached by the words: a screened name meets the same listed words in many candidates
    similarity = part_similarity(a, b)
    if similarity == 0:
        for x, y in ((a, b), (b, a)):
            rest = unglued(x)
            if rest is not None and rest[:1] == y[:1]:
                similarity = max(similarity, part_similarity(rest, y))
    if similarity == 0 and (a_abjad or b_abjad) and len(a) > 1 and len(b) > 1:
        a_forms = abjad_forms(a) if a_abjad else _latin_forms(a)
        b_forms = abjad_forms(b) if b_abjad else _latin_forms(b)
        if set(a_forms) & set(b_forms):
            return ABJAD_SIMILARITY
    return similarity


@lru_cache(maxsize=65536)
def part_similarity(a: str, b: str) -> float:
    """How alike two name parts are, 0 (different names) to 1 (equal)."""
    if a == b:
        return 1.0
    if len(a) == 1 or len(b) == 1:
        return INITIAL_SIMILARITY if a[0] == b[0] else 0.0
    if _different_names(a, b):
        return 0.0
    a_sounds, b_sounds = sounds_of(a), sounds_of(b)
    if not {s[:1] for s in a_sounds} & {s[:1] for s in b_sounds}:
        return 0.0  # Fernandez / Hernandez: a different first sound is another name
    jw = JaroWinkler.similarity(a, b)
    shortest = min(len(a), len(b))
    budget = 0 if shortest <= 3 else 1 if shortest <= 7 else 2
    ca, cb = _REPEATS.sub(r"\1", a), _REPEATS.sub(r"\1", b)
    same_sound = set(a_sounds) & set(b_sounds)
    if same_sound and vowels_folded(a) == vowels_folded(b):
        return max(jw, FOLDED_VOWELS_SIMILARITY)  # Zayd / Zeid
    # a letter dropped or added (Weber / Weer) is a typo; a letter replaced in a short word
    # (John / Joan) is another name unless it sounds the same
    within_budget = budget and Levenshtein.distance(ca, cb) <= budget and jw >= TYPO_MIN_JW
    if within_budget and (shortest > 4 or same_sound or len(a) != len(b)):
        return jw
    # the same three or more consonant sounds: a transliteration (Zhukov / Joukov)
    floor = (
        SAME_SOUND_LONG_MIN_JW if max(map(len, same_sound), default=0) >= 3 else SAME_SOUND_MIN_JW
    )
    if same_sound and jw >= floor:
        return jw
    return 0.0


# --- one name against another --------------------------------------------------------------


@dataclass(frozen=True)
class NameComparison:
    matched: bool
    score: float  # 0..1
    reason: str = ""


def _align_unordered(left: Sequence[Part], right: Sequence[Part]) -> dict[int, tuple[int, float]]:
    """Greedy best-first one-to-one pairing of strong parts (Watchman's best pairing)."""
    candidates = sorted(
        (
            (_parts_similarity(a.text, a.abjad, b.text, b.abjad), i, j)
            for i, a in enumerate(left)
            for j, b in enumerate(right)
        ),
        reverse=True,
    )
    used_left: set[int] = set()
    used_right: set[int] = set()
    pairs: dict[int, tuple[int, float]] = {}
    for similarity, i, j in candidates:
        if similarity <= 0:
            break
        if i in used_left or j in used_right:
            continue
        used_left.add(i)
        used_right.add(j)
        pairs[i] = (j, similarity)
    return pairs


def _align_ordered(left: Sequence[Part], right: Sequence[Part]) -> dict[int, tuple[int, float]]:
    """The best order-keeping pairing (dynamic programming, like a weighted LCS)."""
    n, m = len(left), len(right)
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            similarity = parts_similarity(left[i], right[j])
            take = similarity + best[i + 1][j + 1] if similarity > 0 else 0.0
            best[i][j] = max(take, best[i + 1][j], best[i][j + 1])
    pairs: dict[int, tuple[int, float]] = {}
    i = j = 0
    while i < n and j < m:
        similarity = parts_similarity(left[i], right[j])
        if similarity > 0 and best[i][j] == similarity + best[i + 1][j + 1]:
            pairs[i] = (j, similarity)
            i += 1
            j += 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return pairs


def _merge_leftovers(
    single: Sequence[Part],
    single_left: set[int],
    other: ParsedName,
    other_strong_left: set[int],
) -> list[tuple[int, set[int], float]]:
    """Leftover parts of one name written as two or three adjacent words of the other
    (Mary Ann / Maryann, Abu Bakr / Abubakar): (single index, other strong indexes, similarity)."""
    if not other_strong_left:
        return []  # nothing left on the other side to be written as one word
    # the other's windows of two, then three adjacent words made only of its leftovers
    windows = [
        (covered, joined) for covered, joined in other.windows if covered <= other_strong_left
    ]
    if not windows:
        return []
    found: list[tuple[int, set[int], float]] = []
    taken: set[int] = set()
    for i in sorted(single_left):
        part = single[i].text
        if len(part) <= 3:
            continue
        for covered, joined in windows:
            if covered & taken:
                continue
            if abs(len(joined) - len(part)) > 3 or joined[0] != part[0]:
                continue  # cheap: too long or short, or another first letter
            similarity = part_similarity(part, joined)
            if similarity > 0:
                found.append((i, set(covered), similarity))
                taken |= covered
                break
    return found


@lru_cache(maxsize=16384)
def compare_names(a: str, b: str) -> NameComparison:
    """Whether two full names are the same person's name, and how alike (0..1)."""
    left, right = parse(a), parse(b)
    ls, rs = left.strong, right.strong
    if not ls or not rs:
        return NameComparison(False, 0.0, "empty")
    ordered = left.patronymic and right.patronymic
    pairs = (_align_ordered if ordered else _align_unordered)(ls, rs)
    left_free = set(range(len(ls))) - set(pairs)
    right_free = set(range(len(rs))) - {j for j, _ in pairs.values()}
    weights: list[tuple[float, float]] = [
        (similarity, float(len(ls[i].text) + len(rs[j].text)))
        for i, (j, similarity) in pairs.items()
    ]
    full = sum(1 for _, similarity in pairs.values() if similarity > INITIAL_SIMILARITY)
    if left_free and right_free and len(pairs) == 0:
        return NameComparison(False, 0.0, "no part in common")
    # leftovers written as one word on one side and as several on the other: worth trying
    # only when every leftover of one side could absorb two or more of the other's
    # (a weak word may be one of the several: Abu Bakr / Abubakar)
    weak_words = len(left.parts) > len(ls) or len(right.parts) > len(rs)
    if (
        left_free
        and right_free
        and not weak_words
        and not (len(right_free) >= 2 * len(left_free) or len(left_free) >= 2 * len(right_free))
    ):
        return NameComparison(False, 0.0, "a part differs on both sides")
    for i, covered, similarity in _merge_leftovers(ls, left_free, right, right_free):
        left_free.discard(i)
        right_free -= covered
        weights.append((similarity, float(2 * len(ls[i].text))))
        full += 1
    for j, covered, similarity in _merge_leftovers(rs, right_free, left, left_free):
        right_free.discard(j)
        left_free -= covered
        weights.append((similarity, float(2 * len(rs[j].text))))
        full += 1
    if not weights:
        return NameComparison(False, 0.0, "no part in common")
    total = sum(w for _, w in weights)
    score = sum(s * w for s, w in weights) / total
    if left_free and right_free:
        return NameComparison(False, score * 0.5, "a part differs on both sides")
    aligned = len(weights)
    if aligned < 2 and (len(ls) > 1 or len(rs) > 1):
        return NameComparison(False, score * 0.5, "only one part in common")
    if full < 1:
        return NameComparison(False, score * 0.5, "initials only")
    extra = len(left_free) + len(right_free)
    if extra > MAX_EXTRA_PARTS:
        return NameComparison(False, score * 0.5, "too many parts missing")
    score -= EXTRA_PART_PENALTY * extra
    return NameComparison(True, round(score, 4), "")


# --- candidate keys --------------------------------------------------------------------------
#
# A key is a pair of *forms* of two parts of one name, sorted and joined with `|`. The listed
# names are indexed under every form a part may be found by (index_keys); a screened name looks
# up only the forms that can find it (query_keys), so a common given name alone does not pull
# every listed name that shares it (blocking, as in nomenklatura / yente):
#
# | form of a part       | indexed (listed name)        | looked up (screened name)           |
# |----------------------|------------------------------|-------------------------------------|
# | sound (`MT`, `HSN`)  | every part                   | every part                          |
# | `f:` first letter    | every part                   | an initial; a long part's typo peer |
# | `i:` initial         | a listed initial             | every part (finds listed initials)  |
# | `~` Latin skeleton   | Latin parts                  | parts written in an abjad           |
# | `=` abjad skeleton   | parts written in an abjad    | Latin parts (consonant skeleton)    |
#
# Two forms pair only within their family: sounds and letters together, `~` with `~`, `=` with
# `=`. A sound paired with a first letter finds a part whose typo changed its sound; it is
# looked up only beside a sound of TYPO_PEER_MIN_SOUND letters or more, which few listed names
# share (a short common sound such as `AL` or `MT` beside any letter matched dozens).
#
# A screened part written from two words (Mary Ann → maryann, Abu Bakr → abubakr) is looked up
# without its one-letter deletions: a long name's glued parts have long sounds, whose deletions
# made up about 40 % of its keys (391 → 216 for a five-part name; each key is an index probe),
# and they only serve a name that is glued *and* misspelt at once. The listed side keeps them.
# Over the corpus and every one-typo variant of its names (7 674 pairs) this loses no match;
# over every one-typo variant of six long names against each of their sub-names (66 884
# matching pairs) it loses 36, all a typo in a part beside three extra parts.

# The least length of a sound key that may be paired with a first letter in a look-up.
TYPO_PEER_MIN_SOUND = 4

_LETTER_FAMILY = "s"
_DELETION = "d"  # a sound with one letter deleted: pairs with a sound only
# Sounds this long or longer have deletion forms; a deletion form of one letter (a typo in a
# short name: Moreau / Moeau) pairs only with a sound of SHORT_TYPO_PEER_SOUND letters or more.
MIN_SOUND_FOR_DELETIONS = 2
SHORT_TYPO_PEER_SOUND = 3


def _sound_forms(part: str) -> list[str]:
    sounds = [s[:12] for s in sounds_of(part) if s]
    # Albaghdadi / al-Baghdadi, Desouza / de Souza: a particle may be glued to the name
    rest = unglued(part)
    if rest is not None:
        sounds.append(phonetic(rest)[:12])
    return list(dict.fromkeys(sounds))[:4]


def _initial(part: str) -> str:
    return (phonetic(part)[:1] or part[:1]).lower()


def _deletions(sounds: list[str]) -> list[str]:
    """The sound keys with one letter deleted, the first kept (SymSpell's symmetric deletions:
    two sounds one edit apart share one of them or each other)."""
    found: dict[str, None] = {}
    for sound in sounds:
        if len(sound) >= MIN_SOUND_FOR_DELETIONS:
            for i in range(1, len(sound)):
                found.setdefault(_REPEATS.sub(r"\1", sound[:i] + sound[i + 1 :]))
    return [d for d in found if d and d not in sounds]


def _index_forms(part: Part) -> list[tuple[str, str]]:
    """(family, form) of a listed part."""
    if len(part.text) == 1:
        return [(_LETTER_FAMILY, "i:" + _initial(part.text))]
    if part.abjad:
        return [("=", f"={f}"[:12]) for f in abjad_forms(part.text)]
    sounds = _sound_forms(part.text)
    forms = [(_LETTER_FAMILY, s) for s in sounds]
    forms += [(_DELETION, s) for s in _deletions(sounds)]
    forms.append((_LETTER_FAMILY, "f:" + _initial(part.text)))
    forms += [("~", f"~{f}"[:12]) for f in _latin_forms(part.text)]
    return forms


def _query_forms(part: Part) -> list[tuple[str, str]]:
    """(family, form) of a screened part."""
    if len(part.text) == 1:
        letter = _initial(part.text)
        return [(_LETTER_FAMILY, "f:" + letter), (_LETTER_FAMILY, "i:" + letter)]
    if part.abjad:
        return [(fam, f"{fam}{f}"[:12]) for f in abjad_forms(part.text) for fam in ("~", "=")]
    sounds = _sound_forms(part.text)
    forms = [(_LETTER_FAMILY, s) for s in sounds]
    forms += [(_DELETION, s) for s in _deletions(sounds)]
    forms.append((_LETTER_FAMILY, "i:" + _initial(part.text)))
    forms += [("=", f"={f}"[:12]) for f in _latin_forms(part.text)]
    return forms


def _key_parts(name: ParsedName) -> list[tuple[Part, frozenset[int]]]:
    """The strong parts, plus the words a leading particle may be glued to (Abu Bakr) and
    adjacent parts written as one; each with the positions of the written parts it covers."""
    parts = [(p, frozenset([p.position])) for p in name.strong[:MAX_KEY_PARTS]]
    for before, after in zip(name.parts, name.parts[1:], strict=False):
        if not before.strong and after.strong and before.text in ("abu", "al", "el"):
            glued = Part(before.text + after.text, True, after.position, after.abjad)
            parts.append((glued, frozenset([after.position])))
        elif before.strong and after.strong and after.position < MAX_KEY_PARTS:
            # two names written as one (Mary Ann / Maryann, Jin Ping / Jinping)
            glued = Part(before.text + after.text, True, before.position, after.abjad)
            parts.append((glued, frozenset([before.position, after.position])))
    return parts


def _letter(form: str) -> bool:
    return form[:2] in ("f:", "i:")


def _pair_keys(a_forms: list[tuple[str, str]], b_forms: list[tuple[str, str]]) -> set[str]:
    keys: set[str] = set()
    for a_family, a in a_forms:
        for b_family, b in b_forms:
            if _DELETION in (a_family, b_family):
                # one part's typo, beside a sound of the other part
                typo, other = (a, b) if a_family == _DELETION else (b, a)
                if {a_family, b_family} != {_DELETION, _LETTER_FAMILY} or _letter(other):
                    continue
                if len(typo) == 1 and len(other) < SHORT_TYPO_PEER_SOUND:
                    continue
            elif a_family != b_family or (_letter(a) and _letter(b)):
                continue  # another family, or two letters: they say too little
            first, second = sorted((a, b))
            keys.add(f"{first}|{second}"[:64])
    return keys


def _keys(value: str, *, query: bool) -> frozenset[str]:
    name = parse(value)
    forms_of = _query_forms if query else _index_forms
    parts = _key_parts(name)
    keys: set[str] = set()
    if len(name.strong) == 1:
        only = name.strong[0]
        keys.update("1:" + f for _, f in forms_of(only) if not _letter(f))
        if not keys:
            keys.add("1:" + only.text)
    strong = {p.text for p in name.strong}
    forms = []
    for part, covers in parts:
        part_forms = forms_of(part)
        if query and (len(covers) > 1 or part.text not in strong):
            part_forms = [(family, f) for family, f in part_forms if family != _DELETION]
        forms.append(part_forms)
    for i, j in combinations(range(len(parts)), 2):
        if not parts[i][1] & parts[j][1]:  # a part and a word it is written into say one thing
            keys |= _pair_keys(forms[i], forms[j])
    return frozenset(keys)


@lru_cache(maxsize=16384)
def name_keys(value: str) -> frozenset[str]:
    """The index keys of one listed full name (see the table above)."""
    return _keys(value, query=False)


@lru_cache(maxsize=16384)
def query_keys(value: str) -> frozenset[str]:
    """The keys a screened full name looks up (a subset of the families of name_keys)."""
    return _keys(value, query=True)


MAX_FULL_NAME = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_full_name(value: str) -> str | None:
    """The problem with a listed full name, or None: any script, at least one name part."""
    if len(value) > MAX_FULL_NAME:
        return f"at most {MAX_FULL_NAME} characters"
    if _CONTROL.search(value):
        return "contains a control character"
    if not parse(value).strong:
        return "no name part left once titles and punctuation are removed"
    return None


def entry_keys(names: Iterable[str]) -> set[str]:
    keys: set[str] = set()
    for name in names:
        keys |= name_keys(name)
    return keys


# Bits of BlacklistToken.names (a signed 64-bit column: 63 usable bits).
NAME_BITS = 63


def name_masks(names: Sequence[str]) -> dict[str, int]:
    """Each index key of an entry's names (listed name first, then its aliases) → the bits of
    the names that give it (name i → bit min(i, NAME_BITS - 1))."""
    masks: dict[str, int] = {}
    for index, name in enumerate(names):
        bit = 1 << min(index, NAME_BITS - 1)
        for key in name_keys(name):
            masks[key] = masks.get(key, 0) | bit
    return masks


def names_in(mask: int, names: Sequence[str]) -> list[str]:
    """The names a mask of name_masks points to."""
    last = NAME_BITS - 1
    picked = [n for i, n in enumerate(names[:last]) if mask >> i & 1]
    if mask >> last & 1:
        picked += names[last:]
    return picked


def best_name(screened: str, names: Sequence[str]) -> tuple[str, NameComparison] | None:
    """The listed name (primary or alias) that matches the screened name best, if any."""
    best: tuple[str, NameComparison] | None = None
    for name in names:
        comparison = compare_names(screened, name)
        if comparison.matched and (best is None or comparison.score > best[1].score):
            best = (name, comparison)
    return best
