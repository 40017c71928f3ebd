"""Seed data: ISO 3166 (pycountry), calling codes (phonenumbers), curated lists for the rest."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
import pycountry
from django.db import transaction

from enumerations.catalog import bump_version
from enumerations.registry import KINDS

# Demonyms for the nationalities list; countries without one here use the country name.
DEMONYMS: dict[str, str] = {
    "AFG": "Afghan",
    "ALB": "Albanian",
    "DZA": "Algerian",
    "ARG": "Argentine",
    "AUS": "Australian",
    "AUT": "Austrian",
    "BGD": "Bangladeshi",
    "BEL": "Belgian",
    "BRA": "Brazilian",
    "BRN": "Bruneian",
    "KHM": "Cambodian",
    "CAN": "Canadian",
    "CHL": "Chilean",
    "CHN": "Chinese",
    "COL": "Colombian",
    "HRV": "Croatian",
    "CZE": "Czech",
    "DNK": "Danish",
    "EGY": "Egyptian",
    "FIN": "Finnish",
    "FRA": "French",
    "DEU": "German",
    "GHA": "Ghanaian",
    "GRC": "Greek",
    "HKG": "Hongkonger",
    "HUN": "Hungarian",
    "IND": "Indian",
    "IDN": "Indonesian",
    "IRN": "Iranian",
    "IRQ": "Iraqi",
    "IRL": "Irish",
    "ISR": "Israeli",
    "ITA": "Italian",
    "JPN": "Japanese",
    "KEN": "Kenyan",
    "KOR": "South Korean",
    "LAO": "Lao",
    "MYS": "Malaysian",
    "MEX": "Mexican",
    "MMR": "Burmese",
    "NPL": "Nepali",
    "NLD": "Dutch",
    "NZL": "New Zealander",
    "NGA": "Nigerian",
    "NOR": "Norwegian",
    "PAK": "Pakistani",
    "PER": "Peruvian",
    "PHL": "Filipino",
    "POL": "Polish",
    "PRT": "Portuguese",
    "QAT": "Qatari",
    "ROU": "Romanian",
    "RUS": "Russian",
    "SAU": "Saudi",
    "SGP": "Singaporean",
    "ZAF": "South African",
    "ESP": "Spanish",
    "LKA": "Sri Lankan",
    "SWE": "Swedish",
    "CHE": "Swiss",
    "TWN": "Taiwanese",
    "THA": "Thai",
    "TUR": "Turkish",
    "UKR": "Ukrainian",
    "ARE": "Emirati",
    "GBR": "British",
    "USA": "American",
    "VNM": "Vietnamese",
}

SIMPLE_LISTS: dict[str, list[tuple[str, str]]] = {
    "titles": [("Mr", "Mr"), ("Miss", "Miss"), ("Dr", "Dr"), ("Mrs", "Mrs"), ("Madam", "Madam")],
    "genders": [("male", "Male"), ("female", "Female"), ("other", "Other")],
    "marital_status": [
        ("single", "Single"),
        ("married", "Married"),
        ("divorced", "Divorced"),
        ("widowed", "Widowed"),
        ("separated", "Separated"),
    ],
    # Codes of the free-text-like kinds keep to the characters the v1 rules allow
    # (letters, digits, spaces and / # ( ) . , -), so every code passes its own _rule check.
    "employment_type": [
        ("Full-time", "Employed full-time"),
        ("Part-time", "Employed part-time"),
        ("Self-employed", "Self-employed"),
        ("Contract", "Contract / freelance"),
        ("Unemployed", "Unemployed"),
        ("Student", "Student"),
        ("Retired", "Retired"),
        ("Homemaker", "Homemaker"),
    ],
    "occupation": [
        ("Accountant", "Accountant"),
        ("Administrator", "Administrator"),
        ("Business Owner", "Business owner"),
        ("Civil Servant", "Civil servant"),
        ("Clerk", "Clerk"),
        ("Doctor", "Doctor"),
        ("Driver", "Driver"),
        ("Engineer", "Engineer"),
        ("IT Professional", "IT professional"),
        ("Lawyer", "Lawyer"),
        ("Manager", "Manager"),
        ("Military", "Military / police"),
        ("Nurse", "Nurse"),
        ("Sales", "Sales"),
        ("Teacher", "Teacher"),
        ("Technician", "Technician"),
        ("Student", "Student"),
        ("Retired", "Retired"),
        ("Homemaker", "Homemaker"),
        ("Other", "Other"),
    ],
    "volume_of_assets": [
        ("Below 10,000", "Below 10,000"),
        ("10,000 - 50,000", "10,000 to 50,000"),
        ("50,001 - 100,000", "50,001 to 100,000"),
        ("100,001 - 500,000", "100,001 to 500,000"),
        ("Above 500,000", "Above 500,000"),
    ],
    "main_income_source": [
        ("Salary", "Salary"),
        ("Business Income", "Business income"),
        ("Investments", "Investments"),
        ("Savings", "Savings"),
        ("Pension", "Pension"),
        ("Inheritance", "Inheritance"),
        ("Allowance", "Allowance / family support"),
        ("Other", "Other"),
    ],
    "annual_income": [
        ("Below 20,000", "Below 20,000"),
        ("20,000 - 50,000", "20,000 to 50,000"),
        ("50,001 - 100,000", "50,001 to 100,000"),
        ("100,001 - 200,000", "100,001 to 200,000"),
        ("Above 200,000", "Above 200,000"),
    ],
    "social_professional_category": [
        ("Farmer", "Farmer"),
        ("Craftsman", "Craftsman, trader, business owner"),
        ("Executive", "Executive, higher intellectual profession"),
        ("Intermediate", "Intermediate profession"),
        ("Employee", "Employee"),
        ("Worker", "Worker"),
        ("Retired", "Retired"),
        ("Unemployed", "Without professional activity"),
    ],
    "purpose_of_account": [
        ("Savings", "Savings"),
        ("Payments", "Everyday payments"),
        ("Remittance", "Remittance"),
        ("Salary", "Salary crediting"),
        ("Online Shopping", "Online shopping"),
        ("Travel", "Travel"),
        ("Business", "Business expenses"),
    ],
    "kyc_types": [
        ("ekyc", "Electronic KYC (document + selfie)"),
        ("manual", "Manual review"),
        ("myinfo", "Singapore MyInfo"),
        ("video", "Video call"),
    ],
    "document_types": [
        ("passport", "Passport"),
        ("national_id_front", "National ID (front)"),
        ("national_id_back", "National ID (back)"),
        ("drivers_license", "Driver's licence"),
        ("proof_of_address", "Proof of address (utility bill, bank statement, < 3 months)"),
        ("selfie", "Selfie"),
        ("residence_permit", "Residence permit"),
        ("bank_statement", "Bank statement"),
    ],
}

ID_TYPES: list[dict[str, Any]] = [
    {
        "code": "passport",
        "description": "Passport",
        "display_name": "Passport",
        "regex_validation": r"^[A-Za-z0-9]{6,20}$",
        "max_duplicate": 1,
        "masking": True,
        "is_primary": True,
        "is_secondary": True,
        "country": "",
        "checksum": "",
    },
    {
        "code": "nric",
        "description": "Singapore NRIC",
        "display_name": "NRIC",
        "regex_validation": r"^[STFGMstfgm][0-9]{7}[A-Za-z]$",
        "max_duplicate": 1,
        "masking": True,
        "is_primary": True,
        "is_secondary": False,
        "country": "SGP",
        "checksum": "sg_nric",
    },
    {
        "code": "fin",
        "description": "Singapore Foreign Identification Number",
        "display_name": "FIN",
        "regex_validation": r"^[FGMfgm][0-9]{7}[A-Za-z]$",
        "max_duplicate": 1,
        "masking": True,
        "is_primary": True,
        "is_secondary": False,
        "country": "SGP",
        "checksum": "sg_nric",
    },
    {
        "code": "drivers_id",
        "description": "Driver's licence",
        "display_name": "Driver's licence",
        "regex_validation": r"^[A-Za-z0-9-]{4,20}$",
        "max_duplicate": 1,
        "masking": True,
        "is_primary": True,
        "is_secondary": True,
        "country": "",
        "checksum": "",
    },
    {
        "code": "national_id",
        "description": "National identity card",
        "display_name": "National ID",
        "regex_validation": r"^[A-Za-z0-9-]{4,30}$",
        "max_duplicate": 1,
        "masking": True,
        "is_primary": True,
        "is_secondary": True,
        "country": "",
        "checksum": "",
    },
]


@dataclass
class SeedResult:
    kind: str
    total: int = 0
    added: int = 0
    updated: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)


def _country_rows() -> Iterator[dict[str, Any]]:
    for i, c in enumerate(sorted(pycountry.countries, key=lambda c: c.alpha_3)):
        yield {
            "code": c.alpha_3,
            "description": c.name,
            "alpha_2": c.alpha_2,
            "numeric": c.numeric,
            "sort_order": i,
        }


def _nationality_rows() -> Iterator[dict[str, Any]]:
    for i, c in enumerate(sorted(pycountry.countries, key=lambda c: c.alpha_3)):
        yield {"code": c.alpha_3, "description": DEMONYMS.get(c.alpha_3, c.name), "sort_order": i}


def _calling_code_rows() -> Iterator[dict[str, Any]]:
    for i, (code, regions) in enumerate(sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items())):
        names = []
        for region in regions:
            country = pycountry.countries.get(alpha_2=region)
            if country is not None:
                names.append(country.name)
        if not names:  # non-geographic codes (001: satellite, global services)
            continue
        # +1 and +7 are shared by many regions; name the main one first and count the rest
        description = ", ".join(names[:3])
        if len(names) > 3:
            description += f" and {len(names) - 3} more"
        yield {"code": str(code), "description": description, "sort_order": i}


def seed_rows(kind: str) -> list[dict[str, Any]]:
    if kind == "countries":
        return list(_country_rows())
    if kind == "nationalities":
        return list(_nationality_rows())
    if kind == "mobile_country_codes":
        return list(_calling_code_rows())
    if kind == "id_types":
        return [{**row, "sort_order": i} for i, row in enumerate(ID_TYPES)]
    return [
        {"code": code, "description": description, "sort_order": i}
        for i, (code, description) in enumerate(SIMPLE_LISTS[kind])
    ]


@transaction.atomic
def seed(kinds: list[str] | None = None, *, refresh: bool = False) -> list[SeedResult]:
    """Insert the missing values of each kind; with refresh, also reset changed descriptions.

    Existing rows are otherwise left alone, so an operator's renames and deactivations survive
    re-seeding, and seeding twice changes nothing.
    """
    results = []
    for name in kinds or list(KINDS):
        model = KINDS[name].model
        rows = seed_rows(name)
        existing = {obj.code.lower(): obj for obj in model._default_manager.all()}
        to_add, to_update = [], []
        for row in rows:
            obj = existing.get(row["code"].lower())
            if obj is None:
                to_add.append(model(**row))
            elif refresh and any(getattr(obj, k) != v for k, v in row.items() if k != "sort_order"):
                for k, v in row.items():
                    setattr(obj, k, v)
                to_update.append(obj)
        if to_add:
            model._default_manager.bulk_create(to_add)
        if to_update:
            model._default_manager.bulk_update(to_update, [k for k in rows[0] if k != "code"])
        results.append(
            SeedResult(
                kind=name,
                total=model._default_manager.count(),
                added=len(to_add),
                updated=len(to_update),
            )
        )
    if any(r.added or r.updated for r in results):
        bump_version()
    return results
