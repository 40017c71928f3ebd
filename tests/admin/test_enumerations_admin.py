"""Enumerations in the admin: operators (de)activate values; the API sees it at once."""

from __future__ import annotations

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from enumerations.models import Title
from tests.conftest import api_for


def titles(client_a) -> list[str]:  # type: ignore[no-untyped-def]
    response = api_for(client_a).get(f"/{client_a.program.code}/v1/users/enumerations/titles")
    assert response.status_code == 200
    return [item["code"] for item in response.json()["titles"]]


def test_deactivating_a_value_takes_effect_on_the_api_at_once(admin_op, client_a) -> None:
    assert "Dr" in titles(client_a)  # the catalog snapshot is now cached
    dr = Title.objects.get(code="Dr")

    admin_op.post(
        reverse("admin:enumerations_title_changelist"),
        {"action": "deactivate_values", ACTION_CHECKBOX_NAME: [dr.pk]},
    )

    assert not Title.objects.get(pk=dr.pk).is_active
    assert "Dr" not in titles(client_a)
    admin_op.post(
        reverse("admin:enumerations_title_changelist"),
        {"action": "activate_values", ACTION_CHECKBOX_NAME: [dr.pk]},
    )
    assert "Dr" in titles(client_a)


def test_values_are_never_deleted_and_codes_never_renamed(admin_op, seeded) -> None:
    dr = Title.objects.get(code="Dr")

    assert admin_op.get(reverse("admin:enumerations_title_delete", args=[dr.pk])).status_code == 403
    page = admin_op.get(reverse("admin:enumerations_title_change", args=[dr.pk]))
    assert 'name="code"' not in page.content.decode()
    assert 'name="description"' in page.content.decode()


def test_compliance_cannot_edit_enumerations(compliance, seeded) -> None:
    assert compliance.get(reverse("admin:enumerations_title_changelist")).status_code == 403
