from django.db import migrations


def _save(config):
    """Settings changed: the fitted model has no echo u, so the next resolution refits it."""
    config.model, config.fitted_at = None, None
    config.save(update_fields=["settings", "model", "fitted_at"])


def _domain_specs(config):
    return [spec for spec in config.settings.get("fields", []) if spec.get("comparator") == "domain"]


def domain_echoes_name(apps, schema_editor):
    """Stored customer settings weigh a web domain as the echo of the name it mostly spells
    (``FieldSpec.echoes``), as the defaults do; settings that name another echo keep it."""
    MatchConfig = apps.get_model("matching", "MatchConfig")
    for config in MatchConfig.objects.filter(domain="customer"):
        names = {spec.get("name") for spec in config.settings.get("fields", [])}
        specs = [spec for spec in _domain_specs(config) if "echoes" not in spec]
        if "name" in names and specs:
            for spec in specs:
                spec["echoes"] = "name"
            _save(config)


def domain_echoes_nothing(apps, schema_editor):
    MatchConfig = apps.get_model("matching", "MatchConfig")
    for config in MatchConfig.objects.filter(domain="customer"):
        specs = [spec for spec in _domain_specs(config) if "echoes" in spec]
        for spec in specs:
            del spec["echoes"]
        if specs:
            _save(config)


class Migration(migrations.Migration):
    dependencies = [("matching", "0012_person_generation")]

    operations = [migrations.RunPython(domain_echoes_name, domain_echoes_nothing)]
