from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("golden", views.GoldenRecordViewSet, basename="golden")
router.register("quarantine", views.QuarantineViewSet, basename="quarantine")

urlpatterns = [
    path("xref/", views.XrefLookupView.as_view(), name="xref-lookup"),
    path("xref/<str:domain>/export/", views.XrefExportView.as_view(), name="xref-export"),
    path("systems/", views.SourceSystemList.as_view(), name="systems"),
    path("entitlements/check/", views.EntitlementCheckView.as_view(), name="entitlement-check"),
    path("quality/", views.QualityView.as_view(), name="quality"),
    path("match/<str:domain>/search/", views.MatchSearchView.as_view(), name="match-search"),
    path("reference/unmapped/", views.UnmappedCodesView.as_view(), name="unmapped-codes"),
    path("reference/mappings/", views.CodeMappingView.as_view(), name="code-mappings"),
    path("systems/<slug:system>/<str:domain>/records/", views.IngestView.as_view(), name="ingest"),
    *router.urls,
]
