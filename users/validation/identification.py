"""Identification documents: type, number (format, checksum), dates, country of issue."""

from __future__ import annotations

import logging
import re
from typing import Any

from core.exceptions import FieldError
from enumerations.catalog import Entry
from users import fields as f
from users.validation.base import SKIP, ValidatorBase, pair_missing
from users.validation.chars import CHECKSUMS
from users.validation.codes import code_for, unknown_field
from users.validation.rules import ID_NUMBER_MAX, RANKS, Rank
from users.validation.write import IdItem

logger = logging.getLogger("onboard.users")

MODEL_ID_KEYS = {
    "id_type": "id_type",
    "number": "number",
    "issue_date": "issue_date",
    "expiry_date": "expiry_date",
    "country_of_issue": "country_of_issue",
}


class IdentificationRules(ValidatorBase):
    def identification(self, value: Any) -> None:
        if not isinstance(value, dict):
            self.error(Rank.ID_TYPE, "identification", "invalid")
            return
        for rank in value:
            if rank not in RANKS:
                self.raw_error(Rank.ID_TYPE, unknown_field(f"identification.{rank}"))
        for rank in RANKS:
            if rank not in value:
                continue
            item = value[rank]
            if item is None:
                self.out.identification[rank] = None
                continue
            if not isinstance(item, dict):
                self.error(Rank.ID_TYPE, f"identification.{rank}", "invalid")
                continue
            cleaned = self.id_item(rank, item)
            if cleaned is not None:
                self.out.identification[rank] = cleaned
        primary = self.out.identification.get("primary")
        secondary = self.out.identification.get("secondary")
        if (
            primary
            and secondary
            and primary.id_type == secondary.id_type
            and primary.number_canonical == secondary.number_canonical
            and primary.number_canonical
        ):
            self.error(Rank.ID_UNIQUE, "identification.secondary.number", "unique")
            self.out.identification.pop("secondary")

    def id_item(self, rank: str, item: dict[str, Any]) -> IdItem | None:
        base = f"identification.{rank}"
        ok = True
        for key in item:
            if key not in f.ID_ITEM_KEYS:
                self.raw_error(Rank.ID_TYPE, unknown_field(f"{base}.{key}"))
                ok = False
        current = self.current_ids.get(rank)

        def cur(key: str) -> Any:
            return getattr(current, MODEL_ID_KEYS[key]) if current is not None else None

        def changed(key: str, value: Any) -> bool:
            old = cur(key)
            if isinstance(old, str) and isinstance(value, str):
                return old.lower() != value.lower()
            return old != value

        doc = IdItem()
        # type
        id_type = self.text(Rank.ID_TYPE, f"{base}.id_type", item.get("id_type"))
        type_entry: Entry | None = None
        if isinstance(id_type, str):
            if not changed("id_type", id_type):
                doc.id_type = cur("id_type")
                type_entry = self.catalog.get_any("id_types", doc.id_type or "")
            else:
                type_entry = self.lookup("id_types", id_type)
                if type_entry is not None and not type_entry.extra.get(
                    "is_primary" if rank == "primary" else "is_secondary"
                ):
                    type_entry = None
                if type_entry is None or len(type_entry.code) > 30:
                    self.error(Rank.ID_TYPE, f"{base}.id_type", "not_allowed")
                    ok = False
                else:
                    doc.id_type = type_entry.code
        elif id_type is SKIP and f"{base}.id_type" in self.given:
            ok = False
        # number
        number = self.text(Rank.ID_NUMBER_LENGTH, f"{base}.number", item.get("number"))
        if isinstance(number, str):
            limit = ID_NUMBER_MAX[rank]
            if len(number) > limit:
                self.error(Rank.ID_NUMBER_LENGTH, f"{base}.number", "lengthmax", max=limit)
                ok = False
            else:
                doc.number = number
        elif number is SKIP and f"{base}.number" in self.given:
            ok = False
        # both or neither, on the request body and on the resulting document
        missing = pair_missing(
            (self.was_sent(f"{base}.id_type"), self.was_sent(f"{base}.number")),
            (
                doc.id_type is not None or f"{base}.id_type" in self.given,
                doc.number is not None or f"{base}.number" in self.given,
            ),
            ("id_type", "number"),
        )
        if missing:
            self.error(Rank.ID_PAIR, f"{base}.{missing}", "pair")
            ok = False
        # number format, for the type it is held under
        if (
            doc.id_type
            and doc.number
            and type_entry is not None
            and (changed("id_type", doc.id_type) or changed("number", doc.number))
            and not number_matches(type_entry, doc.number)
        ):
            self.raw_error(
                Rank.ID_NUMBER_RULE,
                FieldError(
                    f"{base}.number",
                    code_for(f"{base}.number", "rule"),
                    number_problem(type_entry, doc.number).replace(
                        "`id_number`", "`alt_id_number`" if rank == "secondary" else "`id_number`"
                    ),
                ),
            )
            ok = False
        if doc.number_canonical and len(doc.number_canonical) > 30:
            ok = False  # cannot happen below the 30-character limit; guards the column
        # dates
        issue_raw, expiry_raw = item.get("issue_date"), item.get("expiry_date")
        issue = self.text(Rank.ID_DATES, f"{base}.issue_date", issue_raw)
        expiry = self.text(Rank.ID_DATES, f"{base}.expiry_date", expiry_raw)
        missing = pair_missing(
            (self.was_sent(f"{base}.issue_date"), self.was_sent(f"{base}.expiry_date")),
            (
                isinstance(issue, str) or f"{base}.issue_date" in self.given,
                isinstance(expiry, str) or f"{base}.expiry_date" in self.given,
            ),
            ("issue_date", "expiry_date"),
        )
        if missing:
            self.error(Rank.ID_DATE_PAIR, f"{base}.{missing}", "date_pair")
            ok = False
        if isinstance(issue, str):
            parsed_issue = self.parse_date(issue)
            future = parsed_issue is not None and parsed_issue > self.today
            if (
                parsed_issue is None
                or parsed_issue.year < 1900
                or (future and changed("issue_date", parsed_issue))
            ):
                self.error(Rank.ID_DATES, f"{base}.issue_date", "invalid")
                ok = False
            else:
                doc.issue_date = parsed_issue
        if isinstance(expiry, str):
            parsed_expiry = self.parse_date(expiry)
            expiry_changed = parsed_expiry is None or changed("expiry_date", parsed_expiry)
            dates_changed = expiry_changed or changed("issue_date", doc.issue_date)
            if parsed_expiry is None or (
                dates_changed
                and (
                    parsed_expiry < self.today
                    or (doc.issue_date is not None and parsed_expiry <= doc.issue_date)
                )
            ):
                self.error(Rank.ID_DATES, f"{base}.expiry_date", "invalid")
                ok = False
            else:
                doc.expiry_date = parsed_expiry
        # country of issue
        country = self.text(
            Rank.COUNTRIES, f"{base}.country_of_issue", item.get("country_of_issue")
        )
        if isinstance(country, str):
            if not changed("country_of_issue", country):
                doc.country_of_issue = cur("country_of_issue")
            else:
                entry = self.lookup("countries", country)
                if entry is None or len(entry.code) > 3:
                    self.error(Rank.COUNTRIES, f"{base}.country_of_issue", "not_allowed")
                    ok = False
                else:
                    doc.country_of_issue = entry.code
        elif country is SKIP and f"{base}.country_of_issue" in self.given:
            ok = False
        if not ok:
            return None
        if doc.id_type is None and doc.number is None:
            if any(v is not None for v in (doc.issue_date, doc.expiry_date, doc.country_of_issue)):
                self.error(Rank.ID_PAIR, f"{base}.id_type", "pair")
                return None
            return None  # an empty item: nothing to store, nothing to remove
        return doc


def number_problem(id_type: Entry, number: str) -> str:
    """Why `number` fails its id type's rule, for the answer ("" when it passes)."""
    if number_matches(id_type, number):
        return ""
    field = "`id_number`"
    checksum = CHECKSUMS.get(id_type.extra.get("checksum") or "")
    if checksum is not None and number_matches(id_type, number, checksum=False):
        return (
            f"{field} has the format of id type `{id_type.code}` but its check character is "
            "wrong (it does not match the digits): check the number for a typo."
        )
    return (
        f"{field} does not have the format of id type `{id_type.code}`: its `regex_validation` "
        "is in GET /users/enumerations/id_types."
    )


def number_matches(id_type: Entry, number: str, *, checksum: bool = True) -> bool:
    pattern = id_type.extra.get("regex_validation") or ""
    if pattern:
        try:
            if re.fullmatch(pattern, number) is None:
                return False
        except re.error:
            # an operator's broken pattern must not lock every user out: log it, skip the rule
            logger.warning("invalid regex_validation on id type", extra={"code": id_type.code})
    check = CHECKSUMS.get(id_type.extra.get("checksum") or "") if checksum else None
    return check is None or check(number)
