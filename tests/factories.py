"""factory_boy factories for the models tests build directly."""

from __future__ import annotations

import factory
from django.utils import timezone

from programs.models import ApiClient, Program
from risk.models import RiskSettings
from users.models import AccountHolder


class ProgramFactory(factory.django.DjangoModelFactory):
    """A program with default risk settings (threshold 100, enabled), like program_create."""

    class Meta:
        model = Program
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"prog{n}")
    name = factory.LazyAttribute(lambda o: f"Program {o.code}")
    country = "SGP"
    min_age = 18
    risk_settings = factory.RelatedFactory(
        "tests.factories.RiskSettingsFactory", factory_related_name="program"
    )


class RiskSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RiskSettings

    threshold = 100
    enabled = True


class ApiClientFactory(factory.django.DjangoModelFactory):
    """Build with `ApiClientFactory(program=p)`; the plain secret is on `obj.plain_secret`."""

    class Meta:
        model = ApiClient

    program = factory.SubFactory(ProgramFactory)
    name = "test client"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):  # type: ignore[no-untyped-def]
        obj = model_class(*args, **kwargs)
        obj.plain_secret = obj.set_new_secret()
        obj.save()
        return obj


class AccountHolderFactory(factory.django.DjangoModelFactory):
    """A user row written directly (no validation/screening): for fixtures, not for rules."""

    class Meta:
        model = AccountHolder

    program = factory.SubFactory(ProgramFactory)
    first_name = "Ada"
    last_name = "Lovelace"
    preferred_name = "Ada"
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    mobile_country_code = "65"
    mobile = factory.Sequence(lambda n: f"9{n % 10_000_000:07d}")
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)
