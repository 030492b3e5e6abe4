from django.db import migrations

# The customer field this migration adds, as it stands at it (matching.settings._customer).
GENERATION = {
    "name": "generation",
    "comparator": "exact",
    "levels": ["exact", "else", "missing"],
    "thresholds": {},
    "tf": False,
    "conflict_levels": ["else"],
    "prior_m": {"exact": 0.98, "else": 0.02},
    "prior_u": {"exact": 0.5, "else": 0.5},
    "stages": [],
}


def _save(config):
    """Settings changed: the fitted model knew other fields, so the next resolution refits it."""
    config.model, config.fitted_at = None, None
    config.save(update_fields=["settings", "model", "fitted_at"])


def add_person_generation(apps, schema_editor):
    """Stored customer settings compare a person's generation (Jr., Sr.): two different ones are two
    people. Features stored before hold none: `manage.py resolve customer --refresh-features`
    normalises every record again."""
    MatchConfig = apps.get_model("matching", "MatchConfig")
    for config in MatchConfig.objects.filter(domain="customer"):
        fields = config.settings.get("fields", [])
        if any(spec.get("name") == "generation" for spec in fields):
            continue
        # before the e-mail address, where the defaults have it
        at = next((i for i, spec in enumerate(fields) if spec.get("name") == "email"), len(fields))
        fields.insert(at, dict(GENERATION))
        _save(config)


def remove_person_generation(apps, schema_editor):
    MatchConfig = apps.get_model("matching", "MatchConfig")
    for config in MatchConfig.objects.filter(domain="customer"):
        fields = config.settings.get("fields", [])
        kept = [spec for spec in fields if spec.get("name") != "generation"]
        if len(kept) != len(fields):
            config.settings["fields"] = kept
            _save(config)


class Migration(migrations.Migration):
    dependencies = [("matching", "0011_person_email")]

    operations = [migrations.RunPython(add_person_generation, remove_person_generation)]
