"""The matcher: tiers, scope, the labelled corpus gate, and constant cost."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from risk.matching import (
    MIN_KEY_FOR_DELETIONS,
    NameForms,
    candidate_keys,
    entry_matches_value,
    find_matches,
    may_match,
    names_match,
    phonetic,
)
from risk.models import BlacklistEntry, BlacklistToken
from risk.normalize import fold
from tests.factories import ProgramFactory
from tests.risk.helpers import listed, one_typo_variants, values

CORPUS = Path(__file__).with_name("corpus.csv")
MIN_PRECISION = 0.95
MIN_RECALL = 0.90


def _corpus() -> list[dict[str, str]]:
    """The word-level rows (the full-name rows, `name_*`, are tests/risk/test_names.py's)."""
    with CORPUS.open(encoding="utf-8", newline="") as handle:
        return [r for r in csv.DictReader(handle) if not r["category"].startswith("name_")]


def _fuzzy_matches(listed_value: str, screened: str) -> bool:
    """The fuzzy tier's verdict exactly as screening reaches it: equal folded keys, or a
    shared candidate key (the index look-up) and a positive similarity decision."""
    if fold(listed_value) == fold(screened):
        return True
    if not candidate_keys(listed_value) & candidate_keys(screened):
        return False
    return names_match(NameForms.of(listed_value), NameForms.of(screened))[0]


def test_corpus_is_large_and_covers_every_category() -> None:
    rows = _corpus()
    assert len(rows) >= 200
    categories = {r["category"] for r in rows}
    assert {
        "diacritics",
        "case",
        "spacing",
        "order",
        "transliteration",
        "typo",
        "near_miss",
        "unrelated",
    } <= categories
    assert sum(r["expected"] == "0" for r in rows) >= 80  # plenty of must-not-match pairs


def test_corpus_precision_and_recall_gate() -> None:
    tp = fp = fn = 0
    misses: list[str] = []
    for row in _corpus():
        expected = row["expected"] == "1"
        got = _fuzzy_matches(row["listed"], row["screened"])
        if got and expected:
            tp += 1
        elif got:
            fp += 1
            misses.append(f"false positive: {row['listed']} / {row['screened']}")
        elif expected:
            fn += 1
            misses.append(f"false negative: {row['listed']} / {row['screened']}")
    precision = tp / (tp + fp)
    recall = tp / (tp + fn)
    assert precision >= MIN_PRECISION, misses
    assert recall >= MIN_RECALL, misses


@pytest.mark.parametrize("category", ["diacritics", "case", "spacing", "order"])
def test_every_pair_of_the_easy_categories_matches(category: str) -> None:
    for row in _corpus():
        if row["category"] == category:
            assert _fuzzy_matches(row["listed"], row["screened"]), row


@pytest.mark.parametrize(
    ("word", "key"),
    [
        ("mohammed", "MT"),
        ("muhammad", "MT"),
        ("alexander", "ALKSNTR"),
        ("aleksandr", "ALKSNTR"),
        ("ivanoff", "AFNF"),
        ("ivanov", "AFNF"),
        ("tchaikovsky", "XKFSK"),
        ("chaikovsky", "XKFSK"),
        ("knight", "NKT"),
        ("xavier", "SFR"),
    ],
)
def test_phonetic_keys(word: str, key: str) -> None:
    assert phonetic(word) == key


def _keys_with_first_letter_deletions(value: str) -> set[str]:
    """The candidate keys as they were before the first letter stopped being deleted."""
    keys = set(candidate_keys(value))
    for sound in NameForms.of(value).sound_keys():
        if len(sound) >= MIN_KEY_FOR_DELETIONS:
            keys.add(sound[1:][:64])
    return keys


def test_first_letter_is_never_deleted_from_a_key() -> None:
    keys = candidate_keys("Karimona Lesa")
    assert "KRMNLS" in keys  # the sorted word sounds
    assert "KRMNS" in keys and "KRMLS" in keys  # one letter deleted further in
    assert "RMNLS" not in keys  # ...but never the first


def test_dropping_first_letter_deletions_changes_no_decision() -> None:
    """Every pair the old keys found and the scoring accepted is still found by a shared key:
    over the corpus and over every one-typo variant of a set of names."""
    pairs = [(r["listed"], r["screened"]) for r in _corpus()]
    for name in ("Aleksandrov", "Karimona Lesa", "Mohammed Ali", "Stephen", "Ivanova Maria"):
        pairs.extend((name, variant) for variant in one_typo_variants(name))
    lost = [
        (a, b)
        for a, b in pairs
        if _keys_with_first_letter_deletions(a) & _keys_with_first_letter_deletions(b)
        and not candidate_keys(a) & candidate_keys(b)
        and names_match(NameForms.of(a), NameForms.of(b))[0]
    ]
    assert len(pairs) > 1000
    assert lost == []


def test_the_cheap_test_never_rules_out_a_match() -> None:
    """may_match (on the listed folded key) is False only for pairs names_match rejects."""
    pairs = [(r["listed"], r["screened"]) for r in _corpus()]
    pairs += [(r["screened"], r["listed"]) for r in _corpus()]
    for name in ("Aleksandrov", "Mohammed", "Stephen", "Karimona Lesa", "Mary Ann", "Dmitry"):
        pairs.extend((variant, name) for variant in one_typo_variants(name))
        pairs.extend((name, variant) for variant in one_typo_variants(name))
    ruled_out = 0
    for listed_value, screened in pairs:
        forms = NameForms.of(screened)
        if not may_match(forms, fold(listed_value)):
            ruled_out += 1
            assert not names_match(forms, NameForms.of(listed_value))[0], (listed_value, screened)
    assert ruled_out > 50  # the test does rule pairs out
    # several screened words: no shortcut
    assert may_match(NameForms.of("Ada Lovelace"), "zzzzzzzzzz")
    assert not may_match(NameForms.of("Ada"), "zzzzzzzzzz")


def test_names_match_reports_similarity() -> None:
    matched, score = names_match(NameForms.of("Mohammed"), NameForms.of("Muhammad"))
    assert matched and 70 <= score < 100
    matched, score = names_match(NameForms.of("Ada Lovelace"), NameForms.of("Lovelace Ada"))
    assert matched and score == 100
    assert not names_match(NameForms.of("John Smith"), NameForms.of("Jane Smith"))[0]


# --- database tiers ------------------------------------------------------------------------


@pytest.mark.django_db
def test_exact_compares_canonical_forms(seeded: None) -> None:
    program = ProgramFactory()
    listed("email", "Ada@Example.com")
    listed("mobile", "+65 9123 4567")
    listed("id_number", "s1234567-d")
    listed("first_name", "Zoë")
    found = find_matches(
        program=program,
        values=values(
            email="ada@example.COM",
            mobile="6591234567",
            id_number="S 1234567 D",
            first_name="zoë",  # exact names keep their case: no match
        ),
    )
    assert sorted(m.entity_attribute for m in found) == [
        "customer.email",
        "customer.id_number",
        "customer.mobile",
    ]
    assert {m.matcher for m in found} == {"exact"}


@pytest.mark.django_db
def test_normalized_folds_case_accents_punctuation_and_spacing(seeded: None) -> None:
    program = ProgramFactory()
    entry = listed("last_name", "O'Brien-Søren", match="normalized")
    for screened in ("obrien soren", "O BRIEN SØREN", "Obriensoren"):
        found = find_matches(program=program, values=values(last_name=screened))
        assert [m.entry_id for m in found] == [entry.pk], screened
    assert find_matches(program=program, values=values(first_name="obrien soren")) == []


@pytest.mark.django_db
def test_fuzzy_tier_finds_name_variants_through_the_token_index(seeded: None) -> None:
    program = ProgramFactory()
    entry = listed("last_name", "Mohammed", match="fuzzy", action="score", weight=10)
    assert BlacklistToken.objects.filter(entry=entry).exists()
    found = find_matches(program=program, values=values(last_name="Muhammad"))
    assert [(m.entry_id, m.matcher) for m in found] == [(entry.pk, "fuzzy")]
    assert 70 <= found[0].similarity < 100
    assert find_matches(program=program, values=values(last_name="Mahmoud")) == []
    # fuzzy entries are per attribute too
    assert find_matches(program=program, values=values(first_name="Muhammad")) == []


@pytest.mark.django_db
def test_an_entry_found_by_several_keys_is_scored_once(
    seeded: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = ProgramFactory()
    entry = listed("last_name", "Aleksandrov", match="fuzzy", action="score", weight=10)
    screened = "Alexandrof"
    shared = candidate_keys(screened) & set(
        BlacklistToken.objects.filter(entry=entry).values_list("key", flat=True)
    )
    assert len(shared) > 1  # the entry comes back once per shared key
    calls: list[tuple[str, str]] = []

    def counting(a: NameForms, b: NameForms) -> tuple[bool, float]:
        calls.append((a.compact, b.compact))
        return names_match(a, b)

    monkeypatch.setattr("risk.matching.names_match", counting)
    found = find_matches(program=program, values=values(last_name=screened))
    assert [(m.entry_id, m.matcher) for m in found] == [(entry.pk, "fuzzy")]
    assert calls == [("alexandrof", "aleksandrov")]


@pytest.mark.django_db
def test_scope_global_and_own_program_only(seeded: None) -> None:
    alpha, beta = ProgramFactory(code="alpha"), ProgramFactory(code="beta")
    everywhere = listed("email", "g@example.com")
    alpha_only = listed("email", "a@example.com", program=alpha)
    screened = values(email=["g@example.com", "a@example.com"])
    assert {m.entry_id for m in find_matches(program=alpha, values=screened)} == {
        everywhere.pk,
        alpha_only.pk,
    }
    assert {m.entry_id for m in find_matches(program=beta, values=screened)} == {everywhere.pk}
    found = find_matches(program=alpha, values=screened)
    assert {m.program_scoped for m in found} == {True, False}


@pytest.mark.django_db
def test_inactive_entries_do_not_match(seeded: None) -> None:
    program = ProgramFactory()
    entry = listed("email", "ada@example.com")
    fuzzy = listed("first_name", "Mohammed", match="fuzzy")
    BlacklistEntry.objects.filter(pk__in=[entry.pk, fuzzy.pk]).update(is_active=False)
    assert find_matches(program=program, values=values(email="ada@example.com")) == []
    assert find_matches(program=program, values=values(first_name="Muhammad")) == []


@pytest.mark.django_db
def test_entry_matches_value_agrees_with_the_index(seeded: None) -> None:
    exact = listed("email", "Ada@example.com")
    fuzzy = listed("last_name", "Aleksandrov", match="fuzzy")
    assert entry_matches_value(exact, "ADA@example.com")
    assert not entry_matches_value(exact, "ada2@example.com")
    assert entry_matches_value(fuzzy, "Alexandrov")
    assert not entry_matches_value(fuzzy, "Alexeev")


# --- constant cost -------------------------------------------------------------------------


def _fill(n: int, program_code: str) -> None:
    """n entries of every kind, none matching the screened values below."""
    rows = []
    for i in range(n):
        rows.append(
            BlacklistEntry(
                entity_attribute="customer.email",
                value=f"x{i}@example.com",
                value_normalized=f"x{i}@example.com",
                action="block",
            )
        )
        rows.append(
            BlacklistEntry(
                entity_attribute="customer.last_name",
                value=f"Name{i}",
                value_normalized=f"name{i}",
                match="normalized",
                action="score",
                weight=5,
            )
        )
    BlacklistEntry.objects.bulk_create(rows)
    fuzzy = [
        BlacklistEntry(
            entity_attribute="customer.first_name",
            value=f"Fuzzy{i}",
            value_normalized=f"fuzzy{i}",
            match="fuzzy",
            action="score",
            weight=5,
        )
        for i in range(n)
    ]
    BlacklistEntry.objects.bulk_create(fuzzy)
    from risk.matching import index_keys

    BlacklistToken.objects.bulk_create(index_keys(BlacklistEntry.objects.filter(match="fuzzy")))


SCREENED = values(
    first_name="Muhammad",
    middle_name="Ann",
    last_name="Lovelace",
    email="ada@example.com",
    mobile="6591234567",
    id_number=["S1234567D", "E1234567"],
    nationality="SGP",
    birthday="1990-01-31",
)


@pytest.mark.django_db
@pytest.mark.parametrize("size", [10, 1000])
def test_query_count_does_not_grow_with_the_list(seeded: None, size: int) -> None:
    program = ProgramFactory()
    _fill(size, program.code)
    listed("last_name", "Lovelace", match="normalized", action="score", weight=10)
    listed("first_name", "Mohammed", match="fuzzy", action="score", weight=10)
    with CaptureQueriesContext(connection) as ctx:
        found = find_matches(program=program, values=SCREENED)
    assert len(found) == 2
    # one query for exact/normalized keys, one for fuzzy candidates, whatever the list size
    assert len(ctx.captured_queries) == 2


@pytest.mark.django_db
def test_full_name_candidates_are_fetched_by_id_whatever_the_estimate(seeded: None) -> None:
    """The candidates of a long name's hundreds of keys: on PostgreSQL `id = ANY(ARRAY(…))`, an
    init plan and an index fetch (an `IN (subquery)` was answered by a hash join reading every
    entry); elsewhere the plain `IN`. The statement's text does not depend on the number of keys
    (one list parameter), so it is parsed once."""
    from risk.matching import index_keys

    program = ProgramFactory()
    entry = listed("name", "Ahmad Hussain", match="fuzzy")
    listed("name", "Maria Lopez", match="fuzzy")
    BlacklistToken.objects.filter(entry__entity_attribute="customer.name").delete()
    BlacklistToken.objects.bulk_create(
        index_keys(BlacklistEntry.objects.filter(entity_attribute="customer.name"))
    )
    statements = []
    for name in ("Ahmad Bench Ab Hussain", "Ahmad Hussain"):
        with CaptureQueriesContext(connection) as ctx:
            found = find_matches(program=program, values={"customer.name": [name]})
        assert [m.entry_id for m in found] == [entry.pk]
        statements.append(ctx.captured_queries[0]["sql"])
    long_name, short_name = statements
    if connection.vendor == "postgresql":
        assert 'e."id" = ANY(ARRAY(SELECT t."entry_id"' in long_name
        # the same text but for the values of its list parameters ('{…}' array literals)
        arrays = re.compile(r"'\{[^']*\}'")
        assert arrays.sub("?", long_name) == arrays.sub("?", short_name)
    else:
        assert 'e."id" IN (SELECT t."entry_id"' in long_name
        assert "json_each" in long_name
