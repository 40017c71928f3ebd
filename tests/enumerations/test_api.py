"""SPEC §7: every kind in v1 and v2 with its wrapper key, shapes, and program restrictions."""

import pytest

from enumerations.models import Title
from enumerations.registry import KINDS

WRAPPER = {name: kind.response_key for name, kind in KINDS.items()}


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_has_its_wrapper_key(api_a, version, kind):
    response = api_a.get(f"/alpha/{version}/users/enumerations/{kind}")
    assert response.status_code == 200
    body = response.json()
    assert list(body) == [WRAPPER[kind]]
    values = body[WRAPPER[kind]]
    if kind == "id_types":
        assert set(values) == {"primary", "secondary"}
        assert values["primary"]
    else:
        assert values
        assert all(set(v) == {"code", "description"} for v in values)


def test_wrapper_key_exceptions():
    assert WRAPPER["genders"] == "gender"
    assert WRAPPER["mobile_country_codes"] == "mobile_country_code"


def test_countries_iso_and_numeric(api_a):
    iso = api_a.get("/alpha/v1/users/enumerations/countries").json()["countries"]
    assert len(iso) >= 240
    assert {"code": "SGP", "description": "Singapore"} in iso
    numeric = api_a.get("/alpha/v1/users/enumerations/countries?type=numeric").json()["countries"]
    assert {"code": "702", "description": "Singapore"} in numeric
    assert api_a.get("/alpha/v1/users/enumerations/countries?type=ISO").json()["countries"] == iso


def test_fixed_lists(api_a):
    def codes(kind: str, key: str) -> list[str]:
        return [v["code"] for v in api_a.get(f"/alpha/v2/users/enumerations/{kind}").json()[key]]

    assert codes("titles", "titles") == ["Mr", "Miss", "Dr", "Mrs", "Madam"]
    assert codes("genders", "gender") == ["male", "female", "other"]
    assert codes("marital_status", "marital_status") == [
        "single",
        "married",
        "divorced",
        "widowed",
        "separated",
    ]
    mcc = api_a.get("/alpha/v1/users/enumerations/mobile_country_codes").json()[
        "mobile_country_code"
    ]
    assert {"code": "65", "description": "Singapore"} in mcc
    nationalities = api_a.get("/alpha/v1/users/enumerations/nationalities").json()["nationalities"]
    assert {"code": "SGP", "description": "Singaporean"} in nationalities


def test_id_types_shape(api_a):
    body = api_a.get("/alpha/v1/users/enumerations/id_types").json()["id_types"]
    primary = {i["code"]: i["description"] for i in body["primary"]}
    secondary = {i["code"] for i in body["secondary"]}
    assert primary["passport"] == {
        "display_name": "Passport",
        "regex_validation": "^[A-Za-z0-9]{6,20}$",
        "max_duplicate": 1,
        "masking": True,
    }
    assert {"passport", "nric", "fin", "drivers_id", "national_id"} <= set(primary)
    assert "passport" in secondary and "nric" not in secondary


def test_program_restrictions_apply(api_a, api_b, program_a):
    program_a.restrictions = {"mobile_country_codes": ["65"], "countries": ["SGP", "MYS"]}
    program_a.save()
    mcc = api_a.get("/alpha/v1/users/enumerations/mobile_country_codes").json()
    assert mcc == {"mobile_country_code": [{"code": "65", "description": "Singapore"}]}
    countries = api_a.get("/alpha/v2/users/enumerations/countries?type=numeric").json()["countries"]
    assert {c["code"] for c in countries} == {"702", "458"}
    # the other program is not restricted
    assert (
        len(
            api_b.get("/beta/v1/users/enumerations/mobile_country_codes").json()[
                "mobile_country_code"
            ]
        )
        > 100
    )


def test_operator_edit_is_visible_at_once(api_a):
    assert "Madam" in [
        t["code"] for t in api_a.get("/alpha/v1/users/enumerations/titles").json()["titles"]
    ]
    title = Title.objects.get(code="Madam")
    title.is_active = False
    title.save()
    codes = [t["code"] for t in api_a.get("/alpha/v1/users/enumerations/titles").json()["titles"]]
    assert "Madam" not in codes
    Title.objects.create(code="Prof", description="Professor", sort_order=9)
    codes = [t["code"] for t in api_a.get("/alpha/v1/users/enumerations/titles").json()["titles"]]
    assert codes[-1] == "Prof"
    title = Title.objects.get(code="Mr")
    title.description = "Mister"
    title.save()
    assert {"code": "Mr", "description": "Mister"} in api_a.get(
        "/alpha/v1/users/enumerations/titles"
    ).json()["titles"]
