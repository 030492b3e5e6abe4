from django.db import migrations


def seed(apps, schema_editor):
    from mdm.survivorship import DEFAULT_RULES

    rule_model = apps.get_model("mdm", "SurvivorshipRule")
    for domain, rules in DEFAULT_RULES.items():
        for attribute, (rule, ranking) in rules.items():
            rule_model.objects.get_or_create(
                domain=domain, attribute=attribute, defaults={"rule": rule, "ranking": ranking}
            )


class Migration(migrations.Migration):
    dependencies = [("mdm", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
