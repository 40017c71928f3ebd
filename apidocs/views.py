"""Public pages: `GET /` (links to the docs, the admin and the health check) and the error
catalogue `/api/docs/errors/` (an anchor `#<code>` per code, linked from every v1 error)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from apidocs.catalogue import as_rows


@require_safe
def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "apidocs/landing.html")


@require_safe
def error_catalogue(request: HttpRequest) -> HttpResponse:
    return render(request, "apidocs/errors.html", {"rows": as_rows()})
