"""EVENT_BROKER_URL wires the publisher into the container's relay (and only a NATS URL does)."""

from __future__ import annotations

import pytest

from dashtam.application.users.commands import RegisterUser
from dashtam.bootstrap import Container
from dashtam.core.config import Settings
from dashtam.core.result import Success
from tests.integration.events_nats.conftest import StreamProbe


def _with(settings: Settings, **values: str) -> Settings:
    return settings.model_copy(update=values)


async def test_a_registration_reaches_the_stream_through_the_container(
    settings: Settings, stream: StreamProbe
) -> None:
    container = Container(
        _with(
            settings,
            event_broker_url=stream.url,
            event_broker_stream=stream.options.stream,
            event_broker_subject_prefix=stream.options.subject_prefix,
        )
    )
    try:
        user = await container.register_user_handler().handle(
            RegisterUser(email="wired@example.com", password="a long passphrase")
        )
        assert isinstance(user, Success), user
        [message] = await stream.messages()
        assert message.subject == f"{stream.options.subject_prefix}.UserRegistered"
        payload = message.body["payload"]
        assert isinstance(payload, dict)
        assert payload["user_id"] == str(user.value.id)
        broker = container.event_broker
        assert broker is not None
    finally:
        await container.aclose()
    assert "event_broker" not in container.__dict__  # closed and forgotten


def test_no_broker_without_a_url(settings: Settings) -> None:
    assert Container(settings).event_broker is None


def test_another_scheme_is_refused_without_echoing_the_url(settings: Settings) -> None:
    container = Container(_with(settings, event_broker_url="kafka://user:s3cret@broker:9092"))
    with pytest.raises(ValueError, match="EVENT_BROKER_URL") as refused:
        _ = container.event_broker
    assert "s3cret" not in str(refused.value)
