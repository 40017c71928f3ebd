"""Building blacklist entries for the risk tests (through the same service as the admin)."""

from __future__ import annotations

from programs.models import Program
from risk.models import BlacklistEntry
from risk.services import blacklist_entry_save


def listed(
    attribute: str,
    value: str,
    *,
    match: str = "exact",
    action: str = "block",
    weight: int | None = None,
    program: Program | None = None,
    reason: str = "test",
) -> BlacklistEntry:
    short = attribute if attribute.startswith("customer.") else f"customer.{attribute}"
    return blacklist_entry_save(
        entry=BlacklistEntry(
            entity_attribute=short,
            value=value,
            match=match,
            action=action,
            weight=weight,
            program=program,
            reason=reason,
        ),
        by_label="test",
    )


def values(**attributes: str | list[str]) -> dict[str, list[str]]:
    """values(first_name="Ada", id_number=["S1", "S2"]) → {"customer.first_name": ["Ada"], ...}"""
    return {
        f"customer.{name}": item if isinstance(item, list) else [item]
        for name, item in attributes.items()
    }
