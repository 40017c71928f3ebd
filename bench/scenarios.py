"""What the bench measures: one request template per scenario, and the in-process checks.

Each scenario is checked in-process first, with Django's test client against the same
database: is the endpoint routed (an unrouted path falls through to the API's catch-all, an
unimplemented method answers 405 — both are reported as "n/a (endpoint missing)"), does a
sample request get the expected status (otherwise the scenario is reported as failing, with
the answer, rather than timed), and how many SQL queries a warm request runs.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve

from bench.loadgen import expand

MISSING = "n/a (endpoint missing)"

# A complete v1 create: every enumerated field and an identity document, so the full
# validation and screening path runs. {n} / {mobile} make each request's unique fields unique.
V1_CREATE_FIELDS: dict[str, str] = {
    "first_name": "Ada",
    "last_name": "Lim",
    "preferred_name": "Ada",
    "email": "bench.{run}.{n}@example.com",
    "mobile_country_code": "65",
    "mobile": "{mobile}",
    "title": "Miss",
    "gender": "female",
    "birthday": "1990-05-17",
    "place_of_birth": "Singapore",
    "nationality": "SGP",
    "marital_status": "single",
    "id_type": "passport",
    "id_number": "B{run}{n}",
    "id_date_issue": "2021-03-01",
    "id_date_expiry": "2031-02-28",
    "country_of_issue": "SGP",
    "client_reference_id": "BENCH-{run}-{n}",
    "employment_type": "Full-time",
    "occupation": "Engineer",
    "source_of_funds": "Salary",
    "volume_of_assets": "10,000 - 50,000",
    "purpose_of_account": "Savings",
}
# Meets the v1 password rule (8-32, a lower-case letter, a number, a special character).
BENCH_PASSWORD = "k7#lm2q9!xz"

# Every request changes a screened name and the address, so each update validates, screens,
# diffs and audits for real, however often the bench has run on the same users before.
V2_UPDATE_BODY: dict[str, Any] = {
    "middle_name": "Bench {run} {letters}",
    "job_title": "Engineer",
    "employment_type": "Full-time",
    "annual_income": "20,000 - 50,000",
    "addresses": [
        {
            "type": "residential",
            "address_1": "{n} Orchard Road",
            "city": "Singapore",
            "country": "SGP",
            "zipcode": "238801",
        }
    ],
}


@dataclass
class Scenario:
    key: str
    label: str
    method: str
    path: str
    body: str | None = None
    # a body sent byte for byte as it is in this file (uploads; no placeholders); the path
    # may still hold {id}
    body_file: str | None = None
    content_type: str | None = None
    expect: tuple[int, ...] = (200,)
    pool: list[str] = field(default_factory=list)  # {id} values for the load generator
    probe_pool: list[str] = field(default_factory=list)  # {id} values for the in-process checks
    pool_exhaust: bool = False
    write: bool = False
    session: str | None = None  # admin scenarios: a logged-in operator's session cookie
    serial_only: bool = False  # measured at concurrency 1 only (operators, not partners)
    note: str = ""
    # users to put back to (status, sub_status) after the run (re-activation pool)
    restore: dict[str, tuple[str, str]] = field(default_factory=dict)
    # users whose KYC documents the scenario creates, removed after the run (upload pools)
    documents_of: list[str] = field(default_factory=list)
    # sample the gunicorn workers' peak RSS over the scenario (uploads)
    sample_rss: bool = False
    # filled in by the checks
    missing: bool = False
    failure: str = ""
    queries: int | None = None


def basic_auth(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def form_body(fields: dict[str, str], run: str) -> str:
    # {run} is fixed per bench run; {n} / {mobile} stay for the load generator to expand
    return urlencode({k: v.replace("{run}", run) for k, v in fields.items()}, safe="{}")


def headers_for(scenario: Scenario, authorization: str) -> dict[str, str]:
    headers = {"Accept": "application/json"}
    if scenario.session:
        headers["Cookie"] = f"sessionid={scenario.session}"
    else:
        headers["Authorization"] = authorization
    if scenario.content_type:
        headers["Content-Type"] = scenario.content_type
    return headers


def is_routed(path: str) -> bool:
    """False when the path only reaches the API's catch-all for unknown routes."""
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return False
    return match.func.__name__ != "api_not_found"


@dataclass
class Probe:
    """Runs scenario requests in-process; `sequence` hands out unique {n} values."""

    authorization: str
    mobile_base: int
    sequence: int = 0
    pool_index: dict[str, int] = field(default_factory=dict)

    def request(self, scenario: Scenario) -> tuple[int, bytes]:
        n = self.sequence
        self.sequence += 1
        pool = scenario.probe_pool or scenario.pool
        index = self.pool_index.get(scenario.key, 0)
        self.pool_index[scenario.key] = index + 1
        path = expand(scenario.path, n=n, mobile_base=self.mobile_base, pool=pool, index=index)
        if scenario.body_file is not None:
            body = Path(scenario.body_file).read_bytes()
        elif scenario.body is not None:
            body = expand(
                scenario.body, n=n, mobile_base=self.mobile_base, pool=pool, index=index
            ).encode()
        else:
            body = b""
        client = Client()
        extra: dict[str, Any] = {"HTTP_ACCEPT": "application/json"}
        if scenario.session:
            client.cookies["sessionid"] = scenario.session
        else:
            extra["HTTP_AUTHORIZATION"] = self.authorization
        response = client.generic(
            scenario.method,
            path,
            data=body,
            content_type=scenario.content_type or "application/octet-stream",
            **extra,
        )
        return response.status_code, response.content

    def check(self, scenario: Scenario) -> None:
        """Mark the scenario missing / failing, or record its warm query count."""
        if not scenario.session and not is_routed(scenario.path.replace("{id}", "0" * 32)):
            scenario.missing = True
            return
        status, content = self.request(scenario)  # warm-up: caches, catalog snapshot
        if status == 405:
            scenario.missing = True
            return
        if status not in scenario.expect:
            scenario.failure = f"{status} {content[:300].decode('utf-8', 'replace')}"
            return
        with CaptureQueriesContext(connection) as captured:
            status, content = self.request(scenario)
        if status not in scenario.expect:
            scenario.failure = f"{status} {content[:300].decode('utf-8', 'replace')}"
            return
        scenario.queries = len(captured)


def json_body(data: Any, run: str) -> str:
    return json.dumps(data).replace("{run}", run)
