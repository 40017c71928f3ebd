"""Personal data encrypted at rest (SPEC §15): encrypted columns, blind indexes, dumps,
`encrypt_pii`, key rotation, erasure of the encrypted columns."""

from __future__ import annotations

import io
import itertools
import threading
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection, connections
from django.test import override_settings

from api.models import IdempotencyRecord
from core import crypto
from core.fields import column_associated_data, key_ids_in_use
from enumerations.catalog import get_catalog
from privacy.services import erase_user
from tests.conftest import api_for, requires_postgres
from tests.factories import ApiClientFactory
from tests.privacy.test_erasure import CLI, OPERATOR, database_text
from users.lifecycle import user_change_status
from users.models import (
    AccountHolder,
    Address,
    Channel,
    Identification,
    Status,
    TaxResidency,
    canonical_id_number,
    id_number_index,
)
from users.selectors import search_users
from users.services import user_create, user_update

# the test ring (config/settings/test.py): test2 is the newest key, test1 the older one
KEY_NEW = "test2:ERERERERERERERERERERERERERERERERERERERERERE="
KEY_OLD = "test1:IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI="
KEY_OTHER = "other:" + "M" * 43 + "="

_seq = itertools.count(1)


def person(n: int) -> dict[str, Any]:
    """The values of user n, each distinctive enough to be searched for in a dump."""
    born = date(1961, 3, 14) + timedelta(days=37 * n)
    return {
        "number": f"Q{7300000 + n:07d}Z",
        "tin": f"TZ{880000 + n}W",
        "born": born,
        "address_1": f"{n} Quokkaville Crescent",
        "address_2": f"Unit {n}-Xylo",
        "city": f"Marzipanton{n}",
        "state": f"Zebrastate{n}",
        "zipcode": f"7{n:05d}",
    }


def v2_body(n: int) -> dict[str, Any]:
    p = person(n)
    return {
        "type": "customer",
        "first_name": "Ottilie",
        "last_name": "Brightwater",
        "preferred_name": "Otti",
        "email": f"otti{n}.{next(_seq)}@example.org",
        "mobile_country_code": "65",
        "mobile": f"9{3100000 + n * 10 + next(_seq) % 10:07d}",
        "identification": [
            {"type": "passport", "number": p["number"], "is_primary": True},
        ],
        "birth": {"date": p["born"].isoformat(), "place": "Singapore", "country": "SGP"},
        "addresses": [
            {
                "type": "residential",
                "address_1": p["address_1"],
                "address_2": p["address_2"],
                "city": p["city"],
                "state": p["state"],
                "zipcode": p["zipcode"],
                "country": "SGP",
            }
        ],
        "tax_residencies": [{"country": "SGP", "tin": p["tin"]}],
    }


def clear_forms(n: int) -> list[str]:
    """Every form in which user n's encrypted values could sit in clear."""
    p = person(n)
    born: date = p["born"]
    return [
        p["number"],
        p["tin"],
        p["address_1"],
        p["address_2"],
        p["city"],
        p["state"],
        born.isoformat(),
        born.strftime("%d/%m/%Y"),
        born.strftime("%m/%d/%Y"),
        born.strftime("%Y%m%d"),
        born.strftime("%d-%m-%Y"),
        born.strftime("%d.%m.%Y"),
    ]


def create(api: Any, code: str, n: int) -> AccountHolder:
    # with an Idempotency-Key, the answer (the whole record) is also kept 24 hours for replays
    headers = {"Idempotency-Key": f"dump-{n}"} if n % 2 else {}
    response = api.post(f"/{code}/v2/users", v2_body(n), format="json", headers=headers)
    assert response.status_code == 201, response.content
    return AccountHolder.objects.get(public_id=response.json()["id"])


def stored(table: str, column: str, pk: int) -> Any:
    """A column's value as the database holds it (no decryption)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_dump_holds_no_encrypted_value_in_clear(client_a: Any) -> None:
    api = api_for(client_a)
    users = [create(api, client_a.program.code, n) for n in range(1, 6)]
    # read back through the ORM: the clear values
    for n, user in enumerate(users, start=1):
        p = person(n)
        user.refresh_from_db()
        assert user.birth_date == p["born"]
        assert user.identifications.get().number == p["number"]
        assert user.tax_residencies.get().tin == p["tin"]
        address = user.addresses.get()
        assert (address.address_1, address.city, address.zipcode) == (
            p["address_1"],
            p["city"],
            p["zipcode"],
        )
        assert address.country == "SGP"  # the country stays clear (README)
    assert IdempotencyRecord.objects.filter(response_body__isnull=False).count() == 3
    dump = database_text()
    assert "pii1:" in dump
    leaked = [form for n in range(1, 6) for form in clear_forms(n) if form in dump]
    assert leaked == []
    # the names, e-mails and mobiles are not encrypted columns: the dump does hold them
    assert "Brightwater" in dump


@pytest.mark.django_db(transaction=True)
def test_erased_blacklisted_user_keeps_only_the_id_number_blind_index(client_a: Any) -> None:
    client_a.program.retention_days = 0
    client_a.program.save(update_fields=["retention_days"])
    user = create(api_for(client_a), client_a.program.code, 41)
    user_change_status(
        user=user, to_status=Status.BLACKLISTED, actor=OPERATOR, channel=Channel.ADMIN, reason="x"
    )
    user.refresh_from_db()
    index = id_number_index(person(41)["number"])
    erase_user(user=user, reason="retention ended", actor=CLI, channel=Channel.CLI)

    document = Identification.objects.get(user=user)
    assert document.number == ""
    assert document.number_index == index  # a keyed hash, no number
    assert (document.issue_date, document.expiry_date, document.holder_live) == (None, None, False)
    user.refresh_from_db()
    assert user.birth_date is None
    assert (user.birth_date_index, user.birth_month_index, user.birth_year_index) == (None,) * 3
    assert not Address.objects.filter(user=user).exists()
    assert not TaxResidency.objects.filter(user=user).exists()
    dump = database_text()
    assert [form for form in clear_forms(41) if form in dump] == []
    for value in ("Ottilie", "Brightwater", "otti41."):
        assert value not in dump
    # the admin search still finds the blocked record by its number
    found = search_users(AccountHolder.objects.all(), person(41)["number"].lower())
    assert list(found) == [user]


@pytest.mark.django_db
def test_values_are_bound_to_their_column_and_key(make_user: Any) -> None:
    user = make_user(
        birth_date="1977-08-09",
        identification={"primary": {"id_type": "passport", "number": "E1357924"}},
    )
    document = user.identifications.get()
    raw = stored("users_identification", "number", document.pk)
    assert raw.startswith(crypto.TEXT_PREFIX)
    assert "E1357924" not in raw
    number_aad = column_associated_data("users_identification", "number")
    assert crypto.decrypt_text(raw, number_aad) == "E1357924"
    # another column's associated data does not decrypt it
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_text(raw, column_associated_data("users_taxresidency", "tin"))
    # a ciphertext copied into another column is refused when read
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE users_accountholder SET birth_date = %s WHERE id = %s", [raw, user.pk]
        )
    with pytest.raises(crypto.DecryptionError):
        AccountHolder.objects.get(pk=user.pk)
    # a key ring without the value's key cannot read it
    with override_settings(PII_KEYS=KEY_OTHER), pytest.raises(crypto.DecryptionError):
        Identification.objects.get(pk=document.pk)
    # every value has its own data key: two equal values do not give equal ciphertexts
    twin = Identification.objects.get(pk=document.pk)
    twin.save(update_fields=["number"])
    assert stored("users_identification", "number", document.pk) != raw


@pytest.mark.django_db
def test_encrypted_columns_refuse_comparisons(make_user: Any) -> None:
    make_user(identification={"primary": {"id_type": "passport", "number": "E2468013"}})
    for lookup in ({"number": "E2468013"}, {"number__startswith": "E24"}):
        with pytest.raises(FieldError):
            list(Identification.objects.filter(**lookup))
    with pytest.raises(FieldError):
        list(AccountHolder.objects.filter(birth_date=date(1990, 1, 1)))
    assert Identification.objects.filter(number__isnull=False).count() == 1
    # '' is stored as it is, so it compares (documents' "has an address" check)
    assert Identification.objects.exclude(number="").count() == 1
    assert AccountHolder.objects.filter(birth_date__isnull=True).count() == 1


@pytest.mark.django_db
def test_blind_indexes_are_keyed_hashes_of_the_canonical_values(make_user: Any) -> None:
    user = make_user(
        birth_date="1988-02-29",
        identification={"primary": {"id_type": "drivers_id", "number": "dl-975-3102"}},
    )
    document = user.identifications.get()
    assert document.number == "dl-975-3102"  # what the client sent, decrypted
    assert canonical_id_number(document.number) == "DL9753102"
    assert document.number_index == crypto.blind_index("identification.number", "DL9753102")
    assert len(document.number_index) == 64
    user.refresh_from_db()
    assert user.birth_date == date(1988, 2, 29)
    assert user.birth_date_index == crypto.blind_index("user.birth_date", "1988-02-29")
    assert user.birth_month_index == crypto.blind_index("user.birth_date.month", "1988-02")
    assert user.birth_year_index == crypto.blind_index("user.birth_date.year", "1988")
    # another index key gives other hashes: the index key is a secret too
    with override_settings(PII_INDEX_KEY="another-index-key"):
        assert id_number_index("DL9753102") != document.number_index


@pytest.mark.django_db
def test_id_number_uniqueness_and_max_duplicate_compare_blind_indexes(make_user: Any) -> None:
    from core.exceptions import ApiError
    from enumerations.catalog import bump_version
    from enumerations.models import IdType
    from tests.users.conftest import api_actor

    make_user(identification={"primary": {"id_type": "drivers_id", "number": "DL5550001"}})
    spelled = {"primary": {"id_type": "drivers_id", "number": "dl-555-0001"}}
    with pytest.raises(ApiError) as refused:
        make_user(identification=spelled)
    assert refused.value.errors[0].code == "resource_id_type_unique"
    # up to max_duplicate live holders of one number, each in its own slot
    IdType.objects.filter(code="drivers_id").update(max_duplicate=2)
    bump_version()
    second = make_user(identification=spelled)
    assert second.identifications.get().dup_slot == 1
    with pytest.raises(ApiError):
        make_user(identification=spelled)
    # an update that keeps the number (however spelled) keeps its slot
    user_update(
        user=second,
        changes={"identification": {"primary": {"id_type": "drivers_id", "number": "DL5550001"}}},
        actor=api_actor(),
        channel=Channel.API_V1,
        catalog=get_catalog(),
    )
    assert second.identifications.get().dup_slot == 1
    assert Identification.objects.filter(number_index=id_number_index("DL5550001")).count() == 2


@pytest.mark.django_db
def test_encrypt_pii_encrypts_clear_rows_and_resumes(make_user: Any, api_a: Any) -> None:
    user = make_user(
        birth_date="1990-01-02",
        identification={"primary": {"id_type": "passport", "number": "E1112223"}},
        addresses={
            "residential": {"address_1": "9 Clear Road", "city": "Plainville", "country": "SGP"}
        },
    )
    document = user.identifications.get()
    address = user.addresses.get()
    # as a database migrated from clear columns holds them before 0010
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE users_accountholder SET birth_date = '1990-01-02', birth_date_index = NULL, "
            "birth_month_index = NULL, birth_year_index = NULL WHERE id = %s",
            [user.pk],
        )
        cursor.execute(
            "UPDATE users_identification SET number = 'E1112223', number_index = NULL "
            "WHERE id = %s",
            [document.pk],
        )
        cursor.execute(
            "UPDATE users_address SET address_1 = '9 Clear Road', city = 'Plainville' "
            "WHERE id = %s",
            [address.pk],
        )
    # clear values are still read as they are
    assert Identification.objects.get(pk=document.pk).number == "E1112223"

    out = io.StringIO()
    call_command("encrypt_pii", "--no-progress", "--batch-size", "2", stdout=out)
    assert "users.AccountHolder: 1 of" in out.getvalue()
    assert "users.Identification: 1 of 1" in out.getvalue()
    assert stored("users_identification", "number", document.pk).startswith("pii1:")
    assert stored("users_accountholder", "birth_date", user.pk).startswith("pii1:")
    assert stored("users_address", "city", address.pk).startswith("pii1:")
    refreshed = AccountHolder.objects.get(pk=user.pk)
    assert refreshed.birth_date == date(1990, 1, 2)
    assert refreshed.birth_date_index == crypto.blind_index("user.birth_date", "1990-01-02")
    assert Identification.objects.get(pk=document.pk).number_index == id_number_index("E1112223")
    assert Address.objects.get(pk=address.pk).city == "Plainville"
    # search works on the encrypted rows
    url = "/alpha/v1/oauth/consumer/search/users"
    for params in ({"id_number": "e1112223"}, {"birthday": "1990-01", "match_type": "fuzzy"}):
        found = api_a.get(url, params).json()["users"]
        assert [u["id"] for u in found] == [user.public_id]
    # a second run finds nothing left to do
    again = io.StringIO()
    call_command("encrypt_pii", "--no-progress", stdout=again)
    assert "users.Identification: 0 of 1" in again.getvalue()
    assert "users.AccountHolder: 0 of" in again.getvalue()


@pytest.mark.django_db
def test_rotate_pii_keys_rewraps_every_field_envelope(make_user: Any) -> None:
    with override_settings(PII_KEYS=KEY_OLD):
        user = make_user(
            birth_date="1966-06-16",
            identification={"primary": {"id_type": "passport", "number": "E3334445"}},
            tax_residencies=[{"country": "SGP", "tin": "TX1234"}],
        )
    before = stored("users_identification", "number", user.identifications.get().pk)
    assert key_ids_in_use(Identification) == {"test1": 1}
    out = io.StringIO()
    call_command("rotate_pii_keys", "--no-progress", stdout=out)
    assert "users.Identification: re-wrapped 1 of 1" in out.getvalue()
    for model in (AccountHolder, Identification, TaxResidency):
        assert set(key_ids_in_use(model)) <= {"test2"}
    after = stored("users_identification", "number", user.identifications.get().pk)
    assert after != before
    # the old key can go: everything reads under the newest key alone
    with override_settings(PII_KEYS=KEY_NEW):
        refreshed = AccountHolder.objects.get(pk=user.pk)
        assert refreshed.birth_date == date(1966, 6, 16)
        assert refreshed.identifications.get().number == "E3334445"
        assert refreshed.tax_residencies.get().tin == "TX1234"
    again = io.StringIO()
    call_command("rotate_pii_keys", "--no-progress", stdout=again)
    assert "users.Identification: re-wrapped 0 of 1" in again.getvalue()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_rotation_during_a_load_of_creates_loses_nothing(program_a: Any) -> None:
    """Writers create and update users under the newest key while `rotate_pii_keys` re-wraps
    the older envelopes: every record is there and readable with the newest key alone."""
    from tests.users.conftest import api_actor, canonical

    catalog = get_catalog()

    def new_user(n: int) -> AccountHolder:
        p = person(n)
        return user_create(
            program=program_a,
            changes=canonical(
                birth_date=p["born"].isoformat(),
                identification={"primary": {"id_type": "passport", "number": p["number"]}},
                addresses={
                    "residential": {
                        "address_1": p["address_1"],
                        "city": p["city"],
                        "country": "SGP",
                    }
                },
                tax_residencies=[{"country": "SGP", "tin": p["tin"]}],
            ),
            actor=api_actor(),
            channel=Channel.API_V1,
            catalog=catalog,
        ).user

    with override_settings(PII_KEYS=KEY_OLD):
        old_users = [new_user(n) for n in range(100, 160)]
    expected = {u.pk: 100 + i for i, u in enumerate(old_users)}
    created: dict[int, int] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def writer(start: int) -> None:
        try:
            for n in range(start, start + 15):
                user = new_user(n)
                with lock:
                    created[user.pk] = n
                # an update of an older user's address while the rotation walks the table
                victim = AccountHolder.objects.get(pk=old_users[n % len(old_users)].pk)
                user_update(
                    user=victim,
                    changes={
                        "addresses": {
                            "residential": {
                                "address_1": f"{n} Rotation Row",
                                "city": person(100 + n % len(old_users))["city"],
                                "country": "SGP",
                            }
                        }
                    },
                    actor=api_actor(),
                    channel=Channel.API_V1,
                    catalog=catalog,
                )
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(s,)) for s in (200, 300)]
    for thread in threads:
        thread.start()
    call_command("rotate_pii_keys", "--no-progress", "--batch-size", "7", stdout=io.StringIO())
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(created) == 30
    call_command("rotate_pii_keys", "--no-progress", stdout=io.StringIO())  # what came since

    with override_settings(PII_KEYS=KEY_NEW):
        for pk, n in {**expected, **created}.items():
            p = person(n)
            user = AccountHolder.objects.get(pk=pk)
            assert user.birth_date == p["born"]
            assert user.identifications.get().number == p["number"]
            assert user.tax_residencies.get().tin == p["tin"]
            address = user.addresses.get()
            assert address.city == p["city"]
            assert address.address_1 == p["address_1"] or address.address_1.endswith("Rotation Row")
    for model in (AccountHolder, Identification, Address, TaxResidency):
        assert set(key_ids_in_use(model)) == {"test2"}


@pytest.mark.django_db
def test_bench_loader_writes_what_the_api_writes(seeded: None) -> None:
    """bench/dataset.py (COPY on PostgreSQL, bulk_create elsewhere) writes envelopes and blind
    indexes that the API reads and searches like its own rows."""
    from bench import dataset

    programs = dataset.ensure_programs()
    assert dataset.load_users(count=12, programs=programs, progress=False) == 12
    document = Identification.objects.select_related("user").order_by("pk").first()
    assert document is not None
    user = document.user
    assert stored("users_identification", "number", document.pk).startswith("pii1:")
    assert stored("users_accountholder", "birth_date", user.pk).startswith("pii1:")
    assert document.number.startswith("E")  # decrypts
    assert document.number_index == id_number_index(document.number)
    assert isinstance(user.birth_date, date)
    assert user.birth_date_index == crypto.blind_index(
        "user.birth_date", user.birth_date.isoformat()
    )
    client = api_for(ApiClientFactory(program=user.program))
    url = f"/{user.program.code}/v1/oauth/consumer/search/users"
    found = client.get(url, {"id_number": document.number.lower()}).json()["users"]
    assert [u["id"] for u in found] == [user.public_id]
    born = client.get(url, {"birthday": user.birth_date.isoformat()}).json()["users"]
    assert user.public_id in [u["id"] for u in born]


@pytest.mark.django_db(transaction=True)
def test_migrations_encrypt_rows_written_before_them(program_a: Any, api_a: Any) -> None:
    """users 0009-0011 on a database holding clear values: every value ends up encrypted,
    every blind index filled, and the rows read, search and stay unique as the API's own."""
    from django.db.migrations.executor import MigrationExecutor
    from django.utils import timezone

    before, after = (
        ("users", "0008_personal_data_event_types"),
        (
            "users",
            "0011_blind_index_constraints",
        ),
    )
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    old = executor.loader.project_state([before]).apps
    now = timezone.now()
    holder = old.get_model("users", "AccountHolder").objects.create(
        program_id=program_a.pk,
        public_id="f" * 32,
        first_name="Old",
        birth_date=date(1955, 5, 5),
        created_at=now,
        updated_at=now,
    )
    old.get_model("users", "Identification").objects.create(
        user_id=holder.pk,
        program_id=program_a.pk,
        id_type="passport",
        number="e-7654-321",
        number_canonical="E7654321",
    )
    old.get_model("users", "Address").objects.create(
        user_id=holder.pk, type="residential", address_1="5 Old Lane", city="Oldtown"
    )
    old.get_model("users", "TaxResidency").objects.create(
        user_id=holder.pk, country="SGP", tin="OLD-TIN-1"
    )

    executor = MigrationExecutor(connection)
    executor.migrate([after])

    user = AccountHolder.objects.get(pk=holder.pk)
    assert user.birth_date == date(1955, 5, 5)
    assert user.birth_year_index == crypto.blind_index("user.birth_date.year", "1955")
    document = user.identifications.get()
    assert document.number == "e-7654-321"
    assert document.number_index == id_number_index("E7654321")
    assert user.addresses.get().city == "Oldtown"
    assert user.tax_residencies.get().tin == "OLD-TIN-1"
    dump = database_text()
    for clear in ("e-7654-321", "E7654321", "5 Old Lane", "Oldtown", "OLD-TIN-1", "1955-05-05"):
        assert clear not in dump, clear
    url = "/alpha/v1/oauth/consumer/search/users"
    found = api_a.get(url, {"id_number": "E7654321"}).json()["users"]
    assert [u["id"] for u in found] == [user.public_id]
    # the unique index moved to the blind index: the number cannot be taken again
    taken = api_a.post(
        "/alpha/v1/users",
        {
            "first_name": "New",
            "last_name": "Holder",
            "preferred_name": "New",
            "email": "new.holder@example.com",
            "mobile_country_code": "65",
            "mobile": "91112222",
            "id_type": "passport",
            "id_number": "E7654321",
        },
        format="json",
    )
    assert taken.json()["code"] == "resource_id_type_unique", taken.content


@pytest.mark.django_db
def test_admin_search_finds_holders_by_whole_id_number_only(make_user: Any, program_b: Any) -> None:
    ada = make_user(identification={"primary": {"id_type": "passport", "number": "K2468135"}})
    other = make_user(
        program=program_b,
        identification={"primary": {"id_type": "passport", "number": "K2468135"}},
    )
    everyone = AccountHolder.objects.all()
    for term in ("K2468135", "k2468135", "idno:k-2468-135", "IDNO: K2468135"):
        assert set(search_users(everyone, term)) == {ada, other}, term
    assert list(search_users(everyone, "K246813")) == []  # no part of a number
    assert list(search_users(AccountHolder.objects.filter(program=program_b), "K2468135")) == [
        other
    ]
