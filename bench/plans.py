"""Query plans of the v1 search (SPEC §11) on the bench data set.

The v1 search must be served from indexes at 1 000 000 users: `EXPLAIN` of every filter alone,
of a 3-filter `AND`, of a 3-filter `OR` and of `fuzzy` shows no sequential scan of the users
table. The tests check the same shapes on a few thousand rows
(`tests/users/test_v1_search.py`); this phase checks them on whatever `make bench` loaded, with
values taken from a loaded user, so the planner sees the real table sizes and statistics.

Each shape is requested in-process through the API (the real SQL, whatever columns it uses),
the statements that read the users table are captured and each is `EXPLAIN`ed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

USERS_TABLE = "users_accountholder"


@dataclass
class Plan:
    label: str
    params: dict[str, str]
    status: int = 0
    statements: list[str] = field(default_factory=list)
    plans: list[str] = field(default_factory=list)

    @property
    def sequential(self) -> bool:
        """True when a plan reads the users table sequentially."""
        return any(f"Seq Scan on {USERS_TABLE}" in plan for plan in self.plans)


def sample_values(program: Any) -> dict[str, str]:
    """Search values of one loaded user of `program` (an active one with an id document)."""
    from django.db.models import Count, Max, Min

    from users.models import AccountHolder, Identification

    # a user from the middle of the table: the first ones' values are prefixes of many others'
    # in generated data ("First1" of "First1xxx"), which no real search looks like
    bounds = AccountHolder.objects.filter(program=program).aggregate(low=Min("id"), high=Max("id"))
    middle = ((bounds["low"] or 0) + (bounds["high"] or 0)) // 2
    user = (
        AccountHolder.objects.filter(program=program, status="active", id__gte=middle)
        .exclude(email__isnull=True)
        .order_by("id")
        .first()
    )
    if user is None:
        raise RuntimeError("no active user with an e-mail in the bench program")
    document = Identification.objects.filter(user=user).order_by("-is_primary").first()
    # the rarest id type: a type most users hold is answered best by reading the table in
    # creation order, and that plan says nothing about the type's index
    rarest = (
        Identification.objects.filter(program=program)
        .values("id_type")
        .annotate(n=Count("id"))
        .order_by("n")
        .first()
    )
    birth = user.birth_date.isoformat() if user.birth_date else "1980-01-01"
    return {
        "email": user.email or "",
        "mobile": f"{user.mobile_country_code or ''}{user.mobile or ''}",
        "user_hash_id": user.public_id,
        "first_name": user.first_name or "a",
        "last_name": user.last_name or "a",
        "customer_id": user.customer_id or "c",
        "partner_id": user.partner_id or "p",
        "id_type": rarest["id_type"] if rarest else "passport",
        "id_number": document.number if document else "X0000000",
        "birthday": birth,
    }


def prefix(value: str) -> str:
    """A fuzzy (prefix) search value: the value without its last character."""
    return value[:-1] if len(value) > 3 else value


def shapes(values: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    """Every filter alone, 3-filter AND and OR, fuzzy alone and combined."""
    alone = [
        (f"{name} alone", {name: value})
        for name, value in values.items()
        if name not in ("user_status", "kyc_status")
    ]
    alone += [
        ("user_status alone", {"user_status": "locked"}),
        ("kyc_status alone", {"kyc_status": "completed"}),
    ]
    three = {k: values[k] for k in ("first_name", "last_name", "customer_id")}
    three_or = {k: values[k] for k in ("email", "id_number", "partner_id")}
    return [
        *alone,
        ("3 filters AND", three),
        ("3 filters OR", {**three_or, "filter_condition": "OR"}),
        ("fuzzy first_name", {"first_name": prefix(values["first_name"]), "match_type": "fuzzy"}),
        (
            "fuzzy 3 filters OR",
            {
                "email": prefix(values["email"].split("@")[0]),
                "mobile": prefix(values["mobile"]),
                "last_name": prefix(values["last_name"]),
                "match_type": "fuzzy",
                "filter_condition": "OR",
            },
        ),
        (
            "fuzzy id + customer + birthday year",
            {
                "user_hash_id": values["user_hash_id"][:2],
                "customer_id": prefix(values["customer_id"]),
                "birthday": values["birthday"][:4],
                "match_type": "fuzzy",
            },
        ),
    ]


def explain_search(
    program_code: str, authorization: str, values: dict[str, str], *, index_only: bool = False
) -> list[Plan]:
    """Request each shape in-process and EXPLAIN every statement that reads the users table.

    `index_only` prices sequential scans out (`enable_seqscan = off`): on a small table the
    planner rightly reads the table whole, so a test asks instead whether an index *can* serve
    the shape — a Seq Scan left in the plan then means none can. The bench leaves it off.
    """
    results = []
    client = Client()
    for label, params in shapes(values):
        plan = Plan(label=label, params=params)
        query = urlencode({**params, "records_per_page": 10})
        path = f"/{program_code}/v1/oauth/consumer/search/users?{query}"
        with CaptureQueriesContext(connection) as captured:
            response = client.get(
                path, HTTP_AUTHORIZATION=authorization, HTTP_ACCEPT="application/json"
            )
        plan.status = response.status_code
        plan.statements = [
            q["sql"]
            for q in captured.captured_queries
            if USERS_TABLE in q["sql"] and q["sql"].lstrip().upper().startswith("SELECT")
        ]
        with connection.cursor() as cursor:
            if index_only:
                cursor.execute("SET enable_seqscan = off")
            try:
                for sql in plan.statements:
                    cursor.execute("EXPLAIN " + sql)
                    plan.plans.append("\n".join(row[0] for row in cursor.fetchall()))
            finally:
                if index_only:
                    cursor.execute("RESET enable_seqscan")
        results.append(plan)
    return results


def summary(plans: list[Plan]) -> dict[str, Any]:
    return {
        "shapes": len(plans),
        "failed_requests": [p.label for p in plans if p.status != 200],
        "sequential_scans": [p.label for p in plans if p.sequential],
        "plans": [
            {"label": p.label, "params": p.params, "status": p.status, "plans": p.plans}
            for p in plans
        ],
    }
