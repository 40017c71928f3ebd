"""A test-only write endpoint for the cross-cutting mechanisms (idempotency, rate limits,
body limits, logs), so their tests do not depend on the users API.

`POST /{program}/v1|v2/probe` creates a real AccountHolder row from `email`, `first_name`
(the e-mail is unique per program, enforced by the database) and answers 201. Test hooks:
`{"fail": "validation"}` answers 400, `{"fail": "server"}` writes then raises (500),
`{"fail": "integrity"}` lets the database's IntegrityError escape (500), and
`probe_gate` (a threading.Event) holds the request mid-transaction when set.
"""

from __future__ import annotations

import threading

from django.db import IntegrityError, transaction
from django.urls import path
from django.utils import timezone
from rest_framework.response import Response

from api.idempotency import idempotent
from api.views import ProgramAPIView
from config.urls import urlpatterns as service_urlpatterns
from core.exceptions import ApiError
from users.models import AccountHolder

# set by the race tests: `entered` is set when a request is inside the handler, which then
# waits for `release`.
probe_gate: dict[str, threading.Event] = {}


class ProbeView(ProgramAPIView):
    @idempotent
    def post(self, request, program):  # type: ignore[no-untyped-def]
        data = request.data
        if "entered" in probe_gate:
            probe_gate["entered"].set()
            probe_gate["release"].wait(10)
        if data.get("fail") == "validation":
            raise ApiError.field("email", "resource_user_email_invalid")
        if data.get("fail") == "integrity":
            with transaction.atomic():  # the IntegrityError escapes, the savepoint is undone
                _create(self.program, data.get("email"), None)
                _create(self.program, data.get("email"), None)
        try:
            with transaction.atomic():
                user = _create(self.program, data.get("email"), data.get("first_name"))
        except IntegrityError:
            raise ApiError.field("email", "resource_user_email_unique") from None
        if data.get("fail") == "server":
            raise RuntimeError("probe failed after writing")
        return Response({"id": user.public_id, "email": user.email}, status=201)

    def get(self, request, program):  # type: ignore[no-untyped-def]
        return Response({"users": AccountHolder.objects.filter(program=self.program).count()})


def _create(program, email, first_name):  # type: ignore[no-untyped-def]
    now = timezone.now()
    return AccountHolder.objects.create(
        program=program, email=email, first_name=first_name, created_at=now, updated_at=now
    )


urlpatterns = [
    path("<slug:program>/v1/probe", ProbeView.as_view()),
    path("<slug:program>/v2/probe", ProbeView.as_view()),
    *service_urlpatterns,
]
handler404 = "api.errors.handler404"
handler500 = "api.errors.handler500"
