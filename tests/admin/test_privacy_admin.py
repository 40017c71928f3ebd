"""The back-office for personal data (SPEC §15): masked by default, reveal with a reason
(compliance only, recorded), erasure requested by one operator and approved by another."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from privacy.models import Erasure, ErasureRequest, ErasureRequestState
from tests.admin.conftest import logged_in, make_operator
from tests.documents.test_admin import review_url, submitted
from users.lifecycle import Actor, user_change_status
from users.models import (
    AccountHolder,
    Address,
    Channel,
    EventType,
    Identification,
    Status,
    UserEvent,
)

pytestmark = pytest.mark.django_db

CLEAR = ["Grace.Hopper@Example.com", "91234567", "1906-12-09", "1906", "42 Harbour Road", "S4321"]


@pytest.fixture
def person(holder):  # type: ignore[no-untyped-def]
    holder.birth_date = date(1906, 12, 9)
    holder.save(update_fields=["birth_date"])
    Address.objects.create(
        user=holder, type="residential", address_1="42 Harbour Road", zipcode="S4321", country="SGP"
    )
    Identification.objects.create(
        user=holder,
        program=holder.program,
        id_type="passport",
        number="E7777123",
    )
    return holder


def page(user) -> str:  # type: ignore[no-untyped-def]
    return reverse("admin:users_accountholder_change", args=[user.pk])


def reveal_url(user) -> str:  # type: ignore[no-untyped-def]
    return reverse("admin:privacy_reveal", args=[user.pk])


@pytest.mark.parametrize("persona", ["support", "compliance", "admin_op"])
def test_user_page_masks_personal_data_for_every_operator(request, person, persona):  # type: ignore[no-untyped-def]
    client = request.getfixturevalue(persona)
    html = client.get(page(person)).content.decode()
    assert person.public_id in html
    for value in CLEAR:
        assert value not in html, (persona, value)
    assert "E7777123" not in html
    assert "@Example.com" in html  # the masked e-mail keeps its domain


def test_support_cannot_reveal(support, person):  # type: ignore[no-untyped-def]
    html = support.get(page(person)).content.decode()
    assert 'id="reveal-link"' not in html
    assert "needs the compliance role" in html
    assert support.get(reveal_url(person)).status_code == 403
    response = support.post(reveal_url(person), {"field": "email", "reason": "curious"})
    assert response.status_code == 403
    assert not UserEvent.objects.filter(type=EventType.PII_REVEALED).exists()


def test_compliance_reveals_one_field_with_a_reason_and_it_is_recorded(compliance, person):  # type: ignore[no-untyped-def]
    assert 'id="reveal-link"' in compliance.get(page(person)).content.decode()
    form = compliance.get(reveal_url(person))
    assert form.status_code == 200 and "Grace.Hopper" not in form.content.decode()

    refused = compliance.post(reveal_url(person), {"field": "email", "reason": "  "})
    assert refused.status_code == 200 and "Grace.Hopper" not in refused.content.decode()
    assert not UserEvent.objects.filter(type=EventType.PII_REVEALED).exists()

    shown = compliance.post(reveal_url(person), {"field": "email", "reason": "ticket 4411"})
    body = shown.content.decode()
    assert "Grace.Hopper@Example.com" in body
    assert "91234567" not in body and "1906-12-09" not in body  # only the field asked for
    assert "no-store" in shown["Cache-Control"]
    event = UserEvent.objects.get(type=EventType.PII_REVEALED)
    assert (event.actor_id, event.reason, event.changes) == (
        "cleo.compliance",
        "ticket 4411",
        {"field": [None, "email"]},
    )
    html = compliance.get(page(person)).content.decode()
    assert "ticket 4411" in html and "pii_revealed" in html  # visible on the user page
    assert "Grace.Hopper@Example.com" not in html

    for field, expected in (
        ("birth_date", "1906-12-09"),
        ("addresses", "42 Harbour Road"),
        ("identifications", "E7777123"),
    ):
        response = compliance.post(reveal_url(person), {"field": field, "reason": "KYC check"})
        assert expected in response.content.decode()
    assert UserEvent.objects.filter(type=EventType.PII_REVEALED).count() == 4


def test_unknown_field_is_refused(compliance, person):  # type: ignore[no-untyped-def]
    response = compliance.post(reveal_url(person), {"field": "password", "reason": "x"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not UserEvent.objects.filter(type=EventType.PII_REVEALED).exists()


def closed(user):  # type: ignore[no-untyped-def]
    user_change_status(
        user=user,
        to_status=Status.TERMINATED,
        actor=Actor("operator", "olga"),
        channel=Channel.ADMIN,
        reason="closed",
    )
    user.refresh_from_db()
    return user


def test_erasure_needs_a_second_operator(compliance, compliance_user, person):  # type: ignore[no-untyped-def]
    closed(person)
    add = reverse("admin:privacy_erasurerequest_add")
    response = compliance.post(add, {"user": person.pk, "reason": "court order 7/2026"})
    assert response.status_code == 302, response.content
    pending = ErasureRequest.objects.get()
    assert (pending.state, pending.requested_by) == (ErasureRequestState.PENDING, compliance_user)

    changelist = reverse("admin:privacy_erasurerequest_changelist")
    action = {"action": "approve_and_erase", "_selected_action": [pending.pk]}
    compliance.post(changelist, action)  # the requester approving their own request
    pending.refresh_from_db()
    assert pending.state == ErasureRequestState.PENDING
    assert not Erasure.objects.exists()

    second = logged_in(make_operator("vic.compliance", "compliance"))
    response = second.post(changelist, action)
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.state == ErasureRequestState.APPROVED
    assert pending.decided_by is not None and pending.decided_by.username == "vic.compliance"
    erasure = Erasure.objects.get(user=person)
    assert erasure.legal_override  # retention had not ended
    person.refresh_from_db()
    assert person.email is None and person.birth_date is None
    assert not Address.objects.filter(user=person).exists()
    assert UserEvent.objects.filter(user=person, type=EventType.ERASED).count() == 1


def test_erasure_request_refused_for_a_live_user(compliance, person):  # type: ignore[no-untyped-def]
    add = reverse("admin:privacy_erasurerequest_add")
    response = compliance.post(add, {"user": person.pk, "reason": "asked"})
    assert response.status_code == 200
    assert "only a closed user" in response.content.decode()
    assert not ErasureRequest.objects.exists()


def test_support_cannot_request_or_approve(support, person):  # type: ignore[no-untyped-def]
    closed(person)
    assert support.get(reverse("admin:privacy_erasurerequest_add")).status_code == 403
    assert support.get(reverse("admin:privacy_erasurerequest_changelist")).status_code == 403


def test_database_refuses_self_approval(compliance_user, person):  # type: ignore[no-untyped-def]
    closed(person)
    with pytest.raises(IntegrityError):
        ErasureRequest.objects.create(
            user=person,
            reason="r",
            requested_by=compliance_user,
            requested_at=timezone.now(),
            state=ErasureRequestState.APPROVED,
            decided_by=compliance_user,
            decided_at=timezone.now(),
        )


def test_kyc_review_page_masks_identity_for_support_only(program_a, support, compliance):  # type: ignore[no-untyped-def]
    user, submission = submitted(program_a)
    AccountHolder.objects.filter(pk=user.pk).update(birth_date=date(1906, 12, 9))
    number = user.identifications.get().number
    shown = support.get(review_url(submission)).content.decode()
    assert number not in shown and "1906" not in shown and "1 Main St" not in shown
    assert number[-4:] in shown  # masked, with the last characters
    clear = compliance.get(review_url(submission)).content.decode()
    assert number in clear and "1 Main St" in clear
