from django.db import migrations, models
from django.db.models.functions import Now


def fail_runs_scoring(apps, schema_editor):
    """A run still scoring or clustering stored its shards as JSON, which the new columns cannot
    hold: it is marked failed (its shards go with the old columns), so that `resolve` and the
    console stop waiting and a new run can start. A run writing its golden records (its chunks
    planned) needs its shards no more and goes on."""
    MatchRun = apps.get_model("matching", "MatchRun")
    scoring = MatchRun.objects.filter(status="running", shards__isnull=False, golden_chunks__isnull=True)
    MatchRun.objects.filter(pk__in=scoring.values("pk")).update(
        status="failed", error="stopped by an upgrade that changed how shards are stored", finished_at=Now()
    )
    apps.get_model("matching", "MatchShard").objects.all().delete()


def store_uncompressed(apps, schema_editor):
    """PostgreSQL compresses large values (TOAST), which numbers barely shrink under: storing the 23
    shards of 300,000 records' pairs took 4.9 s compressed, 0.9 s not; their edges, written by every
    scoring task, fare the same."""
    if schema_editor.connection.vendor == "postgresql":
        for column in ("pairs", "edges"):
            table = schema_editor.quote_name(apps.get_model("matching", "MatchShard")._meta.db_table)
            schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STORAGE EXTERNAL")


class Migration(migrations.Migration):
    """Shards hold their pairs and edges as arrays in bytes (matching.shards), not JSON. There is no
    cast between the two, so the columns are replaced; shards are a run's working data."""

    dependencies = [
        ("matching", "0009_country_stages"),
    ]

    operations = [
        # and the same when going back: the JSON columns return without the runs' pairs
        migrations.RunPython(fail_runs_scoring, fail_runs_scoring),
        migrations.RemoveField(model_name="matchshard", name="pairs"),
        migrations.RemoveField(model_name="matchshard", name="edges"),
        migrations.AddField(
            model_name="matchshard", name="pairs", field=models.BinaryField(default=b""), preserve_default=False
        ),
        migrations.AddField(model_name="matchshard", name="edges", field=models.BinaryField(blank=True, null=True)),
        migrations.RunPython(store_uncompressed, migrations.RunPython.noop),
    ]
