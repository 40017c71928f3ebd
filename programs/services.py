"""Creating programs and issuing API client credentials (commands and admin share these)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

import pycountry
from django.core.exceptions import ValidationError
from django.db import transaction

from programs.models import (
    BASE_REQUIRED_FIELDS,
    OPTIONAL_REQUIRABLE_FIELDS,
    READ_METHODS,
    ApiClient,
    Program,
)
from programs.signals import program_created


def _country_alpha3(value: str) -> str:
    country = pycountry.countries.get(alpha_3=value.upper())
    if country is None:
        raise ValidationError(f"Unknown ISO 3166 alpha-3 country: {value}")
    return str(country.alpha_3)


@transaction.atomic
def program_create(
    *,
    code: str,
    name: str,
    country: str,
    min_age: int = 18,
    required_fields: Iterable[str] = (),
    kyc_required: bool = False,
    restrictions: dict[str, list[str]] | None = None,
) -> Program:
    extra = [f.strip() for f in required_fields if f.strip()]
    unknown = sorted(set(extra) - set(OPTIONAL_REQUIRABLE_FIELDS) - set(BASE_REQUIRED_FIELDS))
    if unknown:
        raise ValidationError(f"Unknown required field(s): {', '.join(unknown)}")
    if Program.objects.filter(code=code).exists():
        raise ValidationError(f"Program {code} already exists.")
    program = Program(
        code=code,
        name=name,
        country=_country_alpha3(country),
        min_age=min_age,
        required_fields=[f for f in dict.fromkeys(extra) if f not in BASE_REQUIRED_FIELDS],
        kyc_required=kyc_required,
        restrictions=restrictions or {},
    )
    program.full_clean()
    program.save()
    # the risk app gives it default settings (risk/signals.py): screened from its first write
    program_created.send(sender=Program, program=program)
    return program


@transaction.atomic
def api_client_create(
    *,
    program: Program,
    name: str = "",
    read_only: bool = False,
    allowed_cidrs: Iterable[str] = (),
    permissions: Iterable[str] = (),
) -> tuple[ApiClient, str]:
    """A new client for the program; returns it and its secret (shown once, stored hashed)."""
    cidrs = []
    for cidr in allowed_cidrs:
        try:
            cidrs.append(str(ipaddress.ip_network(cidr.strip(), strict=False)))
        except ValueError as exc:
            raise ValidationError(f"Invalid CIDR: {cidr}") from exc
    client = ApiClient(
        program=program,
        name=name,
        allowed_methods=list(READ_METHODS[:1]) if read_only else [],
        allowed_cidrs=cidrs,
        permissions=list(dict.fromkeys(permissions)),
    )
    secret = client.set_new_secret()
    client.full_clean(exclude=["program", "client_id", "secret_hash", "secret_hint"])
    client.save()
    return client, secret


@transaction.atomic
def api_client_rotate_secret(*, client: ApiClient) -> str:
    """Replace the secret; the old one stops working at once."""
    secret = client.set_new_secret()
    client.save(update_fields=["secret_hash", "secret_hint", "updated_at"])
    return secret


@transaction.atomic
def api_client_set_active(*, client: ApiClient, active: bool) -> ApiClient:
    """Deactivate (or re-activate) a client: its next request is refused (or accepted) at once."""
    client.is_active = active
    client.save(update_fields=["is_active", "updated_at"])
    return client
