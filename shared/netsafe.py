"""Outbound URL safety: refuse requests that could reach the service's own network (SSRF).

A URL is safe when its scheme is http(s) and every address its host resolves to is public: not loopback,
link-local (169.254.169.254 is the cloud metadata service), private, multicast, reserved or unspecified.
Operators may allow specific ``host:port`` pairs (Conveyor's own S3 endpoint is allowed, since presigned
links to it are how staged files are referenced).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import httpx


class UnsafeURL(ValueError):
    """The URL targets a non-public address or uses a scheme other than http(s)."""


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def host_port(url: str) -> str:
    parts = urlsplit(url)
    return f"{(parts.hostname or '').lower()}:{parts.port or _default_port(parts.scheme)}"


# not "private" to Python, yet not the public internet: shared address space (carrier-grade NAT, where some
# clouds keep their metadata service) and 6to4 (an IPv6 address that embeds any IPv4 one)
_ALSO_BLOCKED = (ipaddress.ip_network("100.64.0.0/10"), ipaddress.ip_network("2002::/16"))


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public(ip: Address) -> bool:
    """Whether the address is on the public internet (none of the ranges a request must not reach)."""
    return _is_public(ip)


def _is_public(ip: Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    blocked = (ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_multicast or ip.is_reserved
               or ip.is_unspecified or any(ip in net for net in _ALSO_BLOCKED if net.version == ip.version))
    if isinstance(ip, ipaddress.IPv6Address):
        blocked = blocked or ip.is_site_local
    return not blocked


def check_url_static(url: str, allowed: frozenset[str] = frozenset()) -> None:
    """The checks that need no DNS: http(s) scheme, a host, and no literal non-public address.

    Used when a URL is accepted (a request may name a host that only resolves where it is fetched);
    ``check_url`` repeats everything with resolution right before each request.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL(f"only http(s) URLs are accepted, not {parts.scheme or 'a relative URL'!r}")
    if not parts.hostname:
        raise UnsafeURL("the URL has no host")
    if host_port(url) in allowed:
        return
    try:
        ip = ipaddress.ip_address(parts.hostname.strip("[]"))
    except ValueError:
        if parts.hostname.lower() in ("localhost", "localhost.localdomain") or parts.hostname.endswith(".localhost"):
            raise UnsafeURL(f"host {parts.hostname!r} is the local machine") from None
        return
    if not _is_public(ip):
        raise UnsafeURL(f"host {parts.hostname!r} is a non-public address")


def _to_resolve(url: str, allowed: frozenset[str]) -> tuple[str, int, list[Address]] | None:
    """After the static checks: (host, port, its literal address or []) to resolve; None when allowed."""
    check_url_static(url, allowed)
    if host_port(url) in allowed:
        return None
    parts = urlsplit(url)
    assert parts.hostname is not None
    try:
        literal = [ipaddress.ip_address(parts.hostname.strip("[]"))]
    except ValueError:
        literal = []
    return parts.hostname, parts.port or _default_port(parts.scheme), literal


def _addresses(infos: list[Any]) -> list[Address]:
    return [ipaddress.ip_address(info[4][0]) for info in infos]


def _refuse_private(host: str, addresses: list[Address]) -> None:
    for address in addresses:
        if not _is_public(address):
            raise UnsafeURL(f"host {host!r} resolves to the non-public address {address}")


def check_url_blocking(url: str, allowed: frozenset[str] = frozenset()) -> None:
    """``check_url`` for synchronous code (it resolves the host in this thread)."""
    target = _to_resolve(url, allowed)
    if target is None:
        return
    host, port, addresses = target
    if not addresses:
        try:
            addresses = _addresses(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except socket.gaierror as exc:
            raise UnsafeURL(f"host {host!r} does not resolve: {exc.strerror}") from None
    _refuse_private(host, addresses)


async def check_url(url: str, allowed: frozenset[str] = frozenset()) -> None:
    """Raise ``UnsafeURL`` unless ``url`` is http(s) to public addresses only (or an allowed host:port)."""
    target = _to_resolve(url, allowed)
    if target is None:
        return
    host, port, addresses = target
    if not addresses:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise UnsafeURL(f"host {host!r} does not resolve: {exc.strerror}") from None
        addresses = _addresses(infos)
    _refuse_private(host, addresses)


class FetchFailed(Exception):
    """A remote file could not be fetched (HTTP error, too large, timeout); carries a failure type."""

    def __init__(self, failure_type: str, reason: str) -> None:
        super().__init__(reason)
        self.failure_type = failure_type
        self.reason = reason


MAX_REDIRECTS = 5


async def open_safe(client: httpx.AsyncClient, url: str, allowed: frozenset[str]) -> httpx.Response:
    """GET ``url`` as a stream, checking it and every redirect hop with ``check_url``.

    The caller must close the returned response. Raises ``UnsafeURL`` or ``FetchFailed``.
    """
    for _ in range(MAX_REDIRECTS + 1):
        await check_url(url, allowed)
        try:
            resp = await client.send(client.build_request("GET", url), stream=True, follow_redirects=False)
        except httpx.TimeoutException:
            raise FetchFailed("download-timeout", f"timed out fetching {url[:200]}") from None
        except httpx.HTTPError as exc:
            raise FetchFailed("download-failed", f"could not fetch {url[:200]}: {exc!r}"[:500]) from None
        if resp.is_redirect and "location" in resp.headers:
            await resp.aclose()
            url = str(resp.url.join(resp.headers["location"]))
            continue
        if resp.status_code >= 400:
            await resp.aclose()
            raise FetchFailed("download-failed", f"{url[:200]} answered HTTP {resp.status_code}")
        return resp
    raise FetchFailed("download-failed", f"more than {MAX_REDIRECTS} redirects from {url[:200]}")


async def fetch_bytes(client: httpx.AsyncClient, url: str, allowed: frozenset[str], max_bytes: int,
                      deadline_s: float | None = None) -> bytes:
    """The whole body of ``url`` (checked for SSRF), refusing bodies over ``max_bytes``, within ``deadline_s``
    in all: a server that trickles a byte at a time never times out a read, so reads alone bound nothing."""
    if deadline_s is None:
        return await _fetch(client, url, allowed, max_bytes)
    try:
        async with asyncio.timeout(deadline_s):
            return await _fetch(client, url, allowed, max_bytes)
    except TimeoutError:
        raise FetchFailed("download-timeout", f"the download took longer than {deadline_s:g}s") from None


async def _fetch(client: httpx.AsyncClient, url: str, allowed: frozenset[str], max_bytes: int) -> bytes:
    resp = await open_safe(client, url, allowed)
    try:
        declared = int(resp.headers.get("content-length") or 0)
        if declared > max_bytes:
            raise FetchFailed("file-size-limit-exceeded", f"{declared} bytes; the limit is {max_bytes} bytes")
        body = bytearray()
        async for chunk in resp.aiter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise FetchFailed("file-size-limit-exceeded", f"more than {max_bytes} bytes")
        return bytes(body)
    except httpx.TimeoutException:
        raise FetchFailed("download-timeout", f"timed out reading {url[:200]}") from None
    finally:
        await resp.aclose()
