from django.db import migrations

# The customer fields this migration adds or changes, as they stand at it (matching.settings._customer).
EMAIL = {
    "name": "email",
    "comparator": "exact",
    "levels": ["exact", "else", "missing"],
    "thresholds": {},
    "tf": True,
    "conflict_levels": [],
    "prior_m": {"exact": 0.6, "else": 0.4},
    "prior_u": {"exact": 1e-6, "else": 0.999999},
    "stages": [],
}
GIVEN_NAME_CONFLICT = ["else"]


def _save(config):
    """Settings changed: the fitted model knew other fields, so the next resolution refits it."""
    config.model, config.fitted_at = None, None
    config.save(update_fields=["settings", "model", "fitted_at"])


def add_person_email(apps, schema_editor):
    """Stored customer settings compare a person's e-mail address, and two given names that differ make
    two people. Features stored before hold no address: `manage.py resolve customer
    --refresh-features` normalises every record again."""
    MatchConfig = apps.get_model("matching", "MatchConfig")
    for config in MatchConfig.objects.filter(domain="customer"):
        fields = config.settings.get("fields", [])
        changed = False
        if not any(spec.get("name") == "email" for spec in fields):
            fields.append(dict(EMAIL))
            changed = True
        for spec in fields:
            if spec.get("comparator") == "given_name" and not spec.get("conflict_levels"):
                spec["conflict_levels"] = list(GIVEN_NAME_CONFLICT)
                changed = True
        if changed:
            _save(config)


def remove_person_email(apps, schema_editor):
    MatchConfig = apps.get_model("matching", "MatchConfig")
    for config in MatchConfig.objects.filter(domain="customer"):
        fields = config.settings.get("fields", [])
        kept = [spec for spec in fields if spec.get("name") != "email"]
        changed = len(kept) != len(fields)
        for spec in kept:
            if spec.get("comparator") == "given_name" and spec.get("conflict_levels") == GIVEN_NAME_CONFLICT:
                spec["conflict_levels"] = []
                changed = True
        if changed:
            config.settings["fields"] = kept
            _save(config)


class Migration(migrations.Migration):
    dependencies = [("matching", "0010_shards_in_bytes")]

    operations = [migrations.RunPython(add_person_email, remove_person_email)]
