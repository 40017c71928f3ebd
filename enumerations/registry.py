"""The 16 enumeration kinds of SPEC §7: their tables and the keys their responses use."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from enumerations import models as m


@dataclass(frozen=True)
class Kind:
    name: str
    model: type[m.Enumeration]
    response_key: str


_KIND_LIST = [
    Kind("titles", m.Title, "titles"),
    Kind("genders", m.Gender, "gender"),
    Kind("marital_status", m.MaritalStatus, "marital_status"),
    Kind("nationalities", m.Nationality, "nationalities"),
    Kind("countries", m.Country, "countries"),
    Kind("mobile_country_codes", m.MobileCountryCode, "mobile_country_code"),
    Kind("id_types", m.IdType, "id_types"),
    Kind("employment_type", m.EmploymentType, "employment_type"),
    Kind("occupation", m.Occupation, "occupation"),
    Kind("volume_of_assets", m.VolumeOfAssets, "volume_of_assets"),
    Kind("main_income_source", m.MainIncomeSource, "main_income_source"),
    Kind("annual_income", m.AnnualIncome, "annual_income"),
    Kind(
        "social_professional_category", m.SocialProfessionalCategory, "social_professional_category"
    ),
    Kind("purpose_of_account", m.PurposeOfAccount, "purpose_of_account"),
    Kind("kyc_types", m.KycType, "kyc_types"),
    Kind("document_types", m.DocumentType, "document_types"),
]

KINDS: dict[str, Kind] = {k.name: k for k in _KIND_LIST}
MODELS: tuple[type[models.Model], ...] = tuple(k.model for k in _KIND_LIST)
