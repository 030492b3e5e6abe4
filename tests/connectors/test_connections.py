"""Connection config: validated against the connector's schema, secrets encrypted and masked; registry."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from connectors import registry
from connectors.connections import connection_config, connection_configure, connection_create, masked_config


@pytest.mark.sqlite
def test_secrets_are_encrypted_at_rest_and_masked(db: Any) -> None:
    conn = connection_create(
        name="stripe",
        connector="stripe",
        system="billing",
        config={"api_base": "http://127.0.0.1:1", "api_key": "sk_test_abcdefgh1234"},
    )

    assert "sk_test_abcdefgh1234" not in conn.secrets and "api_key" not in conn.config
    assert masked_config(conn)["api_key"] == "••••1234"
    connection_configure(conn, values={"page_size": 10})
    assert connection_config(conn)["api_key"] == "sk_test_abcdefgh1234"


@pytest.mark.sqlite
def test_config_is_validated(db: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        connection_create(
            name="zd", connector="zendesk", system="support", config={"base_url": "not-a-url", "surprise": 1}
        )
    assert {"base_url", "surprise", "email", "api_token"} <= caught.value.message_dict.keys()


@pytest.mark.sqlite
def test_registry_finds_every_connector_folder() -> None:
    assert {"stripe", "salesforce", "zendesk"} <= set(registry.connectors())


def test_housekeeping_schedules_exist_after_migrating(db: Any) -> None:
    from django_celery_beat.models import PeriodicTask

    rows = {t.name: t for t in PeriodicTask.objects.filter(name__startswith="connectors:")}
    relay, retry = rows["connectors:relay-outbox"], rows["connectors:retry-deliveries"]
    assert relay.task == "connectors.tasks.relay_outbox" and relay.enabled and relay.interval.every <= 10
    assert retry.task == "connectors.tasks.retry_due_deliveries" and retry.interval.every == 60
