from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.views import api_not_found, healthz
from enumerations.api import EnumerationV1View, EnumerationV2View

handler400 = "core.errors.handler400"
handler404 = "core.errors.handler404"
handler500 = "core.errors.handler500"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path(
        "<slug:program>/v1/users/enumerations/<str:kind>",
        EnumerationV1View.as_view(),
        name="v1-enumerations",
    ),
    path(
        "<slug:program>/v2/users/enumerations/<str:kind>",
        EnumerationV2View.as_view(),
        name="v2-enumerations",
    ),
    path("<slug:program>/", include("users.urls")),
    path("<slug:program>/", include("webhooks.urls")),
    # Anything else under an API version answers the envelope, never an HTML page.
    re_path(r"^[^/]+/v[12](/.*)?$", api_not_found),
]
