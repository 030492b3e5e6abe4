from django.db import migrations

# The country field's stages as they stand at this migration (matching.settings._customer).
STAGES = [["exact", "else"], ["hint", "hint_else"]]


def add_country_stages(apps, schema_editor):
    """Stored settings gain the country field's stages; a model fitted without them is dropped, so the
    next resolution refits it with u estimated within each stage (see FieldSpec.stages)."""
    MatchConfig = apps.get_model("matching", "MatchConfig")
    for config in MatchConfig.objects.all():
        staged = False
        for spec in config.settings.get("fields", []):
            levels = set(spec.get("levels", []))
            if (
                spec.get("comparator") == "country"
                and not spec.get("stages")
                and levels >= {*STAGES[0], *STAGES[1]}
            ):
                spec["stages"] = STAGES
                staged = True
        if staged:
            config.model, config.fitted_at = None, None
            config.save(update_fields=["settings", "model", "fitted_at"])


def remove_country_stages(apps, schema_editor):
    """Settings as the code before this migration reads them (it knows no stages)."""
    MatchConfig = apps.get_model("matching", "MatchConfig")
    for config in MatchConfig.objects.all():
        fields = config.settings.get("fields", [])
        if any("stages" in spec for spec in fields):
            for spec in fields:
                spec.pop("stages", None)
            config.model, config.fitted_at = None, None
            config.save(update_fields=["settings", "model", "fitted_at"])


class Migration(migrations.Migration):
    dependencies = [("matching", "0008_settling_chunks_write_keys")]

    operations = [migrations.RunPython(add_country_stages, remove_country_stages)]
