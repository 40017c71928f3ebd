"""Webhook management routes under /{program}/ (SPEC §13)."""

from django.urls import path

from webhooks import api

urlpatterns = [
    path("v2/webhooks", api.WebhookListV2View.as_view(), name="v2-webhooks"),
    path("v2/webhooks/<str:webhook_id>", api.WebhookDetailV2View.as_view(), name="v2-webhook"),
    path(
        "v2/webhooks/<str:webhook_id>/test", api.WebhookTestV2View.as_view(), name="v2-webhook-test"
    ),
    path(
        "v2/webhooks/<str:webhook_id>/rotate_secret",
        api.WebhookRotateV2View.as_view(),
        name="v2-webhook-rotate",
    ),
    path(
        "v2/webhooks/<str:webhook_id>/deliveries",
        api.WebhookDeliveriesV2View.as_view(),
        name="v2-webhook-deliveries",
    ),
    path(
        "v2/webhooks/<str:webhook_id>/deliveries/<str:delivery_id>/redeliver",
        api.WebhookRedeliverV2View.as_view(),
        name="v2-webhook-redeliver",
    ),
    path(
        "v1/oauth/consumer/<str:client_id>/webhooks",
        api.WebhooksV1View.as_view(),
        name="v1-consumer-webhooks",
    ),
    path(
        "v1/oauth/consumer/<str:client_id>/webhooks/<str:webhook_id>",
        api.WebhookV1View.as_view(),
        name="v1-consumer-webhook",
    ),
    path(
        "v1/oauth/consumer/<str:client_id>/event/categories",
        api.EventCategoriesV1View.as_view(),
        name="v1-consumer-event-categories",
    ),
]
