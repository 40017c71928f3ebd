"""Operator personas for the back-office tests: one staff account per group, logged in."""

from __future__ import annotations

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


@pytest.fixture
def support_user(groups: None) -> User:
    return make_operator("sam.support", SUPPORT)


@pytest.fixture
def compliance_user(groups: None) -> User:
    return make_operator("cleo.compliance", COMPLIANCE)


@pytest.fixture
def admin_user_op(groups: None) -> User:
    return make_operator("ada.admin", ADMIN)


@pytest.fixture
def staff_no_group(groups: None) -> User:
    return make_operator("nobody", None)


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def support(support_user: User) -> Client:
    return logged_in(support_user)


@pytest.fixture
def compliance(compliance_user: User) -> Client:
    return logged_in(compliance_user)


@pytest.fixture
def admin_op(admin_user_op: User) -> Client:
    return logged_in(admin_user_op)


@pytest.fixture
def nobody(staff_no_group: User) -> Client:
    return logged_in(staff_no_group)


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
