"""The SSRF guard (SPEC §13): webhook URLs must not reach the service's own network.

A URL is checked when it is saved and again before every delivery (DNS may have changed):
every address its host resolves to must be public — not loopback, private, link-local
(which includes the cloud metadata address 169.254.169.254), shared, reserved, multicast
or unspecified. `ONBOARD_WEBHOOK_ALLOW_PRIVATE=true` (tests, the `make run` demo) lifts the
address rule and allows plain `http`.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

# metadata services outside the link-local range
_METADATA = {ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")}


class UrlInvalid(ValueError):
    """The URL is not an absolute http(s) URL with a host."""


class UrlNotAllowed(ValueError):
    """The URL points at an address the guard refuses."""


def allow_private() -> bool:
    return bool(settings.WEBHOOK_ALLOW_PRIVATE)


def plain_http_allowed() -> bool:
    """`http` URLs: only with the allow-private switch (a seam of its own for the tests)."""
    return allow_private()


def check_url(url: str) -> None:
    """Raise `UrlInvalid` or `UrlNotAllowed` unless `url` may receive webhooks now."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket
        raise UrlInvalid("The url is malformed; send e.g. https://example.com/hooks.") from exc
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UrlInvalid("The url must be an absolute https URL, e.g. https://example.com/hooks.")
    if parts.username or parts.password:
        raise UrlInvalid("The url must not carry credentials.")
    try:
        port = parts.port
    except ValueError as exc:
        raise UrlInvalid("The url's port is not a number between 1 and 65535.") from exc
    if parts.scheme != "https" and not plain_http_allowed():
        raise UrlInvalid("The url must use https.")
    if allow_private():
        return
    for address in _resolve(parts.hostname, port or (443 if parts.scheme == "https" else 80)):
        if _refused(address):
            raise UrlNotAllowed(
                "The url resolves to a loopback, private, link-local or metadata address; "
                "use a public address."
            )


def allowed_addresses(host: str, port: int) -> list[str]:
    """The addresses to connect to for `host`: all of them must pass the guard, else it raises.

    The delivery client connects only to these (`webhooks.transport`), so what was checked is
    what is reached.
    """
    addresses = _resolve(host, port)
    if not allow_private() and any(_refused(address) for address in addresses):
        raise UrlNotAllowed(
            "The url resolves to a loopback, private, link-local or metadata address; "
            "use a public address."
        )
    return list(dict.fromkeys(str(address) for address in addresses))


def _resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UrlInvalid(f"The url's host {host!r} does not resolve.") from exc
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        addresses.append(address)
    return addresses


def _refused(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return (
        address in _METADATA
        or address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or not address.is_global
    )
