"""The base of every program-scoped API view, and the health endpoint."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.views import APIView

from api.errors import json_error
from api.ratelimit import ApiClientRateThrottle
from enumerations.catalog import Catalog, get_catalog
from programs.models import ApiClient, Program


class ProgramAPIView(APIView):
    """Authenticated as an API client of the program named in the URL.

    Rate-limited per client (reads and writes apart, see api/ratelimit.py). POST handlers
    take `@idempotent` (api/idempotency.py) for the Idempotency-Key header.
    """

    throttle_classes = [ApiClientRateThrottle]

    @property
    def client(self) -> ApiClient:
        return self.request.auth  # type: ignore[return-value]

    @property
    def program(self) -> Program:
        return self.client.program

    @property
    def catalog(self) -> Catalog:
        return get_catalog(getattr(self.client, "catalog_version", None) or 0)


@csrf_exempt  # an API client sends no CSRF token: unrouted writes answer 404, not a 403 page
def api_not_found(request: HttpRequest, *args: Any) -> JsonResponse:
    """Unrouted paths under /{program}/v1|v2/: 404 in the version's envelope."""
    return json_error(request, Http404())


def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers, 503 otherwise; no credentials (for load balancers)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
