from django.db import migrations

ACRONYM = "acronym"


def _save(config):
    """Settings changed: the fitted model has no weight for the new level, so the next resolution refits it."""
    config.model, config.fitted_at = None, None
    config.save(update_fields=["settings", "model", "fitted_at"])


def _name_specs(config):
    return [spec for spec in config.settings.get("fields", []) if spec.get("comparator") == "org_name"]


def add_acronym(apps, schema_editor):
    """Stored settings compare organisation names at the ``acronym`` level too ("IBM" and "International
    Business Machines"), below the similarity bands, as the defaults do."""
    MatchConfig = apps.get_model("matching", "MatchConfig")
    for config in MatchConfig.objects.all():
        specs = [spec for spec in _name_specs(config) if ACRONYM not in spec.get("levels", [])]
        for spec in specs:
            levels = spec["levels"]
            levels.insert(levels.index("else") if "else" in levels else len(levels), ACRONYM)
            spec.setdefault("prior_m", {})[ACRONYM] = 0.005
            spec.setdefault("prior_u", {})[ACRONYM] = 1e-5
        if specs:
            _save(config)


def remove_acronym(apps, schema_editor):
    MatchConfig = apps.get_model("matching", "MatchConfig")
    for config in MatchConfig.objects.all():
        specs = [spec for spec in _name_specs(config) if ACRONYM in spec.get("levels", [])]
        for spec in specs:
            spec["levels"].remove(ACRONYM)
            for priors in (spec.get("prior_m", {}), spec.get("prior_u", {})):
                priors.pop(ACRONYM, None)
        if specs:
            _save(config)


class Migration(migrations.Migration):
    dependencies = [("matching", "0013_domain_echoes_name")]

    operations = [migrations.RunPython(add_acronym, remove_acronym)]
