"""The bench data set: programs, credentials, users with identifications, blacklist entries.

Users are written straight into their tables (PostgreSQL `COPY`, or `bulk_create` elsewhere so
the smoke test runs on SQLite too): the data set is a fixture, not a test of the create path,
and loading 1 000 000 users through the API would take hours. The rows are what the API would
have written — valid names, unique e-mails / mobiles / customer ids / passport numbers, a
status mix with matching sub-statuses, one primary passport per user — so validation, the
unique indexes and the list indexes see a realistic table. Personal data is written as the API
writes it: the encrypted columns as envelopes (core/fields.py, the same functions), the blind
indexes computed from the clear values, so the bench reads and searches them like real rows.

Blacklist entries go through the product's own `import_blacklist` command (its speed is one of
the figures), from a generated CSV whose values never collide with the users the bench
creates, so writes are screened against the whole list without being refused.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone
from tqdm import tqdm

from core.fields import BlindIndexField, EncryptedDateField, EncryptedTextField
from programs.models import ApiClient, Program
from programs.services import api_client_create, api_client_rotate_secret, program_create
from users.models import AccountHolder, Identification, Status, SubStatus

PROGRAM = "bench"
OTHER_PROGRAM = "bench-other"  # a second tenant, so every query must filter by program
OTHER_SHARE = 10  # one user in OTHER_SHARE belongs to the other program
CLIENT_NAME = "bench client"
# Bench traffic must measure the endpoints, not the rate limiter refusing them.
UNLIMITED = 100_000_000

# Mobile numbers (Singapore, +65): loaded users 90000000.., blacklist 98000000..,
# users the bench creates 80100000.. (see next_mobile_base). All valid for phonenumbers.
LOADED_MOBILE_BASE = 90_000_000
BLACKLIST_MOBILE_BASE = 98_000_000
CREATED_MOBILE_BASE = 80_100_000
CREATED_MOBILE_LAST = 89_999_999


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    """
    Aarav Aditi Ahmad Aiko Aisha Akira Alexander Alice Amanda Amir Ana Andre Angela Anil
    Anna Arjun Aziz Beatriz Benjamin Bui Camila Carlos Catherine Chen Chloe Daniel David
    Deepa Diego Dmitri Elena Elif Emily Emma Ethan Fatima Felix Gabriel Grace Hana Hannah
    Hao Haruto Hassan Hui Ibrahim Irene Isabel Ivan Jacob James Jia Jin Joao John Jose Juan
    Julia Kai Karim Kenji Kevin Kim Lakshmi Lars Laura Lena Li Lina Lucas Lucia Luis Mahmoud
    Maria Mariam Mark Marta Mateo Mei Michael Ming Mohammed Nadia Naveen Nguyen Nikhil Noah
    Nur Olga Omar Paolo Pedro Priya Rahul Rajesh Ravi Rina Rohan Rosa Ryan Sakura Samuel
    Sara Sean Sergei Siew Siti Sofia Sophie Sunil Tan Tariq Thomas Tomas Valentina Vikram
    Wei William Xin Yan Yasmin Yuki Yusuf Zainab Zhang Zoe
    """
)
LAST_NAMES = _words(
    """
    Abdullah Ahmed Alvarez Anderson Ang Bakar Bose Brown Castro Chan Chatterjee Chia Chong
    Chua Cruz Das Davies Diaz Dubois Evans Fernandes Fischer Garcia Goh Gomez Gonzalez Gupta
    Hamid Hashim Ho Hoang Huang Hussain Ibrahim Ismail Iyer Jackson Johnson Jones Kaur Khan
    Kim Koh Kumar Lam Lau Lee Leong Li Lim Lin Liu Lopez Low Martin Martinez Mehta Menon
    Miller Mohamed Moreau Muller Murphy Nair Ng Nguyen Ong Pang Park Patel Perera Pham
    Pillai Quek Rahman Ramos Reddy Rodriguez Rossi Santos Schmidt Seah Sharma Silva Singh
    Smith Soh Suzuki Tan Tanaka Tay Teo Thomas Toh Tran Wang Watanabe Williams Wilson Wong
    Wu Yamamoto Yang Yeo Yusof Zhang Zhou
    """
)
NATIONALITIES = ("SGP",) * 6 + ("MYS", "IDN", "IND", "CHN", "PHL", "VNM", "GBR", "USA", "AUS")
OCCUPATIONS = ("Engineer", "Teacher", "Manager", "Sales", "Clerk", "Nurse", "Accountant", "Other")
EMPLOYMENT_TYPES = ("Full-time", "Part-time", "Self-employed", "Contract")
INCOME_SOURCES = ("Salary", "Business Income", "Savings", "Investments")
VOLUMES = ("Below 10,000", "10,000 - 50,000", "50,001 - 100,000")

# (status, sub_status, share in per-mille)
STATUS_MIX: tuple[tuple[str, str, int], ...] = (
    (Status.ACTIVE, SubStatus.ACTIVE, 840),
    (Status.SUSPENDED, SubStatus.ACCOUNT_SUSPENDED_BY_ISSUER, 50),
    (Status.LOCKED, SubStatus.ACCOUNT_LOCKED, 30),
    (Status.PENDING_VERIFICATION, SubStatus.WAITING_FOR_APPROVAL_BY_ISSUER, 30),
    (Status.BLOCKED, SubStatus.ACCOUNT_BLOCKED_BY_ISSUER, 30),
    (Status.TERMINATED, SubStatus.ACCOUNT_DELETED_BY_ISSUER, 20),
)
TERMINAL = {Status.BLOCKED, Status.TERMINATED}
# Users are spread over this many days before the load, oldest first (ids follow time).
HISTORY_DAYS = 3 * 365


@dataclass(frozen=True)
class Credentials:
    program: str
    client_id: str
    client_secret: str


def ensure_programs() -> tuple[Program, Program]:
    """The two bench tenants (SGP, base required fields), with rate limits out of the way."""
    programs = []
    for code, name in ((PROGRAM, "Bench program"), (OTHER_PROGRAM, "Bench other tenant")):
        program = Program.objects.filter(code=code).first()
        if program is None:
            program = program_create(code=code, name=name, country="SGP")
        Program.objects.filter(pk=program.pk).update(
            write_rate_limit=UNLIMITED, read_rate_limit=UNLIMITED
        )
        program.refresh_from_db()
        programs.append(program)
    return programs[0], programs[1]


def issue_credentials(program: Program) -> Credentials:
    """The bench client's credentials; the secret is re-issued on every run (shown once)."""
    client = ApiClient.objects.filter(program=program, name=CLIENT_NAME).first()
    if client is None:
        client, secret = api_client_create(program=program, name=CLIENT_NAME)
    else:
        secret = api_client_rotate_secret(client=client)
    return Credentials(program=program.code, client_id=client.client_id, client_secret=secret)


def _defaults(model: type[models.Model]) -> dict[str, Any]:
    """Every concrete column's Python default, so rows written without the ORM are complete."""
    values: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        values[field.attname] = (
            None if field.null and not field.has_default() else field.get_default()
        )
    return values


def _passport(i: int) -> str:
    return f"E{i:09d}"


def user_rows(
    *,
    count: int,
    first_id: int,
    programs: tuple[Program, Program],
    since: datetime | None = None,
    seed: int = 20240601,
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(user row, identification row) for users first_id.., oldest first.

    Creation times are spread evenly from `since` (default: HISTORY_DAYS ago) to now, so
    ids and creation times rise together, as they would have in production.
    """
    rng = random.Random(seed + first_id)
    user_defaults = _defaults(AccountHolder)
    id_defaults = _defaults(Identification)
    now = timezone.now()
    start = since or now - timedelta(days=HISTORY_DAYS)
    step = (now - start) / max(count, 1)
    mix = [(s, ss) for s, ss, share in STATUS_MIX for _ in range(share)]
    main, other = programs
    for offset in range(count):
        pk = first_id + offset
        program = other if pk % OTHER_SHARE == 0 else main
        status, sub_status = mix[rng.randrange(len(mix))]
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        created = start + step * (offset + rng.random() / 2)  # jitter, never out of order
        birth = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 50))
        kyc = "completed" if rng.random() < 0.6 else "pending"
        user = dict(
            user_defaults,
            id=pk,
            program_id=program.pk,
            public_id=f"{rng.getrandbits(128):032x}",
            title=rng.choice(("Mr", "Mrs", "Miss", "Dr")),
            first_name=first,
            last_name=last,
            preferred_name=first,
            gender=rng.choice(("male", "female")),
            marital_status=rng.choice(("single", "married")),
            nationality=rng.choice(NATIONALITIES),
            birth_date=birth,
            birth_place="Singapore",
            email=f"{first.lower()}.{last.lower()}.{pk}@example.com",
            mobile_country_code="65",
            mobile=str(LOADED_MOBILE_BASE + pk),
            client_ref_id=f"REF-{pk}",
            customer_id=f"CUS{pk:09d}",
            employment_type=rng.choice(EMPLOYMENT_TYPES),
            occupation=rng.choice(OCCUPATIONS),
            main_income_source=rng.choice(INCOME_SOURCES),
            volume_of_assets=rng.choice(VOLUMES),
            country_of_residence="SGP",
            status=status,
            sub_status=sub_status,
            kyc_status=kyc,
            kyc_sub_status="approved" if kyc == "completed" else "pending_document_submission",
            # flagged users cannot be re-activated; keep the re-activation pool clear
            risk_status="PENDING" if status == Status.ACTIVE and rng.random() < 0.03 else "CLEARED",
            created_at=created,
            updated_at=created,
        )
        identification = dict(
            id_defaults,
            id=pk,
            user_id=pk,
            program_id=program.pk,
            is_primary=True,
            id_type="passport",
            number=_passport(pk),
            issue_date=date(2020, 1, 1) + timedelta(days=pk % 1000),
            expiry_date=date(2031, 1, 1) + timedelta(days=pk % 1000),
            country_of_issue="SGP",
            holder_live=status not in TERMINAL,
            dup_slot=0,
        )
        yield user, identification


def _reserve_ids(model: type[models.Model], count: int) -> int:
    """First of `count` primary keys no one else will be given (moves the sequence past them)."""
    table = model._meta.db_table
    first = (model._default_manager.aggregate(m=models.Max("pk"))["m"] or 0) + 1
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, first + count - 1]
            )
    return first


def _column_sql(model: type[models.Model]) -> str:
    return ", ".join(connection.ops.quote_name(f.column) for f in model._meta.concrete_fields)


def load_users(
    *, count: int, programs: tuple[Program, Program], batch: int = 20_000, progress: bool = True
) -> int:
    """Write `count` users (and their passports); returns the number written."""
    if count <= 0:
        return 0
    with transaction.atomic():
        first_id = _reserve_ids(AccountHolder, count)
        id_first = _reserve_ids(Identification, count)
    offset_id = id_first - first_id
    # a top-up continues after the newest user already there
    since = AccountHolder.objects.aggregate(m=models.Max("created_at"))["m"]
    rows = user_rows(count=count, first_id=first_id, programs=programs, since=since)
    bar = tqdm(total=count, desc="users", unit="row", disable=not progress, mininterval=1.0)
    written = 0
    while written < count:
        chunk = [next(rows) for _ in range(min(batch, count - written))]
        for _, identification in chunk:
            identification["id"] += offset_id
        with transaction.atomic():
            _write(AccountHolder, [u for u, _ in chunk])
            _write(Identification, [i for _, i in chunk])
        written += len(chunk)
        bar.update(len(chunk))
    bar.close()
    return written


def _stored_values(model: type[models.Model]) -> Any:
    """A function: row (clear values by attname) → the column values as the ORM stores them
    (encrypted columns as envelopes, blind indexes computed from their clear sources)."""
    steps: list[Any] = []
    for field in model._meta.concrete_fields:
        if isinstance(field, BlindIndexField):
            source = model._meta.get_field(field.source).attname
            steps.append(lambda row, f=field, s=source: f.index_of(row[s]))
        elif isinstance(field, (EncryptedTextField, EncryptedDateField)):
            steps.append(lambda row, f=field: f.get_db_prep_value(row[f.attname], connection))
        else:
            steps.append(lambda row, name=field.attname: row[name])
    return lambda row: [step(row) for step in steps]


def _write(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(model._meta.db_table)
        stored = _stored_values(model)
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg 3 cursor under Django's wrapper
            with raw.copy(f"COPY {table} ({_column_sql(model)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(stored(row))
    else:
        model._default_manager.bulk_create([model(**row) for row in rows], batch_size=500)


def analyze() -> None:
    """Statistics and the visibility map, as autovacuum leaves a production table.

    Rows loaded with COPY are not yet marked all-visible, so every index-only scan would
    still read the heap: PostgreSQL then prefers reading the table (a capped count over
    `kyc_status=completed` at 1 000 000 users did), which says nothing about production.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")


# --- blacklist -----------------------------------------------------------------------------

_SYLLABLES = _words(
    """
    ka zo rv th qu el ix an ur om ve ly dr ak sy ne ob tz gr ul fa wi ke mo ra pi sh en yo
    """
)


def _synthetic_name(i: int, rng: random.Random) -> str:
    """A pronounceable name, distinct for each i, that is not in the bench's name pools."""
    syllables = [rng.choice(_SYLLABLES)]
    while True:  # i written in base len(_SYLLABLES), one syllable per digit
        i, digit = divmod(i, len(_SYLLABLES))
        syllables.append(_SYLLABLES[digit])
        if not i:
            break
    return "".join(syllables).capitalize()


BLACKLIST_HEADER = ("entity_attribute", "value", "match", "action", "weight", "reason")


def blacklist_rows(*, start: int, count: int, seed: int = 7) -> Iterator[tuple[str, ...]]:
    """Rows for `import_blacklist`: names (scored), e-mails, mobiles and passports (blocked).

    Values never equal or resemble what the bench's users carry, so screening does the full
    look-up work for every write and writes still go through.
    """
    rng = random.Random(seed + start)
    for i in range(start, start + count):
        kind = i % 10
        if kind < 4:
            attribute = "customer.last_name" if kind % 2 else "customer.first_name"
            match = "fuzzy" if kind < 2 else "normalized"
            yield (attribute, _synthetic_name(i, rng), match, "score", "40", "bench: name list")
        elif kind < 6:
            yield ("customer.email", f"listed.{i}@blocked.example", "exact", "block", "", "bench")
        elif kind < 8:
            mobile = f"+65{BLACKLIST_MOBILE_BASE + i % 1_000_000}"
            yield ("customer.mobile", mobile, "exact", "block", "", "bench")
        else:
            yield ("customer.id_number", f"X{i:09d}", "exact", "block", "", "bench")


def write_blacklist_csv(path: Path, *, start: int, count: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(BLACKLIST_HEADER)
        writer.writerows(blacklist_rows(start=start, count=count))
    return path


def next_mobile_base(program: Program) -> int:
    """First mobile number in the created range that no user of the program holds yet."""
    highest = (
        AccountHolder.objects.filter(
            program=program,
            mobile_country_code="65",
            mobile__gte=str(CREATED_MOBILE_BASE),
            mobile__lte=str(CREATED_MOBILE_LAST),
        )
        .aggregate(m=models.Max("mobile"))
        .get("m")
    )
    return int(highest) + 1 if highest else CREATED_MOBILE_BASE


def sample_public_ids(
    program: Program, *, statuses: tuple[str, ...], limit: int, risk_cleared: bool = False
) -> list[str]:
    """Public ids of up to `limit` users of the program in those statuses, spread over time."""
    queryset = AccountHolder.objects.filter(program=program, status__in=statuses)
    if risk_cleared:
        queryset = queryset.filter(risk_status="CLEARED")
    # The oldest users first: far from the rows the bench itself creates.
    return list(queryset.order_by("id").values_list("public_id", flat=True)[:limit])


def created_at_at_depth(program: Program, fraction: float) -> datetime | None:
    """The creation time of the user `fraction` of the way down the default (newest-first) list."""
    total = AccountHolder.objects.filter(program=program).count()
    if not total:
        return None
    offset = min(int(total * fraction), total - 1)
    value = (
        AccountHolder.objects.filter(program=program)
        .order_by("-created_at", "-id")
        .values_list("created_at", flat=True)[offset : offset + 1]
        .first()
    )
    return value.astimezone(UTC) if value else None
