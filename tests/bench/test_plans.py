"""The bench's EXPLAIN phase (bench/plans.py): every v1 search filter is covered, the plans are
those of the real requests, and a sequential scan of the users table is reported."""

from __future__ import annotations

import pytest

from bench.plans import Plan, explain_search, sample_values, shapes, summary
from tests.conftest import basic, requires_postgres
from tests.users.test_v1_search import _populate
from users.api.search import FILTERS

VALUES = {
    "email": "user77@example.com",
    "mobile": "6590000077",
    "user_hash_id": "0" * 32,
    "first_name": "First77",
    "last_name": "Last77",
    "customer_id": "CUST-77",
    "partner_id": "PART-77",
    "id_type": "nric",
    "id_number": "K0000077",
    "birthday": "1951-06-02",
}


def test_every_filter_is_explained_alone_and_the_combinations_too():
    labels = [label for label, _ in shapes(VALUES)]
    alone = {label.removesuffix(" alone") for label in labels if label.endswith(" alone")}
    assert alone == set(FILTERS)
    combined = dict(shapes(VALUES))
    assert combined["3 filters OR"]["filter_condition"] == "OR"
    assert len([k for k in combined["3 filters AND"] if k in FILTERS]) == 3
    assert all(combined[label]["match_type"] == "fuzzy" for label in labels if "fuzzy" in label)


def test_a_sequential_scan_of_the_users_table_is_reported():
    scan = Plan(label="x", params={}, plans=["Seq Scan on users_accountholder  (cost=0.00..1.0)"])
    index = Plan(
        label="y",
        params={},
        plans=["Index Scan using user_program_email_idx on users_accountholder"],
    )
    other = Plan(label="z", params={}, plans=["Seq Scan on api_apiclient  (cost=0.00..1.0)"])
    assert scan.sequential and not index.sequential and not other.sequential
    result = summary([scan, index, other])
    assert result["sequential_scans"] == ["x"]
    assert result["shapes"] == 3


@requires_postgres
@pytest.mark.django_db
def test_explains_the_real_requests_on_loaded_data(program_a, program_b, client_a):
    _populate(program_a, program_b)
    values = sample_values(program_a)
    authorization = basic(client_a.client_id, client_a.plain_secret)
    plans = explain_search(program_a.code, authorization, values, index_only=True)
    result = summary(plans)
    assert result["failed_requests"] == []
    assert result["shapes"] == len(shapes(values))
    assert all(len(p.plans) == 2 for p in plans), [p.label for p in plans if len(p.plans) != 2]
    assert result["sequential_scans"] == [], result["sequential_scans"]
