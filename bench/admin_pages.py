"""Server time of the back-office's user pages at a large user count (SPEC §8, issue 6).

    DATABASE_URL=postgres://root@127.0.0.1:5432/<db> \\
        .venv/bin/python -m bench.admin_pages --users 1000000 [--runs 15]

Loads users with the bench's COPY loader up to `--users` (a top-up: re-runs reuse the rows),
ANALYZEs, then requests each admin page in-process with Django's test client as an `admin`
group operator and prints the median / p95 server time and the query count of each. The time
includes middleware, the ORM, PostgreSQL and template rendering; not the network or a browser.
Use a database of its own: the rows stay.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import dataclass


@dataclass
class Timing:
    name: str
    median_ms: float
    p95_ms: float
    queries: int
    status: int


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")
    import django

    django.setup()

    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from backoffice.groups import ADMIN
    from bench import dataset
    from users.models import AccountHolder

    programs = dataset.ensure_programs()
    have = AccountHolder.objects.count()
    if have < args.users:
        print(f"loading {args.users - have} users (have {have})")
        dataset.load_users(count=args.users - have, programs=programs)
        dataset.analyze()
    total = AccountHolder.objects.count()

    operator, _ = User.objects.get_or_create(username="bench-operator", defaults={"is_staff": True})
    operator.groups.add(Group.objects.get(name=ADMIN))
    client = Client()
    client.force_login(operator)

    sample = AccountHolder.objects.filter(program=programs[0]).order_by("-created_at")[1234]
    changelist = reverse("admin:users_accountholder_changelist")
    pages = {
        "changelist (newest 50)": (changelist, {}),
        "changelist page 200": (changelist, {"p": "200"}),
        "filter status=locked": (changelist, {"status__exact": "locked"}),
        "filter program+status": (
            changelist,
            {"program__id__exact": str(programs[0].pk), "status__exact": "suspended"},
        ),
        "filter kyc=completed": (changelist, {"kyc_status__exact": "completed"}),
        "filter risk=PENDING": (changelist, {"risk_status__exact": "PENDING"}),
        "filter created 24h": (changelist, {"created": "24h"}),
        "filter created 30d": (changelist, {"created": "30d"}),
        "search email": (changelist, {"q": str(sample.email).upper()}),
        "search user id": (changelist, {"q": sample.public_id}),
        "search mobile": (changelist, {"q": f"+65 {sample.mobile}"}),
        "search customer id": (changelist, {"q": str(sample.customer_id)}),
        "search client ref": (changelist, {"q": str(sample.client_ref_id)}),
        "search name": (changelist, {"q": f"{sample.first_name} {sample.last_name}"}),
        "user change page": (reverse("admin:users_accountholder_change", args=[sample.pk]), {}),
    }

    results = []
    for name, (url, params) in pages.items():
        client.get(url, params)  # warm caches and the connection
        times = []
        for _ in range(args.runs):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url, params)
                times.append((time.perf_counter() - started) * 1000)
        times.sort()
        results.append(
            Timing(
                name=name,
                median_ms=statistics.median(times),
                p95_ms=times[max(0, round(0.95 * len(times)) - 1)],
                queries=len(queries),
                status=response.status_code,
            )
        )

    print(f"\nadmin pages at {total:,} users ({connection.vendor}), {args.runs} runs each")
    print(f"{'page':<26} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'status':>7}")
    for r in results:
        print(f"{r.name:<26} {r.median_ms:>10.1f} {r.p95_ms:>8.1f} {r.queries:>8} {r.status:>7}")


if __name__ == "__main__":
    main()
