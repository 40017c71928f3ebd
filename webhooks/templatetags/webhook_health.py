from __future__ import annotations

from django import template

from webhooks.status import Health, health

register = template.Library()


@register.simple_tag
def webhook_health() -> Health:
    return health()
