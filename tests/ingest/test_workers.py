"""The worker pool that runs extraction: real worker processes, answers matched to their calls,
lost workers replaced."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from monitor.ingest.workers import WorkerPool

# Functions the workers run: module-level, so that the workers import them by name.


def echo(value: object) -> object:
    return value


def nap(seconds: float, value: object) -> object:
    time.sleep(seconds)
    return value


def fail(message: str) -> None:
    raise ValueError(message)


class HoldsALock(Exception):
    def __init__(self) -> None:
        super().__init__("holds a lock")
        self.lock = threading.Lock()  # cannot be pickled


def fail_unpicklable() -> None:
    raise HoldsALock


def size(data: bytes) -> tuple[int, bytes]:
    return len(data), data[-16:]


class SlowToStart:
    """A function that takes `seconds` to arrive in its worker, as one whose modules are slow to import."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __setstate__(self, state: dict[str, float]) -> None:
        time.sleep(state["seconds"])  # in the worker, while it starts
        self.__dict__.update(state)

    def __call__(self, value: object) -> object:
        return value


@pytest.fixture
def pool() -> Iterator[WorkerPool]:
    workers = WorkerPool(nap, 2, guard=30)
    yield workers
    workers.close()


def test_concurrent_calls_each_get_their_own_answer() -> None:
    with closing(WorkerPool(echo, 2, guard=30)) as workers:

        async def run() -> list[object]:
            return list(await asyncio.gather(*(workers.call(("call", n)) for n in range(200))))

        assert asyncio.run(run()) == [("call", n) for n in range(200)]


def test_a_large_argument_arrives_whole() -> None:
    # Far more than a socket buffer holds: the rest is written as the worker reads.
    data = os.urandom(12 * 1024 * 1024)
    with closing(WorkerPool(size, 1, guard=30)) as workers:

        async def run() -> list[object]:
            return list(await asyncio.gather(workers.call(data), workers.call(data[:1000])))

        assert asyncio.run(run()) == [(len(data), data[-16:]), (1000, data[984:1000])]


def test_the_functions_exception_is_raised_to_the_caller() -> None:
    with closing(WorkerPool(fail, 1, guard=30)) as workers:
        with pytest.raises(ValueError, match="no such page"):
            asyncio.run(workers.call("no such page"))
        # The worker goes on answering.
        with pytest.raises(ValueError, match="again"):
            asyncio.run(workers.call("again"))


def test_an_exception_that_cannot_be_pickled_keeps_its_type_and_message() -> None:
    with (
        closing(WorkerPool(fail_unpicklable, 1, guard=30)) as workers,
        pytest.raises(RuntimeError, match="HoldsALock: holds a lock"),
    ):
        asyncio.run(workers.call())


def test_a_slow_call_holds_up_at_most_one_other(pool: WorkerPool) -> None:
    async def run() -> tuple[list[str], float]:
        finished: list[str] = []
        started = time.monotonic()

        async def call(seconds: float, name: str) -> None:
            finished.append(await pool.call(seconds, name))

        slow = asyncio.ensure_future(call(3.0, "slow"))
        await asyncio.sleep(0.2)
        await asyncio.gather(*(call(0.05, f"fast {n}") for n in range(6)))
        fast_done = time.monotonic() - started
        await slow
        return finished, fast_done

    finished, fast_done = asyncio.run(run())
    # The fast call sent to the slow call's worker waits for it; the other five go to the free worker.
    assert all(name.startswith("fast") for name in finished[:5])
    assert finished[5:6] == ["slow"]
    assert finished[6].startswith("fast")
    assert fast_done >= 3.0


def killed(pid: int | None) -> None:
    """SIGKILL a worker and wait until it is dead (its socket closed), not merely signalled."""
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not dead(pid):
        assert time.monotonic() < deadline, f"worker {pid} still alive"
        time.sleep(0.01)


def dead(pid: int) -> bool:
    """A zombie, or already reaped: /proc/PID can vanish between checking for it and reading it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


def test_a_worker_that_dies_fails_the_call_it_ran_and_sends_the_next_again() -> None:
    with closing(WorkerPool(nap, 1, guard=30)) as workers:
        (before,) = workers.pids

        async def run() -> tuple[object, object]:
            doomed = asyncio.ensure_future(workers.call(5.0, "never"))
            queued = asyncio.ensure_future(workers.call(0.0, "queued"))  # sent behind it, to the same worker
            await asyncio.sleep(0.5)
            killed(before)
            with pytest.raises(RuntimeError, match="died; it was replaced"):
                await doomed
            return await queued, await workers.call(0.0, "after")

        assert asyncio.run(run()) == ("queued", "after")
        assert workers.pids != [before]


def test_a_worker_that_died_idle_is_replaced_when_next_called(pool: WorkerPool) -> None:
    before = pool.pids
    for pid in before:
        killed(pid)

    async def run() -> list[object]:
        return list(await asyncio.gather(pool.call(0.0, "one"), pool.call(0.0, "two")))

    assert asyncio.run(run()) == ["one", "two"]
    assert not set(pool.pids) & set(before)


def test_a_worker_that_stops_answering_is_killed_after_the_guard_time() -> None:
    with closing(WorkerPool(nap, 1, guard=1.0)) as workers:
        (stuck,) = workers.pids
        assert stuck is not None

        async def run() -> object:
            assert await workers.call(0.0, "started") == "started"
            call = asyncio.ensure_future(workers.call(0.5, "late"))
            await asyncio.sleep(0.2)
            os.kill(stuck, signal.SIGSTOP)  # frozen: not even its own alarm could fire
            with pytest.raises(RuntimeError, match=r"did not answer within 1s"):
                await call
            return await workers.call(0.0, "next")

        assert asyncio.run(run()) == "next"
        assert workers.pids != [stuck]
        with pytest.raises(ProcessLookupError):
            os.kill(stuck, 0)


def test_close_fails_unanswered_calls_and_ends_the_workers(pool: WorkerPool) -> None:
    pids = pool.pids

    async def run() -> None:
        calls = [asyncio.ensure_future(pool.call(5.0, n)) for n in range(3)]
        await asyncio.sleep(0.3)
        pool.close()
        for call in calls:
            with pytest.raises(RuntimeError, match="closed"):
                await call
        with pytest.raises(RuntimeError, match="closed"):
            await pool.call(0.0, "too late")

    asyncio.run(run())
    for pid in pids:
        assert pid is not None
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    pool.close()  # again, as the fixture does: nothing left to do


def test_the_guard_counts_from_when_the_worker_has_started() -> None:
    # On a loaded machine a worker can take longer to start than a call may take: the call is not overdue.
    with closing(WorkerPool(SlowToStart(2.0), 1, guard=0.5)) as workers:
        (before,) = workers.pids
        with capture_logs() as logs:
            assert asyncio.run(workers.call("answered")) == "answered"
        assert workers.pids == [before]
        assert not [e for e in logs if e["event"] == "workers.replaced"]


def test_a_worker_that_does_not_start_fails_its_call_and_is_replaced() -> None:
    with closing(WorkerPool(SlowToStart(30.0), 1, guard=0.5, start_limit=1.0)) as workers:
        (before,) = workers.pids
        with pytest.raises(RuntimeError, match="did not start within 1s; it was replaced"):
            asyncio.run(workers.call("never"))
        assert workers.pids != [before]
