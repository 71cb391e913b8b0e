"""Counter presses are not held back by Nagle's algorithm (server/__main__.no_delay_options)."""

from __future__ import annotations

import socket

import pytest

from server.__main__ import no_delay_options


@pytest.fixture
def accepted():
    """A real accepted TCP connection on 127.0.0.1 (server side), with Nagle on as accepted."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        client = socket.create_connection(listener.getsockname())
        conn, _ = listener.accept()
        assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        yield conn
        conn.close()
        client.close()


def test_threading_server_sets_tcp_nodelay(accepted):
    handler = no_delay_options("threading")["request_handler"]
    instance = handler.__new__(handler)
    instance.request = accepted
    instance.setup()
    assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def test_eventlet_server_sets_tcp_nodelay(accepted):
    protocol = no_delay_options("eventlet")["protocol"]
    instance = protocol.__new__(protocol)
    instance.request = accepted
    instance.rbufsize, instance.wbufsize = -1, 0
    instance.setup()
    assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
