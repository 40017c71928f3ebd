"""System checks for settings that would silently break a multi-server deployment."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

# Caches that live inside one process: counters kept there are not shared by app servers.
_PER_PROCESS_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@register()
def rate_limit_store_check(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    store = settings.RATE_LIMIT_STORE
    if store not in ("database", "cache"):
        return [
            Error(
                f"ONBOARD_RATE_LIMIT_STORE must be `database` or `cache`, not `{store}`.",
                id="onboard.E001",
            )
        ]
    if store == "cache" and settings.CACHES["default"]["BACKEND"] in _PER_PROCESS_CACHES:
        return [
            Warning(
                "Rate-limit counters are in a per-process cache: every worker counts apart.",
                hint="Set CACHE_URL to a shared cache (e.g. redis://...) or use the database.",
                id="onboard.W001",
            )
        ]
    return []
