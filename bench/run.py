"""`make bench`: load a data set into PostgreSQL, serve it with gunicorn, measure, report.

    python bench/run.py [--users 200000] [--blacklist 100000] [--concurrency 8] [--reuse] ...
    make bench ARGS="--users 1000000 --blacklist 1000000"

Steps: start PostgreSQL if it is down; (re)create the bench database (dropped and created
afresh unless --reuse; its name must contain "bench"); migrate; seed enumerations; create the
bench programs and an API client; load users with passports (COPY) and blacklist entries
(the `import_blacklist` command); ANALYZE; time screening at 1 000 entries and at the full
list; start gunicorn (production WSGI app, bench settings, sync workers as `make serve`) on a
free loopback port; for each scenario, check it in-process (routed? answers as expected?
queries per request) and drive it from a separate load-generator process, first at
--concurrency for throughput, then at concurrency 1 for unloaded latency; print the table and
the verdict on each target; write everything to bench/results/ (gitignored).
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results"
DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/bench"
SMALL_BLACKLIST = 1_000
DOCUMENT_ROOT = RESULTS / "documents"
RSS_TARGET_MB = (
    40  # issue 14: an upload (bodies up to 12 MiB) raises the worker's peak RSS by < 40 MB
)
DOCUMENT_KEYS = ("v2_documents_list", "v2_upload_100kb", "v2_upload_8mib", "v2_upload_8mib_base64")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--users", type=int, default=200_000, help="users to load (default 200000)")
    parser.add_argument(
        "--blacklist", type=int, default=100_000, help="blacklist entries to load (default 100000)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=8, help="load-generator threads (default 8)"
    )
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds per scenario at --concurrency"
    )
    parser.add_argument(
        "--latency-duration", type=float, default=5.0, help="seconds per scenario at concurrency 1"
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=20_000,
        help="at most this many requests per scenario run (default 20000)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * cores + 1,
        help=f"gunicorn sync workers (default 2 x cores + 1 = {2 * cores + 1}, as `make serve`)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the loaded data set; only top it up to --users / --blacklist",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="PostgreSQL URL of the bench database (env BENCH_DATABASE_URL)",
    )
    parser.add_argument(
        "--only", default="", help="comma-separated scenario keys to run (default: all)"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile v1 create (with and without password), v2 update and v2 list "
        "in-process with pyinstrument (bench/results/profile-*)",
    )
    parser.add_argument(
        "--profile-requests",
        type=int,
        default=200,
        help="requests per profile (default 200; 50 at most with a password, Argon2 is slow)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if args.users < 0 or args.blacklist < 0 or args.concurrency < 1 or args.workers < 1:
        parser.error("counts must be positive")
    return args


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- PostgreSQL and the bench database -------------------------------------------------------


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _can_connect(url: str) -> bool:
    import psycopg

    try:
        psycopg.connect(_with_database(url, "postgres"), connect_timeout=3).close()
    except psycopg.OperationalError:
        return False
    return True


def ensure_postgres(url: str) -> None:
    """Start the local cluster(s) if PostgreSQL does not answer."""
    if _can_connect(url):
        return
    host = urlsplit(url).hostname or ""
    clusters = Path("/etc/postgresql")
    if host not in ("127.0.0.1", "localhost", "::1", "") or not clusters.is_dir():
        raise SystemExit(f"PostgreSQL at {host} does not answer, and it is not a local cluster.")
    for version in sorted(p.name for p in clusters.iterdir()):
        log(f"starting PostgreSQL {version}")
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=False
        )
    for _ in range(30):
        if _can_connect(url):
            return
        time.sleep(1)
    raise SystemExit("PostgreSQL did not start; see /var/log/postgresql/.")


def prepare_database(url: str, *, fresh: bool) -> None:
    import psycopg
    from psycopg import sql

    name = database_name(url)
    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if fresh and exists:
            if "bench" not in name:
                raise SystemExit(
                    f"Refusing to drop database {name!r}: the bench only recreates databases "
                    "whose name contains 'bench'. Use --reuse or another --database-url."
                )
            log(f"dropping database {name}")
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            log(f"creating database {name}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup_django(url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.bench"
    os.environ["DATABASE_URL"] = url
    # uploaded documents go under bench/results/ (gitignored), for the harness and gunicorn
    os.environ["ONBOARD_DOCUMENT_ROOT"] = str(DOCUMENT_ROOT)
    import django

    django.setup()
    # The harness's own in-process requests (checks, profiles) would print an access line
    # each; gunicorn keeps the production log level (its output goes to results/gunicorn.log).
    logging.getLogger().setLevel(logging.WARNING)


# --- data ------------------------------------------------------------------------------------


def import_blacklist(start: int, count: int, *, progress: bool) -> dict[str, Any]:
    """Load `count` generated entries through the product's `import_blacklist` command."""
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from bench.dataset import write_blacklist_csv

    path = write_blacklist_csv(RESULTS / f"blacklist-{start}-{count}.csv", start=start, count=count)
    out = io.StringIO()
    began = time.perf_counter()
    try:
        call_command(
            "import_blacklist", str(path), stdout=out, stderr=sys.stderr, no_progress=not progress
        )
    except CommandError as exc:
        return {"error": str(exc)}
    finally:
        path.unlink(missing_ok=True)
    elapsed = time.perf_counter() - began
    last = out.getvalue().strip().splitlines()[-1:] or [""]
    return {"rows": count, "seconds": elapsed, "rows_per_s": count / elapsed, "summary": last[0]}


def blacklist_count() -> int | None:
    try:
        from risk.models import BlacklistEntry
    except ImportError:
        return None
    return BlacklistEntry.objects.count()


def use_database(name: str) -> None:
    """Point the default connection at another database on the same server."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def prepare_small_list(url: str, *, fresh: bool, progress: bool) -> dict[str, Any]:
    """The companion database `<name>_1k`: the same schema and programs, SMALL_BLACKLIST entries."""
    from django.core.management import call_command

    from bench import dataset
    from risk.models import BlacklistEntry, BlacklistToken

    main_name, small_name = database_name(url), f"{database_name(url)}_1k"
    prepare_database(_with_database(url, small_name), fresh=fresh)
    use_database(small_name)
    try:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_enumerations", stdout=io.StringIO())
        dataset.ensure_programs()
        result: dict[str, Any] = {"database": small_name}
        if BlacklistEntry.objects.filter(source="").count() != SMALL_BLACKLIST:
            tables = ", ".join(m._meta.db_table for m in (BlacklistToken, BlacklistEntry))
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {tables} CASCADE")
            result = import_blacklist(0, SMALL_BLACKLIST, progress=progress)
            result["database"] = small_name
        from bench.risk_screening import load_sanctions

        result["sanctions"] = load_sanctions()  # both lists, as in the bench database
        result["entries"] = BlacklistEntry.objects.count()
        dataset.analyze()
        return result
    finally:
        use_database(main_name)


def compare_screening(url: str, *, rounds: int = 6, per_round: int = 50) -> dict[str, Any]:
    """Screening time with SMALL_BLACKLIST entries vs the full list, both sanctions lists
    loaded in each, in alternating rounds (bench/risk_screening.py: compare_screening)."""
    try:
        from bench.risk_screening import compare_screening as compare
    except ImportError as exc:
        return {"reason": f"n/a (risk screening missing: {exc})"}
    main_name, small_name = database_name(url), f"{database_name(url)}_1k"
    try:
        return compare(main_name, small_name, use=use_database, rounds=rounds, per_round=per_round)
    except Exception as exc:  # report, never abort the run
        return {"reason": f"n/a (screening failed: {type(exc).__name__}: {exc})"}
    finally:
        use_database(main_name)


# --- gunicorn and the load generator ---------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config() -> list[str]:
    # the deployment's gunicorn settings (sync workers, timeouts, logging), as `make serve`
    config = ROOT / "gunicorn.conf.py"
    return ["--config", str(config)] if config.exists() else []


class Server:
    """gunicorn serving the production WSGI app with bench settings, on loopback.

    Same WSGI app, worker class and settings file as `make serve`; only the bind address,
    the worker count (--workers, default as in production) and the Django settings differ.
    """

    def __init__(self, url: str, workers: int, log_path: Path | None = None) -> None:
        self.port = free_port()
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="config.settings.bench",
            DATABASE_URL=url,
        )
        self.log_path = log_path or RESULTS / "gunicorn.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                *_config(),
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise SystemExit(f"gunicorn did not answer /healthz; see {self.log_path}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def drive(job: dict[str, Any]) -> dict[str, Any]:
    """Run one load-generator job in its own process."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench.loadgen"],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=float(job["duration"]) + 300,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"load generator failed: {completed.stderr[-2000:]}")
    return json.loads(completed.stdout)


# --- the run ---------------------------------------------------------------------------------


def _load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "n/a"


def machine() -> dict[str, Any]:
    from django.db import connection

    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = int(meminfo.read_text().split("\n")[0].split()[1])
        memory = f"{kb / 1024 / 1024:.0f} GiB"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    import django

    return {
        "cores": os.cpu_count(),
        "memory": memory,
        "postgresql": pg,
        "python": platform.python_version(),
        "django": django.get_version(),
        "platform": platform.platform(),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    load_before = _load_average()
    url = args.database_url
    ensure_postgres(url)
    prepare_database(url, fresh=not args.reuse)
    if not args.reuse:  # the files of a dropped database's documents
        shutil.rmtree(DOCUMENT_ROOT, ignore_errors=True)
    setup_django(url)

    from django.core.management import call_command

    from bench import dataset
    from bench.build import build_scenarios, restore_reactivated

    log("migrating")
    call_command("migrate", interactive=False, verbosity=0)
    call_command("seed_enumerations", stdout=io.StringIO())
    main_program, other_program = dataset.ensure_programs()
    credentials = dataset.issue_credentials(main_program)

    from users.models import AccountHolder

    have = AccountHolder.objects.count()
    load_started = time.monotonic()
    if have < args.users:
        log(f"loading {args.users - have:,} users ({have:,} present)")
        dataset.load_users(
            count=args.users - have,
            programs=(main_program, other_program),
            progress=not args.no_progress,
        )
    users_seconds = time.monotonic() - load_started
    users_total = AccountHolder.objects.count()
    dataset.analyze()

    screening: dict[str, Any] = {}
    imports: list[dict[str, Any]] = []
    entries = blacklist_count()
    if entries is None:
        screening = {"reason": "n/a (risk.BlacklistEntry missing)"}
    elif args.blacklist == 0:
        screening = {"reason": "not measured (--blacklist 0)"}
    else:
        if entries < args.blacklist:
            log(f"importing {args.blacklist - entries:,} blacklist entries ({entries:,} present)")
            imports.append(
                import_blacklist(entries, args.blacklist - entries, progress=not args.no_progress)
            )
            entries = blacklist_count() or 0
        from bench.risk_screening import load_sanctions

        log(f"sanctions lists (OFAC SDN, UN consolidated): {load_sanctions()}")
        dataset.analyze()
        log(f"preparing the {SMALL_BLACKLIST:,}-entry companion database")
        small = prepare_small_list(url, fresh=not args.reuse, progress=not args.no_progress)
        failed = [r["error"] for r in (*imports, small) if "error" in r]
        if failed:
            screening = {"reason": f"n/a (import_blacklist: {failed[0]})"}
        else:
            log("timing screening: 1 000 entries vs the full list, alternating rounds")
            screening = compare_screening(url)
        for result in imports:
            if "error" not in result:
                log(
                    f"import_blacklist: {result['rows']:,} rows in {result['seconds']:.1f} s "
                    f"({result['rows_per_s']:.0f} rows/s): {result['summary']}"
                )

    run_id = secrets.token_hex(3)
    only = {k.strip() for k in args.only.split(",") if k.strip()}
    if not only or only & set(DOCUMENT_KEYS):
        log("preparing the document scenarios (users holding documents, upload bodies)")
    scenarios, probe = build_scenarios(
        program=main_program,
        credentials=credentials,
        run_id=run_id,
        with_documents=not only or bool(only & set(DOCUMENT_KEYS)),
    )
    if only:
        scenarios = [s for s in scenarios if s.key in only or s.key == "floor"]

    log("checking scenarios in-process (routing, expected answer, queries per request)")
    for scenario in scenarios:
        probe.check(scenario)

    log("EXPLAIN of the v1 search shapes (each filter alone, AND, OR, fuzzy)")
    search_plans = check_search_plans(main_program, credentials)

    log(f"starting gunicorn ({args.workers} workers)")
    server = Server(url, args.workers)
    results: dict[str, dict[str, Any]] = {}
    try:
        for scenario in scenarios:
            if scenario.missing or scenario.failure:
                continue
            results[scenario.key] = run_scenario(scenario, probe, server.port, args, server)
    finally:
        server.stop()
        restore_reactivated(scenarios)
        from bench.documents import remove_uploaded

        removed = remove_uploaded(scenarios)
        if removed:
            log(f"removed the {removed:,} documents the upload scenarios created")

    from bench.report import Row, markdown_table, text_table, verdicts

    floor_rps = (results.get("floor", {}).get("loaded") or {}).get("rps")
    rows: list[Row] = []
    for scenario in scenarios:
        measured = results.get(scenario.key, {})
        loaded = measured.get("loaded")
        ratio = None
        if scenario.write and floor_rps and loaded:
            ratio = loaded["rps"] / floor_rps
        status = "ok"
        if scenario.missing:
            status = "n/a (endpoint missing)"
        elif scenario.failure:
            status = f"failed: {scenario.failure.splitlines()[0][:60]}"
        rows.append(
            Row(
                key=scenario.key,
                label=scenario.label,
                status=status,
                loaded=loaded,
                serial=measured.get("serial"),
                queries=scenario.queries,
                floor_ratio=ratio,
            )
        )

    profiles = []
    if args.profile:
        from bench.build import profile_targets
        from bench.profile import profile_scenario, summary_text

        for name, scenario in profile_targets(scenarios):
            log(f"profiling {name}")
            profiles.append(
                profile_scenario(
                    probe,
                    scenario,
                    count=min(args.profile_requests, 50)
                    if "password" in name
                    else args.profile_requests,
                    name=name,
                    results=RESULTS,
                )
            )

    info = machine()
    by_key = {r.key: r for r in rows}
    targets = verdicts(by_key, users=users_total, screening=screening)
    header = (
        f"Onboard bench — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {info['cores']} cores, "
        f"{info['memory']}, PostgreSQL {info['postgresql']}, Python {info['python']}, "
        f"Django {info['django']}\n"
        f"data: {users_total:,} users, {entries or 0:,} blacklist entries; gunicorn "
        f"{args.workers} sync workers; load: {args.concurrency} threads x {args.duration:.0f} s "
        f"(@C), then 1 thread x {args.latency_duration:.0f} s (@1); latencies in ms\n"
        f"machine load average (1 min) before the run {load_before}, after {_load_average()} "
        "(the load generator and PostgreSQL share these cores; anything else running skews it)"
    )
    print()
    print(header)
    print(text_table(rows))
    for scenario in scenarios:
        if scenario.note:
            print(f"  {scenario.label}: {scenario.note}")
    for scenario in scenarios:
        if scenario.failure:
            print(f"  {scenario.label} failed in-process: {scenario.failure}")
        sample = (results.get(scenario.key, {}).get("loaded") or {}).get("sample_error")
        if sample:
            print(f"  {scenario.label}: first non-2xx answer: {sample}")
    for scenario in scenarios:
        rss = results.get(scenario.key, {}).get("rss")
        if rss and rss["max_increase_mb"] is not None:
            targets.append(
                (
                    f"{scenario.label}: worker peak RSS rise < {RSS_TARGET_MB} MB",
                    f"{'met' if rss['max_increase_mb'] < RSS_TARGET_MB else 'NOT met'}: "
                    f"+{rss['max_increase_mb']:.1f} MB at most over {len(rss['workers'])} "
                    f"workers (started at "
                    f"{max(w['rss_before_mb'] for w in rss['workers']):.0f} MB at most)"
                    + ("" if rss["hwm_reset"] else "; peak not reset, over earlier peaks"),
                )
            )
    print()
    print("targets:")
    for target, verdict in targets:
        print(f"  {target}: {verdict}")
    for profile in profiles:
        print()
        print(summary_text(profile))
    print()
    print(plans_text(search_plans, users_total))
    print(f"\nusers loaded in {users_seconds:.0f} s; whole run {time.monotonic() - started:.0f} s")

    record = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]),
        "args": vars(args),
        "machine": info,
        "users": users_total,
        "blacklist": entries,
        "users_load_seconds": users_seconds,
        "blacklist_imports": imports,
        "screening": screening,
        "search_plans": search_plans,
        "scenarios": {
            s.key: {
                "label": s.label,
                "missing": s.missing,
                "failure": s.failure,
                "queries": s.queries,
                "note": s.note,
                **results.get(s.key, {}),
            }
            for s in scenarios
        },
        "targets": targets,
        "profiles": profiles,
        "table_markdown": markdown_table(rows),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    for name in (f"bench-{stamp}.json", "latest.json"):
        (RESULTS / name).write_text(json.dumps(record, indent=2, default=str))
    (RESULTS / "latest.md").write_text(header + "\n\n" + markdown_table(rows) + "\n")
    log(f"results: {RESULTS / 'latest.json'}, {RESULTS / 'latest.md'}")
    return 0


def check_search_plans(program: Any, credentials: Any) -> dict[str, Any]:
    """EXPLAIN every v1 search shape on the loaded data (bench/plans.py)."""
    from bench.plans import explain_search, sample_values, summary
    from bench.scenarios import basic_auth

    authorization = basic_auth(credentials.client_id, credentials.client_secret)
    plans = explain_search(program.code, authorization, sample_values(program))
    result = summary(plans)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "search-plans.txt").write_text(
        "\n\n".join(
            f"## {p['label']} {p['params']} -> {p['status']}\n" + "\n--\n".join(p["plans"])
            for p in result["plans"]
        )
        + "\n"
    )
    return result


def plans_text(result: dict[str, Any], users: int) -> str:
    """One line per verdict: shapes checked, sequential scans of the users table."""
    lines = [
        f"v1 search plans at {users:,} users: {result['shapes']} shapes EXPLAINed "
        f"(plans in {RESULTS / 'search-plans.txt'})"
    ]
    scans = result["sequential_scans"]
    lines.append(
        "  sequential scan of the users table: "
        + (", ".join(scans) if scans else "none (every shape is served from indexes)")
    )
    if result["failed_requests"]:
        lines.append("  requests not answered 200: " + ", ".join(result["failed_requests"]))
    return "\n".join(lines)


def run_scenario(
    scenario: Any, probe: Any, port: int, args: argparse.Namespace, server: Server | None = None
) -> dict[str, Any]:
    from bench.scenarios import headers_for

    log(f"running {scenario.label}")
    measured: dict[str, Any] = {}
    rss = RssProbe(server.process.pid) if server is not None and scenario.sample_rss else None
    if rss is not None:
        rss.start()
    pool = list(scenario.pool)
    phases = [("serial", 1, args.latency_duration)]
    if not scenario.serial_only:
        phases.insert(0, ("loaded", args.concurrency, args.duration))
    for phase, concurrency, duration in phases:
        if scenario.pool_exhaust and not pool:
            scenario.note = "the pool ran out (each item of it is used once)"
            break
        job = {
            "host": "127.0.0.1",
            "port": port,
            "concurrency": concurrency,
            "duration": duration,
            "max_requests": args.requests,
            "warmup": 2,
            "n_start": probe.sequence,
            "mobile_base": probe.mobile_base,
            "pool": pool,
            "pool_exhaust": scenario.pool_exhaust,
            "request": {
                "method": scenario.method,
                "path": scenario.path,
                "headers": headers_for(scenario, probe.authorization),
                "body": scenario.body,
                "body_file": scenario.body_file,
            },
        }
        result = drive(job)
        probe.sequence += result["sequence_used"]
        if scenario.pool_exhaust:
            pool = pool[result["sequence_used"] :]
        measured[phase] = result
    if rss is not None:
        measured["rss"] = rss.finish()
    return measured


# --- worker memory ---------------------------------------------------------------------------


def _status_kb(pid: int, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def child_pids(parent: int) -> list[int]:
    """The processes whose parent is `parent` (gunicorn's workers, for its master)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _status_kb(int(entry.name), "PPid") == parent:
            pids.append(int(entry.name))
    return sorted(pids)


class RssProbe:
    """Peak resident memory of gunicorn's workers over a scenario, above where each started.

    Before: each worker's VmRSS, and its high-water mark VmHWM reset to it (`5` written to
    /proc/<pid>/clear_refs, Linux ≥ 4.0, same user). After: VmHWM. The increase is the peak
    the scenario's requests took the worker to, above the memory it already held: what one
    upload at a time costs a sync worker. Reported per worker in MB (10^6 bytes); the verdict
    takes the largest.
    """

    def __init__(self, master: int) -> None:
        self.master = master
        self.before: dict[int, int] = {}
        self.reset = True

    def start(self) -> None:
        for pid in child_pids(self.master):
            rss = _status_kb(pid, "VmRSS")
            if rss is None:
                continue
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            except OSError:
                self.reset = False  # the increase is then over the worker's earlier peak
            self.before[pid] = rss

    def finish(self) -> dict[str, Any]:
        workers = []
        for pid, rss in self.before.items():
            peak = _status_kb(pid, "VmHWM")
            if peak is not None:
                workers.append(
                    {
                        "pid": pid,
                        "rss_before_mb": rss * 1024 / 1e6,
                        "peak_increase_mb": (peak - rss) * 1024 / 1e6,
                    }
                )
        replaced = sorted(set(child_pids(self.master)) - set(self.before))
        return {
            "workers": workers,
            "max_increase_mb": max((w["peak_increase_mb"] for w in workers), default=None),
            "hwm_reset": self.reset,
            "replaced_workers": replaced,  # started during the scenario: not measured
        }


if __name__ == "__main__":
    raise SystemExit(main())
