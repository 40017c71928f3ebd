"""The scenarios against the real API: every request the bench sends is one the API accepts."""

from __future__ import annotations

import json

import pytest

from bench import dataset
from bench.build import build_scenarios, deep_page_path, restore_reactivated
from bench.documents import remove_uploaded
from bench.scenarios import MISSING, Probe, Scenario, basic_auth
from documents.models import Document, KycSubmission
from documents.storage import document_storage
from users.models import AccountHolder

pytestmark = pytest.mark.urls("bench.urls")


@pytest.fixture
def loaded(seeded):
    programs = dataset.ensure_programs()
    dataset.load_users(count=200, programs=programs, progress=False)
    return programs[0], dataset.issue_credentials(programs[0])


def _probe(credentials: dataset.Credentials) -> Probe:
    return Probe(
        authorization=basic_auth(credentials.client_id, credentials.client_secret),
        mobile_base=dataset.CREATED_MOBILE_BASE,
    )


def test_unrouted_and_unimplemented_endpoints_are_reported_missing(loaded) -> None:
    program, credentials = loaded
    probe = _probe(credentials)
    unrouted = Scenario(key="x", label="x", method="GET", path=f"/{program.code}/v2/nothing")
    wrong_method = Scenario(
        key="y", label="y", method="DELETE", path=f"/{program.code}/v1/users/enumerations/titles"
    )
    for scenario in (unrouted, wrong_method):
        probe.check(scenario)
        assert scenario.missing and scenario.queries is None


def test_an_unexpected_answer_is_a_failure_not_a_measurement(loaded) -> None:
    program, credentials = loaded
    scenario = Scenario(
        key="x", label="x", method="GET", path=f"/{program.code}/v1/users/enumerations/nope"
    )
    _probe(credentials).check(scenario)
    assert not scenario.missing
    assert scenario.failure.startswith("404 ")
    assert scenario.queries is None


def test_every_bench_scenario_is_accepted_by_the_api(loaded, tmp_path) -> None:
    program, credentials = loaded
    scenarios, probe = build_scenarios(
        program=program, credentials=credentials, run_id="abc123", files_dir=tmp_path, list_users=4
    )
    keys = {s.key for s in scenarios}
    assert {
        "enumeration",
        "v2_get",
        "v2_list_first",
        "v2_list_deep",
        "v2_list_filter",
        "v1_search",
        "v1_search_or",
        "admin_changelist",
        "floor",
        "v1_create",
        "v1_create_password",
        "v1_reactivate",
        "v2_update",
        "v2_documents_list",
        "v2_upload_100kb",
        "v2_upload_8mib",
        "v2_upload_8mib_base64",
    } <= keys
    before = AccountHolder.objects.count()
    for scenario in scenarios:
        probe.check(scenario)
        assert not scenario.missing, f"{scenario.key}: {MISSING}"
        assert not scenario.failure, f"{scenario.key}: {scenario.failure}"
        assert scenario.queries and scenario.queries > 0
    # floor, create and create-with-password each wrote their two requests
    assert AccountHolder.objects.count() == before + 6
    reactivate = next(s for s in scenarios if s.key == "v1_reactivate")
    woken = AccountHolder.objects.filter(public_id__in=reactivate.probe_pool)
    assert {u.status for u in woken} == {"active"}
    assert not set(reactivate.probe_pool) & set(reactivate.pool)
    restore_reactivated(scenarios)
    for user in woken.all():
        assert (user.status, user.sub_status) == reactivate.restore[user.public_id]
    # each upload scenario's check uploaded twice to its own probe user; the run removes them
    uploads = [s for s in scenarios if s.documents_of]
    assert len(uploads) == 3
    uploaders = [u for s in uploads for u in s.documents_of]
    uploaded = Document.objects.filter(user__public_id__in=uploaders)
    for scenario in uploads:
        assert uploaded.filter(user__public_id__in=scenario.probe_pool).count() == 2
    names = list(uploaded.values_list("storage_name", flat=True))
    assert len(names) == 6 and all(document_storage().exists(n) for n in names)
    assert remove_uploaded(scenarios) == 6
    assert not uploaded.exists()
    assert not KycSubmission.objects.filter(user__public_id__in=uploads[0].documents_of).exists()
    assert not any(document_storage().exists(n) for n in names)


def test_deep_page_is_a_cursor_page_ninety_percent_down(loaded) -> None:
    program, credentials = loaded
    probe = _probe(credentials)
    path, note = deep_page_path(probe, f"/{program.code}/v2/users", program)
    assert "cursor=" in path and note.startswith("cursor 90 %")
    status, content = probe.request(Scenario(key="d", label="d", method="GET", path=path))
    assert status == 200
    shown = [u["id"] for u in json.loads(content)["data"]]
    newest_first = list(
        AccountHolder.objects.filter(program=program)
        .order_by("-created_at", "-id")
        .values_list("public_id", flat=True)
    )
    assert shown and newest_first.index(shown[0]) >= int(len(newest_first) * 0.9)
