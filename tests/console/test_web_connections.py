"""The web server as the launcher starts it serves a classroom's connections (issue 16): browsers hold several
idle keep-alive connections each, and those must not keep a newcomer waiting. granian's backpressure counts
connections, idle ones included; at the old 64 per worker, the 129th connection waited until an idle one timed out
(30 s). Marked ``e2e``: it starts the real server."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from console.embedded import web_server_command

pytestmark = pytest.mark.e2e

BASE_DIR = Path(__file__).resolve().parents[2]
IDLE_CONNECTIONS = 400  # a class of 100 browsers holding 4 each


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _request(sock: socket.socket, timeout: float) -> bytes:
    """One keep-alive request to the Query API (answered in front of Django, no database) and its status line."""
    sock.settimeout(timeout)
    sock.sendall(b"GET /aws HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0]


@pytest.fixture
def server() -> int:
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "console.settings", "SECRET_KEY": "test-" + "x" * 40}
    process = subprocess.Popen(
        web_server_command("127.0.0.1", port, workers=2), cwd=BASE_DIR, env=env, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    assert _request(s, 5).startswith(b"HTTP/1.1")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_idle_keep_alive_connections_do_not_keep_a_new_one_waiting(server: int) -> None:
    held = []
    try:
        for _ in range(IDLE_CONNECTIONS):  # each one used once, then left open and idle, as a browser does
            sock = socket.create_connection(("127.0.0.1", server), timeout=5)
            held.append(sock)
            assert _request(sock, 5).startswith(b"HTTP/1.1 ")
        with socket.create_connection(("127.0.0.1", server), timeout=5) as newcomer:
            start = time.monotonic()
            assert _request(newcomer, 10).startswith(b"HTTP/1.1 ")
            assert time.monotonic() - start < 2
        # The held connections are still open and served (nothing was dropped to make room).
        assert _request(held[0], 5).startswith(b"HTTP/1.1 ")
    finally:
        for sock in held:
            sock.close()
