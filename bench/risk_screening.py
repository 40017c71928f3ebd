"""Risk benchmark: `import_blacklist` rows/s and screening time per write at two list sizes.

    DATABASE_URL=postgres://root@127.0.0.1:5432/<db> .venv/bin/python bench/risk_screening.py \
        [--small 1000] [--large 1000000] [--iterations 300]

Loads `--small` synthetic entries through `import_blacklist` (a realistic mix: exact and
normalized e-mails, phones, id numbers, normalized and fuzzy names) and both sanctions lists
(OFAC SDN and the UN consolidated list, `import_sanctions` on the snapshots in
tests/data/sanctions/: 4 575 `customer.name` entries with their aliases), measures
`screen_user_write` for a user who matches nothing and one whose name fuzzily matches (each
screening its full name as a create does, SPEC §14), then grows the list to `--large` entries
and measures again. Prints the import speed, the per-screening median / p95 and the query
count at each size, and the ratio large / small (the SPEC wants it near 1). Uses the database
it is given (migrates it, empties the blacklist tables first): never point it at data you
want to keep.

`make bench` (bench/run.py) uses `load_sanctions` and `compare_screening` below for its
screening phase: both lists are loaded into the bench database and into its 1 000-entry
companion, so the two sizes differ only by the generated entries.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __name__ == "__main__":  # run as a script; bench/run.py imports it set up already
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

    import django

    django.setup()

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

SYLLABLES = tuple(
    [
        "ka",
        "ri",
        "mo",
        "na",
        "le",
        "to",
        "sa",
        "mi",
        "ra",
        "di",
        "ne",
        "lo",
        "ha",
        "ze",
        "vu",
        "ba",
        "ko",
        "ti",
        "fa",
        "ru",
        "chen",
        "wei",
        "li",
        "zhang",
        "ng",
        "yen",
        "al",
        "ex",
        "an",
        "der",
        "ser",
        "gei",
        "iv",
        "ov",
        "ma",
        "ria",
        "jo",
        "se",
    ]
)


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def _rows(count: int, start: int, rng: random.Random) -> io.StringIO:
    """`count` distinct valid CSV rows (no header), numbered from `start`."""
    out = io.StringIO()
    for i in range(start, start + count):
        kind = i % 20
        if kind < 6:
            out.write(f"customer.email,user{i}@list{i % 97}.example.com,exact,block,,bench\n")
        elif kind < 9:
            out.write(f"customer.mobile,+65 9{1_000_000 + i % 8_000_000:07d},exact,block,,bench\n")
        elif kind < 12:
            out.write(f"customer.id_number,X{i:09d},exact,block,,bench\n")
        elif kind < 16:
            name = f"{_name(rng)} {_name(rng)}"[:40] + " " + _roman(i)
            out.write(f"customer.last_name,{name},normalized,score,30,bench\n")
        elif kind < 19:
            attribute = ("customer.first_name", "customer.last_name")[i % 2]
            name = f"{_name(rng)[:40]} {_roman(i)}"
            out.write(f"{attribute},{name},fuzzy,score,40,bench\n")
        else:
            out.write(f"customer.email,Listed.{i}+x@Mail{i % 89}.example.com,normalized,block,,\n")
    return out


def _roman(n: int) -> str:
    """A unique five-letter suffix for row n (names may not contain digits)."""
    letters = "bcdfghjklmnpqrstvwxz"
    text = ""
    for _ in range(5):
        n, digit = divmod(n, len(letters))
        text += letters[digit]
    return text.capitalize()


def _import(rows: io.StringIO, label: str) -> tuple[int, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, encoding="utf-8") as f:
        f.write("entity_attribute,value,match,action,weight,reason\n")
        f.write(rows.getvalue())
        path = f.name
    out = io.StringIO()
    started = time.perf_counter()
    call_command("import_blacklist", path, "--no-progress", stdout=out)
    elapsed = time.perf_counter() - started
    os.unlink(path)
    summary = out.getvalue().strip().splitlines()[-1]
    added = int(summary.split()[0])
    print(f"  import {label}: {summary} in {elapsed:.1f} s = {added / elapsed:,.0f} rows/s")
    return added, elapsed


def _use(database: str) -> None:
    """Point the default connection at another database of the same server."""
    connection.close()
    connection.settings_dict["NAME"] = database


def _measure_round(subjects: dict[str, dict[str, list[str]]], iterations: int) -> dict:  # type: ignore[no-untyped-def]
    from programs.models import Program
    from risk.services import screen_user_write

    program = Program.objects.get(code="riskbench")
    results = {}
    for label, values in subjects.items():
        for _ in range(10):  # warm the connection and the plan cache
            screen_user_write(program=program, values=values)
        timings = []
        for _ in range(iterations):
            started = time.perf_counter()
            decision = screen_user_write(program=program, values=values)
            timings.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as ctx:
            screen_user_write(program=program, values=values)
        results[label] = {
            "timings": timings,
            "queries": len(ctx.captured_queries),
            "outcome": decision.outcome,
            "matches": len(decision.matches),
        }
    return results


SANCTIONS = Path(__file__).resolve().parent.parent / "tests" / "data" / "sanctions"


def load_sanctions() -> dict[str, int]:
    """Both sanctions lists (OFAC SDN with its aliases, UN consolidated) in the current
    database, through `import_sanctions`; skipped for a list already loaded. Returns the
    number of entries of each source."""
    from risk.models import BlacklistEntry

    lists = {
        "ofac-sdn": [str(SANCTIONS / "ofac-sdn.csv"), "--alt", str(SANCTIONS / "ofac-alt.csv")],
        "un-consolidated": [str(SANCTIONS / "un-consolidated.xml")],
    }
    counts = {}
    for source, files in lists.items():
        if not BlacklistEntry.objects.filter(source=source).exists():
            call_command(
                "import_sanctions",
                "--source",
                source,
                *files,
                "--no-progress",
                stdout=io.StringIO(),
                stderr=io.StringIO(),
            )
        counts[source] = BlacklistEntry.objects.filter(source=source).count()
    return counts


def create_subject(first: str, last: str, i: int) -> dict[str, list[str]]:
    """What a v1 create screens (users.screening.screening_values_for): each name attribute,
    the full name as a whole and the preferred name (customer.name), e-mail, mobile, id number,
    nationality and birthday."""
    return {
        "customer.first_name": [first],
        "customer.last_name": [last],
        "customer.preferred_name": [first],
        "customer.name": [f"{first} {last}", first],
        "customer.email": [f"{first}.{last}.{i}@example.net".lower()],
        "customer.mobile": [f"65{81_000_000 + i}"],
        "customer.id_number": [f"K{i:08d}"],
        "customer.nationality": ["SGP"],
        "customer.birthday": ["1990-05-17"],
    }


def compare_screening(
    main_name: str,
    small_name: str,
    *,
    use: Callable[[str], None],
    rounds: int = 6,
    per_round: int = 50,
) -> dict[str, Any]:
    """Screening time with the small list vs the full one, in alternating rounds (make bench).

    Rounds alternate between the two databases, so whatever else the machine is doing weighs
    on both sizes alike. Each screening is a different subject (bench.dataset's names, no
    repeated look-ups), screening what a create screens, full name included; timed around
    `risk.services.screen_user_write`, the function every create and update calls. Queries are
    counted per screening: the same at both sizes.
    """
    from bench import dataset
    from bench.loadgen import percentile
    from programs.models import Program
    from risk.models import BlacklistEntry
    from risk.services import screen_user_write

    timings: dict[str, list[float]] = {small_name: [], main_name: []}
    queries: dict[str, set[int]] = {small_name: set(), main_name: set()}
    sizes: dict[str, int] = {}
    named: dict[str, int] = {}
    subject = 0
    for _ in range(rounds):
        for name in (small_name, main_name):
            use(name)
            program = Program.objects.get(code=dataset.PROGRAM)
            sizes[name] = BlacklistEntry.objects.count()
            named[name] = BlacklistEntry.objects.filter(entity_attribute="customer.name").count()
            for i in range(per_round + 5):
                first = dataset.FIRST_NAMES[subject % len(dataset.FIRST_NAMES)]
                last = dataset.LAST_NAMES[(subject * 7) % len(dataset.LAST_NAMES)]
                values = create_subject(first, last, subject)
                subject += 1
                with CaptureQueriesContext(connection) as ctx:
                    began = time.perf_counter()
                    screen_user_write(program=program, values=values)
                    elapsed = (time.perf_counter() - began) * 1000
                if i >= 5:  # the first few after a switch reconnect and warm caches
                    timings[name].append(elapsed)
                    queries[name].add(len(ctx.captured_queries))
    use(main_name)
    small, large = sorted(timings[small_name]), sorted(timings[main_name])
    return {
        "small_entries": sizes[small_name],
        "small_ms": percentile(small, 50),
        "small_p95_ms": percentile(small, 95),
        "large_entries": sizes[main_name],
        "large_ms": percentile(large, 50),
        "large_p95_ms": percentile(large, 95),
        "ratio": percentile(large, 50) / percentile(small, 50),
        "p95_ratio": percentile(large, 95) / percentile(small, 95),
        "full_name_entries": named[main_name],
        "queries": sorted(queries[small_name] | queries[main_name]),
        "samples": len(large),
    }


def _analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE risk_blacklistentry")
        cursor.execute("ANALYZE risk_blacklisttoken")


def _plans(values) -> None:  # type: ignore[no-untyped-def]
    from programs.models import Program
    from risk.matching import find_matches

    program = Program.objects.get(code="riskbench")
    with CaptureQueriesContext(connection) as ctx:
        find_matches(program=program, values=values)
    with connection.cursor() as cursor:
        for query in ctx.captured_queries:
            cursor.execute("EXPLAIN " + query["sql"])
            plan = " / ".join(row[0].strip() for row in cursor.fetchall()[:3])
            print(f"  plan: {plan[:220]}")


def _prepare(database: str, size: int, rng: random.Random) -> tuple[int, float]:
    from enumerations.seeding import seed
    from programs.models import Program
    from programs.services import program_create
    from tests.risk.helpers import listed

    _use(database)
    call_command("migrate", verbosity=0)
    seed()
    if not Program.objects.filter(code="riskbench").exists():
        program_create(code="riskbench", name="Risk bench", country="SGP")
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE risk_blacklisttoken, risk_blacklistentry CASCADE")
    added, elapsed = _import(_rows(size, 0, rng), f"{size:,} rows into {database}")
    listed("first_name", "Mohammed", match="fuzzy", action="score", weight=10)
    listed("last_name", "Alexandrov", match="fuzzy", action="score", weight=10)
    print(f"  sanctions in {database}: {load_sanctions()}")
    _analyze()
    return added, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--iterations", type=int, default=50, help="Screenings per round.")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--reuse", action="store_true", help="Keep the loaded lists.")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run it on PostgreSQL: set DATABASE_URL=postgres://...")

    large_db = connection.settings_dict["NAME"]
    small_db = f"{large_db}_small"
    _use("postgres")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [small_db])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{small_db}"')

    rng = random.Random(7)
    print(f"PostgreSQL {connection.pg_version}; lists of {args.small:,} and {args.large:,}")
    if args.reuse:
        added, elapsed = 0, 0.0
    else:
        _prepare(small_db, args.small, rng)
        added, elapsed = _prepare(large_db, args.large, rng)

    subjects = {
        "no match": {
            "customer.first_name": ["Ada"],
            "customer.last_name": ["Lovelace"],
            "customer.name": ["Ada Lovelace"],
            "customer.email": ["ada.lovelace@example.com"],
            "customer.mobile": ["6599991234"],  # outside the generated range
            "customer.id_number": ["S1234567D"],
            "customer.nationality": ["GBR"],
            "customer.birthday": ["1990-01-31"],
        },
        "fuzzy name match": {
            "customer.first_name": ["Muhammad"],
            "customer.last_name": ["Aleksandrov"],
            "customer.name": ["Muhammad Aleksandrov"],
            "customer.email": ["m.a@example.com"],
            "customer.mobile": ["6598765432"],
            "customer.nationality": ["SGP"],
        },
    }
    # alternate rounds between the two lists so machine load affects both alike
    collected: dict[str, dict] = {small_db: {}, large_db: {}}
    for _ in range(args.rounds):
        for database in (small_db, large_db):
            _use(database)
            for label, result in _measure_round(subjects, args.iterations).items():
                into = collected[database].setdefault(label, {**result, "timings": []})
                into["timings"].extend(result["timings"])

    from risk.models import BlacklistEntry, BlacklistToken

    _use(large_db)
    _plans(subjects["fuzzy name match"])
    print(
        f"  large list: {BlacklistEntry.objects.count():,} entries, "
        f"{BlacklistToken.objects.count():,} fuzzy index rows"
    )
    print()
    print("| screening | entries | median ms | p95 ms | queries | outcome |")
    print("|---|---:|---:|---:|---:|---|")
    medians: dict[tuple[str, str], float] = {}
    for label in subjects:
        for database, size in ((small_db, args.small), (large_db, args.large)):
            r = collected[database][label]
            timings = sorted(r["timings"])
            medians[(label, database)] = statistics.median(timings)
            p95 = timings[int(len(timings) * 0.95) - 1]
            print(
                f"| {label} | {size:,} | {medians[(label, database)]:.2f} | {p95:.2f} "
                f"| {r['queries']} | {r['outcome']} ({r['matches']} matches) |"
            )
    for label in subjects:
        ratio = medians[(label, large_db)] / medians[(label, small_db)]
        print(f"median ratio {args.large:,} / {args.small:,} entries ({label}): {ratio:.2f}")
    if elapsed:
        print(
            f"import_blacklist: {added / elapsed:,.0f} rows/s ({added:,} rows in {elapsed:.0f} s)"
        )


if __name__ == "__main__":
    main()
