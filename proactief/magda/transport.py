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

Failures come back as httpx's own exceptions (`httpx.ConnectError`,
`httpx.ReadTimeout`, `httpx.ReadError`, ...), so callers and tests see one API
whatever carries the bytes; any other `httpx.AsyncBaseTransport`, such as
`httpx.MockTransport`, can stand in for this one.
"""

from __future__ import annotations

import asyncio

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
            auto_decompress=False,  # httpx decodes by the answer's headers
            # The caller bounds each exchange; aiohttp's default of five
            # minutes must not cut in first or differently.
            timeout=aiohttp.ClientTimeout(total=None),
        )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session or self._open()
        try:
            async with session.request(
                request.method,
                str(request.url),
                headers=request.headers.multi_items(),
                data=request.content or None,
                allow_redirects=False,
            ) as answer:
                body = await answer.read()
        except (aiohttp.ServerTimeoutError, aiohttp.SocketTimeoutError) as exc:
            raise httpx.ReadTimeout(_describe(exc), request=request) from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(_describe(exc), request=request) from exc
        except aiohttp.ClientPayloadError as exc:
            raise httpx.ReadError(_describe(exc), request=request) from exc
        except (aiohttp.ClientError, asyncio.IncompleteReadError) as exc:
            # a dropped connection, a malformed answer: nothing was read
            raise httpx.ReadError(_describe(exc), request=request) from exc
        return httpx.Response(
            answer.status,
            headers=answer.raw_headers,
            content=body,
            request=request,
        )

    async def aclose(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


def _describe(exc: BaseException) -> str:
    """What went wrong, by kind only: aiohttp's message may quote the URL."""
    return type(exc).__name__
