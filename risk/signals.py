"""Receivers of the risk app: every program created by `program_create` is screened from its
first write (SPEC §6b: default settings, threshold 100, enabled)."""

from typing import Any

from django.dispatch import receiver

from programs.models import Program
from programs.signals import program_created
from risk.services import risk_settings_ensure


@receiver(program_created, dispatch_uid="risk-default-settings")
def default_risk_settings(sender: Any, program: Program, **kwargs: Any) -> None:
    risk_settings_ensure(program=program)
