from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from api.views import api_not_found, healthz
from apidocs.views import error_catalogue, landing
from documents.views import document_download
from enumerations.api import EnumerationV1View, EnumerationV2View

handler400 = "api.errors.handler400"
handler404 = "api.errors.handler404"
handler500 = "api.errors.handler500"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/docs/errors/", error_catalogue, name="error-catalogue"),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="apidocs/redoc.html"),
        name="redoc",
    ),
    path("", landing, name="landing"),
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
    path("<slug:program>/", include("documents.urls")),
    path("<slug:program>/", include("users.urls")),
    # the signed links the documents API issues (no API credentials: the signature is one)
    path("documents/<str:token>/<str:name>", document_download, name="document-download"),
    path("<slug:program>/", include("webhooks.urls")),
    # Anything else under an API version answers the envelope, never an HTML page.
    re_path(r"^[^/]+/v[12](/.*)?$", api_not_found),
]
