"""Bench URLconf (`config.settings.bench`): production's routes plus the floor endpoint.

The floor is listed first so the API's catch-all for unknown `/{program}/v1/...` paths does
not swallow it. Production (`config.urls`) never routes it.
"""

from django.urls import path

from bench.floor import FloorView
from config.urls import handler404, handler500
from config.urls import urlpatterns as production_urlpatterns

__all__ = ["handler404", "handler500", "urlpatterns"]

urlpatterns = [
    path("<slug:program>/v1/bench/floor/users", FloorView.as_view(), name="bench-floor"),
    *production_urlpatterns,
]
