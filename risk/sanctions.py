"""Reading official sanctions lists into listed parties, and syncing them into the blacklist
(SPEC §14, `manage.py import_sanctions`).

Formats (see the README beside the snapshots in tests/data/sanctions/):

- **OFAC SDN** legacy CSV (`sdn.csv`, no header): individuals are rows whose `SDN_Type` is
  `individual`; names are written `LAST, First Middle`; dates of birth and nationalities are in
  `Remarks` (`DOB 12 Feb 1965; alt. DOB 1966; nationality Iraq; ...`). Aliases come from
  `alt.csv` (`ent_num` links them).
- **UN consolidated** XML: `INDIVIDUAL` records with `FIRST_NAME` … `FOURTH_NAME`,
  `NAME_ORIGINAL_SCRIPT`, `INDIVIDUAL_ALIAS` (`QUALITY` good / low), `NATIONALITY/VALUE`,
  `INDIVIDUAL_DATE_OF_BIRTH` (`EXACT` date or year, `APPROXIMATELY` a year, `BETWEEN` years).

Each party becomes one `customer.name` fuzzy entry keyed by (source, source id). A sync adds new
parties, updates changed ones (re-activating a party listed again), deactivates parties no
longer listed, and bumps the list version once when anything changed.
"""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import IO

import pycountry
from django.db import transaction

from risk.matching import index_keys
from risk.models import Action, BlacklistEntry, BlacklistToken, EntityAttribute, MatchType
from risk.names import MAX_FULL_NAME, check_full_name
from risk.normalize import key_for

SOURCES = ("ofac-sdn", "un-consolidated")
APPROXIMATE_YEARS = 1  # "circa 1962" / APPROXIMATELY 1962 → 1961..1963


class SanctionsFormatError(ValueError):
    """The file is not in the format its --source says."""


@dataclass
class Party:
    source_id: str
    name: str
    aliases: list[str] = field(default_factory=list)
    weak_aliases: list[str] = field(default_factory=list)
    birth_dates: list[str] = field(default_factory=list)
    nationalities: list[str] = field(default_factory=list)

    def tidy(self) -> Party:
        """Duplicates removed (the primary name is not its own alias), order kept."""
        self.aliases = _unique(a for a in self.aliases if a and a != self.name)
        self.weak_aliases = _unique(
            a for a in self.weak_aliases if a and a != self.name and a not in self.aliases
        )
        self.birth_dates = _unique(self.birth_dates)
        self.nationalities = _unique(self.nationalities)
        return self


def _unique(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        text = " ".join(item.split())[:MAX_FULL_NAME]
        if text:
            seen.setdefault(text, None)
    return list(seen)


# --- countries -----------------------------------------------------------------------------

# Short names the lists use that ISO 3166 spells otherwise.
_COUNTRY_NAMES = {
    "korea, north": "PRK",
    "north korea": "PRK",
    "democratic people's republic of korea": "PRK",
    "korea, south": "KOR",
    "syria": "SYR",
    "russia": "RUS",
    "iran": "IRN",
    "burma": "MMR",
    "venezuela": "VEN",
    "bolivia": "BOL",
    "tanzania": "TZA",
    "laos": "LAO",
    "vietnam": "VNM",
    "moldova": "MDA",
    "palestinian": "PSE",
    "state of palestine": "PSE",
    "west bank": "PSE",
    "gaza": "PSE",
    "turkey": "TUR",
    "türkiye": "TUR",
    "kosovo": "XKX",
    "congo, democratic republic of the": "COD",
    "democratic republic of the congo": "COD",
    "congo, republic of the": "COG",
    "congo": "COG",
    "former soviet union": "SUN",
    "ussr": "SUN",
    "macedonia": "MKD",
    "czech republic": "CZE",
    "cote d ivoire": "CIV",
    "ivory coast": "CIV",
    "united kingdom": "GBR",
    "united states": "USA",
}


@lru_cache(maxsize=512)
def country_code(name: str) -> str | None:
    """The ISO 3166 alpha-3 code of a country name as the lists write it, or None."""
    text = " ".join(name.strip().strip(".").split())
    if not text:
        return None
    known = _COUNTRY_NAMES.get(text.lower())
    if known:
        return known
    try:
        return str(pycountry.countries.lookup(text).alpha_3)
    except LookupError:
        pass
    plain = re.sub(r"\s*\(.*\)\s*", " ", text).strip()  # Iran (Islamic Republic of)
    if plain != text:
        return country_code(plain)
    return None


# --- OFAC ----------------------------------------------------------------------------------

_EMPTY = "-0-"
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_DOB = re.compile(r"(?:^|;\s*)(?:alt\.\s+)?DOB\s+([^;]+)", re.IGNORECASE)
_NATIONALITY = re.compile(
    r"(?:^|;\s*)(?:alt\.\s+)?(?:nationality|citizen)\s+([^;]+)", re.IGNORECASE
)
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{4})$")
_MONTH_YEAR = re.compile(r"^([A-Za-z]{3})[a-z]*\s+(\d{4})$")
_YEAR = re.compile(r"^(\d{4})$")
_CIRCA = re.compile(r"^circa\s+(\d{4})$", re.IGNORECASE)
_YEARS = re.compile(
    r"^(?:\d{1,2}\s+)?(?:[A-Za-z]{3}\s+)?(\d{4})\s+to\s+(?:\d{1,2}\s+)?(?:[A-Za-z]{3}\s+)?(\d{4})$"
)


def _field(value: str) -> str:
    text = value.strip()
    return "" if text == _EMPTY else text


def ofac_name(written: str) -> str:
    """`LAST, First Middle` → `First Middle LAST` (a name without a comma stays)."""
    last, comma, given = written.partition(",")
    return f"{given.strip()} {last.strip()}".strip() if comma else written.strip()


def ofac_birth_date(text: str) -> str | None:
    """One OFAC DOB phrase as a stored birth date (risk.evidence), or None."""
    text = text.strip().rstrip(".").strip()
    if found := _DAY_MONTH_YEAR.match(text):
        month = _MONTHS.get(found.group(2).lower())
        if month:
            try:
                return datetime(int(found.group(3)), month, int(found.group(1))).date().isoformat()
            except ValueError:
                return found.group(3)
    if (found := _MONTH_YEAR.match(text)) and found.group(1).lower() in _MONTHS:
        return found.group(2)
    if found := _YEAR.match(text):
        return found.group(1)
    if found := _CIRCA.match(text):
        year = int(found.group(1))
        return f"{year - APPROXIMATE_YEARS}..{year + APPROXIMATE_YEARS}"
    if found := _YEARS.match(text):
        return f"{found.group(1)}..{found.group(2)}"
    return None


def read_ofac(sdn: IO[str], alt: IO[str] | None = None) -> list[Party]:
    """The individuals of an SDN CSV, with the aliases of the ALT CSV."""
    parties: dict[str, Party] = {}
    for line, row in enumerate(csv.reader(sdn), start=1):
        if not row:
            continue
        if len(row) < 12 or not row[0].strip().isdigit():
            raise SanctionsFormatError(
                f"line {line}: not an OFAC sdn.csv row (12 columns, ent_num first)"
            )
        if _field(row[2]).lower() != "individual":
            continue
        remarks = _field(row[11])
        party = Party(source_id=row[0].strip(), name=ofac_name(_field(row[1])))
        for phrase in _DOB.findall(remarks):
            born = ofac_birth_date(phrase)
            if born:
                party.birth_dates.append(born)
        for phrase in _NATIONALITY.findall(remarks):
            code = country_code(phrase)
            if code:
                party.nationalities.append(code)
        parties[party.source_id] = party
    if alt is not None:
        for line, row in enumerate(csv.reader(alt), start=1):
            if not row:
                continue
            if len(row) < 4 or not row[0].strip().isdigit():
                raise SanctionsFormatError(
                    f"line {line}: not an OFAC alt.csv row (ent_num, alt_num, type, name)"
                )
            owner = parties.get(row[0].strip())
            if owner is not None and _field(row[3]):
                owner.aliases.append(ofac_name(_field(row[3])))
    return [p.tidy() for p in parties.values() if p.name]


# --- UN ------------------------------------------------------------------------------------


def _text(element: ET.Element | None, tag: str) -> str:
    found = element.findtext(tag) if element is not None else None
    return " ".join((found or "").split())


def un_birth_date(element: ET.Element) -> str | None:
    kind = _text(element, "TYPE_OF_DATE").upper()
    day, year = _text(element, "DATE"), _text(element, "YEAR")
    if kind == "BETWEEN":
        low, high = _text(element, "FROM_YEAR"), _text(element, "TO_YEAR")
        if low.isdigit() and high.isdigit():
            return f"{min(low, high)}..{max(low, high)}"
        return None
    if day and re.match(r"^\d{4}-\d{2}-\d{2}", day):
        return day[:10]
    if year.isdigit():
        if kind == "APPROXIMATELY":
            number = int(year)
            return f"{number - APPROXIMATE_YEARS}..{number + APPROXIMATE_YEARS}"
        return year
    return None


def read_un(stream: IO[bytes]) -> list[Party]:
    """The individuals of the UN consolidated list XML."""
    try:
        root = ET.parse(stream).getroot()  # noqa: S314 - an official list file, not user input
    except ET.ParseError as exc:
        raise SanctionsFormatError(f"not well-formed XML: {exc}") from exc
    if root.tag != "CONSOLIDATED_LIST":
        raise SanctionsFormatError(f"root element is {root.tag}, not CONSOLIDATED_LIST")
    parties: list[Party] = []
    for record in root.iter("INDIVIDUAL"):
        parts = [
            _text(record, tag) for tag in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")
        ]
        party = Party(source_id=_text(record, "DATAID"), name=" ".join(p for p in parts if p))
        if not party.source_id or not party.name:
            continue
        original = _text(record, "NAME_ORIGINAL_SCRIPT")
        if original:
            party.aliases.append(original)
        for alias in record.findall("INDIVIDUAL_ALIAS"):
            name = _text(alias, "ALIAS_NAME")
            if not name:
                continue
            if _text(alias, "QUALITY").lower() == "low":
                party.weak_aliases.append(name)
            else:
                party.aliases.append(name)
        for born in record.findall("INDIVIDUAL_DATE_OF_BIRTH"):
            value = un_birth_date(born)
            if value:
                party.birth_dates.append(value)
        for nationality in record.findall("NATIONALITY/VALUE"):
            code = country_code(nationality.text or "")
            if code:
                party.nationalities.append(code)
        parties.append(party.tidy())
    return parties


def read_source(source: str, path: Path, alt: Path | None = None) -> list[Party]:
    if source == "ofac-sdn":
        with path.open(encoding="utf-8", newline="") as sdn:
            if alt is None:
                return read_ofac(sdn)
            with alt.open(encoding="utf-8", newline="") as aliases:
                return read_ofac(sdn, aliases)
    if source == "un-consolidated":
        with path.open("rb") as stream:
            return read_un(stream)
    raise SanctionsFormatError(f"unknown source {source!r}; one of {', '.join(SOURCES)}")


# --- sync ----------------------------------------------------------------------------------


@dataclass
class SyncReport:
    added: int = 0
    updated: int = 0
    delisted: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)  # parties without a usable name
    version: int | None = None  # the list version after a change

    def summary(self) -> str:
        return (
            f"{self.added} added, {self.updated} updated, {self.delisted} delisted, "
            f"{self.unchanged} unchanged"
        )


_COMPARED = ("value", "aliases", "weak_aliases", "birth_dates", "nationalities", "action", "weight")


def sync_parties(
    *,
    source: str,
    parties: list[Party],
    action: str = Action.BLOCK,
    weight: int | None = None,
    bump: Callable[[], int],
    progress: Callable[[Iterable[Party]], Iterator[Party]] = iter,
) -> SyncReport:
    """Make the source's entries equal the parties, in one transaction."""
    report = SyncReport()
    weight = weight if action == Action.SCORE else None
    with transaction.atomic():
        existing = {
            e.source_id: e
            for e in BlacklistEntry.objects.select_for_update().filter(
                source=source, entity_attribute=EntityAttribute.NAME
            )
        }
        fresh: list[BlacklistEntry] = []
        changed: list[BlacklistEntry] = []
        seen: set[str] = set()
        for party in progress(parties):
            if party.source_id in seen:
                continue
            seen.add(party.source_id)
            problem = check_full_name(party.name)
            if problem:
                report.skipped.append(f"{source} {party.source_id}: {problem}")
                continue
            wanted = {
                "value": party.name,
                "aliases": [a for a in party.aliases if not check_full_name(a)],
                "weak_aliases": party.weak_aliases,
                "birth_dates": party.birth_dates,
                "nationalities": party.nationalities,
                "action": action,
                "weight": weight,
            }
            entry = existing.get(party.source_id)
            if entry is None:
                fresh.append(
                    BlacklistEntry(
                        entity_attribute=EntityAttribute.NAME,
                        match=MatchType.FUZZY,
                        value_normalized=key_for(EntityAttribute.NAME, MatchType.FUZZY, party.name),
                        reason=f"{source} {party.source_id}",
                        source=source,
                        source_id=party.source_id,
                        added_by_label=f"import_sanctions {source}",
                        **wanted,
                    )
                )
            elif entry.is_active and all(getattr(entry, k) == v for k, v in wanted.items()):
                report.unchanged += 1
            else:
                for name, value in wanted.items():
                    setattr(entry, name, value)
                entry.value_normalized = key_for(EntityAttribute.NAME, MatchType.FUZZY, party.name)
                entry.is_active = True
                changed.append(entry)
        gone = [e for sid, e in existing.items() if sid not in seen and e.is_active]
        if not (fresh or changed or gone):
            return report
        version = bump()
        report.version = version
        for entry in fresh:
            entry.version = version
        BlacklistEntry.objects.bulk_create(fresh, batch_size=2000)
        for entry in [*changed, *gone]:
            entry.version = version
        for entry in gone:
            entry.is_active = False
        BlacklistEntry.objects.bulk_update(
            changed, [*_COMPARED, "value_normalized", "is_active", "version"], batch_size=1000
        )
        BlacklistEntry.objects.bulk_update(gone, ["is_active", "version"], batch_size=1000)
        BlacklistToken.objects.filter(entry__in=[e.pk for e in changed]).delete()
        BlacklistToken.objects.bulk_create(index_keys([*fresh, *changed]), batch_size=10_000)
        report.added, report.updated, report.delisted = len(fresh), len(changed), len(gone)
    return report
