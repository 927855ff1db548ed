"""The async HTTP client every fetch goes through: timeouts, size cap, redirects, per-host limits, SSRF guard.

Links inside feeds are untrusted, so every hop (the first request and each redirect) is resolved with
DNS, each resolved address is checked, and the connection is pinned to a checked address: a name that
resolves to a safe address for the check and to an internal one for the connection cannot slip through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import TypeVar
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
import structlog

from monitor import __version__
from monitor.errors import InputError
from monitor.metrics import HOST_WAIT_SECONDS

log = structlog.get_logger("monitor.ingest.http")

T = TypeVar("T")

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
USER_AGENT = f"monitor/{__version__} (news monitor; feed reader)"
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
# Beyond this many host pools, idle ones are closed, least recently used first (article links reach many hosts).
MAX_HOST_POOLS = 256
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Cloud metadata services live at link-local or private addresses, listed so the intent is plain.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """How the client fetches.

    Args:
        timeout: seconds for a whole fetch (DNS, connect, every redirect and the body).
        max_bytes: the body is cut off after this many (decoded) bytes, counted while streaming.
        max_redirects: redirects followed per fetch; each hop is checked again.
        per_host: concurrent requests to one host at most.
        queue_timeout: seconds a request may wait for one of its host's `per_host` slots; `timeout`
            starts only once it has one (a host busy with slow pages delays its next request, and
            that wait is reported, but does not eat the request's own time).
        user_agent: sent with every request; names the product and its version.
        allow_networks: address ranges fetched even though they are loopback, private, link-local or
            metadata addresses, each optionally on one port (e.g. "10.20.0.0/16", "127.0.0.1:8080",
            "[::1]:8080"; "0.0.0.0/0" and "::/0" allow all). A feed may add its own (FeedConfig).
    """

    timeout: float = 20.0
    max_bytes: int = DEFAULT_MAX_BYTES
    max_redirects: int = 5
    per_host: int = 2
    queue_timeout: float = 60.0
    user_agent: str = USER_AGENT
    allow_networks: tuple[str, ...] = ()

    def allowed(self) -> tuple[Allowed, ...]:
        return tuple(Allowed.parse(n) for n in self.allow_networks)


@dataclass(frozen=True, slots=True)
class Allowed:
    """An address range fetched although it is not public: on one port, or (port None) on every port."""

    network: IPNetwork
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> Allowed:
        """ "10.0.0.0/8", "127.0.0.1:8080", "10.0.0.0/8:443", "::1", "[::1]:8080"; ValueError saying what is wrong."""
        text = text.strip()
        port: str | None = None
        if text.startswith("["):
            text, bracket, rest = text[1:].partition("]")
            if not bracket or (rest and not rest.startswith(":")):
                raise ValueError("an IPv6 range with a port is written [ADDRESS]:PORT")
            port = rest[1:] or None
        elif text.count(":") == 1:  # IPv4 with a port (an IPv6 address has more colons)
            text, port = text.split(":")
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ValueError("not an address range such as 10.0.0.0/8 or 127.0.0.1:8080") from None
        if port is None:
            return cls(network)
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{port!r} is not a port (1 to 65535)")
        return cls(network, int(port))

    def admits(self, address: IPAddress, port: int) -> bool:
        return address in self.network and (self.port is None or self.port == port)


class FetchError(InputError):
    """A URL could not be fetched; the message names it and says why."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")


class BlockedAddressError(FetchError):
    """The URL leads to an address that untrusted links may not reach."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """A response: final URL, status, headers (lower-case names), body (at most the cap) and whether it was cut.

    `elapsed_ms` is the whole fetch; `queued_ms` the part of it spent waiting for host slots.
    """

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    truncated: bool = False
    redirects: int = 0
    elapsed_ms: float = 0.0
    queued_ms: float = 0.0

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def is_forbidden(address: IPAddress, port: int, allowed: Sequence[Allowed] = ()) -> bool:
    """True for loopback, private, link-local, metadata and other non-public addresses, unless `allowed`
    admits the address on this port."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(rule.admits(address, port) for rule in allowed):
        return False
    return (
        address in METADATA_ADDRESSES
        or address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


@dataclass(slots=True)
class _Target:
    """One hop: the URL as written, the URL pinned to a checked address, and the Host header to send."""

    url: str
    pinned: str
    host_header: str
    hostname: str
    scheme: str


@dataclass(slots=True)
class _Host:
    """One host's share of the client: its concurrency limit and its own connection pool."""

    gate: asyncio.Semaphore
    client: httpx.AsyncClient
    users: int = 0  # requests holding or waiting for the gate


class _Hosts:
    """A connection pool and a concurrency limit per host name, the least recently used idle ones dropped.

    One pool per host name rather than one for all: httpcore scans every connection of a pool on
    each request (CPU grows with the number of hosts polled), and it pools connections by address,
    so two names served from one address (a CDN) would share a TLS connection opened for one of them.
    """

    def __init__(self, make_client: Callable[[], httpx.AsyncClient], per_host: int, keep: int = MAX_HOST_POOLS) -> None:
        self._make_client = make_client
        self._per_host = per_host
        self._keep = keep
        self._hosts: OrderedDict[str, _Host] = OrderedDict()

    def __len__(self) -> int:
        return len(self._hosts)

    @asynccontextmanager
    async def use(self, hostname: str, wait: float) -> AsyncIterator[tuple[httpx.AsyncClient, float]]:
        """The host's client and the seconds waited, once one of its `per_host` slots is free (TimeoutError
        after `wait` seconds)."""
        host = self._hosts.get(hostname)
        if host is None:
            host = self._hosts[hostname] = _Host(asyncio.Semaphore(self._per_host), self._make_client())
        self._hosts.move_to_end(hostname)
        host.users += 1
        try:
            started = asyncio.get_running_loop().time()
            async with asyncio.timeout(wait):
                await host.gate.acquire()
            try:
                yield host.client, asyncio.get_running_loop().time() - started
            finally:
                host.gate.release()
        finally:
            host.users -= 1
            await self._trim()

    async def _trim(self) -> None:
        while len(self._hosts) > self._keep:
            idle = next((name for name, host in self._hosts.items() if not host.users), None)
            if idle is None:
                return
            await self._hosts.pop(idle).client.aclose()

    async def aclose(self) -> None:
        hosts, self._hosts = list(self._hosts.values()), OrderedDict()
        for host in hosts:
            await host.client.aclose()


class HttpClient:
    """Fetches URLs under the settings' rules; use as `async with HttpClient(settings) as client`.

    Args:
        settings: timeouts, caps and which private addresses may be fetched.
    """

    def __init__(self, settings: HttpSettings | None = None) -> None:
        self.settings = settings or HttpSettings()
        self._allowed = self.settings.allowed()
        # Loading the CA certificates costs tens of milliseconds: once, shared by every host's pool.
        self._tls = httpx.create_ssl_context()
        self._hosts = _Hosts(self._make_client, self.settings.per_host)

    def _make_client(self) -> httpx.AsyncClient:
        per_host = self.settings.per_host
        return httpx.AsyncClient(
            timeout=httpx.Timeout(self.settings.timeout),
            follow_redirects=False,
            headers={"User-Agent": self.settings.user_agent, "Accept-Encoding": "gzip, deflate"},
            limits=httpx.Limits(max_connections=per_host, max_keepalive_connections=per_host),
            verify=self._tls,
            trust_env=False,
        )

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._hosts.aclose()

    async def fetch(self, url: str, headers: Mapping[str, str] | None = None, allow: Sequence[Allowed] = ()) -> Fetched:
        """GET `url`, following redirects; any status is returned, failures raise FetchError.

        `allow` adds to the settings' allowed ranges for this fetch (a feed's own, for it and its pages).

        `timeout` bounds the time spent resolving and requesting, over every redirect; the waits for
        host slots are bounded apart (`queue_timeout`), and reported (Fetched.queued_ms, a metric).
        """
        loop = asyncio.get_running_loop()
        started = loop.time()
        budget = _Budget(self.settings.timeout, url)
        queued = 0.0
        current, sent = url, dict(headers or {})
        allowed = (*self._allowed, *allow)
        for hop in range(self.settings.max_redirects + 1):
            target = await budget.spend(self._resolve(current, allowed))
            try:
                async with self._hosts.use(target.hostname, self.settings.queue_timeout) as (client, waited):
                    queued += waited
                    HOST_WAIT_SECONDS.observe(waited)
                    status, response_headers, body, truncated = await budget.spend(self._get(client, target, sent))
            except TimeoutError:  # from the wait for a slot: the request's own time is kept by the budget
                wait = self.settings.queue_timeout
                raise FetchError(url, f"waited {wait:g}s for a connection to {target.hostname} (all busy)") from None
            location = response_headers.get("location")
            if status in REDIRECT_STATUSES and location:
                current = urljoin(current, location)
                continue
            elapsed = (loop.time() - started) * 1000
            return Fetched(
                current, status, response_headers, body, truncated, hop, round(elapsed, 1), round(queued * 1000, 1)
            )
        raise FetchError(url, f"more than {self.settings.max_redirects} redirects")

    async def _resolve(self, url: str, allowed: Sequence[Allowed]) -> _Target:
        try:
            parts = urlsplit(url)
            hostname = parts.hostname
        except ValueError as exc:  # "Invalid IPv6 URL" and the like: links in feeds are untrusted
            raise FetchError(url, f"invalid URL: {exc}") from None
        if parts.scheme not in ("http", "https") or not hostname:
            raise FetchError(url, "only http and https URLs with a host are fetched")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise FetchError(url, "invalid port") from None
        try:
            addresses = [ipaddress.ip_address(hostname)]
        except ValueError:
            addresses = await self._lookup(url, hostname, port)
        blocked = [a for a in addresses if is_forbidden(a, port, allowed)]
        if blocked:
            shown = f"[{blocked[0]}]:{port}" if blocked[0].version == 6 else f"{blocked[0]}:{port}"
            raise BlockedAddressError(url, f"refused: {hostname} resolves to non-public address {shown}")
        chosen = addresses[0]
        literal = f"[{chosen}]" if chosen.version == 6 else str(chosen)
        netloc = f"{literal}:{port}"
        pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        default_port = port == (443 if parts.scheme == "https" else 80)
        host_header = hostname if default_port else f"{hostname}:{port}"
        if ":" in hostname:
            host_header = f"[{hostname}]" if default_port else f"[{hostname}]:{port}"
        return _Target(url, pinned, host_header, hostname, parts.scheme)

    async def _lookup(self, url: str, hostname: str, port: int) -> list[IPAddress]:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchError(url, f"cannot resolve {hostname}: {exc}") from None
        addresses: list[IPAddress] = []
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise FetchError(url, f"cannot resolve {hostname}")
        return addresses

    async def _get(
        self, client: httpx.AsyncClient, target: _Target, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes, bool]:
        request_headers = {**headers, "Host": target.host_header}
        extensions = {"sni_hostname": target.hostname} if target.scheme == "https" else {}
        cap = self.settings.max_bytes
        try:
            request = client.build_request("GET", target.pinned, headers=request_headers, extensions=extensions)
        except (httpx.InvalidURL, ValueError) as exc:
            raise FetchError(target.url, f"invalid URL: {exc}") from None
        try:
            response = await client.send(request, stream=True)
            try:
                chunks: list[bytes] = []
                size = 0
                truncated = False
                async for chunk in response.aiter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > cap:
                        truncated = True
                        break
                body = b"".join(chunks)[:cap]
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            raise FetchError(target.url, _describe(exc)) from None
        if truncated:
            log.warning("http.truncated", url=target.url, max_bytes=cap)
        response_headers = {k.lower(): v for k, v in response.headers.items()}
        return response.status_code, response_headers, body, truncated


class _Budget:
    """The request time left to one fetch: each step runs within what is left, and what it took is spent."""

    def __init__(self, seconds: float, url: str) -> None:
        self.seconds = seconds
        self.left = seconds
        self.url = url

    async def spend(self, step: Awaitable[T]) -> T:
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with asyncio.timeout(max(0.0, self.left)):
                return await step
        except TimeoutError:
            raise FetchError(self.url, f"timed out after {self.seconds:g}s") from None
        finally:
            self.left -= loop.time() - started


def _describe(exc: httpx.HTTPError) -> str:
    kinds: dict[type[httpx.HTTPError], str] = {
        httpx.ConnectTimeout: "connect timed out",
        httpx.ReadTimeout: "read timed out",
        httpx.ConnectError: "cannot connect",
        httpx.RemoteProtocolError: "protocol error",
        httpx.DecodingError: "cannot decode body",
    }
    kind = kinds.get(type(exc), type(exc).__name__)
    detail = str(exc).strip()
    return f"{kind}: {detail}" if detail else kind
