"""Real servers for tests: a redis-server of our own on a free port."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import redis

INSTALL_HINT = "redis-server is not installed: run ./dev test (it installs it) or apt-get install redis-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def redis_server(
    directory: Path, port: int | None = None, appendonly: bool = False, extra: list[str] | None = None
) -> Iterator[str]:
    """Start a private redis-server in `directory`; yield its URL; stop it on exit."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError(INSTALL_HINT)
    port = port or free_port()
    directory.mkdir(parents=True, exist_ok=True)
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory), "--save", ""]
    args += ["--appendonly", "yes" if appendonly else "no", "--logfile", str(directory / "redis.log")]
    args += extra or []
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (directory / "redis.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"redis-server did not start on port {port}:\n{log}") from None
                time.sleep(0.05)
        yield url
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=10)


def _free_cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free too; Redis wants both under 65536."""
    for _ in range(200):
        port = random.randint(20000, 45000)
        try:
            for candidate in (port, port + 10000):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair for a Redis Cluster node")


@contextmanager
def redis_cluster(directory: Path, nodes: int = 3) -> Iterator[str]:
    """Start a Redis Cluster of `nodes` masters on free ports; yield redis+cluster://HOST:PORT."""
    cli = shutil.which("redis-cli")
    if cli is None:
        raise RuntimeError(INSTALL_HINT)
    with ExitStack() as stack:
        ports = []
        for i in range(nodes):
            port = _free_cluster_port()
            node_dir = directory / f"node-{i}"
            stack.enter_context(redis_server(node_dir, port, extra=["--cluster-enabled", "yes"]))
            ports.append(port)
        create = [cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports), "--cluster-replicas", "0"]
        subprocess.run([*create, "--cluster-yes"], check=True, capture_output=True, timeout=60)
        # Every node must agree the cluster is up (the first to say so is not enough).
        clients = [redis.Redis(port=port) for port in ports]
        deadline = time.monotonic() + 30
        while not all(c.execute_command("CLUSTER INFO").get("cluster_state") == "ok" for c in clients):  # type: ignore[no-untyped-call]
            if time.monotonic() > deadline:
                raise RuntimeError("the test Redis Cluster did not become ready")
            time.sleep(0.1)
        for client in clients:
            client.close()
        # And a client through the cluster can write to every node.
        cluster = redis.RedisCluster(host="127.0.0.1", port=ports[0])
        while True:
            try:
                for n in range(32):
                    cluster.set(f"probe-{n}", 1)
                break
            except (redis.exceptions.RedisError, redis.exceptions.RedisClusterException):
                if time.monotonic() > deadline:
                    raise RuntimeError("the test Redis Cluster does not accept writes") from None
                time.sleep(0.1)
        cluster.close()
        yield f"redis+cluster://127.0.0.1:{ports[0]}"


@contextmanager
def redis_sentinel(directory: Path, master_url: str, service: str = "news") -> Iterator[str]:
    """A Sentinel watching the master at `master_url`; yield redis+sentinel://HOST:PORT/SERVICE/0."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError(INSTALL_HINT)
    master_port = int(master_url.rsplit(":", 1)[1].split("/")[0])
    port = free_port()
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "sentinel.conf"
    config.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {directory}\nlogfile {directory / 'sentinel.log'}\n"
        f"sentinel monitor {service} 127.0.0.1 {master_port} 1\n",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [binary, str(config), "--sentinel"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    client = redis.Redis(port=port)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                if client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", service):  # type: ignore[no-untyped-call]
                    break
            except redis.exceptions.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis sentinel did not start on port {port}")
            time.sleep(0.05)
        yield f"redis+sentinel://127.0.0.1:{port}/{service}/0"
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=10)
