"""Tenants (programs) and the API clients that act for them."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from core.models import TimeStampedModel
from enumerations.registry import KINDS

# Fields every program requires (v1 names); programs add to these.
BASE_REQUIRED_FIELDS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "email",
    "mobile_country_code",
    "mobile",
)

# Fields a program may add to its required set (v1 names; `address` is v2-only).
OPTIONAL_REQUIRABLE_FIELDS: tuple[str, ...] = (
    "middle_name",
    "preferred_name",
    "password",
    "title",
    "gender",
    "birthday",
    "place_of_birth",
    "nationality",
    "marital_status",
    "id_type",
    "id_number",
    "id_date_issue",
    "id_date_expiry",
    "country_of_issue",
    "alt_id_type",
    "alt_id_number",
    "mothers_maiden_name",
    "mothers_first_name",
    "mothers_last_name",
    "customer_id",
    "partner_id",
    "client_reference_id",
    "agent_id",
    "employer_name",
    "employment_type",
    "source_of_funds",
    "occupation",
    "volume_of_assets",
    "nature_of_business",
    "purpose_of_account",
    "address",
)

READ_METHODS = ("GET", "HEAD", "OPTIONS")
ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def validate_required_fields(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError("Required fields must be a list of field names.")
    unknown = sorted(set(value) - set(OPTIONAL_REQUIRABLE_FIELDS) - set(BASE_REQUIRED_FIELDS))
    if unknown:
        raise ValidationError(f"Unknown field names: {', '.join(unknown)}")


def validate_restrictions(value: object) -> None:
    if not isinstance(value, dict):
        raise ValidationError("Restrictions must be an object of kind → list of codes.")
    for kind, codes in value.items():
        if kind not in KINDS:
            raise ValidationError(f"Unknown enumeration kind: {kind}")
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise ValidationError(f"Restriction for {kind} must be a list of codes.")


def validate_cidrs(value: object) -> None:
    if not isinstance(value, list):
        raise ValidationError("IP allowlist must be a list of CIDRs.")
    for cidr in value:
        try:
            ipaddress.ip_network(str(cidr), strict=False)
        except ValueError as exc:
            raise ValidationError(f"Invalid CIDR: {cidr}") from exc


# Partner-client permissions beyond CRUD on users (SPEC §11, §12); default off.
CLIENT_PERMISSIONS: tuple[str, ...] = ("risk_exceptions", "kyc_decisions")


def validate_permissions(value: object) -> None:
    if not isinstance(value, list) or not set(value) <= set(CLIENT_PERMISSIONS):
        raise ValidationError(f"Permissions must be a subset of {', '.join(CLIENT_PERMISSIONS)}.")


def validate_methods(value: object) -> None:
    if not isinstance(value, list) or not set(value) <= set(ALL_METHODS):
        raise ValidationError(f"Allowed methods must be a subset of {', '.join(ALL_METHODS)}.")


class Program(TimeStampedModel):
    """A tenant: a partner program whose customers are onboarded under its own rules."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=3, help_text="ISO 3166 alpha-3 country of issuance.")
    min_age = models.PositiveSmallIntegerField(
        default=18, validators=[MinValueValidator(0), MaxValueValidator(150)]
    )
    required_fields = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_required_fields],
        help_text="Fields required on top of the base set (v1 names, e.g. birthday, id_type).",
    )
    restrictions = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_restrictions],
        help_text='Per-kind allowed codes, e.g. {"mobile_country_codes": ["65"]}.',
    )
    kyc_required = models.BooleanField(
        default=False, help_text="v2 creates start in pending_verification."
    )
    write_rate_limit = models.PositiveIntegerField(
        default=1200, help_text="Writes per minute per API client."
    )
    read_rate_limit = models.PositiveIntegerField(
        default=6000, help_text="Reads per minute per API client."
    )
    is_active = models.BooleanField(default=True)
    retention_days = models.PositiveIntegerField(
        default=1825,
        help_text="Days a closed user's personal data is kept before erasure (SPEC §15; "
        "AML record keeping: 5 years).",
    )

    class Meta:
        ordering = ("code",)
        constraints = [
            models.CheckConstraint(condition=Q(min_age__lte=150), name="program_min_age_range"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def all_required_fields(self) -> tuple[str, ...]:
        extra = [f for f in self.required_fields if f not in BASE_REQUIRED_FIELDS]
        return (*BASE_REQUIRED_FIELDS, *extra)


def hash_secret(client_id: str, secret: str) -> str:
    """Keyed hash of a client secret. Secrets are 256-bit random, so HMAC is enough."""
    key = settings.API_SECRET_PEPPER.encode()
    return hmac.new(key, f"{client_id}:{secret}".encode(), hashlib.sha256).hexdigest()


class ApiClient(TimeStampedModel):
    """Credentials a program's backend uses; the secret is stored only as a keyed hash."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="api_clients")
    name = models.CharField(max_length=100, blank=True)
    client_id = models.CharField(max_length=64, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    secret_hint = models.CharField(
        max_length=8, editable=False, help_text="First characters of the secret, to tell apart."
    )
    allowed_methods = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_methods],
        help_text="Empty means every method; read-only clients have GET only.",
    )
    allowed_cidrs = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_cidrs],
        help_text="Empty means any address.",
    )
    permissions = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_permissions],
        help_text="Extra partner permissions: risk_exceptions (§11), kyc_decisions (§12).",
    )
    is_active = models.BooleanField(default=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("program__code", "client_id")
        verbose_name = "API client"

    def __str__(self) -> str:
        return self.client_id

    @staticmethod
    def new_client_id() -> str:
        return "cl_" + secrets.token_hex(12)

    def set_new_secret(self) -> str:
        """Give the client a fresh secret; returns it (the only time it is ever visible)."""
        if not self.client_id:
            self.client_id = self.new_client_id()
        secret = secrets.token_urlsafe(32)
        self.secret_hash = hash_secret(self.client_id, secret)
        self.secret_hint = secret[:4]
        return secret

    def check_secret(self, secret: str) -> bool:
        return hmac.compare_digest(self.secret_hash, hash_secret(self.client_id, secret))

    @property
    def is_read_only(self) -> bool:
        return bool(self.allowed_methods) and set(self.allowed_methods) <= set(READ_METHODS)

    def allows_method(self, method: str) -> bool:
        if not self.allowed_methods:
            return True
        if method in ("HEAD", "OPTIONS"):
            method = "GET"
        return method in self.allowed_methods

    def has_permission(self, permission: str) -> bool:
        """Whether an operator granted this client `permission` (one of CLIENT_PERMISSIONS)."""
        return permission in self.permissions

    def allows_ip(self, address: str) -> bool:
        if not self.allowed_cidrs:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(c, strict=False) for c in self.allowed_cidrs)
