from django.db import migrations

ACRONYM = "acronym"
M, U = 0.005, 1e-4  # the defaults' priors of the level


def _before(levels):
    """Where the level goes: before "else", or before "missing" in settings that have no "else"."""
    for follower in ("else", "missing"):
        if follower in levels:
            return levels.index(follower)
    return len(levels)


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
            for levels in (spec["levels"], *(stage for stage in spec.get("stages") or [] if "else" in stage)):
                levels.insert(_before(levels), ACRONYM)
            prior_m = spec.setdefault("prior_m", {})
            if "else" in prior_m:  # what the new level takes of a name's disagreements
                prior_m["else"] = max(round(prior_m["else"] - M, 9), 0.0)
            prior_m[ACRONYM] = M
            spec.setdefault("prior_u", {})[ACRONYM] = U
        if specs:
            _save(config)


def remove_acronym(apps, schema_editor):
    MatchConfig = apps.get_model("matching", "MatchConfig")
    for config in MatchConfig.objects.all():
        specs = [spec for spec in _name_specs(config) if ACRONYM in spec.get("levels", [])]
        for spec in specs:
            for levels in (spec["levels"], *(stage for stage in spec.get("stages") or [] if ACRONYM in stage)):
                levels.remove(ACRONYM)
            prior_m = spec.get("prior_m", {})
            if prior_m.pop(ACRONYM, None) is not None and "else" in prior_m:
                prior_m["else"] = round(prior_m["else"] + M, 9)
            spec.get("prior_u", {}).pop(ACRONYM, None)
        if specs:
            _save(config)


class Migration(migrations.Migration):
    dependencies = [("matching", "0013_domain_echoes_name")]

    operations = [migrations.RunPython(add_acronym, remove_acronym)]
