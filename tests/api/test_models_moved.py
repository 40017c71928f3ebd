"""IdempotencyRecord and RateLimitCounter moved from `core` to `api` (issue 11) in the
migration state only: a database migrated before the move keeps its rows, and the tables keep
their names, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from api.models import IdempotencyRecord, IdempotencyState, RateLimitCounter
from tests.factories import ApiClientFactory, ProgramFactory

BEFORE_THE_MOVE = [("core", "0001_initial"), ("api", None)]


def _migrate(targets: list[tuple[str, str | None]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_move_are_read_after_it(seeded) -> None:  # type: ignore[no-untyped-def]
    client = ApiClientFactory(program=ProgramFactory(code="alpha"))
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        old = _migrate(BEFORE_THE_MOVE).loader.project_state([("core", "0001_initial")]).apps
        now = timezone.now()
        old.get_model("core", "IdempotencyRecord").objects.create(
            client_id=client.pk,
            key="k-1",
            fingerprint="f" * 64,
            state="completed",
            claimed_at=now,
            response_status=201,
            response_body=b"{}",
            expires_at=now + timedelta(hours=24),
        )
        old.get_model("core", "RateLimitCounter").objects.create(
            client_id=client.pk, scope="write", window_start=1, count=7
        )
    finally:
        _migrate(leaves)

    record = IdempotencyRecord.objects.get(client=client, key="k-1")
    assert (record.state, record.response_status) == (IdempotencyState.COMPLETED, 201)
    assert RateLimitCounter.objects.get(client=client, scope="write").count == 7


def test_the_tables_keep_their_names() -> None:
    assert IdempotencyRecord._meta.db_table == "core_idempotencyrecord"
    assert RateLimitCounter._meta.db_table == "core_ratelimitcounter"
    assert IdempotencyRecord._meta.app_label == RateLimitCounter._meta.app_label == "api"
