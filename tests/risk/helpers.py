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


def one_typo_variants(name: str) -> set[str]:
    """Every one-letter deletion, substitution and insertion of a name (a few letters)."""
    variants = set()
    for i in range(len(name) + 1):
        variants.add(name[:i] + name[i + 1 :])
        for letter in "aeksmtrnv":
            variants.add(name[:i] + letter + name[i + 1 :])
            variants.add(name[:i] + letter + name[i:])
    return {v for v in variants if v.strip()}
