"""The HTTP client against a real server on 127.0.0.1: redirects, gzip, caps, timeouts, SSRF guard."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import threading
from collections.abc import Iterator

import httpx
import pytest

from monitor import __version__
from monitor.ingest.http import (
    Allowed,
    BlockedAddressError,
    Fetched,
    FetchError,
    HttpClient,
    HttpSettings,
    _Hosts,
    is_forbidden,
)
from monitor.metrics import HOST_WAIT_SECONDS
from tests.httpserver import HttpServer, Reply

LOOPBACK = ("127.0.0.0/8",)


@pytest.fixture
def server() -> Iterator[HttpServer]:
    with HttpServer() as s:
        yield s


def fetch(url: str, headers: dict[str, str] | None = None, **settings: object) -> object:
    async def run() -> object:
        async with HttpClient(HttpSettings(allow_networks=LOOPBACK, **settings)) as client:  # type: ignore[arg-type]
            return await client.fetch(url, headers)

    return asyncio.run(run())


def test_user_agent_names_the_product_and_version(server: HttpServer) -> None:
    url = server.route("/a", Reply(body=b"ok"))
    result = fetch(url)
    assert result.status == 200 and result.body == b"ok"  # type: ignore[attr-defined]
    agent = server.seen("/a")[0].headers["user-agent"]
    assert agent.startswith(f"monitor/{__version__}")


def test_gzip_body_is_decoded(server: HttpServer) -> None:
    url = server.route("/g", Reply(body=b"<rss>" + b"x" * 5000 + b"</rss>", gzip=True))
    result = fetch(url)
    assert result.body == b"<rss>" + b"x" * 5000 + b"</rss>"  # type: ignore[attr-defined]
    assert "gzip" in server.seen("/g")[0].headers["accept-encoding"]


def test_redirects_are_followed_up_to_the_limit(server: HttpServer) -> None:
    server.route("/r1", Reply(301, {"Location": "/r2"}))
    server.route("/r2", Reply(302, {"Location": server.url("/end")}))
    server.route("/end", Reply(body=b"landed"))
    result = fetch(server.url("/r1"))
    assert result.body == b"landed" and result.redirects == 2  # type: ignore[attr-defined]
    assert result.url == server.url("/end")  # type: ignore[attr-defined]
    with pytest.raises(FetchError, match="more than 1 redirects"):
        fetch(server.url("/r1"), max_redirects=1)


def test_redirect_loop_stops(server: HttpServer) -> None:
    server.route("/loop", Reply(302, {"Location": "/loop"}))
    with pytest.raises(FetchError, match="redirects"):
        fetch(server.url("/loop"))


def test_oversize_body_is_cut_at_the_cap_while_streaming(server: HttpServer) -> None:
    cap = 64 * 1024
    # Declares far more than it sends, then never finishes: only a client that stops at the cap returns.
    url = server.route("/big", Reply(body=b"a" * (4 * cap), length=1000 * cap, chunk=8192, then_hang=True))
    result = fetch(url, max_bytes=cap, timeout=30.0)
    assert result.truncated  # type: ignore[attr-defined]
    assert len(result.body) == cap  # type: ignore[attr-defined]


def test_body_at_the_cap_is_whole(server: HttpServer) -> None:
    url = server.route("/exact", Reply(body=b"b" * 1000))
    result = fetch(url, max_bytes=1000)
    assert not result.truncated and len(result.body) == 1000  # type: ignore[attr-defined]


def test_a_server_that_never_answers_times_out(server: HttpServer) -> None:
    url = server.route("/hang", Reply(hang=True))
    with pytest.raises(FetchError, match="timed out"):
        fetch(url, timeout=0.5)


def test_statuses_are_returned_not_raised(server: HttpServer) -> None:
    url = server.route("/gone", Reply(410, body=b"gone"))
    assert fetch(url).status == 410  # type: ignore[attr-defined]


def test_connection_refused_is_a_fetch_error() -> None:
    with HttpServer() as closed:
        url = closed.url("/x")
    with pytest.raises(FetchError, match=r"127\.0\.0\.1"):
        fetch(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/",
        "http://localhost:9/",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://172.16.5.4/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/",
        "http://[fe80::1]/",
        "http://0.0.0.0/",
        "http://[::ffff:127.0.0.1]/",
    ],
)
def test_ssrf_guard_refuses_internal_addresses_by_default(url: str) -> None:
    async def run() -> None:
        async with HttpClient(HttpSettings()) as client:
            await client.fetch(url)

    with pytest.raises(BlockedAddressError, match="non-public address"):
        asyncio.run(run())


def test_ssrf_guard_checks_every_redirect(server: HttpServer) -> None:
    server.route("/to-metadata", Reply(302, {"Location": "http://169.254.169.254/latest/meta-data/"}))
    server.route("/to-private", Reply(301, {"Location": "http://10.0.0.7/admin"}))
    with pytest.raises(BlockedAddressError, match=r"169\.254\.169\.254"):
        fetch(server.url("/to-metadata"))
    with pytest.raises(BlockedAddressError, match=r"10\.0\.0\.7"):
        fetch(server.url("/to-private"))


def test_ssrf_guard_resolves_names_before_checking(server: HttpServer) -> None:
    url = server.route("/n", Reply(body=b"named"))
    # "localhost" is a name, not an address: refused only once DNS says where it points.
    with pytest.raises(BlockedAddressError, match="localhost resolves to"):
        asyncio.run(_fetch_default(server.url("/n", host="localhost")))
    assert fetch(server.url("/n", host="localhost")).body == b"named"  # type: ignore[attr-defined]
    assert server.seen("/n")[0].headers["host"] == f"localhost:{server.port}"
    assert url


async def _fetch_default(url: str) -> None:
    async with HttpClient(HttpSettings()) as client:
        await client.fetch(url)


def test_public_addresses_are_allowed() -> None:
    assert not is_forbidden(ipaddress.ip_address("93.184.216.34"), 443)
    assert is_forbidden(ipaddress.ip_address("127.0.0.1"), 80)
    assert not is_forbidden(ipaddress.ip_address("127.0.0.1"), 80, (Allowed.parse("127.0.0.0/8"),))


@pytest.mark.parametrize(
    ("text", "network", "port"),
    [
        ("10.0.0.0/8", "10.0.0.0/8", None),
        ("127.0.0.1:8080", "127.0.0.1/32", 8080),
        ("10.20.0.0/16:443", "10.20.0.0/16", 443),
        ("::1", "::1/128", None),
        ("[::1]:8080", "::1/128", 8080),
        ("[fd00::/8]", "fd00::/8", None),
    ],
)
def test_allowed_ranges_may_name_a_port(text: str, network: str, port: int | None) -> None:
    assert Allowed.parse(text) == Allowed(ipaddress.ip_network(network), port)


@pytest.mark.parametrize(
    ("text", "message"),
    [("intranet", "not an address range"), ("127.0.0.1:http", "'http' is not a port"), ("[::1:80", "[ADDRESS]:PORT")],
)
def test_a_bad_allowed_range_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Allowed.parse(text)


def test_an_address_allowed_on_one_port_is_refused_on_the_others(server: HttpServer) -> None:
    url = server.route("/feed", Reply(body=b"feed"))
    with HttpServer() as other:
        elsewhere = other.route("/redis", Reply(body=b"not for links"))

        async def run() -> tuple[object, BaseException]:
            async with HttpClient(HttpSettings(allow_networks=(f"127.0.0.1:{server.port}",))) as client:
                allowed = await client.fetch(url)
                try:
                    await client.fetch(elsewhere)
                except BlockedAddressError as exc:
                    return allowed, exc
            raise AssertionError("the other port was fetched")

        allowed, refused = asyncio.run(run())
    assert allowed.body == b"feed"  # type: ignore[attr-defined]
    assert str(refused).endswith(f"refused: 127.0.0.1 resolves to non-public address 127.0.0.1:{other.port}")


def test_a_fetch_may_bring_its_own_allowed_ranges(server: HttpServer) -> None:
    url = server.route("/feed", Reply(body=b"feed"))

    async def run() -> bytes:
        async with HttpClient(HttpSettings()) as client:
            with pytest.raises(BlockedAddressError):
                await client.fetch(url)
            return (await client.fetch(url, allow=(Allowed.parse(f"127.0.0.1:{server.port}"),))).body

    assert asyncio.run(run()) == b"feed"


def test_per_host_limit_bounds_concurrent_requests(server: HttpServer) -> None:
    active = 0
    peak = 0
    import threading

    lock = threading.Lock()
    gate = threading.Event()

    def slow(_: object) -> Reply:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        gate.wait(0.2)
        with lock:
            active -= 1
        return Reply(body=b"x")

    server.route("/slow", slow)

    async def run() -> None:
        async with HttpClient(HttpSettings(allow_networks=LOOPBACK, per_host=2)) as client:
            await asyncio.gather(*(client.fetch(server.url("/slow")) for _ in range(6)))

    asyncio.run(run())
    assert len(server.seen("/slow")) == 6
    assert peak <= 2


def test_fetches_from_one_host_reuse_its_connection(server: HttpServer) -> None:
    server.route("/a", Reply(body=b"a"))

    async def run() -> None:
        async with HttpClient(HttpSettings(allow_networks=LOOPBACK)) as client:
            for _ in range(3):
                await client.fetch(server.url("/a"))

    asyncio.run(run())
    assert len({seen.peer_port for seen in server.seen("/a")}) == 1


def test_each_host_name_has_its_own_pool_and_idle_ones_are_closed_beyond_the_limit() -> None:
    async def run() -> None:
        hosts = _Hosts(httpx.AsyncClient, per_host=2, keep=2)
        clients: dict[str, httpx.AsyncClient] = {}
        for name in ("a.example", "b.example", "a.example", "c.example"):
            async with hosts.use(name, wait=1.0) as (client, _):
                assert clients.setdefault(name, client) is client  # one pool per name, kept while in use
        assert len({id(c) for c in clients.values()}) == 3
        # a.example was used before c.example, b.example longest ago: b's pool is the one closed.
        assert len(hosts) == 2
        assert clients["b.example"].is_closed
        assert not clients["a.example"].is_closed and not clients["c.example"].is_closed
        await hosts.aclose()
        assert all(c.is_closed for c in clients.values())

    asyncio.run(run())


def test_a_host_pool_in_use_is_never_closed() -> None:
    async def run() -> None:
        hosts = _Hosts(httpx.AsyncClient, per_host=2, keep=1)
        async with hosts.use("busy.example", wait=1.0) as (busy, _):
            for name in ("x.example", "y.example"):
                async with hosts.use(name, wait=1.0):
                    pass
            assert not busy.is_closed
        assert len(hosts) == 1 and not busy.is_closed
        await hosts.aclose()

    asyncio.run(run())


def test_waiting_behind_a_hosts_slow_requests_does_not_count_against_the_timeout(server: HttpServer) -> None:
    for path in ("/slow-1", "/slow-2"):
        server.route(path, Reply(body=b"slow", delay=1.5))
    fast = server.route("/fast", Reply(body=b"fast"))

    async def run() -> list[Fetched]:
        # One slot per host and a 2 s timeout: each slow page is within it, the two together are not.
        async with HttpClient(HttpSettings(allow_networks=LOOPBACK, per_host=1, timeout=2.0)) as client:
            slow = [asyncio.create_task(client.fetch(server.url(p))) for p in ("/slow-1", "/slow-2")]
            await asyncio.sleep(0.1)
            return list(await asyncio.gather(*slow, client.fetch(fast)))

    before = HOST_WAIT_SECONDS._sum.get()
    *_, page = asyncio.run(run())
    assert page.body == b"fast" and page.queued_ms >= 2500
    assert HOST_WAIT_SECONDS._sum.get() - before >= 2.5 + 1.4  # the fast page's wait, and the second slow one's


def test_a_wait_for_a_host_slot_past_its_own_bound_fails_saying_so(server: HttpServer) -> None:
    release = threading.Event()
    server.route("/slow-1", lambda _: (release.wait(10), Reply(body=b"slow"))[1])
    fast = server.route("/fast", Reply(body=b"fast"))

    async def run() -> BaseException | Fetched:
        settings = HttpSettings(allow_networks=LOOPBACK, per_host=1, timeout=10.0, queue_timeout=0.3)
        async with HttpClient(settings) as client:
            slow = asyncio.create_task(client.fetch(server.url("/slow-1")))
            await asyncio.sleep(0.1)
            try:
                return await client.fetch(fast)
            except FetchError as exc:
                return exc
            finally:
                release.set()
                await slow

    outcome = asyncio.run(run())
    assert isinstance(outcome, FetchError)
    assert outcome.reason == "waited 0.3s for a connection to 127.0.0.1 (all busy)"
