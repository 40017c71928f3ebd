"""v1 and v2 user routes under /{program}/ (enumerations are routed in config/urls.py)."""

from django.urls import path

from users.api import v1, v1_addresses, v1_risk, v1_search, v2

urlpatterns: list = [
    path("v1/users", v1.UsersV1View.as_view(), name="v1-users"),
    # before the <user_id> route: "test" is the dry run, not an id; so are these (SPEC §11)
    path(
        "v1/users/addresses/<str:type>",
        v1_addresses.UserAddressV1View.as_view(),
        name="v1-users-addresses",
    ),
    path(
        "v1/users/risk/exceptions",
        v1_risk.RiskExceptionsV1View.as_view(),
        name="v1-risk-exceptions",
    ),
    path("v1/users/test", v1.UsersTestV1View.as_view(), name="v1-users-test"),
    path("v1/users/<str:user_id>", v1.UserV1View.as_view(), name="v1-user-detail"),
    path(
        "v1/oauth/consumer/search/users",
        v1_search.UserSearchV1View.as_view(),
        name="v1-users-search",
    ),
]

urlpatterns += [
    path("v2/users", v2.UserListCreateV2View.as_view(), name="v2-users"),
    path("v2/users/<str:user_id>", v2.UserDetailV2View.as_view(), name="v2-user-detail"),
    path("v2/users/<str:user_id>/events", v2.UserEventsV2View.as_view(), name="v2-user-events"),
]
