"""The floor: the cheapest honest way to turn a v1 create body into a user row.

Same authentication and tenancy as the API (the one query of `ApiClientAuthentication`),
the same body parsing, then one ORM insert of the `AccountHolder` row with the body's scalar
fields and no validation, screening, identification rows, audit events or rendering. Every
write endpoint's throughput is reported as a ratio to this one, so the table shows what the
product's rules cost on top of the framework, not what the machine can do.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from api.views import ProgramAPIView
from users.fields import SCALAR_FIELDS, V1_NAMES
from users.models import AccountHolder

# v1 form name -> model field, for the scalar fields a v1 create body carries.
_V1_TO_MODEL: dict[str, str] = {
    V1_NAMES.get(name, name): name
    for name in SCALAR_FIELDS
    if name not in ("metadata", "created_by")
}


class FloorView(ProgramAPIView):
    """POST /{program}/v1/bench/floor/users — bench settings only; not in the OpenAPI schema."""

    schema = None

    def post(self, request: Request, program: str) -> Response:
        fields: dict[str, Any] = {
            model_name: request.data[v1_name]
            for v1_name, model_name in _V1_TO_MODEL.items()
            if request.data.get(v1_name) not in (None, "")
        }
        now = timezone.now()
        user = AccountHolder.objects.create(
            program=self.program, created_at=now, updated_at=now, **fields
        )
        return Response({"id": user.public_id})
