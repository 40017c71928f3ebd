"""Operator groups: created by migrate / setup_groups / bootstrap_demo, least privilege."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command

from backoffice.groups import (
    ADMIN,
    COMPLIANCE,
    PERM_CHANGE_STATUS,
    PERM_LOCK,
    PERM_REVIEW,
    SUPPORT,
    setup_groups,
)
from tests.admin.conftest import make_operator


def perms_of(group: str) -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in Group.objects.get(name=group).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


@pytest.mark.django_db
def test_migrate_created_the_groups_and_custom_permissions() -> None:
    # no setup call here: the post_migrate handler ran when the test database was built
    assert set(Group.objects.values_list("name", flat=True)) >= {SUPPORT, COMPLIANCE, ADMIN}
    assert (
        Permission.objects.filter(
            content_type__app_label="users",
            codename__in=[p.split(".")[1] for p in (PERM_LOCK, PERM_CHANGE_STATUS, PERM_REVIEW)],
        ).count()
        == 3
    )


def test_support_has_exactly_view_lock_and_notes(groups) -> None:
    perms = perms_of(SUPPORT)

    assert {"users.view_accountholder", PERM_LOCK, "users.add_usernote"} <= perms
    assert PERM_CHANGE_STATUS not in perms
    assert PERM_REVIEW not in perms
    assert not any(p.startswith(("risk.", "programs.", "auth.", "enumerations.")) for p in perms)
    assert not any(p.split(".")[1].startswith(("change_", "delete_")) for p in perms)


def test_compliance_has_users_reviews_and_risk_but_not_programs_or_deletes(groups) -> None:
    perms = perms_of(COMPLIANCE)

    assert {PERM_LOCK, PERM_CHANGE_STATUS, PERM_REVIEW, "users.view_pendingupdate"} <= perms
    assert {
        "risk.add_blacklistentry",
        "risk.change_blacklistentry",
        "risk.change_risksettings",
        "risk.view_screening",
        "risk.add_riskexemption",
    } <= perms
    assert "programs.view_program" in perms
    assert "programs.change_program" not in perms
    assert "programs.add_apiclient" not in perms
    assert not any(p.startswith("users.delete_") for p in perms)
    assert not any(p.startswith("auth.") for p in perms)


def test_admin_has_every_permission(groups) -> None:
    assert perms_of(ADMIN) == {
        f"{app}.{codename}"
        for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
    }


def test_group_membership_grants_the_permissions(support_user, compliance_user) -> None:
    assert support_user.has_perm(PERM_LOCK)
    assert not support_user.has_perm(PERM_CHANGE_STATUS)
    assert compliance_user.has_perm(PERM_CHANGE_STATUS) and compliance_user.has_perm(PERM_REVIEW)


def test_setup_is_idempotent_and_restores_drifted_groups(groups) -> None:
    support = Group.objects.get(name=SUPPORT)
    support.permissions.add(Permission.objects.get(codename="change_status_accountholder"))
    before = {name: perms_of(name) for name in (SUPPORT, COMPLIANCE, ADMIN)}

    counts = setup_groups()
    counts_again = setup_groups()

    assert counts == counts_again
    assert PERM_CHANGE_STATUS not in perms_of(SUPPORT)
    assert perms_of(COMPLIANCE) == before[COMPLIANCE]
    assert Group.objects.filter(name__in=[SUPPORT, COMPLIANCE, ADMIN]).count() == 3


def test_setup_groups_command_prints_counts(groups) -> None:
    out = StringIO()

    call_command("setup_groups", stdout=out)

    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == [SUPPORT, COMPLIANCE, ADMIN]


def test_bootstrap_demo_puts_the_admin_operator_in_the_admin_group(seeded, monkeypatch) -> None:
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "demo-password-123")
    call_command("bootstrap_demo", "--no-seed", stdout=StringIO())
    call_command("bootstrap_demo", "--no-seed", stdout=StringIO())

    admin = User.objects.get(username="admin")
    assert admin.is_staff
    assert list(admin.groups.values_list("name", flat=True)) == [ADMIN]


def test_an_operator_needs_staff_status_to_log_in(groups, client) -> None:
    user = make_operator("no.staff", SUPPORT)
    user.is_staff = False
    user.save()
    client.force_login(user)

    response = client.get("/admin/users/accountholder/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
