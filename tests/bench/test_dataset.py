"""The bench data set: loaded users are complete, valid and unique; the blacklist is disjoint."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import phonenumbers
import pytest
from django.core.management import call_command
from django.db import connection

from bench import dataset
from tests.conftest import api_for, requires_postgres
from tests.factories import ApiClientFactory
from users.models import TERMINAL_STATUSES, AccountHolder, Identification

PASSPORT = re.compile(r"^[A-Za-z0-9]{6,20}$")


@pytest.fixture
def programs(seeded):
    return dataset.ensure_programs()


def test_programs_are_idempotent_and_unthrottled(programs) -> None:
    again = dataset.ensure_programs()
    assert [p.pk for p in again] == [p.pk for p in programs]
    for program in again:
        assert program.write_rate_limit == program.read_rate_limit == dataset.UNLIMITED


def test_credentials_are_reissued_on_every_run(programs) -> None:
    first = dataset.issue_credentials(programs[0])
    second = dataset.issue_credentials(programs[0])
    assert first.client_id == second.client_id
    assert first.client_secret != second.client_secret


def test_loaded_users_are_complete_valid_and_unique(programs) -> None:
    assert dataset.load_users(count=60, programs=programs, progress=False) == 60
    # a second load tops up without reusing ids or unique values
    assert dataset.load_users(count=25, programs=programs, progress=False) == 25
    users = list(AccountHolder.objects.order_by("id"))
    assert len(users) == 85
    main, other = programs
    assert {u.program_id for u in users} == {main.pk, other.pk}
    for field in ("public_id", "email", "mobile", "customer_id", "client_ref_id"):
        assert len({getattr(u, field) for u in users}) == 85, field
    assert [u.created_at for u in users] == sorted(u.created_at for u in users)
    for user in users:
        assert re.fullmatch(r"[0-9a-f]{32}", user.public_id)
        number = phonenumbers.parse(f"+{user.mobile_country_code}{user.mobile}")
        assert phonenumbers.is_valid_number(number), user.mobile
        assert user.first_name and user.last_name and user.preferred_name and user.birth_date
    ids = list(Identification.objects.select_related("user"))
    assert len(ids) == 85
    for identification in ids:
        assert PASSPORT.match(identification.number)
        assert identification.program_id == identification.user.program_id
        assert identification.holder_live == (identification.user.status not in TERMINAL_STATUSES)
    statuses = {u.status for u in users}
    assert "active" in statuses and len(statuses) > 2


@requires_postgres
def test_copy_moves_the_sequences_past_the_loaded_rows(programs) -> None:
    dataset.load_users(count=10, programs=programs, progress=False)
    # the ORM's next insert must not collide with a COPY-ed primary key
    user = AccountHolder.objects.create(
        program=programs[0],
        first_name="Next",
        created_at=AccountHolder.objects.first().created_at,
        updated_at=AccountHolder.objects.first().updated_at,
    )
    assert user.pk > max(AccountHolder.objects.exclude(pk=user.pk).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_value FROM users_identification_id_seq")
        assert cursor.fetchone()[0] >= Identification.objects.count()


def test_loaded_users_read_back_through_the_api(programs) -> None:
    dataset.load_users(count=12, programs=programs, progress=False)
    client = ApiClientFactory(program=programs[0])
    api = api_for(client)
    user = AccountHolder.objects.filter(program=programs[0], status="active").first()
    response = api.get(f"/{programs[0].code}/v2/users/{user.public_id}")
    assert response.status_code == 200, response.content
    assert response.json()["email"] == user.email
    listed = api.get(f"/{programs[0].code}/v2/users?records_per_page=100")
    assert listed.status_code == 200
    assert len(listed.json()["data"]) == AccountHolder.objects.filter(program=programs[0]).count()


def test_blacklist_never_matches_the_users_the_bench_writes(tmp_path: Path) -> None:
    rows = list(dataset.blacklist_rows(start=0, count=500))
    assert len({r[1] for r in rows}) == 500  # unique values: no row is skipped as a duplicate
    pools = {n.lower() for n in (*dataset.FIRST_NAMES, *dataset.LAST_NAMES)}
    for attribute, value, match, action, weight, _reason in rows:
        if attribute.endswith("name"):
            assert value.lower() not in pools
            assert (action, weight) == ("score", "40")
        else:
            assert (match, action, weight) == ("exact", "block", "")
        if attribute == "customer.mobile":
            assert value.startswith(f"+65{dataset.BLACKLIST_MOBILE_BASE // 1_000_000}")
        if attribute == "customer.email":
            assert value.endswith("@blocked.example")
    path = dataset.write_blacklist_csv(tmp_path / "b.csv", start=0, count=20)
    with path.open() as handle:
        assert tuple(next(csv.reader(handle))) == dataset.BLACKLIST_HEADER


def test_blacklist_csv_loads_through_import_blacklist(seeded, tmp_path: Path) -> None:
    from risk.models import BlacklistEntry

    path = dataset.write_blacklist_csv(tmp_path / "b.csv", start=0, count=50)
    out = io.StringIO()
    call_command("import_blacklist", str(path), "--no-progress", stdout=out)
    assert out.getvalue().strip().splitlines()[-1] == "50 added, 0 skipped, 0 rejected"
    assert BlacklistEntry.objects.count() == 50


def test_mobile_base_skips_numbers_already_created(programs) -> None:
    main = programs[0]
    assert dataset.next_mobile_base(main) == dataset.CREATED_MOBILE_BASE
    AccountHolder.objects.create(
        program=main,
        mobile_country_code="65",
        mobile=str(dataset.CREATED_MOBILE_BASE + 41),
        created_at=main.created_at,
        updated_at=main.created_at,
    )
    assert dataset.next_mobile_base(main) == dataset.CREATED_MOBILE_BASE + 42
