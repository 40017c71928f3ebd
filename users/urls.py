"""v1 and v2 user routes under /{program}/ (enumerations are routed in config/urls.py)."""

from django.urls import path

from users.api import v2

urlpatterns: list = []

urlpatterns += [
    path("v2/users", v2.UserListCreateV2View.as_view(), name="v2-users"),
    path("v2/users/<str:user_id>", v2.UserDetailV2View.as_view(), name="v2-user-detail"),
    path("v2/users/<str:user_id>/events", v2.UserEventsV2View.as_view(), name="v2-user-events"),
]
