"""Lookup tables behind every enumerated user field, on one abstract base.

Users store codes, not foreign keys: a value an operator deactivates stays valid on the users
that hold it and is refused for new input. Values are never deleted (the admin does not offer
it), so nothing a user references can disappear.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from core.models import TimeStampedModel


class Enumeration(TimeStampedModel):
    code = models.CharField(max_length=64)
    description = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True, db_index=True)
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ("sort_order", "code")
        constraints = [
            models.UniqueConstraint(Lower("code"), name="%(app_label)s_%(class)s_code_ci_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.description}"


class Title(Enumeration):
    """Salutation titles (Mr, Miss, Dr, Mrs, Madam)."""

    class Meta(Enumeration.Meta):
        pass


class Gender(Enumeration):
    """Genders."""

    class Meta(Enumeration.Meta):
        pass


class MaritalStatus(Enumeration):
    """Marital statuses."""

    class Meta(Enumeration.Meta):
        verbose_name_plural = "marital statuses"


class Country(Enumeration):
    """ISO 3166-1 countries: `code` is alpha-3, with alpha-2 and numeric codes beside it."""

    alpha_2 = models.CharField(max_length=2, blank=True)
    numeric = models.CharField(max_length=3, blank=True)

    class Meta(Enumeration.Meta):
        verbose_name_plural = "countries"


class Nationality(Enumeration):
    """Nationalities keyed by the country's alpha-3 code; description is the demonym."""

    class Meta(Enumeration.Meta):
        verbose_name_plural = "nationalities"


class MobileCountryCode(Enumeration):
    """ITU calling codes without '+' (e.g. 65), described by the regions that use them."""

    class Meta(Enumeration.Meta):
        pass


class IdType(Enumeration):
    """Identity document types and the rules their numbers follow."""

    class Checksum(models.TextChoices):
        NONE = "", "none"
        SG_NRIC = "sg_nric", "Singapore NRIC/FIN (stdnum.sg.nric)"
        MY_NRIC = "my_nric", "Malaysia NRIC (stdnum.my.nric)"
        IN_AADHAAR = "in_aadhaar", "India Aadhaar (stdnum.in_.aadhaar)"
        ID_NIK = "id_nik", "Indonesia NIK (stdnum.id.nik)"
        TH_PIN = "th_pin", "Thailand PIN (stdnum.th.pin)"
        CN_RIC = "cn_ric", "China RIC (stdnum.cn.ric)"

    display_name = models.CharField(max_length=100)
    regex_validation = models.CharField(max_length=255, blank=True)
    max_duplicate = models.PositiveIntegerField(default=1)
    masking = models.BooleanField(default=False)
    is_primary = models.BooleanField(default=True, help_text="Accepted as the primary id.")
    is_secondary = models.BooleanField(default=False, help_text="Accepted as the alternative id.")
    country = models.CharField(max_length=3, blank=True, help_text="Issuing country, alpha-3.")
    checksum = models.CharField(max_length=20, choices=Checksum.choices, blank=True, default="")

    class Meta(Enumeration.Meta):
        constraints = [
            *Enumeration.Meta.constraints,
            models.CheckConstraint(
                condition=models.Q(max_duplicate__gte=1), name="idtype_max_duplicate_positive"
            ),
        ]


class EmploymentType(Enumeration):
    """Employment types."""

    class Meta(Enumeration.Meta):
        pass


class Occupation(Enumeration):
    """Occupations."""

    class Meta(Enumeration.Meta):
        pass


class VolumeOfAssets(Enumeration):
    """Ranges of the account holder's assets."""

    class Meta(Enumeration.Meta):
        verbose_name_plural = "volumes of assets"


class MainIncomeSource(Enumeration):
    """Sources of funds / main income sources."""

    class Meta(Enumeration.Meta):
        pass


class AnnualIncome(Enumeration):
    """Annual income ranges."""

    class Meta(Enumeration.Meta):
        pass


class SocialProfessionalCategory(Enumeration):
    """Social-professional categories."""

    class Meta(Enumeration.Meta):
        verbose_name_plural = "social professional categories"


class PurposeOfAccount(Enumeration):
    """Purposes of opening the account."""

    class Meta(Enumeration.Meta):
        verbose_name_plural = "purposes of account"


class KycType(Enumeration):
    """KYC methods a program may use."""

    class Meta(Enumeration.Meta):
        pass


class DocumentType(Enumeration):
    """Types of KYC documents."""

    class Meta(Enumeration.Meta):
        pass


class CatalogVersion(models.Model):
    """One row whose counter moves on every enumeration change; caches key on it."""

    version = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="catalog_version_single_row")
        ]

    def __str__(self) -> str:
        return f"catalog v{self.version}"
