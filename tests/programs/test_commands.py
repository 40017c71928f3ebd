import json

import pytest
from django.core.management import CommandError, call_command

from programs.models import ApiClient, Program
from tests.conftest import api_for


@pytest.mark.django_db
def test_create_program(capsys):
    call_command(
        "create_program",
        "acme",
        "--name",
        "Acme",
        "--country",
        "sgp",
        "--min-age",
        "21",
        "--required-fields",
        "birthday,nationality",
        "--kyc-required",
    )
    program = Program.objects.get(code="acme")
    assert (program.country, program.min_age, program.kyc_required) == ("SGP", 21, True)
    assert program.required_fields == ["birthday", "nationality"]
    assert program.all_required_fields[:5] == (
        "first_name",
        "last_name",
        "email",
        "mobile_country_code",
        "mobile",
    )
    assert "Program acme created" in capsys.readouterr().out


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args",
    [
        ["x", "--name", "X", "--country", "ZZZ"],
        ["x", "--name", "X", "--country", "SGP", "--required-fields", "shoe_size"],
        ["x", "--name", "X", "--country", "SGP", "--min-age", "-1"],
    ],
)
def test_create_program_rejects_bad_input(args):
    with pytest.raises(CommandError):
        call_command("create_program", *args)
    assert not Program.objects.exists()


def test_create_api_client_last_line_is_json(seeded, capsys):
    call_command("create_program", "acme", "--name", "Acme", "--country", "SGP")
    capsys.readouterr()
    call_command("create_api_client", "acme", "--read-only", "--allow-ip", "10.0.0.0/8")
    lines = capsys.readouterr().out.strip().splitlines()
    credentials = json.loads(lines[-1])
    assert set(credentials) == {"client_id", "client_secret"}
    client = ApiClient.objects.get(client_id=credentials["client_id"])
    assert client.is_read_only
    assert client.allowed_cidrs == ["10.0.0.0/8"]
    assert credentials["client_secret"] not in client.secret_hash
    client.plain_secret = credentials["client_secret"]
    ApiClient.objects.filter(pk=client.pk).update(allowed_cidrs=[])
    assert api_for(client).get("/acme/v1/users/enumerations/titles").status_code == 200


@pytest.mark.django_db
def test_create_api_client_errors():
    with pytest.raises(CommandError):
        call_command("create_api_client", "nope")
    Program.objects.create(code="acme", name="Acme", country="SGP")
    with pytest.raises(CommandError):
        call_command("create_api_client", "acme", "--allow-ip", "not-a-cidr")
    assert not ApiClient.objects.exists()


@pytest.mark.django_db
def test_bootstrap_demo_is_idempotent_and_credentials_work(capsys):
    call_command("bootstrap_demo")
    out = capsys.readouterr().out
    call_command("bootstrap_demo")
    out2 = capsys.readouterr().out
    assert Program.objects.filter(code="demo").count() == 1
    assert ApiClient.objects.filter(program__code="demo").count() == 1
    from django.contrib.auth import get_user_model

    assert get_user_model().objects.filter(username="admin", is_superuser=True).count() == 1
    fields = dict(
        line.strip().split(":", 1)
        for line in out2.splitlines()
        if line.strip().startswith("client_")
    )
    client = ApiClient.objects.get(client_id=fields["client_id"].strip())
    client.plain_secret = fields["client_secret"].strip()
    response = api_for(client).get("/demo/v1/users/enumerations/countries")
    assert response.status_code == 200
    assert {"code": "SGP", "description": "Singapore"} in response.json()["countries"]
    assert "admin login" in out


@pytest.mark.django_db
def test_create_api_client_permissions_default_off_and_granted(seeded, capsys):
    call_command("create_program", "acme", "--name", "Acme", "--country", "SGP")
    call_command("create_api_client", "acme")
    plain = ApiClient.objects.get()
    assert plain.permissions == []
    assert not plain.has_permission("risk_exceptions")
    assert not plain.has_permission("kyc_decisions")
    capsys.readouterr()
    call_command("create_api_client", "acme", "--permission", "kyc_decisions")
    client_id = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["client_id"]
    granted = ApiClient.objects.get(client_id=client_id)
    assert granted.has_permission("kyc_decisions")
    assert not granted.has_permission("risk_exceptions")
    with pytest.raises(CommandError):
        call_command("create_api_client", "acme", "--permission", "superuser")
