"""HTTP Basic authentication with API-client credentials, and the tenancy checks of SPEC §2."""

from __future__ import annotations

import base64
import binascii
import hmac
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from core import error_codes, request_context
from core.exceptions import ApiError
from enumerations.catalog import version_subquery
from programs.models import ApiClient, hash_secret

# Compared against for unknown client ids; no secret hashes to it (it is not hex).
UNKNOWN_CLIENT_HASH = "-" * 64

# last_used_at is advisory; write it at most this often so reads stay read-only.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def parse_basic(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    client_id, sep, secret = decoded.partition(":")
    # NUL cannot be looked up in PostgreSQL (the driver raises): refused like any bad header
    if not sep or not client_id or not secret or "\x00" in decoded:
        return None
    return client_id, secret


def client_ip(request: Request) -> str:
    """The caller's address; X-Forwarded-For counts only behind NUM_TRUSTED_PROXIES proxies."""
    trusted = settings.NUM_TRUSTED_PROXIES
    if trusted:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= trusted:
            return forwarded[-trusted]
    return str(request.META.get("REMOTE_ADDR", ""))


class ApiClientAuthentication(BaseAuthentication):
    """One query: the client, its program and the enumeration catalog version."""

    def authenticate(self, request: Request) -> tuple[ApiClient, ApiClient]:
        credentials = parse_basic(request.META.get("HTTP_AUTHORIZATION", ""))
        if credentials is None:
            raise ApiError(error_codes.INVALID_CREDENTIALS)
        client_id, secret = credentials
        # client_id is unique: no ORDER BY (`.first()` would add one, and PostgreSQL may then
        # walk the primary key for an id that does not exist, which times differently)
        found = (
            ApiClient.objects.select_related("program")
            .annotate(catalog_version=version_subquery())
            .filter(client_id=client_id)
            .order_by()[:1]
        )
        client = next(iter(found), None)
        if client is None:
            # the same keyed hash and compare as for a known client: an unknown id and a
            # wrong secret must take the same time, or the timing tells which ids exist
            hmac.compare_digest(UNKNOWN_CLIENT_HASH, hash_secret(client_id, secret))
            raise ApiError(error_codes.INVALID_CREDENTIALS)
        if not client.check_secret(secret) or not client.is_active:
            raise ApiError(error_codes.INVALID_CREDENTIALS)
        now = timezone.now()
        if client.last_used_at is None or now - client.last_used_at > LAST_USED_RESOLUTION:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
            client.last_used_at = now
        request_context.update(client_id=client.client_id, program=client.program.code)
        return client, client

    def authenticate_header(self, request: Request) -> str:
        return 'Basic realm="onboard"'


class ProgramAccess(BasePermission):
    """The URL's program must be the client's; then the method and IP allowlist apply."""

    def has_permission(self, request: Request, view: Any) -> bool:
        client = request.auth
        if not isinstance(client, ApiClient):
            raise ApiError(error_codes.INVALID_CREDENTIALS)
        program_code = view.kwargs.get("program")
        if program_code != client.program.code or not client.program.is_active:
            raise ApiError(error_codes.INVALID_TENANT)
        if not client.allows_method(request.method or ""):
            raise ApiError(error_codes.RESTRICTED_RESOURCE, params={"method": request.method})
        if not client.allows_ip(client_ip(request)):
            raise ApiError(error_codes.IP_NOT_ALLOWED)
        return True
