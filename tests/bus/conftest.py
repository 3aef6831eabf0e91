"""One nats-server (JetStream, free loopback port, temporary store) per test module."""

from collections.abc import Iterator

import pytest

from openclaw.bus.server import NatsServer


@pytest.fixture(scope="module")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """A running server; ``.url`` to connect, ``.kill()``/``.start()`` for fault tests."""
    with NatsServer(tmp_path_factory.mktemp("nats")) as server:
        yield server
