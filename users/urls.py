"""v1 and v2 user routes under /{program}/ (enumerations are routed in config/urls.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
