"""Checking names against the current list without saving anything (SPEC §14): the
`manage.py screen` command and the admin's "check a name" page.

Only `customer.name` entries count: the query's birth date and nationality are evidence for
them (risk.evidence), not values screened against per-attribute entries. A batch of queries
costs the same few queries as one screening: settings (1, with a program), matches (2) and the
matched entries' values (1).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any

from django.core.exceptions import ValidationError

from programs.models import Program
from risk.matching import find_matches_many
from risk.models import BlacklistEntry, BlacklistState, RiskSettings
from risk.names import FULL_NAME, check_full_name
from risk.screening import decide

DEFAULT_THRESHOLD = 100  # RiskSettings' default, used without --program
MAX_QUERIES = 100_000
BATCH = 20  # queries screened together (one look-up each)
JSON_MATCH_KEYS = ("entry_id", "value", "matched_name", "match", "action", "weight", "score")


@dataclass(frozen=True)
class NameQuery:
    name: str
    ref: str = ""
    birthday: str = ""
    nationality: str = ""


@dataclass
class NameCheck:
    query: NameQuery
    outcome: str
    score: int
    matches: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "ref": self.query.ref,
            "name": self.query.name,
            "outcome": self.outcome,
            "score": self.score,
            "matches": [{k: m[k] for k in JSON_MATCH_KEYS} for m in self.matches],
        }


def clean_query(
    *, name: str | None, ref: str = "", birthday: str = "", nationality: str = ""
) -> NameQuery:
    """A validated query; raises `ValidationError({field: [message]})`."""
    errors: dict[str, str] = {}
    text = (name or "").strip()
    if not text:
        errors["name"] = "required"
    elif problem := check_full_name(text):
        errors["name"] = problem
    born = (birthday or "").strip()
    if born:
        try:
            date.fromisoformat(born)
        except ValueError:
            errors["birthday"] = "not an ISO 8601 date (YYYY-MM-DD)"
    country = (nationality or "").strip().upper()
    if country and not (len(country) == 3 and country.isalpha()):
        errors["nationality"] = "an ISO 3166 alpha-3 code, e.g. SGP"
    if errors:
        raise ValidationError({k: [v] for k, v in errors.items()})
    return NameQuery(text, (ref or "").strip(), born, country)


def read_queries(stream: IO[str]) -> list[NameQuery]:
    """Queries of a CSV with a header: `name`, optional `ref`, `birthday`, `nationality`.
    Raises ValueError naming the line of the first bad row."""
    reader = csv.DictReader(stream)
    if not reader.fieldnames or "name" not in [f.strip() for f in reader.fieldnames]:
        raise ValueError(
            "the header must have a `name` column (optional: ref, birthday, nationality)"
        )
    queries: list[NameQuery] = []
    for line, row in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "") for k, v in row.items()}
        try:
            queries.append(
                clean_query(
                    name=row.get("name"),
                    ref=row.get("ref", ""),
                    birthday=row.get("birthday", ""),
                    nationality=row.get("nationality", ""),
                )
            )
        except ValidationError as exc:
            detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            raise ValueError(f"line {line}: {detail}") from exc
        if len(queries) > MAX_QUERIES:
            raise ValueError(f"at most {MAX_QUERIES} queries per file")
    return queries


def check_names(*, program: Program | None, queries: Sequence[NameQuery]) -> list[NameCheck]:
    """Screen each query's name against the current list; saves nothing."""
    threshold = DEFAULT_THRESHOLD
    if program is not None:
        settings = RiskSettings.objects.filter(program=program).first()
        if settings is not None and settings.can_evaluate:
            threshold = settings.threshold or DEFAULT_THRESHOLD
    version = BlacklistState.objects.filter(pk=1).values_list("version", flat=True).first() or 0
    subjects = [_subject(q) for q in queries]
    found = []
    for start in range(0, len(subjects), BATCH):
        found += find_matches_many(program=program, subjects=subjects[start : start + BATCH])
    wanted = {m.entry_id for matches in found for m in matches if m.entity_attribute == FULL_NAME}
    values = dict(BlacklistEntry.objects.filter(pk__in=wanted).values_list("pk", "value"))
    results: list[NameCheck] = []
    for query, matches in zip(queries, found, strict=True):
        named = [m for m in matches if m.entity_attribute == FULL_NAME]
        named.sort(key=lambda m: (-m.similarity, m.entry_id))
        decision = decide(matches=named, threshold=threshold, list_version=int(version))
        results.append(
            NameCheck(
                query=query,
                outcome=decision.outcome,
                score=decision.score,
                matches=[
                    {
                        "entry_id": m.entry_id,
                        "value": values.get(m.entry_id, ""),
                        "matched_name": m.matched_name,
                        "match": m.match,
                        "action": m.action,
                        "weight": m.weight,
                        "score": m.similarity,
                        "evidence": list(m.evidence),
                    }
                    for m in named
                ],
            )
        )
    return results


def _subject(query: NameQuery) -> dict[str, list[str]]:
    subject = {FULL_NAME: [query.name]}
    if query.birthday:
        subject["customer.birthday"] = [query.birthday]
    if query.nationality:
        subject["customer.nationality"] = [query.nationality]
    return subject


def describe(results: Iterable[NameCheck]) -> Iterable[str]:
    """Human-readable lines for the command's plain output."""
    for result in results:
        label = f"{result.query.ref}: " if result.query.ref else ""
        yield f"{label}{result.query.name} → {result.outcome} (score {result.score})"
        for m in result.matches:
            evidence = f"; {', '.join(m['evidence'])}" if m["evidence"] else ""
            yield (
                f"  #{m['entry_id']} {m['value']} (matched {m['matched_name']!r}, "
                f"{m['score']:.0f}%, {m['action']}{evidence})"
            )
