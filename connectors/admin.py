"""Admin views of connections, runs, webhook events and deliveries (read mostly; secrets never shown)."""

from django.contrib import admin

from .models import Connection, Delivery, DeliveryAttempt, SyncCursor, SyncRun, WebhookEvent


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ["name", "connector", "system", "enabled"]
    exclude = ["secrets"]


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "connection",
        "domain",
        "status",
        "read",
        "created",
        "updated",
        "unchanged",
        "created_at",
    ]
    list_filter = ["status", "domain"]


admin.site.register(SyncCursor)
admin.site.register(WebhookEvent)


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "connection", "event", "status", "attempts", "next_attempt_at"]
    list_filter = ["status"]
    inlines = [AttemptInline]
