"""Any saved or deleted enumeration value bumps the catalog version (cache invalidation only)."""

from typing import Any

from django.db.models.signals import post_delete, post_save

from enumerations.catalog import bump_version
from enumerations.registry import MODELS


def _changed(sender: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    bump_version()


for _model in MODELS:
    post_save.connect(_changed, sender=_model, dispatch_uid=f"catalog-bump-{_model.__name__}")
    post_delete.connect(_changed, sender=_model, dispatch_uid=f"catalog-del-{_model.__name__}")
