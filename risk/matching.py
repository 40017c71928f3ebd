"""Finding the blacklist entries that match a user's values.

Three tiers, all by indexed equality look-ups, so the cost of a screening does not depend on
the size of the list:

- `exact` entries: the value's canonical key (normalize.canonical) equals the entry's key;
- `normalized` entries: the folded key (normalize.folded) equals the entry's key;
- `fuzzy` entries (names only): the value's *candidate keys* — a phonetic key of the name
  (token order ignored), a phonetic key of the name with its spaces removed, and the phonetic
  key with any one letter deleted (one-edit neighbourhood, as in SymSpell) — are looked up in
  `BlacklistToken`; each candidate is then scored with rapidfuzz and kept when similar enough.

All values of a screening are answered by two queries: one for the exact/normalized keys, one
for the fuzzy candidate keys (none when no name is screened).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.db.models import Q
from rapidfuzz import fuzz

from programs.models import Program
from risk.models import BlacklistEntry, BlacklistToken, MatchType
from risk.normalize import NAME_ATTRIBUTES, canonical, folded, tokens

logger = logging.getLogger(__name__)

# Recorded with every screening; bump when keys or the similarity rule change.
MATCHER_VERSION = "onboard-1"

# A fuzzy candidate matches when the rapidfuzz ratio of the names (spacing or token order
# ignored, whichever is closer) reaches FUZZY_MIN_RATIO, or when both names have the same
# phonetic key and their ratio reaches FUZZY_MIN_RATIO_SAME_SOUND (spelling variants:
# Mohammed / Muhammad, Aleksandr / Alexander). Tuned on tests/risk/corpus.csv.
FUZZY_MIN_RATIO = 88.0
FUZZY_MIN_RATIO_SAME_SOUND = 70.0
# Deletion keys only for phonetic keys this long; shorter ones would match too widely.
MIN_KEY_FOR_DELETIONS = 5
# Safety cap on fuzzy candidates per screening (names that sound alike); logged when hit.
MAX_FUZZY_CANDIDATES = 2000


# --- phonetic key -------------------------------------------------------------------------

# Ordered rewrites of folded (lower-case ASCII) text: spellings of one sound become one letter,
# covering common transliteration variants (Tchaikovsky / Chaikovsky, Aleksandr / Alexander,
# Ivanov / Ivanoff, Mohammed / Mohamad / Muhammet).
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"dzh|dj|zh", "j"),
        (r"chr", "kr"),  # Christina / Kristina
        (r"tsch|tch|sch|sh|ch|sz|cz", "x"),  # x now stands for the sh sound
        (r"ph|pf", "f"),
        (r"th", "t"),
        (r"kh|gh|ck|q", "k"),
        (r"c(?=[eiy])", "s"),
        (r"c", "k"),
        (r"ts|tz|z", "s"),
        (r"[vw]", "f"),
        (r"d", "t"),
        (r"(?<=.)h", ""),  # Mohammed / Muhamad, Ahmed / Amed
    )
)

_VOWELS = re.compile(r"[aeiouy]")
_REPEATS = re.compile(r"(.)\1+")


def _initial_cluster(text: str) -> str:
    # silent first letters (Knight, Gnome, Pneuma, Wright, Psyche) and initial X = S (Xavier)
    for prefix in ("kn", "gn", "pn", "wr", "ps"):
        if text.startswith(prefix):
            return text[1:]
    if text.startswith("x"):
        return "s" + text[1:]
    return text


def phonetic(token: str) -> str:
    """A Metaphone-like sound key of one folded token: `mohammed` → `MMT`, `alexander` → `ALKSNTR`.

    Vowels after the first letter are dropped and a leading vowel becomes `A`, so vowel
    spelling variants agree; repeated letters collapse. Digits are kept as they are.
    """
    text = _initial_cluster(token)
    text = text.replace("x", "ks")
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    if not text:
        return ""
    first, rest = text[0], text[1:]
    if _VOWELS.match(first):
        first = "a"
    rest = _VOWELS.sub("", rest)
    return _REPEATS.sub(r"\1", first + rest).upper()


@dataclass(frozen=True)
class NameForms:
    """The forms of one name the fuzzy tier compares."""

    compact: str  # folded, spaces removed, in the written order
    sorted_compact: str  # folded tokens sorted, joined
    sound: str  # phonetic keys of the tokens, sorted, joined
    sound_compact: str  # phonetic key of the whole name with spaces removed

    @classmethod
    def of(cls, value: str) -> NameForms:
        words = tokens(value)
        sounds = sorted(phonetic(w) for w in words)
        return cls(
            compact="".join(words),
            sorted_compact="".join(sorted(words)),
            sound="".join(sounds),
            sound_compact=phonetic("".join(words)),
        )


def candidate_keys(value: str) -> set[str]:
    """The keys under which a name is indexed and looked up (BlacklistToken.key)."""
    forms = NameForms.of(value)
    keys = {k for k in (forms.sound, forms.sound_compact) if k}
    if len(forms.sound) >= MIN_KEY_FOR_DELETIONS:
        keys.update(forms.sound[:i] + forms.sound[i + 1 :] for i in range(len(forms.sound)))
    return {k[:64] for k in keys}


def similarity(a: NameForms, b: NameForms) -> float:
    """0 to 100: the closer of the written-order and token-sorted comparisons."""
    return max(fuzz.ratio(a.compact, b.compact), fuzz.ratio(a.sorted_compact, b.sorted_compact))


def names_match(a: NameForms, b: NameForms) -> tuple[bool, float]:
    score = similarity(a, b)
    if score >= FUZZY_MIN_RATIO:
        return True, score
    same_sound = bool(a.sound) and (a.sound == b.sound or a.sound_compact == b.sound_compact)
    return same_sound and score >= FUZZY_MIN_RATIO_SAME_SOUND, score


# --- look-ups -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """One matched entry, as recorded in Screening.matches."""

    entry_id: int
    entity_attribute: str
    match: str  # the entry's match type
    matcher: str  # the tier that matched: exact / normalized / fuzzy
    similarity: float  # 100 for exact and normalized
    action: str
    weight: int | None
    entry_version: int
    program_scoped: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


Values = Mapping[str, Sequence[str]]


def _scope(program: Program) -> Q:
    return Q(program__isnull=True) | Q(program=program)


def _clean(values: Values) -> dict[str, list[str]]:
    cleaned: dict[str, list[str]] = {}
    for attribute, items in values.items():
        kept = [v for v in items if isinstance(v, str) and v.strip()]
        if kept:
            cleaned[attribute] = kept
    return cleaned


def _match_from(entry: BlacklistEntry, matcher: str, score: float) -> Match:
    return Match(
        entry_id=entry.pk,
        entity_attribute=entry.entity_attribute,
        match=entry.match,
        matcher=matcher,
        similarity=round(score, 1),
        action=entry.action,
        weight=entry.weight,
        entry_version=entry.version,
        program_scoped=entry.program_id is not None,
    )


_ENTRY_FIELDS = (
    "id",
    "entity_attribute",
    "value",
    "value_normalized",
    "match",
    "action",
    "weight",
    "version",
    "program_id",
)


def find_matches_many(*, program: Program, subjects: Sequence[Values]) -> list[list[Match]]:
    """The matches of each subject (a dict attribute → values), in two queries for all."""
    cleaned = [_clean(s) for s in subjects]
    # (attribute, match type, key) → subject indexes that produce it
    wanted: dict[tuple[str, str, str], set[int]] = {}
    for index, values in enumerate(cleaned):
        for attribute, items in values.items():
            for item in items:
                wanted.setdefault((attribute, MatchType.EXACT, canonical(attribute, item)), set())
                wanted[(attribute, MatchType.EXACT, canonical(attribute, item))].add(index)
                key = folded(attribute, item)
                if key:
                    for match in (MatchType.NORMALIZED, MatchType.FUZZY):
                        wanted.setdefault((attribute, match, key), set()).add(index)

    results: list[dict[int, Match]] = [{} for _ in cleaned]
    keys = sorted({key for (_, _, key) in wanted if key})
    if keys:
        attributes = sorted({attribute for (attribute, _, _) in wanted})
        entries = (
            BlacklistEntry.objects.filter(
                _scope(program),
                is_active=True,
                value_normalized__in=keys,
                entity_attribute__in=attributes,
            )
            .only(*_ENTRY_FIELDS)
            .order_by()
        )
        for entry in entries:
            hit = wanted.get((entry.entity_attribute, entry.match, entry.value_normalized))
            if not hit:
                continue
            matcher = "exact" if entry.match == MatchType.EXACT else "normalized"
            for index in hit:
                results[index][entry.pk] = _match_from(entry, matcher, 100.0)

    _fuzzy(program=program, subjects=cleaned, results=results)
    return [sorted(r.values(), key=_order) for r in results]


def _order(match: Match) -> tuple[str, int]:
    return (match.entity_attribute, match.entry_id)


def _fuzzy(
    *, program: Program, subjects: list[dict[str, list[str]]], results: list[dict[int, Match]]
) -> None:
    # (attribute, key) → [(subject index, forms of the screened name)]
    by_key: dict[tuple[str, str], list[tuple[int, NameForms]]] = {}
    for index, values in enumerate(subjects):
        for attribute in NAME_ATTRIBUTES.intersection(values):
            for item in values[attribute]:
                forms = NameForms.of(item)
                if not forms.compact:
                    continue
                for key in candidate_keys(item):
                    by_key.setdefault((attribute, key), []).append((index, forms))
    if not by_key:
        return
    rows = list(
        BlacklistToken.objects.filter(
            _scope_via_entry(program),
            key__in=sorted({key for (_, key) in by_key}),
            entity_attribute__in=sorted({attribute for (attribute, _) in by_key}),
            entry__is_active=True,
        )
        .select_related("entry")
        .only("key", "entity_attribute", *(f"entry__{f}" for f in _ENTRY_FIELDS))
        .order_by()[:MAX_FUZZY_CANDIDATES]
    )
    if len(rows) >= MAX_FUZZY_CANDIDATES:
        logger.warning("fuzzy candidate cap reached (program %s)", program.code)
    forms_cache: dict[int, NameForms] = {}
    for row in rows:
        entry = row.entry
        if entry.match != MatchType.FUZZY:
            continue
        listed = forms_cache.get(entry.pk)
        if listed is None:
            listed = forms_cache[entry.pk] = NameForms.of(entry.value)
        for index, forms in by_key.get((row.entity_attribute, row.key), ()):
            if entry.pk in results[index] and results[index][entry.pk].similarity >= 100:
                continue
            matched, score = names_match(forms, listed)
            if matched:
                previous = results[index].get(entry.pk)
                if previous is None or previous.similarity < score:
                    results[index][entry.pk] = _match_from(entry, "fuzzy", score)


def _scope_via_entry(program: Program) -> Q:
    return Q(entry__program__isnull=True) | Q(entry__program=program)


def find_matches(*, program: Program, values: Values) -> list[Match]:
    """The entries (global or the program's) that match any of the values."""
    return find_matches_many(program=program, subjects=[values])[0]


def entry_matches_value(entry: BlacklistEntry, value: str) -> bool:
    """Whether one entry matches one value (used by the admin's effect preview)."""
    if entry.match == MatchType.EXACT:
        return canonical(entry.entity_attribute, value) == entry.value_normalized
    key = folded(entry.entity_attribute, value)
    if entry.match == MatchType.NORMALIZED:
        return key == entry.value_normalized
    if key == entry.value_normalized:
        return True
    if not candidate_keys(value) & candidate_keys(entry.value):
        return False
    return names_match(NameForms.of(value), NameForms.of(entry.value))[0]


def index_keys(entries: Iterable[BlacklistEntry]) -> list[BlacklistToken]:
    """The token rows of fuzzy entries (saved entries: they need their ids)."""
    rows: list[BlacklistToken] = []
    for entry in entries:
        if entry.match != MatchType.FUZZY:
            continue
        for key in sorted(candidate_keys(entry.value)):
            rows.append(
                BlacklistToken(entry=entry, entity_attribute=entry.entity_attribute, key=key)
            )
    return rows
