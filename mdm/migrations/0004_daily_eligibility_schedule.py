from django.db import migrations


def schedule(apps, schema_editor):
    crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    periodic = apps.get_model("django_celery_beat", "PeriodicTask")
    every_night, _ = crontab.objects.get_or_create(minute="5", hour="0", day_of_week="*", day_of_month="*",
                                                   month_of_year="*", timezone="UTC")  # fmt: skip
    periodic.objects.get_or_create(
        name="mdm: daily entitlement eligibility",
        defaults={"task": "mdm.tasks.refresh_eligibility", "crontab": every_night, "expires": None},
    )


class Migration(migrations.Migration):
    dependencies = [("mdm", "0003_historicalcodemapping_codemapping"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(schedule, migrations.RunPython.noop)]
