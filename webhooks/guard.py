"""Where a webhook endpoint may point: http(s) only, no credentials in the URL, and
(unless settings allow it) no loopback, private, link-local or otherwise non-public
address — checked on the URL when an endpoint is saved and on the resolved
addresses before every delivery, so a name that later resolves inward is refused."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

RESOLVE_TIMEOUT_SECONDS = 3.0


class UnsafeUrl(ValueError):
    """The URL may not receive webhooks; the message says why."""


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64, or the old
    IPv4-compatible ::a.b.c.d), which is where a packet to it ends up."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64 or int(address) >> 32 == 0:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None and not (inner.is_global and not inner.is_multicast):
            return False
    return address.is_global and not address.is_multicast


def check_url(url: str, *, allow_private: bool) -> str:
    """The URL as given when it may receive webhooks; UnsafeUrl otherwise. A host
    name is checked when resolved (`check_host`)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeUrl(f"not a valid URL: {error}") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeUrl("must be an http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("must not carry credentials (user:password@); authenticate by signature")
    if not parts.hostname:
        raise UnsafeUrl("must name a host")
    if port == 0:
        raise UnsafeUrl("must not use port 0")
    if parts.fragment:
        raise UnsafeUrl("must not have a #fragment")
    if not allow_private:
        try:
            literal = ipaddress.ip_address(parts.hostname)
        except ValueError:
            if parts.hostname.lower() == "localhost" or parts.hostname.lower().endswith(
                ".localhost"
            ):
                raise UnsafeUrl("points to this machine (localhost)") from None
        else:
            if not _public(literal):
                raise UnsafeUrl(f"points to a non-public address ({literal})")
    return url


async def check_host(url: str, *, allow_private: bool) -> None:
    """Resolve the URL's host and refuse it (UnsafeUrl) when any address it resolves
    to is not public, unless private addresses are allowed. A name that does not
    resolve is refused too (there is nowhere to deliver)."""
    if allow_private:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_SECONDS
        )
    except (OSError, TimeoutError) as error:
        raise UnsafeUrl(f"host {host!r} does not resolve: {error}") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not _public(address):
            raise UnsafeUrl(f"host {host!r} resolves to a non-public address ({address})")
