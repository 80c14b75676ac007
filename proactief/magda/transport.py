"""The registry client's HTTP transport: httpx requests carried by one aiohttp session.

A MAGDA exchange is one short POST and one short answer, thousands a minute. On
two cores the CPU a request costs, not the registry's latency, sets the pace of a
city run (DESIGN.md, "Measured on this kind of machine"). So the registry client
hands its `httpx.Request`s straight to this transport, which

- keeps one `aiohttp.ClientSession` and its connection pool (aiohttp's pool costs
  a fraction of httpx's own at 64 connections in flight);
- reads the whole answer before it returns, so the `httpx.Response` it gives holds
  its body and needs no stream to be closed later;
- keeps no cookies, follows no redirect, reads no proxy from the environment: the
  registry's traffic carries national numbers and goes to the configured URL only.

The registry client itself calls `post`, the same exchange without the
`httpx.Request` and `httpx.Response` objects around it.

Failures come back as httpx's own exceptions (`httpx.ConnectError`,
`httpx.ReadTimeout`, `httpx.ReadError`, ...), so callers and tests see one API
whatever carries the bytes; any other `httpx.AsyncBaseTransport`, such as
`httpx.MockTransport`, can stand in for this one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import aiohttp
import httpx


class RegistryTransport(httpx.AsyncBaseTransport):
    """An `httpx.AsyncBaseTransport` on aiohttp, for short request-answer exchanges.

    `max_connections` bounds the connections open at once (requests beyond it wait
    for one); an idle connection is closed after `keepalive_expiry` seconds. The
    session is opened on the first request, inside the running event loop.
    """

    def __init__(self, *, max_connections: int, keepalive_expiry: float = 30.0):
        if max_connections < 1:
            raise ValueError(
                f"max_connections must be at least 1, got {max_connections}"
            )
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            limit_per_host=self._max_connections,
            keepalive_timeout=self._keepalive_expiry,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            # The caller bounds each exchange; aiohttp's default of five
            # minutes must not cut in first or differently.
            timeout=aiohttp.ClientTimeout(total=None),
        )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        status, headers, body = await self._send(
            request.method,
            str(request.url),
            request.headers.multi_items(),
            request.content or None,
            decompress=False,  # httpx decodes by the answer's headers
            request=request,
        )
        return httpx.Response(status, headers=headers, content=body, request=request)

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, bytes]:
        """POST `body` to `url`: the answer's HTTP status and its decoded body.

        The registry client's own path, the same exchange without an
        `httpx.Request` and `httpx.Response` around it: at thousands of requests
        a minute on two cores, building those two cost a tenth of a request's
        CPU. Failures raise the same httpx errors as `handle_async_request`.
        """
        status, _, answer = await self._send(
            "POST", url, headers, body, decompress=True, request=None
        )
        return status, answer

    async def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | list[tuple[str, str]],
        body: bytes | None,
        *,
        decompress: bool,
        request: httpx.Request | None,
    ) -> tuple[int, object, bytes]:
        session = self._session or self._open()
        try:
            async with session.request(
                method,
                url,
                headers=headers,
                data=body,
                allow_redirects=False,
                auto_decompress=decompress,
            ) as answer:
                return answer.status, answer.raw_headers, await answer.read()
        except (aiohttp.ServerTimeoutError, aiohttp.SocketTimeoutError) as exc:
            raise httpx.ReadTimeout(_describe(exc), request=request) from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(_describe(exc), request=request) from exc
        except (aiohttp.ClientError, asyncio.IncompleteReadError) as exc:
            # a dropped connection, a cut or malformed answer: nothing usable
            raise httpx.ReadError(_describe(exc), request=request) from exc

    async def aclose(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


def _describe(exc: BaseException) -> str:
    """What went wrong, by kind only: aiohttp's message may quote the URL."""
    return type(exc).__name__
