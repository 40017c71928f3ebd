"""`manage.py screen` and the admin's "check a name" page (SPEC §14): nothing is saved."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from backoffice.groups import COMPLIANCE, SUPPORT, setup_groups
from risk.matching import index_keys
from risk.models import BlacklistEntry, BlacklistToken, Screening
from tests.risk.helpers import listed

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed_party(seeded: None) -> BlacklistEntry:
    entry = listed("name", "Usama bin Muhammad bin Awad bin Laden", match="fuzzy")
    entry.aliases = ["Abu Abdallah Abd al-Hakim"]
    entry.birth_dates = ["1957-07-30", "1958"]
    entry.nationalities = ["SAU"]
    entry.save()
    BlacklistToken.objects.filter(entry=entry).delete()
    BlacklistToken.objects.bulk_create(index_keys([entry]))
    listed("name", "Jane Doe", match="fuzzy", action="score", weight=40)
    return entry


def screen(*args: str) -> list[str]:
    out = io.StringIO()
    call_command("screen", *args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_one_name_as_json(listed_party: BlacklistEntry) -> None:
    counts = (BlacklistEntry.objects.count(), Screening.objects.count())
    [line] = screen("--name", "Osama bin Laden", "--birthday", "1957-07-30", "--json")
    got = json.loads(line)
    assert set(got) == {"ref", "name", "outcome", "score", "matches"}
    assert got["outcome"] == "block" and got["name"] == "Osama bin Laden"
    [match] = got["matches"]
    assert set(match) == {"entry_id", "value", "matched_name", "match", "action", "weight", "score"}
    assert match["entry_id"] == listed_party.pk
    assert match["matched_name"] == listed_party.value
    # the agreeing birth date lifts the shorter spelling above its name similarity
    [loose] = json.loads(screen("--name", "Osama bin Laden", "--json")[0])["matches"]
    assert match["score"] == loose["score"] + 10
    assert (BlacklistEntry.objects.count(), Screening.objects.count()) == counts


def test_a_file_of_queries(listed_party: BlacklistEntry, tmp_path: Path) -> None:
    queries = tmp_path / "q.csv"
    queries.write_text(
        "ref,name,birthday,nationality\n"
        "a1,Abd al Hakim Abu Abdallah,,\n"
        "a2,Jane Doe,,\n"
        "a3,John Laden,,\n",
        encoding="utf-8",
    )
    rows = [json.loads(line) for line in screen("--file", str(queries), "--json")]
    assert [(r["ref"], r["outcome"]) for r in rows] == [
        ("a1", "block"),
        ("a2", "flag"),
        ("a3", "clear"),
    ]
    assert rows[0]["matches"][0]["matched_name"] == "Abu Abdallah Abd al-Hakim"
    assert rows[1]["score"] == 40
    plain = screen("--file", str(queries))
    assert plain[0].startswith("a1: Abd al Hakim Abu Abdallah → block")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "Ada", "--birthday", "31/01/1990"], "--birthday: not an ISO 8601 date"),
        (["--name", "Ada", "--nationality", "Singapore"], "--nationality: an ISO 3166 alpha-3"),
        (["--name", ". , ;"], "--name: no name part left"),
        (["--name", "Ada", "--program", "nope"], "Unknown program"),
    ],
)
def test_bad_arguments_are_explained(seeded: None, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        screen(*args)


def test_a_bad_file_names_the_line(seeded: None, tmp_path: Path) -> None:
    bad = tmp_path / "q.csv"
    bad.write_text("name,birthday\nAda King,1990-01-01\nAda,yesterday\n", encoding="utf-8")
    with pytest.raises(CommandError, match="line 3: birthday"):
        screen("--file", str(bad))
    bad.write_text("who\nAda\n", encoding="utf-8")
    with pytest.raises(CommandError, match="`name` column"):
        screen("--file", str(bad))


def _operator(group: str) -> Client:
    setup_groups()
    user = User.objects.create_user(username=f"op-{group}", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(user)
    return client


def test_admin_check_page_for_compliance_not_support(listed_party: BlacklistEntry) -> None:
    url = reverse("admin:risk_blacklistentry_check_name")
    compliance = _operator(COMPLIANCE)
    page = compliance.get(
        url,
        {
            "name": "Usama bin Muhammad bin Awad bin Ladin",
            "birthday": "1990-01-01",
            "nationality": "sau",
        },
    )
    assert page.status_code == 200
    body = page.content.decode()
    assert "Outcome: block" in body
    assert "Usama bin Muhammad bin Awad bin Laden" in body
    assert "birth date contradicts" in body and "nationality agrees" in body
    refused = compliance.get(url, {"name": "Ada", "birthday": "soon"})
    assert refused.status_code == 200 and "Enter a valid date" in refused.content.decode()
    assert Screening.objects.count() == 0
    assert _operator(SUPPORT).get(url, {"name": "Usama ibn Laden"}).status_code == 403
