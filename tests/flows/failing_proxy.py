"""A registry gateway whose source is down for one person, for the flow tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


@contextmanager
def failing_for(upstream: str, insz: str) -> Iterator[str]:
    """A proxy on 127.0.0.1 in front of the simulator that answers HTTP 503 to
    every request about `insz`, as a gateway whose source for it is down."""
    client = httpx.Client(base_url=upstream, trust_env=False, timeout=30.0)
    needle = insz.encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status, content, kind = 503, b"", "text/plain"
            if needle not in body:
                answer = client.post(
                    self.path,
                    content=body,
                    headers={"Content-Type": self.headers["Content-Type"]},
                )
                status, content = answer.status_code, answer.content
                kind = answer.headers["Content-Type"]
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        client.close()
