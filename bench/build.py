"""The scenarios of one bench run, built against the loaded data set."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client

from bench import dataset, documents
from bench.loadgen import letters
from bench.scenarios import (
    BENCH_PASSWORD,
    V1_CREATE_FIELDS,
    V2_UPDATE_BODY,
    Probe,
    Scenario,
    basic_auth,
    form_body,
    is_routed,
    json_body,
)
from programs.models import Program
from users.models import AccountHolder, Status

POOL_SIZE = 50_000
OPERATOR = "bench-operator"
FORM = "application/x-www-form-urlencoded"
BODIES = Path(__file__).resolve().parent / "results" / "bodies"  # upload bodies (gitignored)


def build_scenarios(
    *,
    program: Program,
    credentials: dataset.Credentials,
    run_id: str,
    files_dir: Path = BODIES,
    list_users: int = documents.LIST_USERS,
    with_documents: bool = True,
) -> tuple[list[Scenario], Probe]:
    """Every scenario; `with_documents=False` skips preparing the document ones (seeding
    users with documents, writing the upload bodies) when a run selects none of them."""
    probe = Probe(
        authorization=basic_auth(credentials.client_id, credentials.client_secret),
        mobile_base=dataset.next_mobile_base(program),
    )
    code = program.code
    users = f"/{code}/v2/users"
    create_body = form_body(V1_CREATE_FIELDS, run_id)
    password_body = form_body({**V1_CREATE_FIELDS, "password": BENCH_PASSWORD}, run_id)

    readers = dataset.sample_public_ids(program, statuses=(Status.ACTIVE,), limit=POOL_SIZE)
    spread = readers[:: max(1, len(readers) // 5000)] or ["0" * 32]
    # re-activation takes each suspended / locked user once; the oldest are set apart for the
    # in-process check, the rest go to the load generator
    sleepers = list(
        AccountHolder.objects.filter(
            program=program, status__in=(Status.SUSPENDED, Status.LOCKED), risk_status="CLEARED"
        )
        .order_by("id")
        .values_list("public_id", "status", "sub_status")[:POOL_SIZE]
    )
    # v2 updates walk the newest active users (the readers pool is the oldest)
    updatable = list(
        AccountHolder.objects.filter(program=program, status=Status.ACTIVE, risk_status="CLEARED")
        .order_by("-id")
        .values_list("public_id", flat=True)[:POOL_SIZE]
    ) or ["0" * 32]

    deep_path, deep_note = deep_page_path(probe, users, program)
    uploads: list[Scenario] = []
    holders: list[str] = []
    if with_documents:
        uploads, holders = documents.document_scenarios(
            program=program, client_id=credentials.client_id, files_dir=files_dir, count=list_users
        )

    scenarios = [
        Scenario(
            key="enumeration",
            label="enumeration read (countries)",
            method="GET",
            path=f"/{code}/v1/users/enumerations/countries",
        ),
        Scenario(
            key="v2_get",
            label="v2 get user",
            method="GET",
            path=f"{users}/{{id}}",
            pool=spread,
        ),
        Scenario(key="v2_list_first", label="v2 list first page", method="GET", path=users),
        Scenario(
            key="v2_documents_list",
            label="v2 KYC documents list",
            method="GET",
            path=f"{users}/{{id}}/documents",
            pool=holders or ["0" * 32],
            note=f"{len(holders)} users holding 1 to 4 documents each",
        ),
        Scenario(
            key="v2_list_deep",
            label="v2 list deep cursor page",
            method="GET",
            path=deep_path,
            note=deep_note,
        ),
        Scenario(
            key="v2_list_filter",
            label="v2 list status=suspended",
            method="GET",
            path=f"{users}?status=suspended",
        ),
        Scenario(
            key="v2_list_search",
            label="v2 list search q=siew",
            method="GET",
            path=f"{users}?q=siew",
        ),
        Scenario(
            key="v2_list_search_miss",
            label="v2 list search q=zzqx (no match)",
            method="GET",
            path=f"{users}?q=zzqx",
            note="worst case of q: a prefix no user has",
        ),
        Scenario(
            key="v1_search",
            label="v1 search first_name=siew (fuzzy)",
            method="GET",
            path=f"/{code}/v1/oauth/consumer/search/users?first_name=siew&match_type=fuzzy",
        ),
        Scenario(
            key="v1_search_or",
            label="v1 search 3 filters OR",
            method="GET",
            path=(
                f"/{code}/v1/oauth/consumer/search/users?filter_condition=OR"
                "&last_name=tan&email=zzqx%40example.com&id_number=B000001"
            ),
            note="a UNION of three index look-ups; total_records capped at 10000+",
        ),
        *admin_scenarios(program),
        Scenario(
            key="floor",
            label="floor (1 INSERT, same auth)",
            method="POST",
            path=f"/{code}/v1/bench/floor/users",
            body=create_body,
            content_type=FORM,
        ),
        Scenario(
            key="v1_create",
            label="v1 create (no password)",
            method="POST",
            path=f"/{code}/v1/users",
            body=create_body,
            content_type=FORM,
            write=True,
        ),
        Scenario(
            key="v1_create_password",
            label="v1 create with password (Argon2)",
            method="POST",
            path=f"/{code}/v1/users",
            body=password_body,
            content_type=FORM,
            write=True,
        ),
        Scenario(
            key="v1_reactivate",
            label="v1 re-activate",
            method="POST",
            path=f"/{code}/v1/users",
            body="id={id}",
            content_type=FORM,
            pool=[p for p, _, _ in sleepers[2:]],
            probe_pool=[p for p, _, _ in sleepers[:2]],
            pool_exhaust=True,
            write=True,
            restore={p: (s, ss) for p, s, ss in sleepers},
        ),
        Scenario(
            key="v2_update",
            label="v2 update (PUT)",
            method="PUT",
            path=f"{users}/{{id}}",
            # names take letters only: the run id (hex) is written in letters here
            body=json_body(V2_UPDATE_BODY, letters(int(run_id, 16))),
            content_type="application/json",
            pool=updatable,
            write=True,
        ),
        *uploads,
    ]
    if not sleepers:
        for scenario in scenarios:
            if scenario.key == "v1_reactivate":
                scenario.failure = "no suspended or locked user to re-activate in the data set"
    return scenarios, probe


def deep_page_path(probe: Probe, users: str, program: Program) -> tuple[str, str]:
    """A keyset-cursor page of the default list, 90 % of the way down (oldest tenth).

    Walking there page by page would take thousands of requests, so the harness lists the
    users created before the 90 % point (`created_to`) and takes that page's `next_cursor`:
    a cursor any client could hold after paging that far. The scenario then requests the
    unfiltered list from that cursor, which runs the same query at any depth.
    """
    fallback = f"{users}?cursor=unavailable"
    if not is_routed(users):
        return fallback, ""
    at = dataset.created_at_at_depth(program, 0.9)
    if at is None:
        return fallback, "no users"
    for value in (_iso(at), at.date().isoformat()):
        query = urlencode({"created_to": value})
        status, content = probe.request(
            Scenario(key="_deep", label="", method="GET", path=f"{users}?{query}")
        )
        if status != 200:
            continue
        try:
            cursor = json.loads(content)["pagination"]["next_cursor"]
        except (ValueError, KeyError, TypeError):
            return fallback, "list answer has no pagination.next_cursor"
        if cursor:
            return f"{users}?{urlencode({'cursor': cursor})}", "cursor 90 % down the list"
    return fallback, "could not position a deep page with created_to"


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def admin_scenarios(program: Program) -> list[Scenario]:
    changelist = "/admin/users/accountholder/"
    if not admin.site.is_registered(AccountHolder):
        return [
            Scenario(
                key="admin_changelist",
                label="admin user changelist",
                method="GET",
                path=changelist,
                missing=True,
            )
        ]
    session = operator_session()
    sample = (
        AccountHolder.objects.filter(program=program).order_by("id").values_list("email", flat=True)
    ).first()
    return [
        Scenario(
            key="admin_changelist",
            label="admin user changelist",
            method="GET",
            path=changelist,
            session=session,
            serial_only=True,
        ),
        Scenario(
            key="admin_search",
            label="admin changelist search (e-mail)",
            method="GET",
            path=f"{changelist}?{urlencode({'q': sample or 'nobody@example.com'})}",
            session=session,
            serial_only=True,
        ),
    ]


def operator_session() -> str:
    """A logged-in superuser's session key (sessions live in the database gunicorn reads)."""
    user_model = get_user_model()
    operator, _ = user_model.objects.get_or_create(
        username=OPERATOR, defaults={"email": "bench-operator@example.com"}
    )
    operator.is_staff = operator.is_superuser = operator.is_active = True
    operator.set_unusable_password()
    operator.save()
    client = Client()
    client.force_login(operator)
    return str(client.session.session_key)


def restore_reactivated(scenarios: list[Scenario]) -> None:
    """Put re-activated users back to sleep, so the next --reuse run finds them again.

    This resets a bench fixture; it is not a lifecycle transition and never runs outside
    the bench database.
    """
    for scenario in scenarios:
        if not scenario.restore:
            continue
        by_status: dict[tuple[str, str], list[str]] = {}
        for public_id, status in scenario.restore.items():
            by_status.setdefault(status, []).append(public_id)
        for (status, sub_status), ids in by_status.items():
            for start in range(0, len(ids), 5000):
                AccountHolder.objects.filter(
                    public_id__in=ids[start : start + 5000], status=Status.ACTIVE
                ).update(status=status, sub_status=sub_status)


def profile_targets(scenarios: list[Scenario]) -> list[tuple[str, Any]]:
    wanted = {
        "v1_create": "create",
        "v1_create_password": "create-password",
        "v2_update": "v2-update",
        "v2_list_first": "v2-list",
    }
    return [
        (wanted[s.key], s) for s in scenarios if s.key in wanted and not s.missing and not s.failure
    ]
