"""import_blacklist and rescreen_users."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from risk.models import BlacklistEntry, BlacklistState, BlacklistToken, RiskSettings, Screening
from tests.conftest import requires_postgres
from tests.factories import AccountHolderFactory, ProgramFactory
from tests.risk.helpers import listed
from users.models import AccountHolder, EventType, Identification, RiskStatus, Status, UserEvent
from users.screening import rescreen_batch

pytestmark = pytest.mark.django_db

HEADER = "entity_attribute,value,match,action,weight,reason\n"


def run_import(path: Path, *args: str) -> list[str]:
    out = io.StringIO()
    try:
        call_command("import_blacklist", str(path), "--no-progress", *args, stdout=out)
    except CommandError as exc:  # rejected rows: exit status 1 after the report
        if exc.returncode != 1 or "rejected" not in str(exc):
            raise
    return out.getvalue().splitlines()


def write(tmp_path: Path, body: str, name: str = "list.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_import_good_rows(seeded, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write(
        tmp_path,
        "customer.email,Ada@Example.com,exact,block,,sanctions list\n"
        "customer.first_name,Zoë,normalized,score,40,watch list\n"
        "customer.last_name,Mohammed,fuzzy,score,70,\n"
        "customer.mobile,+65 9123 4567,exact,block,,\n"
        "customer.id_number,s1234567-d,exact,block,,\n"
        "customer.nationality,prk,exact,score,100,\n"
        "customer.birthday,1970-01-01,exact,score,5,\n",
    )
    before = BlacklistState.objects.get(pk=1).version
    lines = run_import(path)
    assert lines[-1] == "7 added, 0 skipped, 0 rejected"
    assert BlacklistEntry.objects.count() == 7
    email = BlacklistEntry.objects.get(entity_attribute="customer.email")
    assert (email.value_normalized, email.action, email.weight) == (
        "ada@example.com",
        "block",
        None,
    )
    assert email.program is None and email.added_by_label == "cli" and email.added_by is None
    assert email.reason == "sanctions list"
    assert BlacklistEntry.objects.get(entity_attribute="customer.mobile").value_normalized == (
        "6591234567"
    )
    assert BlacklistEntry.objects.get(entity_attribute="customer.nationality").value == "PRK"
    fuzzy = BlacklistEntry.objects.get(match="fuzzy")
    assert BlacklistToken.objects.filter(entry=fuzzy).exists()
    assert not BlacklistToken.objects.exclude(entry=fuzzy).exists()
    assert BlacklistState.objects.get(pk=1).version == before + 1  # one bump per batch
    assert {e.version for e in BlacklistEntry.objects.all()} == {before + 1}


def test_import_rejects_bad_rows_with_line_numbers(seeded, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write(
        tmp_path,
        "customer.email,ok@example.com,exact,block,,\n"  # line 2
        "customer.password,x,exact,block,,\n"  # 3 unknown attribute
        "customer.email,not-an-email,exact,block,,\n"  # 4
        "customer.first_name,R2D2,normalized,block,,\n"  # 5 digits in a name
        "customer.email,a@example.com,fuzzy,block,,\n"  # 6 fuzzy for a non-name
        "customer.email,b@example.com,exact,score,,\n"  # 7 weight missing
        "customer.email,c@example.com,exact,block,10,\n"  # 8 weight on block
        "customer.email,d@example.com,exact,score,-3,\n"  # 9 bad weight
        "customer.mobile,12,exact,block,,\n"  # 10 not a phone number
        "customer.nationality,XXX,exact,block,,\n"  # 11 not in the enumeration
        "customer.birthday,2999-01-01,exact,block,,\n"  # 12 future
        "customer.birthday,31/01/1990,exact,block,,\n"  # 13 not ISO
        "customer.email,,exact,block,,\n"  # 14 empty value
        "customer.email,e@example.com,maybe,block,,\n"  # 15 bad match
        "customer.email,f@example.com,exact,ban,,\n"  # 16 bad action
        "customer.email,g@example.com,exact\n"  # 17 short row
        f"customer.email,h@example.com,exact,block,,{'x' * 300}\n"  # 18 reason too long
        "customer.id_number,S123/456,exact,block,,\n"  # 19 bad id characters
        "customer.preferred_name,Ada-Mary,normalized,block,,\n"  # 20 letters and spaces only
        "customer.email,nul\x00@example.com,exact,block,,\n"  # 21 NUL (PostgreSQL text)
        "customer.email,i@example.com,exact,block,,why\x00\n"  # 22 NUL in the reason
        "\n"  # 23 blank lines are ignored
        "customer.first_name,Ada,normalized,block,,\n",  # 24
    )
    lines = run_import(path)
    assert lines[-1] == "2 added, 0 skipped, 20 rejected"
    rejected_lines = [int(line.split(":")[0].removeprefix("line ")) for line in lines[:-1]]
    assert rejected_lines == list(range(3, 23))
    assert "NUL" in lines[-3] and "NUL" in lines[-2]
    assert "entity_attribute" in lines[0]
    assert "weight: required for score entries" in lines[4]
    assert set(BlacklistEntry.objects.values_list("value", flat=True)) == {"ok@example.com", "Ada"}


def test_import_skips_duplicates_in_the_file_and_in_the_list(seeded, tmp_path) -> None:  # type: ignore[no-untyped-def]
    listed("email", "ada@example.com")
    path = write(
        tmp_path,
        "customer.email,ADA@example.com,exact,block,,\n"  # same canonical form as listed
        "customer.email,new@example.com,exact,block,,\n"
        "customer.email,NEW@example.com,exact,block,,\n"  # same as the row above
        "customer.email,new@example.com,normalized,block,,\n",  # another match type: kept
    )
    assert run_import(path)[-1] == "2 added, 2 skipped, 0 rejected"
    assert run_import(path)[-1] == "0 added, 4 skipped, 0 rejected"  # re-running is idempotent


def test_import_for_a_program(seeded, tmp_path) -> None:  # type: ignore[no-untyped-def]
    alpha = ProgramFactory(code="alpha")
    listed("email", "ada@example.com")  # global: a program entry is another scope
    path = write(tmp_path, "customer.email,ada@example.com,exact,block,,\n")
    assert run_import(path, "--program", "alpha")[-1] == "1 added, 0 skipped, 0 rejected"
    assert BlacklistEntry.objects.get(program=alpha).value == "ada@example.com"
    assert run_import(path, "--program", "alpha")[-1] == "0 added, 1 skipped, 0 rejected"


def test_import_batches(seeded, tmp_path) -> None:  # type: ignore[no-untyped-def]
    body = "".join(f"customer.email,u{i}@example.com,exact,block,,\n" for i in range(25))
    path = write(tmp_path, body)
    before = BlacklistState.objects.get(pk=1).version
    assert run_import(path, "--batch-size", "10")[-1] == "25 added, 0 skipped, 0 rejected"
    assert BlacklistState.objects.get(pk=1).version == before + 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("value,match\nx,exact\n", "missing column"),
        (HEADER.strip() + ",extra\n", "unknown column"),
    ],
)
def test_import_refuses_bad_files(seeded, tmp_path, content, message) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=message):
        run_import(path)
    assert not BlacklistEntry.objects.exists()


def test_import_refuses_unknown_program_and_missing_file(seeded, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, "customer.email,a@example.com,exact,block,,\n")
    with pytest.raises(CommandError, match="Unknown program"):
        run_import(path, "--program", "nope")
    with pytest.raises(CommandError, match="No such file"):
        run_import(tmp_path / "missing.csv")
    assert not BlacklistEntry.objects.exists()


def test_import_accepts_a_byte_order_mark(seeded, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bom.csv"
    path.write_bytes(("\ufeff" + HEADER + "customer.email,a@example.com,exact,block,,\n").encode())
    assert run_import(path)[-1] == "1 added, 0 skipped, 0 rejected"


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_imports_of_the_same_file_add_each_entry_once(seeded, tmp_path) -> None:  # type: ignore[no-untyped-def]
    body = "".join(f"customer.email,r{i}@example.com,exact,block,,\n" for i in range(200))
    path = write(tmp_path, body)
    results: list[str] = []
    barrier = threading.Barrier(3)

    def one() -> None:
        try:
            barrier.wait()
            results.append(run_import(path, "--batch-size", "50")[-1])
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3
    assert BlacklistEntry.objects.count() == 200
    added = sum(int(r.split()[0]) for r in results)
    skipped = sum(int(r.split()[2]) for r in results)
    assert (added, skipped) == (200, 400)


# --- rescreen_users -------------------------------------------------------------------------


def run_rescreen(*args: str) -> list[str]:
    out = io.StringIO()
    call_command("rescreen_users", "--no-progress", *args, stdout=out)
    return out.getvalue().splitlines()


def test_rescreen_flags_matches_and_never_blocks(seeded) -> None:  # type: ignore[no-untyped-def]
    program = ProgramFactory(code="alpha")
    blocked_value = AccountHolderFactory(
        program=program, email="bad@example.com", risk_status=RiskStatus.CLEARED
    )
    scored = AccountHolderFactory(program=program, last_name="Muhammad")
    clean_unknown = AccountHolderFactory(program=program, risk_status=RiskStatus.UNKNOWN)
    clean_pending = AccountHolderFactory(program=program, risk_status=RiskStatus.PENDING)
    rejected = AccountHolderFactory(
        program=program, email="bad2@example.com", risk_status=RiskStatus.REJECTED
    )
    terminal = AccountHolderFactory(
        program=program, email="bad3@example.com", status=Status.BLOCKED
    )
    with_id = AccountHolderFactory(program=program)
    Identification.objects.create(
        user=with_id,
        program=program,
        id_type="passport",
        number="K-1234567",
    )
    listed("email", "bad@example.com")  # a block entry: flags on re-screening
    listed("email", "bad2@example.com")
    listed("email", "bad3@example.com")
    listed("last_name", "Mohammed", match="fuzzy", action="score", weight=10)
    listed("id_number", "k1234567")

    lines = run_rescreen("--batch-size", "2")
    assert lines[-1] == "6 screened, 3 flagged for review, 1 cleared, 2 unchanged"

    def state(user):  # type: ignore[no-untyped-def]
        user.refresh_from_db()
        return (user.status, user.risk_status)

    assert state(blocked_value) == (Status.ACTIVE, RiskStatus.PENDING)
    assert state(scored) == (Status.ACTIVE, RiskStatus.PENDING)
    assert state(with_id) == (Status.ACTIVE, RiskStatus.PENDING)
    assert state(clean_unknown) == (Status.ACTIVE, RiskStatus.CLEARED)
    assert state(clean_pending) == (Status.ACTIVE, RiskStatus.PENDING)  # kept for review
    assert state(rejected) == (Status.ACTIVE, RiskStatus.REJECTED)
    assert state(terminal) == (Status.BLOCKED, RiskStatus.UNKNOWN)  # terminal: not screened
    assert Screening.objects.filter(trigger="rescreen").count() == 6
    assert not Screening.objects.filter(user=terminal).exists()
    outcome = Screening.objects.get(user=blocked_value)
    assert outcome.outcome == "block" and outcome.matches[0]["entity_attribute"] == "customer.email"
    event = UserEvent.objects.get(user=blocked_value, type=EventType.SCREENED)
    assert event.changes == {"risk_status": ["CLEARED", "PENDING"]}
    assert event.channel == "cli"


def test_rescreen_one_program_and_skips_unusable_settings(seeded) -> None:  # type: ignore[no-untyped-def]
    alpha, beta, gamma = (ProgramFactory(code=c) for c in ("alpha", "beta", "gamma"))
    for program in (alpha, beta, gamma):
        AccountHolderFactory(program=program, email="bad@example.com")
    listed("email", "bad@example.com")
    RiskSettings.objects.filter(program=beta).update(enabled=False)
    RiskSettings.objects.filter(program=gamma).update(threshold=0)

    assert run_rescreen("--program", "alpha")[-1] == (
        "1 screened, 1 flagged for review, 0 cleared, 0 unchanged"
    )
    lines = run_rescreen()
    assert "skipped beta (screening disabled)" in lines
    assert "skipped gamma (risk settings cannot be evaluated)" in lines
    assert lines[-1] == "1 screened, 0 flagged for review, 0 cleared, 1 unchanged"
    assert Screening.objects.filter(program__in=[beta, gamma]).count() == 0

    with pytest.raises(CommandError, match="Unknown program"):
        run_rescreen("--program", "nope")


def test_rescreen_batch_costs_constant_queries(seeded, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    program = ProgramFactory()
    listed("last_name", "Mohammed", match="fuzzy", action="score", weight=10)
    for size in (3, 30):
        users = [
            AccountHolderFactory(
                program=program, last_name="Lovelace", risk_status=RiskStatus.CLEARED
            )
            for _ in range(size)
        ]
        batch = list(
            AccountHolder.objects.filter(pk__in=[u.pk for u in users]).prefetch_related(
                "identifications"
            )
        )
        # settings, keys, fuzzy candidates, two bulk inserts (+ savepoint bookkeeping); only
        # users whose risk status changes cost one guarded update each (none here)
        with django_assert_max_num_queries(7):
            counts = rescreen_batch(program=program, users=batch)
        assert counts.screened == size
