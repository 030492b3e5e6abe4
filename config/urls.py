"""Root URLs: the API under /api/v1/, its schema and docs, the admin and the console."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.views import defaults
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Under /api/ a missing resource answers in the API's error shape; elsewhere Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "message": "No such resource."}, status=404)
    return defaults.page_not_found(request, exception)


handler404 = not_found


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for the container healthcheck and load balancers."""
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("healthz", healthz),
    path("admin/", admin.site.urls),
    path("api/v1/steward/", include("stewardship.api")),
    path("api/v1/connectors/", include("connectors.api.urls")),
    path("api/v1/", include("mdm.api.urls")),
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=[], authentication_classes=[]),
        name="schema",
    ),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="schema", permission_classes=[], authentication_classes=[]),
        name="docs",
    ),
    path("", include("stewardship.urls")),
]
