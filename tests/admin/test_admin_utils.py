"""core/admin_utils.py: counting without COUNT(*), masked cells, bulk result messages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.admin_utils import BulkOutcome, EstimatedCountPaginator, shown
from core.masking import mask_email, mask_full_name, mask_mobile, mask_number
from tests.conftest import requires_postgres
from tests.factories import AccountHolderFactory
from users.models import AccountHolder, Status


class SmallLimitPaginator(EstimatedCountPaginator):
    exact_limit = 10


def test_small_results_are_counted_exactly(program_a) -> None:
    AccountHolderFactory.create_batch(7, program=program_a)

    paginator = SmallLimitPaginator(AccountHolder.objects.all(), 5)

    assert paginator.count == 7
    assert not paginator.is_estimate and paginator.num_pages == 2


def test_large_results_stop_counting_at_the_limit(program_a) -> None:
    AccountHolderFactory.create_batch(12, program=program_a)
    paginator = SmallLimitPaginator(AccountHolder.objects.filter(status=Status.ACTIVE), 5)

    with CaptureQueriesContext(connection) as queries:
        count = paginator.count

    if connection.vendor == "postgresql":
        # small tables have no planner statistics worth using: the bounded count decides
        assert count in (10, 12)
    else:
        assert (count, paginator.is_lower_bound) == (10, True)
        (sql,) = [q["sql"] for q in queries.captured_queries]
        assert "LIMIT 11" in sql


def test_lists_are_counted_by_length() -> None:
    assert EstimatedCountPaginator([1, 2, 3], 2).count == 3


@requires_postgres
def test_postgres_uses_the_planner_estimate_without_counting(program_a) -> None:
    AccountHolderFactory.create_batch(40, program=program_a)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE users_accountholder")

    unfiltered = SmallLimitPaginator(AccountHolder.objects.all(), 5)
    filtered = SmallLimitPaginator(AccountHolder.objects.filter(program=program_a), 5)
    with CaptureQueriesContext(connection) as queries:
        assert unfiltered.count == 40
        assert 20 <= filtered.count <= 60

    assert unfiltered.is_estimate and filtered.is_estimate
    sqls = [q["sql"] for q in queries.captured_queries]
    assert "reltuples" in sqls[0] and sqls[1].startswith("EXPLAIN")
    assert not any("COUNT(" in sql.upper() for sql in sqls)


@pytest.mark.parametrize(
    ("value", "masked"),
    [("91234567", "****4567"), ("123", "***"), ("", "—"), (None, "—")],
)
def test_masked_number_cells(value, masked) -> None:
    assert shown(mask_number(value)) == masked


def test_masked_cells() -> None:
    assert shown(mask_email("ada@example.com")) == "a***@example.com"
    assert shown(mask_email("not-an-email")) == "********mail"
    assert shown(mask_email(None)) == "—"
    assert shown(mask_full_name("Ada", "Lovelace")) == "A*** L***"
    assert shown(mask_full_name(None, None)) == "—"
    assert shown(mask_mobile("91234567", "65")) == "+65 ****4567"
    assert shown(mask_mobile(None, None)) == "—"


def test_bulk_outcome_message() -> None:
    outcome = BulkOutcome("locked", done=["a", "b", "c"], refused=[("d", "User status cannot")])

    assert outcome.message() == "3 locked; 1 refused: d: User status cannot"
    assert BulkOutcome("locked", unchanged=[("e", "already locked")]).message() == (
        "0 locked; 1 unchanged: e: already locked"
    )
