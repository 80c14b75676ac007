"""The registry client on its default transport, against a scripted HTTP server.

The server is a few lines of asyncio on 127.0.0.1 that answer each request with
the next step of a script, byte for byte: a MAGDA answer, a cookie, a redirect, a
gzip-encoded answer, a connection dropped half-way, an answer that never comes.
The client must read what is an answer and retry, or give up, on what is not.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date

import httpx
import pytest

from proactief.errors import RegistryAnswerError, RegistryUnavailable
from proactief.facts import Person
from proactief.magda import answers, messages
from proactief.magda.client import Consultation, RegistryClient
from proactief.magda.transport import RegistryTransport

from .conftest import MOTHER

TODAY = date(2025, 3, 1)

# A step gets the request's head and body and returns the bytes to send back,
# or None to close the connection without a word.
Step = Callable[[bytes, bytes], bytes | None]


def person_answer(body: bytes) -> bytes:
    request = messages.read_request(body)
    return answers.person_answer(
        answers.Addressee.of(request),
        Person(request.insz, "Zoë", "Peeters", "1985-07-30"),
    )


def http_answer(status: str, body: bytes = b"", *headers: str) -> bytes:
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers]
    if body:
        head.append("Content-Type: text/xml; charset=utf-8")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def answer_ok(head: bytes, body: bytes) -> bytes:
    return http_answer("200 OK", person_answer(body))


def answer_ok_with_cookie(head: bytes, body: bytes) -> bytes:
    return http_answer("200 OK", person_answer(body), "Set-Cookie: session=abc; Path=/")


def answer_gzipped(head: bytes, body: bytes) -> bytes:
    return http_answer(
        "200 OK", gzip.compress(person_answer(body)), "Content-Encoding: gzip"
    )


def redirect(head: bytes, body: bytes) -> bytes:
    return http_answer("307 Temporary Redirect", b"", "Location: /elsewhere")


def drop(head: bytes, body: bytes) -> None:
    return None


def half_an_answer(head: bytes, body: bytes) -> bytes:
    whole = http_answer("200 OK", person_answer(body))
    return whole[: len(whole) // 2]


class ScriptedServer:
    """An HTTP/1.1 server on 127.0.0.1 that plays a script, one step a request
    (the last step repeats); `hang` steps hold the connection open, unanswered."""

    def __init__(self, *script: Step | str) -> None:
        self.script = list(script)
        self.heads: list[bytes] = []
        self.url = ""

    def _next(self) -> Step | str:
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                self.heads.append(head)
                step = self._next()
                if step == "hang":
                    await asyncio.sleep(3600)
                reply = step(head, body)
                if reply is None:
                    break
                writer.write(reply)
                await writer.drain()
                if step is half_an_answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[ScriptedServer]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        async with server:
            yield self
            server.close()


def client(url: str, seen: list[Consultation], **kwargs) -> RegistryClient:
    return RegistryClient(
        url,
        consumer="gent.be/proactief",
        purpose="1300",
        backoff_s=0.001,
        seed=7,
        on_consultation=seen.append,
        **kwargs,
    )


async def test_default_transport_reads_an_answer_over_http():
    seen: list[Consultation] = []
    async with ScriptedServer(answer_ok).running() as server:
        registry = client(server.url + "/magda/", seen)
        assert isinstance(registry._transport, RegistryTransport)
        async with registry:
            person = await registry.get_person(MOTHER, as_of=TODAY)
    assert (person.insz, person.first_name) == (MOTHER, "Zoë")
    # the base URL's path is kept, the service path joined to it once
    assert server.heads[0].startswith(b"POST /magda/GeefPersoon-02.02 HTTP/1.1\r\n")
    assert b'soapaction: ""' in server.heads[0].lower()
    assert [(c.result_code, c.attempt) for c in seen] == [("0", 1)]


async def test_a_cookie_from_the_gateway_is_never_sent_back():
    seen: list[Consultation] = []
    async with (
        ScriptedServer(answer_ok_with_cookie).running() as server,
        # by name: a cookie jar would not keep a cookie of a bare IP address
        client(server.url.replace("127.0.0.1", "localhost"), seen) as registry,
    ):
        await registry.get_person(MOTHER, as_of=TODAY)
        await registry.get_person(MOTHER, as_of=TODAY)
    assert len(server.heads) == 2
    assert all(b"cookie" not in head.lower() for head in server.heads)


async def test_a_gzip_encoded_answer_is_read():
    seen: list[Consultation] = []
    async with (
        ScriptedServer(answer_gzipped).running() as server,
        client(server.url, seen) as registry,
    ):
        person = await registry.get_person(MOTHER, as_of=TODAY)
    assert person.last_name == "Peeters"


async def test_a_redirect_is_not_followed():
    seen: list[Consultation] = []
    async with (
        ScriptedServer(redirect, answer_ok).running() as server,
        client(server.url, seen) as registry,
    ):
        with pytest.raises(RegistryAnswerError, match="HTTP 307"):
            await registry.get_person(MOTHER, as_of=TODAY)
    assert len(server.heads) == 1
    assert [c.result_code for c in seen] == ["http-307"]


async def test_a_dropped_connection_is_retried_then_answered():
    seen: list[Consultation] = []
    async with (
        ScriptedServer(drop, half_an_answer, answer_ok).running() as server,
        client(server.url, seen) as registry,
    ):
        person = await registry.get_person(MOTHER, as_of=TODAY)
    assert person.insz == MOTHER
    assert [(c.result_code, c.attempt) for c in seen] == [
        ("connection-error", 1),
        ("connection-error", 2),
        ("0", 3),
    ]


async def test_an_answer_that_never_comes_times_out_and_gives_up():
    seen: list[Consultation] = []
    async with (
        ScriptedServer("hang").running() as server,
        client(server.url, seen, timeout_s=0.3, retries=1) as registry,
    ):
        with pytest.raises(RegistryUnavailable) as raised:
            await registry.get_person(MOTHER, as_of=TODAY)
    assert raised.value.code == "timeout"
    assert [(c.result_code, c.attempt) for c in seen] == [
        ("timeout", 1),
        ("timeout", 2),
    ]
    # a time-out after 0.3 s, not aiohttp's own five minutes
    assert all(c.duration_ms < 2_000 for c in seen)


async def test_nothing_listening_is_a_connection_error_without_the_url():
    seen: list[Consultation] = []
    async with ScriptedServer(answer_ok).running() as server:
        url = server.url
    # the server is gone: its port refuses connections
    async with client(url, seen, retries=1) as registry:
        with pytest.raises(RegistryUnavailable) as raised:
            await registry.get_person(MOTHER, as_of=TODAY)
    assert raised.value.code == "connection-error"
    assert [c.result_code for c in seen] == ["connection-error"] * 2


async def test_transport_errors_are_httpx_errors_that_name_no_address():
    transport = RegistryTransport(max_connections=2)
    async with ScriptedServer(drop).running() as server:
        request = httpx.Request("POST", server.url + "/x", content=b"<a/>")
        with pytest.raises(httpx.TransportError) as raised:
            await transport.handle_async_request(request)
    await transport.aclose()
    assert "127.0.0.1" not in str(raised.value)
    assert raised.value.request is request


def test_transport_needs_a_connection():
    with pytest.raises(ValueError, match="at least 1"):
        RegistryTransport(max_connections=0)
