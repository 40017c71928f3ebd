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

import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.db import connection
from rapidfuzz import fuzz

from core.lookups import any_of, in_subquery, list_param
from programs.models import Program
from risk.evidence import MIN_FULL_NAME_CONFIDENCE, weigh
from risk.models import BlacklistEntry, BlacklistToken, MatchType
from risk.names import FULL_NAME, best_name, entry_keys, name_masks, names_in, query_keys
from risk.normalize import NAME_ATTRIBUTES, canonical, folded, tokens
from risk.phonetics import phonetic as phonetic  # re-exported: the key is part of this API
from risk.phonetics import sounds_of

logger = logging.getLogger(__name__)

# Recorded with every screening; bump when keys or the similarity rule change.
MATCHER_VERSION = "onboard-3"

# The fuzzy decision (tuned on tests/risk/corpus.csv). Two names match when
# - they have the same number of words and, paired in written order or in sorted order, every
#   pair of words matches; or
# - their word counts differ (spacing: Mary Ann / Maryann) and, written without spaces, they
#   match as one word.
# Two words match when they are similar enough (rapidfuzz ratio FUZZY_MIN_WORD_RATIO), or sound
# the same and are not too different in writing (FUZZY_MIN_WORD_RATIO_SAME_SOUND: Mohammed /
# Muhammad, Aleksandr / Alexander, Stephen / Steven); short words (SHORT_WORD letters or fewer)
# need more (a letter is a large share of them). Never when they start with different sounds
# (Fernandez / Hernandez) or end differently in a way that makes another name (Carl / Carla,
# Maria / Mario, Anders / Andersen). Judging word by word keeps a shared last name from
# carrying a different first name (John Smith / Jane Smith).
FUZZY_MIN_WORD_RATIO = 85.0
FUZZY_MIN_WORD_RATIO_SAME_SOUND = 70.0
SHORT_WORD = 4
FUZZY_MIN_SHORT_WORD_RATIO = 90.0
FUZZY_MIN_SHORT_WORD_RATIO_SAME_SOUND = 80.0
# Deletion keys only for phonetic keys this long; shorter ones would match too widely.
MIN_KEY_FOR_DELETIONS = 5
# Safety cap on fuzzy candidates per screening (names that sound alike); logged when hit.
MAX_FUZZY_CANDIDATES = 2000
# Safety cap on the rows of the first query (exact keys, full-name candidates and the keys
# they share); logged when hit.
MAX_ROWS = 50_000


def _comparable(word: str) -> str:
    # a final y and i transliterate one letter (Sergey / Sergei, Dmitry / Dmitri)
    return word[:-1] + "i" if word.endswith("y") and len(word) > 1 else word


@dataclass(frozen=True)
class NameForms:
    """The forms of one name the fuzzy tier compares."""

    words: tuple[str, ...]  # folded words, in the written order, final y as i
    sounds: tuple[tuple[str, ...], ...]  # sound keys of each word (see sounds_of)
    compact: str  # folded, spaces removed, in the written order

    @classmethod
    def of(cls, value: str) -> NameForms:
        words = tuple(tokens(value))
        return cls(
            words=tuple(_comparable(w) for w in words),
            sounds=tuple(sounds_of(w) for w in words),
            compact=_comparable("".join(words)),
        )

    def sound_keys(self, limit: int = 4) -> set[str]:
        """The sorted-and-joined word sounds, one per reading (at most `limit`)."""
        combos: list[list[str]] = [[]]
        for variants in self.sounds:
            combos = [[*c, v] for c in combos for v in variants][:limit]
        return {"".join(sorted(c)) for c in combos if any(c)}


def candidate_keys(value: str) -> set[str]:
    """The keys under which a name is indexed and looked up (BlacklistToken.key).

    Two names that can match share a key: the sorted word sounds (word order and spelling
    variants), the sound of the name without spaces (spacing variants), and the sorted word
    sounds with one letter deleted (one consonant typo, as in SymSpell).

    The first letter is never deleted. Names match only when their paired words start with the
    same sound (_word_score), so two matching names have the same first letter in their sorted
    word sounds, and a key that drops it finds only names the scoring rejects — it was the
    least selective key (`KRMNLS` → `RMNLS` is shared by every name that ends alike).
    Leaving it out changes no decision, and the keys stay a subset of those indexed before,
    so existing index rows need no rebuild (the extra ones are never looked up).
    """
    forms = NameForms.of(value)
    keys: set[str] = set()
    for sound in forms.sound_keys():
        keys.add(sound)
        if len(sound) >= MIN_KEY_FOR_DELETIONS:
            keys.update(sound[:i] + sound[i + 1 :] for i in range(1, len(sound)))
    keys.update(k for k in sounds_of(forms.compact) if k)
    return {k[:64] for k in keys}


_VOWEL_END = frozenset("aeiou")


def _different_names(a: str, b: str) -> bool:
    """Endings that make another name rather than a spelling variant."""
    a_vowel, b_vowel = a[-1] in _VOWEL_END, b[-1] in _VOWEL_END
    if a_vowel != b_vowel or (a_vowel and a[-1] != b[-1]):
        return True  # Carl / Carla, Maria / Mario, Michael / Michelle
    shorter, longer = sorted((a, b), key=len)
    return longer.startswith(shorter) and len(longer) - len(shorter) >= 2  # Anders / Andersen


def _word_score(
    a: str, a_sounds: tuple[str, ...], b: str, b_sounds: tuple[str, ...]
) -> float | None:
    """The similarity of two words when they match, else None."""
    if a == b:
        return 100.0
    if _different_names(a, b):
        return None
    if not {s[:1] for s in a_sounds} & {s[:1] for s in b_sounds}:
        return None  # Fernandez / Hernandez
    score = fuzz.ratio(a, b)
    short = min(len(a), len(b)) <= SHORT_WORD
    if score >= (FUZZY_MIN_SHORT_WORD_RATIO if short else FUZZY_MIN_WORD_RATIO):
        return score
    same_sound = bool(set(a_sounds) & set(b_sounds))
    floor = FUZZY_MIN_SHORT_WORD_RATIO_SAME_SOUND if short else FUZZY_MIN_WORD_RATIO_SAME_SOUND
    if same_sound and score >= floor:
        return score
    return None


def _paired_score(pairs: Iterable[tuple[tuple[str, tuple[str, ...]], ...]]) -> float | None:
    scores = []
    for (a, a_sounds), (b, b_sounds) in pairs:
        score = _word_score(a, a_sounds, b, b_sounds)
        if score is None:
            return None
        scores.append(score)
    return min(scores) if scores else None


_LOWEST_WORD_RATIO = min(
    FUZZY_MIN_WORD_RATIO,
    FUZZY_MIN_WORD_RATIO_SAME_SOUND,
    FUZZY_MIN_SHORT_WORD_RATIO,
    FUZZY_MIN_SHORT_WORD_RATIO_SAME_SOUND,
)


_FOLDED_KEY_LENGTH = BlacklistEntry._meta.get_field("value_normalized").max_length or 255


def may_match(screened: NameForms, listed_folded: str) -> bool:
    """False when names_match(screened, <the listed name>) is certainly False; a cheap test on
    the listed name's folded key (BlacklistEntry.value_normalized), before its forms are built.

    A one-word name is compared as a whole with any listed name: word to word when the listed
    name is one word too, spaces removed when the word counts differ. Either way it matches
    only when equal or rapidfuzz-similar at least _LOWEST_WORD_RATIO, so a lower ratio rules
    the pair out. Names of several words can pair their words in more than one way: no test.
    """
    if len(screened.words) != 1 or len(listed_folded) >= _FOLDED_KEY_LENGTH:
        return True  # several words, or a key that may have been cut at the column's length
    listed = _comparable(listed_folded)
    return screened.compact == listed or fuzz.ratio(screened.compact, listed) >= _LOWEST_WORD_RATIO


def names_match(a: NameForms, b: NameForms) -> tuple[bool, float]:
    """Whether two names match (see FUZZY_MIN_WORD_RATIO), and their similarity 0 to 100."""
    if not a.compact or not b.compact:
        return False, 0.0
    if a.compact == b.compact:
        return True, 100.0
    if len(a.words) != len(b.words):
        score = _word_score(a.compact, sounds_of(a.compact), b.compact, sounds_of(b.compact))
        return score is not None, float(score or fuzz.ratio(a.compact, b.compact))
    left = list(zip(a.words, a.sounds, strict=True))
    right = list(zip(b.words, b.sounds, strict=True))
    best: float | None = None
    for key in (None, _by_word, _by_sound):
        if key is None:
            paired = _paired_score(zip(left, right, strict=True))
        else:
            paired = _paired_score(zip(sorted(left, key=key), sorted(right, key=key), strict=True))
        if paired is not None and (best is None or paired > best):
            best = paired
    if best is None:
        return False, float(fuzz.ratio(a.compact, b.compact))
    return True, float(best)


def _by_word(item: tuple[str, tuple[str, ...]]) -> str:
    return item[0]


def _by_sound(item: tuple[str, tuple[str, ...]]) -> tuple[str, str]:
    return (item[1][0], item[0])


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
    # customer.name matches (SPEC §14): the listed name or alias that matched, and the
    # evidence that strengthened or weakened it (birth date, nationality)
    matched_name: str | None = None
    evidence: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


Values = Mapping[str, Sequence[str]]


def _clean(values: Values) -> dict[str, list[str]]:
    cleaned: dict[str, list[str]] = {}
    for attribute, items in values.items():
        kept = [v for v in items if isinstance(v, str) and v.strip()]
        if kept:
            cleaned[attribute] = kept
    return cleaned


# The entry columns a match needs, read as tuples (values_list): building model instances
# for every candidate cost more than scoring them.
_ENTRY_COLUMNS = (
    "id",
    "entity_attribute",
    "match",
    "action",
    "weight",
    "version",
    "program_id",
)


def _match_from(
    row: tuple[Any, ...],
    matcher: str,
    score: float,
    matched_name: str | None = None,
    evidence: tuple[str, ...] = (),
) -> Match:
    """A Match from a row of _ENTRY_COLUMNS (in that order)."""
    entry_id, attribute, match, action, weight, version, program_id = row
    return Match(
        entry_id=entry_id,
        entity_attribute=attribute,
        match=match,
        matcher=matcher,
        similarity=round(score, 1),
        action=action,
        weight=weight,
        entry_version=version,
        program_scoped=program_id is not None,
        matched_name=matched_name,
        evidence=evidence,
    )


def find_matches_many(*, program: Program | None, subjects: Sequence[Values]) -> list[list[Match]]:
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
                    # full names reach fuzzy entries through their name keys only, where
                    # aliases and evidence are weighed (_fuzzy)
                    tiers = (
                        (MatchType.NORMALIZED,)
                        if attribute == FULL_NAME
                        else (MatchType.NORMALIZED, MatchType.FUZZY)
                    )
                    for match in tiers:
                        wanted.setdefault((attribute, match, key), set()).add(index)

    results: list[dict[int, Match]] = [{} for _ in cleaned]
    keys = sorted({key for (_, _, key) in wanted if key})
    # full names: their candidates come back with the exact / normalized rows, one row per
    # shared key, with the bits of the entry's names that give it (BlacklistToken.names)
    screened_by_key: dict[str, set[tuple[int, str]]] = {}
    for index, values in enumerate(cleaned):
        for item in values.get(FULL_NAME, ()):
            for key in query_keys(item):
                screened_by_key.setdefault(key, set()).add((index, item))
    if keys or screened_by_key:
        attributes = sorted({attribute for (attribute, _, _) in wanted})
        rows = _candidate_rows(program, keys, attributes, sorted(screened_by_key))
        # full-name entry id → its row; the bits of its names that share a key, and the
        # screened names that share one
        named_rows: dict[int, tuple[Any, ...]] = {}
        sharing: dict[int, tuple[int, set[tuple[int, str]]]] = {}
        if len(rows) >= MAX_ROWS:
            logger.warning(
                "screening row cap reached (program %s)", program.code if program else "-"
            )
        for row in rows:
            value_normalized = row[0]
            entry_columns = tuple(row[5:-2])
            entry_id, attribute, match = entry_columns[:3]
            name_key, bits = row[-2:]
            if attribute == FULL_NAME and match == MatchType.FUZZY:
                if name_key:
                    previous_bits, screened = sharing.get(entry_id, (0, set()))
                    screened |= screened_by_key.get(name_key, set())
                    sharing[entry_id] = (previous_bits | bits, screened)
                else:  # (found by its folded key too: it comes by its names as well)
                    named_rows[entry_id] = row
                continue
            hit = wanted.get((attribute, match, value_normalized))
            if not hit:
                continue
            matcher = "exact" if match == MatchType.EXACT else "normalized"
            for index in hit:
                results[index][entry_id] = _match_from(entry_columns, matcher, 100.0)
        for entry_id, (bits, screened) in sharing.items():
            named = named_rows.get(entry_id)
            if named is None:
                continue  # cut by MAX_ROWS
            _, value, aliases, births, nationalities = named[:5]
            entry_columns = tuple(named[5:-2])
            entry_id = entry_columns[0]
            listed_names = names_in(bits, [value, *_json_list(aliases)])
            births, nationalities = _json_list(births), _json_list(nationalities)
            for index, item in sorted(screened):
                found = _full_name_match(item, listed_names, births, nationalities, cleaned[index])
                previous = results[index].get(entry_id)
                if found is None or (previous is not None and previous.similarity >= found[0]):
                    continue
                score, matched_name, evidence = found
                results[index][entry_id] = _match_from(
                    entry_columns, "fuzzy", score, matched_name, evidence
                )

    _fuzzy(program=program, subjects=cleaned, results=results)
    return [sorted(r.values(), key=_order) for r in results]


# --- the statements (hand-written: the same text for every screening) --------------------------
#
# Built by the ORM, these statements cost more CPU than the rest of a screening (a union of three
# querysets compiled anew for every call, IN lists of a different length each time). Written
# once with list parameters (core.lookups.any_of), their text is constant and psycopg parses it
# once per process.

_ENTRY = BlacklistEntry._meta.db_table
_TOKEN = BlacklistToken._meta.db_table
_ENTRY_SQL_COLUMNS = ", ".join(
    f'e."{c}"'
    for c in (
        "value_normalized",
        "value",
        "aliases",
        "birth_dates",
        "nationalities",
        *_ENTRY_COLUMNS,
    )
)


def _scope_sql(program: Program | None) -> tuple[str, list[Any]]:
    if program is None:
        return 'e."program_id" IS NULL', []
    return '(e."program_id" IS NULL OR e."program_id" = %s)', [program.pk]


def _candidate_rows(
    program: Program | None, keys: list[str], attributes: list[str], name_keys: list[str]
) -> list[tuple[Any, ...]]:
    """One statement, each branch on its own index (an OR of the conditions made PostgreSQL
    scan the entries table, ~12 ms per screening at 50 000 entries):

    1. entries whose key is one of the values' exact / folded keys: (value_normalized, value,
       aliases, birth dates, nationalities, *_ENTRY_COLUMNS, '', 0);
    2. full-name candidates, one row each with their names and evidence, fetched by id
       through the token index alone (a join let PostgreSQL walk every entry of the scope);
    3. one light row per key they share: (five NULLs, entry id, customer.name, fuzzy, '', NULL,
       0, NULL, key, the bits of the entry's names that give the key).
    """
    vendor = connection.vendor
    scope, scope_params = _scope_sql(program)
    entry_key = any_of('e."value_normalized"', vendor)
    entry_attribute = any_of('e."entity_attribute"', vendor)
    token_key = any_of('t."key"', vendor)
    entries = f"SELECT {_ENTRY_SQL_COLUMNS}, '' AS name_key, 0 AS name_bits FROM {_ENTRY} e"  # noqa: S608 - fixed identifiers; values are parameters
    branches: list[str] = []
    params: list[Any] = []
    if keys:
        branches.append(
            f'{entries} WHERE {scope} AND e."is_active" AND {entry_key} AND {entry_attribute}'
        )
        params += [*scope_params, list_param(keys, vendor), list_param(attributes, vendor)]
    if name_keys:
        tokens = (
            f'SELECT t."entry_id" FROM {_TOKEN} t WHERE t."entity_attribute" = %s AND {token_key}'  # noqa: S608 - fixed identifiers; values are parameters
        )
        candidates = in_subquery('e."id"', tokens, vendor)
        branches.append(
            f'{entries} WHERE {scope} AND {candidates} AND e."is_active" '
            'AND e."entity_attribute" = %s AND e."match" = %s'
        )
        names = list_param(name_keys, vendor)
        params += [*scope_params, FULL_NAME, names]
        params += [FULL_NAME, MatchType.FUZZY.value]
        branches.append(
            "SELECT NULL, NULL, NULL, NULL, NULL, t.\"entry_id\", %s, %s, '', NULL, 0, NULL, "  # noqa: S608 - fixed identifiers; values are parameters
            f't."key", t."names" FROM {_TOKEN} t WHERE t."entity_attribute" = %s AND {token_key}'
        )
        params += [FULL_NAME, MatchType.FUZZY.value, FULL_NAME, names]
    sql = " UNION ALL ".join(branches)  # the LIMIT below applies to the whole union
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} LIMIT {MAX_ROWS}", params)
        return cursor.fetchall()


def _fuzzy_rows(
    program: Program | None, keys: list[str], attributes: list[str]
) -> list[tuple[Any, ...]]:
    """The per-attribute fuzzy candidates: (key, value, value_normalized, *_ENTRY_COLUMNS)."""
    vendor = connection.vendor
    scope, scope_params = _scope_sql(program)
    columns = ", ".join(f'e."{c}"' for c in _ENTRY_COLUMNS)
    token_key = any_of('t."key"', vendor)
    token_attribute = any_of('t."entity_attribute"', vendor)
    sql = (
        f'SELECT t."key", e."value", e."value_normalized", {columns} FROM {_TOKEN} t '  # noqa: S608 - fixed identifiers; values are parameters
        f'JOIN {_ENTRY} e ON e."id" = t."entry_id" WHERE {scope} AND {token_key} '
        f'AND {token_attribute} AND e."is_active" AND e."match" = %s '
        f"LIMIT {MAX_FUZZY_CANDIDATES}"
    )
    params = [*scope_params, list_param(keys, vendor), list_param(attributes, vendor)]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, MatchType.FUZZY.value])
        return cursor.fetchall()


def _json_list(value: Any) -> list[Any]:
    """A JSON list column read by a hand-written statement (text on both databases)."""
    if value is None:
        return []
    return list(json.loads(value)) if isinstance(value, str | bytes) else list(value)


def _order(match: Match) -> tuple[str, int]:
    return (match.entity_attribute, match.entry_id)


def _fuzzy(
    *,
    program: Program | None,
    subjects: list[dict[str, list[str]]],
    results: list[dict[int, Match]],
) -> None:
    # (attribute, key) → the screened names that produce it: (subject index, value)
    by_key: dict[tuple[str, str], set[tuple[int, str]]] = {}
    forms_of: dict[str, NameForms] = {}
    for index, values in enumerate(subjects):
        for attribute in NAME_ATTRIBUTES.intersection(values):
            for item in values[attribute]:
                forms = forms_of.get(item) or forms_of.setdefault(item, NameForms.of(item))
                if not forms.compact:
                    continue
                for key in candidate_keys(item):
                    by_key.setdefault((attribute, key), set()).add((index, item))
    if not by_key:
        return
    rows = _fuzzy_rows(
        program, sorted({key for (_, key) in by_key}), sorted({a for (a, _) in by_key})
    )
    if len(rows) >= MAX_FUZZY_CANDIDATES:
        logger.warning("fuzzy candidate cap reached (program %s)", program.code if program else "-")
    # An entry comes back once per key it shares with a screened name: gather the names each
    # entry was found for, then score every (name, entry) pair once.
    found: dict[int, tuple[str, str, tuple[Any, ...], set[tuple[int, str]]]] = {}
    for key, listed_value, listed_folded, *columns in rows:
        entry_id, attribute = columns[0], columns[1]
        screened = by_key.get((attribute, key))
        if not screened:
            continue
        if entry_id in found:
            found[entry_id][3].update(screened)
        else:
            found[entry_id] = (listed_value, listed_folded, tuple(columns), set(screened))
    for entry_id, (listed_value, listed_folded, entry_columns, screened) in found.items():
        # building a listed name's forms (phonetic keys) costs more than the cheap test
        listed: NameForms | None = None
        for index, item in screened:
            previous = results[index].get(entry_id)
            if previous is not None and previous.similarity >= 100:
                continue  # already an exact / normalized match
            if not may_match(forms_of[item], listed_folded):
                continue
            if listed is None:
                listed = NameForms.of(listed_value)
            matched, score = names_match(forms_of[item], listed)
            if matched and (previous is None or previous.similarity < score):
                results[index][entry_id] = _match_from(entry_columns, "fuzzy", score)


def _full_name_match(
    screened: str,
    names: Sequence[str],
    births: Sequence[str],
    nationalities: Sequence[str],
    subject: Mapping[str, Sequence[str]],
) -> tuple[float, str, tuple[str, ...]] | None:
    """A customer.name match of one screened name against one entry's names, weighed by the
    subject's birth date and nationality (risk.evidence): (similarity 0 to 100, the name that
    matched, the evidence), or None."""
    best = best_name(screened, names)
    if best is None:
        return None
    matched_name, comparison = best
    confidence, evidence = weigh(
        comparison.score,
        listed_births=births,
        listed_nationalities=nationalities,
        birthdays=subject.get("customer.birthday", ()),
        nationalities=subject.get("customer.nationality", ()),
    )
    if confidence < MIN_FULL_NAME_CONFIDENCE:
        return None
    return confidence * 100, matched_name, evidence


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
    if entry.entity_attribute == FULL_NAME:
        names = [entry.value, *(entry.aliases or [])]
        return bool(query_keys(value) & entry_keys(names)) and best_name(value, names) is not None
    if key == entry.value_normalized:
        return True
    if not candidate_keys(value) & candidate_keys(entry.value):
        return False
    return names_match(NameForms.of(value), NameForms.of(entry.value))[0]


def index_rows(entries: Iterable[BlacklistEntry]) -> Iterator[tuple[int, str, str, int]]:
    """(entry id, attribute, key, names mask) of the fuzzy entries' index rows (saved entries;
    the mask is BlacklistToken.names, 0 for per-attribute entries)."""
    for entry in entries:
        if entry.match == MatchType.FUZZY and entry.entity_attribute == FULL_NAME:
            masks = name_masks([entry.value, *(entry.aliases or [])])
            for key in sorted(masks):
                yield entry.pk, entry.entity_attribute, key, masks[key]
        elif entry.match == MatchType.FUZZY:
            for key in sorted(candidate_keys(entry.value)):
                yield entry.pk, entry.entity_attribute, key, 0


def index_keys(entries: Iterable[BlacklistEntry]) -> list[BlacklistToken]:
    """The index rows of fuzzy entries as model objects (saved entries: they need ids)."""
    return [
        BlacklistToken(entry_id=pk, entity_attribute=attribute, key=key, names=mask)
        for pk, attribute, key, mask in index_rows(entries)
    ]
