"""Turning a program's settings and the matched entries into a screening decision (SPEC §6b).

| outcome     | when                                                  |
|-------------|-------------------------------------------------------|
| `block`     | any matched entry has action `block`                  |
| `threshold` | the weights of the matched `score` entries reach it   |
| `flag`      | some score, below the threshold                       |
| `clear`     | nothing matched                                       |
| `disabled`  | the program's screening is switched off               |

The HTTP answer for each outcome (create vs update) is the users service's business; this
module only decides.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Subquery

from core import error_codes
from core.exceptions import ApiError
from programs.models import Program
from risk.matching import MATCHER_VERSION, Match, Values, find_matches_many
from risk.models import (
    Action,
    BlacklistState,
    EntityAttribute,
    RiskSettings,
    ScreeningOutcome,
)

logger = logging.getLogger(__name__)

# Ties between equally heavy matches name the attribute listed first here.
_ATTRIBUTE_ORDER = {value: position for position, value in enumerate(EntityAttribute.values)}


@dataclass(frozen=True)
class ScreeningDecision:
    """What a screening found and decided; `record_screening` persists it."""

    outcome: str  # block | threshold | flag | clear | disabled
    score: int
    threshold: int
    matches: list[Match] = field(default_factory=list)
    heaviest_attribute: str | None = None  # names the 403 on create, e.g. customer.first_name
    list_version: int = 0
    matcher_version: str = MATCHER_VERSION

    @property
    def refuses(self) -> bool:
        return self.outcome in (ScreeningOutcome.BLOCK, ScreeningOutcome.THRESHOLD)

    def matches_as_json(self) -> list[dict[str, Any]]:
        return [m.as_dict() for m in self.matches]


@dataclass(frozen=True)
class EvaluableSettings:
    settings: RiskSettings
    list_version: int


def load_settings(program: Program) -> EvaluableSettings:
    """The program's settings and the current list version, in one query.

    Raises `ApiError(resource_risk_service_config_error)` (500) when the settings row is
    missing or, with screening enabled, the threshold is empty or not positive.
    """
    row = (
        RiskSettings.objects.filter(program=program)
        .annotate(
            current_list_version=Subquery(BlacklistState.objects.filter(pk=1).values("version")[:1])
        )
        .first()
    )
    if row is None:
        logger.error("risk settings missing for program %s", program.code)
        raise ApiError(error_codes.RISK_CONFIG_ERROR)
    if row.enabled and not row.can_evaluate:
        logger.error("risk threshold not positive for program %s", program.code)
        raise ApiError(error_codes.RISK_CONFIG_ERROR)
    return EvaluableSettings(row, int(getattr(row, "current_list_version", None) or 0))


def decide(*, matches: Sequence[Match], threshold: int, list_version: int) -> ScreeningDecision:
    blocks = [m for m in matches if m.action == Action.BLOCK]
    scored = [m for m in matches if m.action == Action.SCORE]
    score = sum(m.weight or 0 for m in scored)
    heaviest: str | None = None
    if blocks:
        outcome = ScreeningOutcome.BLOCK
        heaviest = min(blocks, key=lambda m: _ATTRIBUTE_ORDER[m.entity_attribute]).entity_attribute
    elif score >= threshold:
        outcome = ScreeningOutcome.THRESHOLD
    elif score > 0:
        outcome = ScreeningOutcome.FLAG
    else:
        outcome = ScreeningOutcome.CLEAR
    if heaviest is None and scored:
        top = max(scored, key=lambda m: (m.weight or 0, -_ATTRIBUTE_ORDER[m.entity_attribute]))
        heaviest = top.entity_attribute
    return ScreeningDecision(
        outcome=str(outcome),
        score=score,
        threshold=threshold,
        matches=list(matches),
        heaviest_attribute=heaviest,
        list_version=list_version,
    )


def screen_many(*, program: Program, subjects: Sequence[Values]) -> list[ScreeningDecision]:
    """Screen several users' values of one program (the batch form used by rescreen_users).

    Raises `ApiError(resource_risk_service_config_error)` for unusable settings and
    `ApiError(risk_management_engine_error)` when matching fails unexpectedly.
    """
    loaded = load_settings(program)
    threshold = loaded.settings.threshold or 0
    if not loaded.settings.enabled:
        return [
            ScreeningDecision(
                outcome=ScreeningOutcome.DISABLED,
                score=0,
                threshold=threshold,
                list_version=loaded.list_version,
            )
            for _ in subjects
        ]
    try:
        found = find_matches_many(program=program, subjects=subjects)
    except ApiError:
        raise
    except Exception as exc:
        # the values are PII: log the failure's type only; the error id ties it to the request
        logger.error("risk engine failed for program %s: %s", program.code, type(exc).__name__)
        raise ApiError(error_codes.RISK_ENGINE_ERROR) from exc
    return [
        decide(matches=matches, threshold=threshold, list_version=loaded.list_version)
        for matches in found
    ]
