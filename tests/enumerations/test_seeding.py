import pytest
from django.core.management import call_command

from enumerations import catalog
from enumerations.models import Country, MobileCountryCode, Title
from enumerations.registry import KINDS
from enumerations.seeding import seed


def _snapshot() -> dict[str, list[tuple]]:
    return {
        name: list(
            kind.model.objects.order_by("pk").values_list("pk", "code", "description", "is_active")
        )
        for name, kind in KINDS.items()
    }


@pytest.mark.django_db
def test_seeding_twice_changes_nothing():
    first = seed()
    assert all(r.added > 0 for r in first)
    before = _snapshot()
    version = catalog.current_version()
    second = seed()
    assert all(r.added == 0 and r.updated == 0 for r in second)
    assert _snapshot() == before
    assert catalog.current_version() == version


@pytest.mark.django_db
def test_seed_sources():
    seed()
    assert Country.objects.count() >= 240
    sgp = Country.objects.get(code="SGP")
    assert (sgp.description, sgp.numeric, sgp.alpha_2) == ("Singapore", "702", "SG")
    assert MobileCountryCode.objects.filter(code="1").exists()
    assert MobileCountryCode.objects.get(code="65").description == "Singapore"


@pytest.mark.django_db
def test_reseed_keeps_operator_edits_and_refresh_resets_them():
    seed()
    Title.objects.filter(code="Mr").update(description="Mister")
    seed()
    assert Title.objects.get(code="Mr").description == "Mister"
    seed(["titles"], refresh=True)
    assert Title.objects.get(code="Mr").description == "Mr"


@pytest.mark.django_db
def test_command_prints_counts(capsys):
    call_command("seed_enumerations", "--kind", "titles")
    out = capsys.readouterr().out
    assert "titles: 5 values (5 added, 0 updated)" in out
    call_command("seed_enumerations", "--kind", "titles")
    assert "1 kinds seeded: 0 added, 0 updated" in capsys.readouterr().out


@pytest.mark.django_db
def test_seeded_codes_pass_their_own_character_rules():
    """Codes of kinds with a v1 character rule must themselves obey it."""
    import re

    seed()
    allowed = re.compile(r"^[A-Za-z0-9 /#().,\-]+$")
    for kind in ("employment_type", "occupation", "volume_of_assets", "main_income_source"):
        for code in KINDS[kind].model.objects.values_list("code", flat=True):
            assert allowed.match(code), (kind, code)
