from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("connections", views.ConnectionViewSet, basename="connection")
router.register("sync-runs", views.SyncRunViewSet, basename="sync-run")
router.register("deliveries", views.DeliveryViewSet, basename="delivery")

urlpatterns = [
    path("webhooks/<slug:name>/", views.webhook, name="connector-webhook"),
    *router.urls,
]
