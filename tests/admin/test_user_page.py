"""The user page: read-only detail with inlines, constant queries, and the operator workflows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from risk.models import RiskExemption, Screening
from tests.documents.test_admin import submitted
from tests.factories import AccountHolderFactory
from users.admin import WORKFLOWS, AccountHolderAdmin
from users.models import (
    AccountHolder,
    Address,
    EventType,
    Identification,
    KycSubStatus,
    PendingUpdate,
    RiskStatus,
    Status,
    StatusChange,
    UserEvent,
    UserNote,
)


def page(user: AccountHolder, name: str = "change") -> str:
    return reverse(f"admin:users_accountholder_{name}", args=[user.pk])


def add_history(user: AccountHolder, rows: int) -> None:
    now = timezone.now()
    number = f"E{user.pk:07d}X"
    Identification.objects.get_or_create(
        user=user,
        is_primary=True,
        defaults={
            "program": user.program,
            "id_type": "passport",
            "number": number,
        },
    )
    Address.objects.get_or_create(
        user=user, type="residential", defaults={"address_1": "1 Fusionopolis", "city": "SG"}
    )
    for i in range(rows):
        at = now - timedelta(minutes=i)
        StatusChange.objects.create(
            user=user,
            from_status="active",
            to_status="locked",
            actor_kind="operator",
            actor_id="x",
            channel="admin",
            reason=f"r{i}",
            at=at,
        )
        UserEvent.objects.create(
            user=user, type="updated", actor_kind="system", channel="system", at=at
        )
        Screening.objects.create(
            user=user,
            program=user.program,
            trigger="update",
            outcome="flag",
            score=40,
            threshold=100,
            matches=[
                {
                    "entry_id": 7,
                    "entity_attribute": "customer.first_name",
                    "match": "fuzzy",
                    "matcher": "fuzzy",
                    "similarity": 91.5,
                    "action": "score",
                    "weight": 40,
                }
            ],
            matcher_version="1",
            created_at=at,
        )
        UserNote.objects.create(user=user, text=f"note {i}")
        RiskExemption.objects.create(
            user=user,
            reason="ok",
            granted_at=at,
            expires_at=at + timedelta(days=1),
            ended_at=at,
            end_cause="revoked",
        )
    PendingUpdate.objects.get_or_create(
        user=user,
        field="email",
        status="pending",
        defaults={"value": "new.address@example.com", "requested_at": now},
    )


def test_detail_shows_every_section_read_only(compliance, holder) -> None:
    add_history(holder, 2)

    response = compliance.get(page(holder))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="first_name"' not in html  # read-only: no inputs for user data
    assert "Grace" in html and "Hopper" in html  # full detail for an authorised operator
    number = Identification.objects.get(user=holder).number
    assert "*****" + number[-4:] in html and number not in html  # id numbers stay masked
    for heading in (
        "Identification documents",
        "Addresses",
        "Status history",
        "Screenings",
        "Risk exemptions",
        "Pending updates",
        "Audit trail",
        "Notes",
    ):
        assert heading in html
    assert "entry #7" in html and "customer.first_name" in html and "(92%)" in html
    assert "n***@example.com" in html  # the pending update's value, masked


def test_every_user_field_is_on_the_page() -> None:
    shown = set()
    for _, options in AccountHolderAdmin.fieldsets:
        for item in options["fields"]:
            shown.update(item if isinstance(item, tuple) else (item,))
    # the canonical e-mail / mobile are derived copies of fields the page shows (masked), the
    # birth date's blind indexes keyed hashes of it
    derived = {
        "email_canonical",
        "mobile_e164",
        "birth_date_index",
        "birth_month_index",
        "birth_year_index",
    }
    # personal data is shown masked (SPEC §15): these columns stand for the fields they mask
    for masked, fields in {
        "email_masked": ("email",),
        "mobile_masked": ("mobile_country_code", "mobile"),
        "birth_date_masked": ("birth_date",),
    }.items():
        assert masked in shown
        shown.update(fields)
    model_fields = {f.name for f in AccountHolder._meta.concrete_fields} - {"id", "password"}
    model_fields -= derived

    assert model_fields - shown == set()


def test_support_does_not_see_risk_data(support, holder) -> None:
    add_history(holder, 1)

    html = support.get(page(holder)).content.decode()

    assert "Status history" in html and "Audit trail" in html
    assert "Screenings" not in html and "Risk exemptions" not in html


def _detail_queries(client, user: AccountHolder, rows: int) -> int:  # type: ignore[no-untyped-def]
    add_history(user, rows)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page(user))
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("persona", ["compliance", "support"])
def test_detail_query_count_does_not_grow_with_history(request, persona, program_a) -> None:
    client = request.getfixturevalue(persona)
    small = _detail_queries(client, AccountHolderFactory(program=program_a), 2)
    large = _detail_queries(client, AccountHolderFactory(program=program_a), 30)

    assert small == large
    assert large <= 25


def test_long_histories_show_the_latest_fifty(compliance, holder) -> None:
    add_history(holder, 55)

    html = compliance.get(page(holder)).content.decode()

    assert ">r0<" in html and ">r49<" in html
    assert ">r50<" not in html


TOOLS = {
    "support": {"Change status", "Add note"},
    "compliance": {
        "Change status",
        "Risk review",
        "Risk exemption",
        "Mark verified",
        "Wallet created",
        "Add note",
        "KYC review",
    },
    "nobody": None,
}


@pytest.mark.parametrize("persona", sorted(TOOLS))
def test_operator_tools_follow_permissions(request, persona, holder) -> None:
    AccountHolder.objects.filter(pk=holder.pk).update(risk_status=RiskStatus.PENDING)
    client = request.getfixturevalue(persona)

    response = client.get(page(holder))

    if TOOLS[persona] is None:
        assert response.status_code == 403
        return
    assert {label for label, _ in response.context["operator_tools"]} == TOOLS[persona]


# -- change status --------------------------------------------------------------------------


def offered_targets(client, user) -> list[str]:  # type: ignore[no-untyped-def]
    response = client.get(page(user, "status"))
    if response.status_code != 200:
        return []
    return [value for value, _ in response.context["form"].fields["to_status"].choices]


@pytest.mark.parametrize(
    ("persona", "status", "expected"),
    [
        ("support", Status.ACTIVE, [Status.LOCKED]),
        ("support", Status.LOCKED, [Status.ACTIVE]),
        ("support", Status.SUSPENDED, []),
        ("support", Status.BLOCKED, []),
        (
            "compliance",
            Status.ACTIVE,
            [
                Status.LOCKED,
                Status.SUSPENDED,
                Status.REJECTED,
                Status.BLACKLISTED,
                Status.BLOCKED,
                Status.TERMINATED,
            ],
        ),
        (
            "compliance",
            Status.PENDING_VERIFICATION,
            [
                Status.VERIFICATION_COMPLETED,
                Status.PENDING_ACTIVATION,
                Status.ACTIVE,
                Status.REJECTED,
                Status.BLACKLISTED,
                Status.BLOCKED,
                Status.TERMINATED,
            ],
        ),
        ("compliance", Status.TERMINATED, []),
    ],
)
def test_status_form_offers_only_legal_permitted_targets(
    request, program_a, persona, status, expected
) -> None:
    user = AccountHolderFactory(program=program_a, status=status)

    offered = offered_targets(request.getfixturevalue(persona), user)

    assert sorted(offered) == sorted(expected)


def test_status_form_changes_status_with_reason(compliance, compliance_user, holder) -> None:
    response = compliance.post(
        page(holder, "status"),
        {"to_status": "suspended", "sub_status": "", "reason": "chargeback fraud"},
    )

    assert response.status_code == 302
    change = StatusChange.objects.get(user=holder)
    assert (change.to_status, change.to_sub_status) == ("suspended", "account_suspended_by_issuer")
    assert (change.actor_id, change.reason) == (compliance_user.username, "chargeback fraud")


def test_status_form_refuses_an_unoffered_target_and_saves_nothing(support, holder) -> None:
    response = support.post(
        page(holder, "status"), {"to_status": "blocked", "sub_status": "", "reason": "x"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["to_status"]
    assert AccountHolder.objects.get(pk=holder.pk).status == Status.ACTIVE
    assert not StatusChange.objects.exists()


def test_status_form_shows_the_service_refusal(compliance, program_a) -> None:
    flagged = AccountHolderFactory(
        program=program_a, status=Status.LOCKED, risk_status=RiskStatus.REJECTED
    )

    response = compliance.post(
        page(flagged, "status"), {"to_status": "active", "sub_status": "", "reason": "call"}
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert 'id="refusal"' in response.content.decode()
    assert AccountHolder.objects.get(pk=flagged.pk).status == Status.LOCKED


def test_an_exemption_lets_the_flagged_user_be_reactivated(compliance, program_a) -> None:
    flagged = AccountHolderFactory(
        program=program_a, status=Status.LOCKED, risk_status=RiskStatus.REJECTED
    )
    expires = (timezone.now() + timedelta(days=7)).strftime("%Y-%m-%d %H:%M")
    compliance.post(
        page(flagged, "exemption"),
        {"decision": "grant", "expires_at": expires, "reason": "false positive"},
    )

    response = compliance.post(
        page(flagged, "status"), {"to_status": "active", "sub_status": "", "reason": "cleared"}
    )

    assert response.status_code == 302
    assert AccountHolder.objects.get(pk=flagged.pk).status == Status.ACTIVE


# -- reviews: each view refuses operators without the permission ---------------------------

REVIEW_VIEWS = {
    "risk": {"outcome": "CLEARED", "reason": "false positive"},
    "exemption": {"decision": "revoke", "reason": "done"},
    "verify": {"email": "on", "reason": "called the customer"},
    "wallet": {"at": "", "reason": "card issued"},
}


@pytest.mark.parametrize("view", sorted(REVIEW_VIEWS))
@pytest.mark.parametrize("persona", ["support", "nobody"])
def test_review_views_are_forbidden_without_permission(request, holder, persona, view) -> None:
    client = request.getfixturevalue(persona)
    before = AccountHolder.objects.values().get(pk=holder.pk)

    assert client.get(page(holder, view)).status_code == 403
    assert client.post(page(holder, view), REVIEW_VIEWS[view]).status_code == 403
    assert AccountHolder.objects.values().get(pk=holder.pk) == before
    assert not UserEvent.objects.exists()


# -- the table of workflows: one view serves every row -----------------------------------------


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_every_workflow_refuses_staff_without_its_permission(nobody, holder, workflow) -> None:
    assert nobody.get(page(holder, workflow.name)).status_code == 403
    assert nobody.post(page(holder, workflow.name), {"reason": "x"}).status_code == 403
    assert not UserEvent.objects.exists()


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_every_workflow_page_has_its_title_and_breadcrumbs(admin_op, holder, workflow) -> None:
    AccountHolder.objects.filter(pk=holder.pk).update(risk_status=RiskStatus.PENDING)

    response = admin_op.get(page(holder, workflow.name))

    assert response.status_code == 200
    crumbs = response.context["crumbs"]
    assert crumbs[-1] == (workflow.title, "")
    assert (holder.public_id, page(holder)) in crumbs
    html = response.content.decode()
    assert f'<a href="{page(holder)}">{holder.public_id}</a>' in html


# -- KYC: decided on a submitted submission only (SPEC §12, issue 14) -------------------------


def test_the_old_kyc_tool_no_longer_decides_kyc(compliance, program_a) -> None:
    """The user page's KYC decision set kyc_status without a submission; its path is gone."""
    program_a.kyc_required = True
    program_a.save()
    user = AccountHolderFactory(program=program_a, status=Status.PENDING_VERIFICATION)
    before = AccountHolder.objects.values().get(pk=user.pk)

    old_path = f"/admin/users/accountholder/{user.pk}/kyc/"
    response = compliance.post(old_path, {"decision": "approve", "reason": "docs ok"})

    assert response.status_code in (302, 404)  # the admin's catch-all, not a decision
    assert AccountHolder.objects.values().get(pk=user.pk) == before
    assert not UserEvent.objects.filter(user=user).exists()


def test_the_kyc_tool_without_a_submitted_submission_decides_nothing(compliance, holder) -> None:
    tools = dict(compliance.get(page(holder)).context["operator_tools"])

    response = compliance.get(tools["KYC review"])

    assert response.status_code == 302 and response.url == page(holder)
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert "no KYC submission awaits a decision" in message
    holder.refresh_from_db()
    assert holder.kyc_sub_status != KycSubStatus.APPROVED


def test_the_kyc_tool_leads_to_the_review_of_the_submitted_submission(compliance, program_a):
    program_a.kyc_required = True
    program_a.save()
    user, submission = submitted(program_a)
    AccountHolder.objects.filter(pk=user.pk).update(status=Status.PENDING_VERIFICATION)
    tools = dict(compliance.get(page(user)).context["operator_tools"])

    response = compliance.get(tools["KYC review"])

    review = reverse("admin:documents_kycsubmission_review", args=[submission.pk])
    assert response.status_code == 302 and response.url == review
    compliance.post(review, {"decision": "approve", "message": ""})
    user.refresh_from_db()
    assert (user.kyc_status, user.kyc_sub_status) == ("completed", KycSubStatus.APPROVED)
    assert user.status == Status.ACTIVE
    submission.refresh_from_db()
    assert submission.state == "approved"


@pytest.mark.parametrize("outcome", [RiskStatus.CLEARED, RiskStatus.REJECTED])
def test_risk_review(compliance, holder, outcome) -> None:
    AccountHolder.objects.filter(pk=holder.pk).update(risk_status=RiskStatus.PENDING)

    response = compliance.post(page(holder, "risk"), {"outcome": outcome, "reason": "reviewed"})

    assert response.status_code == 302
    assert AccountHolder.objects.get(pk=holder.pk).risk_status == outcome


def test_risk_review_of_an_unflagged_user_is_refused(compliance, holder) -> None:
    response = compliance.post(page(holder, "risk"), {"outcome": "CLEARED", "reason": "x"})

    assert response.status_code == 200
    assert "Only users pending risk review" in response.content.decode()
    assert AccountHolder.objects.get(pk=holder.pk).risk_status == RiskStatus.UNKNOWN


def test_exemption_grant_and_revoke(compliance, compliance_user, holder) -> None:
    expires = (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%d %H:%M")

    compliance.post(
        page(holder, "exemption"), {"decision": "grant", "expires_at": expires, "reason": "fp"}
    )
    exemption = RiskExemption.objects.get(user=holder)
    assert exemption.granted_by == compliance_user and exemption.ended_at is None

    compliance.post(page(holder, "exemption"), {"decision": "revoke", "reason": "no longer"})
    exemption.refresh_from_db()
    assert exemption.ended_at is not None and exemption.end_cause == "revoked"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"decision": "grant", "expires_at": "", "reason": "x"}, "An exemption needs an expiry."),
        (
            {"decision": "grant", "expires_at": "2001-01-01 00:00", "reason": "x"},
            "The expiry must be in the future.",
        ),
        ({"decision": "revoke", "reason": "x"}, "The user has no open exemption to revoke."),
    ],
)
def test_exemption_refusals_save_nothing(compliance, holder, data, error) -> None:
    response = compliance.post(page(holder, "exemption"), data)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not RiskExemption.objects.exists()


def test_mark_verified_and_wallet(compliance, holder) -> None:
    compliance.post(page(holder, "verify"), {"email": "on", "mobile": "on", "reason": "call"})
    compliance.post(page(holder, "wallet"), {"at": "", "reason": "card issued"})

    holder.refresh_from_db()
    assert holder.is_email_verified and holder.is_mobile_verified
    assert holder.wallet_created_at is not None
    assert UserEvent.objects.filter(user=holder, type=EventType.REVIEWED).count() == 2


def test_support_adds_a_note(support, support_user, holder) -> None:
    response = support.post(page(holder, "note"), {"text": "Customer called about card."})

    assert response.status_code == 302
    note = UserNote.objects.get(user=holder)
    assert (note.author, note.text) == (support_user, "Customer called about card.")
    assert "note added" in " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_staff_without_note_permission_cannot_add_notes(nobody, holder) -> None:
    assert nobody.post(page(holder, "note"), {"text": "hi"}).status_code == 403
    assert not UserNote.objects.exists()


def test_unknown_user_is_404(compliance) -> None:
    response = compliance.get(reverse("admin:users_accountholder_risk", args=[999999]))

    assert response.status_code == 404
