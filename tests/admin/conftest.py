"""Operator personas for the back-office tests: one staff account per group, logged in."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from backoffice.groups import ADMIN, COMPLIANCE, SUPPORT, setup_groups
from tests.factories import AccountHolderFactory

PASSWORD = "correct-horse-battery-staple"


def make_operator(username: str, group: str | None) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def groups(db: None) -> None:
    setup_groups()


def _operator(username: str, group: str | None) -> Any:
    @pytest.fixture
    def operator(groups: None) -> User:
        return make_operator(username, group)

    return operator


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _client_of(operator_fixture: str) -> Any:
    @pytest.fixture
    def client(request: pytest.FixtureRequest) -> Client:
        return logged_in(request.getfixturevalue(operator_fixture))

    return client


# the personas: an operator per group (and staff in none), and a client logged in as each
support_user = _operator("sam.support", SUPPORT)
compliance_user = _operator("cleo.compliance", COMPLIANCE)
admin_user_op = _operator("ada.admin", ADMIN)
staff_no_group = _operator("nobody", None)
support = _client_of("support_user")
compliance = _client_of("compliance_user")
admin_op = _client_of("admin_user_op")
nobody = _client_of("staff_no_group")


@pytest.fixture
def holder(program_a):  # type: ignore[no-untyped-def]
    return AccountHolderFactory(
        program=program_a,
        first_name="Grace",
        last_name="Hopper",
        email="Grace.Hopper@Example.com",
        mobile_country_code="65",
        mobile="91234567",
        client_ref_id="REF-0001",
        customer_id="CUST-0001",
    )
