"""Console URLs (mounted at the site root by config.urls)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "stewardship"

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "signin/",
        auth_views.LoginView.as_view(
            template_name="stewardship/login.html",
            redirect_authenticated_user=True,
            next_page="stewardship:queue",
        ),
        name="login",
    ),
    path("signout/", auth_views.LogoutView.as_view(next_page="stewardship:login"), name="logout"),
    path("review/", views.queue, name="queue"),
    path("review/bulk-accept/", views.bulk_accept, name="bulk-accept"),
    path("review/<int:pk>/", views.task, name="task"),
    path("review/<int:pk>/merge/", views.task_merge, name="task-merge"),
    path("review/<int:pk>/reject/", views.task_reject, name="task-reject"),
    path("golden/<uuid:pk>/", views.golden, name="golden"),
    path("golden/<uuid:pk>/pin/", views.golden_pin, name="golden-pin"),
    path("golden/<uuid:pk>/unpin/", views.golden_unpin, name="golden-unpin"),
    path("records/<int:pk>/split/", views.record_split, name="record-split"),
    path("records/<int:pk>/move/", views.record_move, name="record-move"),
    path("search/", views.search, name="search"),
    path("sync/", views.sync, name="sync"),
    path("sync/quarantine/<int:pk>/replay/", views.quarantine_replay, name="quarantine-replay"),
    path("sync/deliveries/<int:pk>/replay/", views.delivery_replay, name="delivery-replay"),
    path("dashboard/", views.dashboard, name="dashboard"),
]
