"""The HTTP client of the delivery workers: kept-alive connections, each one behind the SSRF guard.

One `urllib3` pool per receiver origin (scheme, host, port) per worker process, so a stream
of deliveries to one endpoint reuses one TCP (and TLS) connection instead of opening one per
delivery. Reuse never bypasses the guard (`webhooks.security`):

- every new connection resolves the host once, refuses it unless *every* address is allowed,
  and connects to one of exactly those addresses (the connection is pinned to what was
  checked: a DNS answer that changes between the check and the connect cannot redirect it);
- every delivery, on a new or a reused connection, first checks the URL again
  (`security.check_url` in `delivery.send`), so a host that now resolves to a refused address
  gets nothing, even over a connection opened while it was public.

Requests never follow redirects, never retry on their own (the delivery schedule does), and
take no proxy or credentials from the environment.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from webhooks import security

RESPONSE_EXCERPT_BYTES = 4096
# an answer's body beyond the excerpt is read and dropped (so the connection can be reused) up
# to this size; a longer one closes the connection instead
DRAIN_LIMIT_BYTES = 64 * 1024
MAX_ORIGINS = 100  # origins with an open pool per worker (least recently used ones are closed)


class _GuardedConnect:
    """`_new_conn` of urllib3's connections, connecting only to addresses the guard allowed."""

    _dns_host: str
    port: int
    timeout: float | None
    source_address: tuple[str, int] | None
    socket_options: list[tuple[int, int, int | bytes]] | None

    def _new_conn(self) -> socket.socket:
        # UrlInvalid / UrlNotAllowed (ValueErrors) go up as they are: `send` records a refusal
        addresses = security.allowed_addresses(self._dns_host, self.port)
        error: OSError | None = None
        for address in addresses:
            try:
                sock = urllib3_connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                raise ConnectTimeoutError(self, f"connection to {address} timed out") from exc
            except OSError as exc:
                error = exc
                continue
            return sock
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}")  # type: ignore[arg-type]


class GuardedHTTPConnection(_GuardedConnect, HTTPConnection):  # type: ignore[misc]
    pass


class GuardedHTTPSConnection(_GuardedConnect, HTTPSConnection):  # type: ignore[misc]
    pass


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


def new_pool_manager() -> urllib3.PoolManager:
    # one connection per origin: a worker runs one delivery at a time
    manager = urllib3.PoolManager(num_pools=MAX_ORIGINS, maxsize=1, block=False)
    manager.pool_classes_by_scheme = {
        "http": GuardedHTTPConnectionPool,
        "https": GuardedHTTPSConnectionPool,
    }
    return manager


_manager = new_pool_manager()


def reset() -> None:
    """Close every kept-alive connection of this process (tests; after a fork)."""
    global _manager
    _manager.clear()
    _manager = new_pool_manager()


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    excerpt: bytes


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST once on a kept-alive connection to the URL's origin; the answer's first 4 KB.

    `timeout` bounds the connect and every read. Raises urllib3's errors (timeouts,
    connection failures) and the guard's `UrlInvalid` / `UrlNotAllowed`.
    """
    response = _manager.request(
        "POST",
        url,
        body=body,
        headers=headers,
        timeout=urllib3.Timeout(connect=timeout, read=timeout),
        redirect=False,
        retries=False,
        preload_content=False,
    )
    try:
        excerpt = response.read(RESPONSE_EXCERPT_BYTES) or b""
        if len(excerpt) >= RESPONSE_EXCERPT_BYTES:  # more may follow: drop it, within a limit
            rest = response.read(DRAIN_LIMIT_BYTES + 1) or b""
            if len(rest) > DRAIN_LIMIT_BYTES:
                response.close()  # too long to drain: this connection is not reused
        return Answer(
            status=response.status,
            headers=dict(list(response.headers.items())[:30]),
            excerpt=excerpt[:RESPONSE_EXCERPT_BYTES],
        )
    except BaseException:
        response.close()
        raise
    finally:
        response.release_conn()
