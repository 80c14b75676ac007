"""`proactief serve` starts only against a Prefect API that answers.

Every address here is a port of 127.0.0.1 that the test opens itself, or one it
found free and left closed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from proactief.errors import ProactiefError
from proactief.serve import check_prefect_api


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_serve(tmp_path, api_url: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    # a Prefect home and profiles of its own, so that no profile sets an API
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    env["PREFECT_PROFILES_PATH"] = str(tmp_path / "profiles.toml")
    if api_url is not None:
        env["PREFECT_API_URL"] = api_url
    return subprocess.run(
        [sys.executable, "-m", "proactief", "serve", "--out", str(tmp_path / "out")],
        check=False,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_refuses_with_one_line_when_the_prefect_api_does_not_answer(tmp_path):
    api_url = f"http://127.0.0.1:{_unused_port()}/api"
    result = _run_serve(tmp_path, api_url)

    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"Not serving: the Prefect API at {api_url!r} does not")
    assert "make ui" in line and "PREFECT_API_URL" in line
    assert not (tmp_path / "out").exists()


def test_serve_refuses_with_one_line_when_no_prefect_api_is_configured(tmp_path):
    result = _run_serve(tmp_path, api_url=None)

    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Not serving: no Prefect API is configured")
    assert "PREFECT_API_URL=http://127.0.0.1:4200/api" in line


class _PrefectHealth(BaseHTTPRequestHandler):
    """Answers `true` at /api/health as a Prefect server does; 404 elsewhere."""

    def do_GET(self) -> None:
        found = self.path == "/api/health"
        body = b"true" if found else b'{"detail":"Not Found"}'
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass  # the test output stays quiet


@contextmanager
def _prefect_like_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PrefectHealth)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_api_whose_health_check_answers_true_is_accepted():
    with _prefect_like_server() as root:
        check_prefect_api(f"{root}/api")
        check_prefect_api(f"{root}/api/")


def test_a_url_without_its_api_path_is_refused_with_the_hint():
    with (
        _prefect_like_server() as root,
        pytest.raises(ProactiefError, match=r"answered HTTP 404.*with /api"),
    ):
        check_prefect_api(root)


def test_an_api_that_accepts_but_never_answers_is_refused_after_the_timeout():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/api"
        with pytest.raises(ProactiefError, match=r"no answer within 0.2 s"):
            check_prefect_api(url, timeout_s=0.2)


def test_a_url_that_is_not_http_is_refused():
    with pytest.raises(ProactiefError, match="not an http"):
        check_prefect_api("127.0.0.1:4200/api")
