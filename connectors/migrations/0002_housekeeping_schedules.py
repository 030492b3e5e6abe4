"""Register the housekeeping every deployment needs as django-celery-beat rows: relay the outbox every few
seconds, sweep due delivery retries every minute. An interval an administrator edited later is kept."""

from django.db import migrations

# name: (task, every seconds)
HOUSEKEEPING = {
    "connectors:relay-outbox": ("connectors.tasks.relay_outbox", 5),
    "connectors:retry-deliveries": ("connectors.tasks.retry_due_deliveries", 60),
}


def register(apps, schema_editor):
    interval_model = apps.get_model("django_celery_beat", "IntervalSchedule")
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, (task, seconds) in HOUSEKEEPING.items():
        interval, _ = interval_model.objects.get_or_create(every=seconds, period="seconds")
        task_model.objects.get_or_create(
            name=name,
            defaults={"task": task, "interval": interval, "expire_seconds": max(int(seconds * 0.9), 1)},
        )


def unregister(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=list(HOUSEKEEPING)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("connectors", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
