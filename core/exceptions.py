"""The one exception type the service raises for anything a client did wrong."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core import error_codes


@dataclass(frozen=True)
class FieldError:
    """One failing rule on one input field; `field` is the name the client sent."""

    field: str
    code: str
    description: str = ""

    def __post_init__(self) -> None:
        if not self.description:
            object.__setattr__(self, "description", error_codes.describe(self.code))


@dataclass
class ApiError(Exception):
    """An error answer: code, HTTP status, human text, and the failing fields if any.

    Raise `ApiError.from_field_errors(errors)` for validation failures: v1 renders the first
    failure as the envelope's code and lists all; v2 renders `validation_error` with one
    `source` item per failure.
    """

    code: str
    status: int = 0
    description: str = ""
    errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    is_validation: bool = False

    def __post_init__(self) -> None:
        if not self.status:
            self.status = error_codes.status_for(self.code)
        if not self.description:
            self.description = error_codes.describe(self.code, **self.params)
        super().__init__(self.code)

    @classmethod
    def from_field_errors(cls, errors: list[FieldError], status: int = 400) -> ApiError:
        if not errors:
            raise ValueError("from_field_errors needs at least one error")
        first = errors[0]
        return cls(
            code=first.code,
            status=status,
            description=first.description,
            errors=list(errors),
            is_validation=True,
        )

    @classmethod
    def field(cls, field_name: str, code: str, description: str = "") -> ApiError:
        return cls.from_field_errors([FieldError(field_name, code, description)])
