"""Birth dates and nationalities as evidence for a full-name match (SPEC §14).

A name match is a confidence between 0 and 1 (risk.names.compare_names). The screened user's
birth date and nationality then move it:

- a birth date the entry lists (exact date, the year, or inside a listed range) strengthens it
  by BIRTH_AGREES; a birth date outside everything the entry lists weakens it by
  BIRTH_CONTRADICTS;
- a nationality the entry lists changes nothing (many people share one); a nationality the
  entry does not list, when it lists some, weakens it by NATIONALITY_CONTRADICTS;
- missing data on either side is no evidence.

A match below MIN_FULL_NAME_CONFIDENCE is dropped: an exact name with a contradicting birth
date is still reported (weakened), a spelling variant with one is not, and a name that agrees
only loosely is lifted by an agreeing birth date.

Birth dates are stored as `YYYY-MM-DD` (exact), `YYYY` (year only) or `YYYY..YYYY` (a range of
years, as the lists publish "between 1960 and 1965" or "circa 1962").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

BIRTH_AGREES = 0.10
BIRTH_CONTRADICTS = 0.20
NATIONALITY_CONTRADICTS = 0.10
MIN_FULL_NAME_CONFIDENCE = 0.75

_EXACT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR = re.compile(r"^\d{4}$")
_RANGE = re.compile(r"^(\d{4})\.\.(\d{4})$")


def birth_agrees(listed: str, birthday: str) -> bool:
    """Whether a user's birthday (`YYYY-MM-DD`) fits one listed birth date."""
    year = birthday[:4]
    if _EXACT.match(listed):
        return listed == birthday[:10]
    if _YEAR.match(listed):
        return listed == year
    found = _RANGE.match(listed)
    if found and year.isdigit():
        return int(found.group(1)) <= int(year) <= int(found.group(2))
    return False


def _dates(values: Iterable[str]) -> list[str]:
    return [v.strip()[:10] for v in values if isinstance(v, str) and re.match(r"^\d{4}", v.strip())]


def weigh(
    name_score: float,
    *,
    listed_births: Sequence[str],
    listed_nationalities: Sequence[str],
    birthdays: Iterable[str],
    nationalities: Iterable[str],
) -> tuple[float, tuple[str, ...]]:
    """The match confidence after the evidence, and the evidence as short sentences."""
    confidence = name_score
    evidence: list[str] = []
    user_births = _dates(birthdays)
    if listed_births and user_births:
        if any(birth_agrees(b, u) for b in listed_births for u in user_births):
            confidence += BIRTH_AGREES
            evidence.append("birth date agrees")
        else:
            confidence -= BIRTH_CONTRADICTS
            evidence.append("birth date contradicts")
    user_nationalities = {
        n.strip().upper() for n in nationalities if isinstance(n, str) and n.strip()
    }
    listed = {n.upper() for n in listed_nationalities}
    if listed and user_nationalities:
        if user_nationalities & listed:
            evidence.append("nationality agrees")
        else:
            confidence -= NATIONALITY_CONTRADICTS
            evidence.append("nationality contradicts")
    return round(min(confidence, 1.0), 4), tuple(evidence)
