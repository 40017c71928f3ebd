"""Programs and API clients in the admin: create, issue (secret once), rotate, deactivate."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from programs.models import ApiClient, Program
from risk.models import RiskSettings
from tests.conftest import basic
from tests.factories import ApiClientFactory

PROGRAM_ADD = reverse("admin:programs_program_add")
CLIENT_ADD = reverse("admin:programs_apiclient_add")


def program_form(**overrides: object) -> dict:
    data = {
        "code": "gamma",
        "name": "Gamma Card",
        "country": "sgp",
        "min_age": "21",
        "write_rate_limit": "1200",
        "read_rate_limit": "6000",
        "is_active": "on",
        "required_fields": ["birthday", "nationality"],
        "restrict_mobile_country_codes": "65",
        "restrict_nationalities": "sgp, MYS",
        "api_clients-TOTAL_FORMS": "0",
        "api_clients-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_admin_creates_a_program_through_the_service(admin_op, seeded) -> None:
    response = admin_op.post(PROGRAM_ADD, program_form())

    assert response.status_code == 302, response.context["adminform"].form.errors
    program = Program.objects.get(code="gamma")
    assert (program.country, program.min_age) == ("SGP", 21)
    assert program.required_fields == ["birthday", "nationality"]
    assert program.restrictions == {"mobile_country_codes": ["65"], "nationalities": ["SGP", "MYS"]}
    # program_create gives every program its default risk settings
    assert RiskSettings.objects.filter(program=program).exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"restrict_nationalities": "SGP, XXX"}, "restrict_nationalities"),
        ({"country": "ZZZ"}, "country"),
        ({"required_fields": ["shoe_size"]}, "required_fields"),
        ({"code": "has space"}, "code"),
    ],
)
def test_invalid_program_input_saves_nothing(admin_op, seeded, overrides, field) -> None:
    response = admin_op.post(PROGRAM_ADD, program_form(**overrides))

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Program.objects.filter(name="Gamma Card").exists()


def test_program_code_is_fixed_and_programs_are_never_deleted(admin_op, program_a) -> None:
    response = admin_op.get(reverse("admin:programs_program_change", args=[program_a.pk]))

    assert response.status_code == 200
    assert 'name="code"' not in response.content.decode()
    assert (
        admin_op.get(reverse("admin:programs_program_delete", args=[program_a.pk])).status_code
        == 403
    )


def test_program_restrictions_round_trip_on_the_change_form(admin_op, program_a) -> None:
    url = reverse("admin:programs_program_change", args=[program_a.pk])
    data = program_form(restrict_nationalities="", restrict_titles="mr, Dr")
    data.pop("code")

    response = admin_op.post(url, data)

    assert response.status_code == 302
    program_a.refresh_from_db()
    assert program_a.restrictions == {"mobile_country_codes": ["65"], "titles": ["Mr", "Dr"]}
    html = admin_op.get(url).content.decode()
    assert 'value="Mr, Dr"' in html


def secret_from(response) -> str:  # type: ignore[no-untyped-def]
    match = re.search(r'<code id="client-secret">([^<]+)</code>', response.content.decode())
    assert match, "the secret page shows the secret"
    return match.group(1)


def test_issuing_a_client_shows_its_secret_once(admin_op, program_a, client) -> None:
    response = admin_op.post(
        CLIENT_ADD,
        {"program": program_a.pk, "name": "backend", "allowed_cidrs": "10.0.0.0/8\n"},
    )

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = secret_from(response)
    api_client = ApiClient.objects.get(name="backend")
    assert api_client.check_secret(secret)
    assert secret not in api_client.secret_hash
    assert api_client.allowed_cidrs == ["10.0.0.0/8"]
    change_page = admin_op.get(reverse("admin:programs_apiclient_change", args=[api_client.pk]))
    html = change_page.content.decode()
    assert secret not in html and api_client.secret_hash not in html


def test_issuing_a_read_only_client(admin_op, program_a) -> None:
    admin_op.post(CLIENT_ADD, {"program": program_a.pk, "name": "reporting", "read_only": "on"})

    assert ApiClient.objects.get(name="reporting").allowed_methods == ["GET"]


def test_a_bad_cidr_issues_nothing(admin_op, program_a) -> None:
    response = admin_op.post(CLIENT_ADD, {"program": program_a.pk, "allowed_cidrs": "10.0.0/33"})

    assert response.status_code == 200
    assert "Not a CIDR" in response.content.decode()
    assert not ApiClient.objects.exists()


def test_rotating_shows_a_new_secret_and_kills_the_old_one(admin_op, client_a, client) -> None:
    url = reverse("admin:programs_apiclient_rotate", args=[client_a.pk])
    assert admin_op.get(url).status_code == 200  # the confirmation

    response = admin_op.post(url)

    secret = secret_from(response)
    client_a.refresh_from_db()
    assert client_a.check_secret(secret)
    assert not client_a.check_secret(client_a.plain_secret)
    enumerations = f"/{client_a.program.code}/v1/users/enumerations/titles"
    new = client.get(enumerations, HTTP_AUTHORIZATION=basic(client_a.client_id, secret))
    assert new.status_code == 200
    old = client.get(
        enumerations, HTTP_AUTHORIZATION=basic(client_a.client_id, client_a.plain_secret)
    )
    assert old.status_code == 401


def test_deactivating_refuses_the_client_at_once(admin_op, client_a, client) -> None:
    enumerations = f"/{client_a.program.code}/v1/users/enumerations/titles"
    auth = basic(client_a.client_id, client_a.plain_secret)
    assert client.get(enumerations, HTTP_AUTHORIZATION=auth).status_code == 200

    admin_op.post(reverse("admin:programs_apiclient_set_active", args=[client_a.pk]))

    assert not ApiClient.objects.get(pk=client_a.pk).is_active
    assert client.get(enumerations, HTTP_AUTHORIZATION=auth).status_code == 401
    admin_op.post(reverse("admin:programs_apiclient_set_active", args=[client_a.pk]))
    assert client.get(enumerations, HTTP_AUTHORIZATION=auth).status_code == 200


def test_bulk_deactivate_action(admin_op, program_a) -> None:
    clients = [ApiClientFactory(program=program_a) for _ in range(2)]

    admin_op.post(
        reverse("admin:programs_apiclient_changelist"),
        {"action": "deactivate_clients", "_selected_action": [c.pk for c in clients]},
    )

    assert not ApiClient.objects.filter(is_active=True).exists()


@pytest.mark.parametrize("persona", ["compliance", "support"])
def test_only_admins_manage_programs_and_clients(request, persona, client_a) -> None:
    operator = request.getfixturevalue(persona)
    hash_before = client_a.secret_hash

    assert operator.get(PROGRAM_ADD).status_code == 403
    assert operator.get(CLIENT_ADD).status_code == 403
    assert operator.post(CLIENT_ADD, {"program": client_a.program_id}).status_code == 403
    rotate = reverse("admin:programs_apiclient_rotate", args=[client_a.pk])
    assert operator.post(rotate).status_code == 403
    deactivate = reverse("admin:programs_apiclient_set_active", args=[client_a.pk])
    assert operator.post(deactivate).status_code == 403

    client_a.refresh_from_db()
    assert client_a.secret_hash == hash_before and client_a.is_active
    assert ApiClient.objects.count() == 1
