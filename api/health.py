"""The health check answered before host validation, for load balancers probing by IP.

A balancer probes each instance at its own address (`Host: 10.0.3.7`), which is not — and
should not be — in ALLOWED_HOSTS: Django's host check (in CommonMiddleware, CSRF, the HTTPS
redirect) answered those probes 400 and the balancer took healthy instances out. This
middleware sits before every middleware that validates the host and answers `/healthz`
itself; it reveals nothing a probe could not already learn (ok/unavailable), builds no URL
from the Host header, and every other path keeps the host check.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from api.views import healthz

HEALTH_PATH = "/healthz"


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == HEALTH_PATH:
            return healthz(request)
        return self.get_response(request)
