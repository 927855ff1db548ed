"""Worker processes for a CPU-bound function, driven over sockets from the event loop.

concurrent.futures' ProcessPoolExecutor passes every call through two helper threads (a queue
feeder and a result manager) that take turns with the event loop's thread: measured on article
pages, that cost the service 0.7 ms of its own CPU per page, a quarter of all it spends on a page
besides the extraction, and on a machine with as many workers as cores that time comes out of the
workers'. Here the event loop writes each call to its worker's socket and reads the answer when the
socket is readable: no threads, no locks.

Each worker holds at most two calls (one running, the next already sent) so that it never waits for
work and a slow call holds up at most one other. A worker that dies, or does not answer within the
guard time, is killed and replaced: the call it was running raises RuntimeError, the next is sent again.
The guard counts from when the worker says it is ready: starting one (importing the function's
modules) can take seconds on a loaded machine, and is not the call's time.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.process
import pickle
import signal
import socket
import struct
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.context import ForkServerContext
from types import FrameType, TracebackType
from typing import Any, Self

import structlog

log = structlog.get_logger("monitor.ingest.workers")


class _TimeUp(BaseException):  # not Exception: libraries that catch those broadly (trafilatura) go on past it
    pass


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise _TimeUp


@contextmanager
def time_limited(seconds: float) -> Iterator[None]:
    """Raise TimeoutError in the block after `seconds` (in a worker process: the alarm interrupts runaway code)."""
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _TimeUp:
        raise TimeoutError(f"took longer than {seconds:g}s") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# Every message is its length, then a pickle: the call's arguments, or (True, result) / (False, exception).
_HEADER = struct.Struct("!Q")
_READY = _HEADER.pack(0)  # a worker's first frame, once it has started (no answer is empty)
CALLS_PER_WORKER = 2
START_LIMIT = 120.0  # seconds a worker may take to start, once a call waits for it
_READ_SIZE = 1 << 20


def _serve(function: Callable[..., Any], sock: socket.socket) -> None:
    """A worker: answer calls until the service closes its end of the socket."""
    # Ctrl-C reaches the whole process group: the service stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with sock, sock.makefile("rb") as incoming:
        try:
            sock.sendall(_READY)
        except OSError:
            return
        while True:
            header = incoming.read(_HEADER.size)
            if len(header) < _HEADER.size:
                return
            (size,) = _HEADER.unpack(header)
            args = pickle.loads(incoming.read(size))
            try:
                reply = pickle.dumps((True, function(*args)))
            except Exception as exc:
                reply = _pickled_error(exc)
            try:
                sock.sendall(_HEADER.pack(len(reply)) + reply)
            except OSError:
                return


def _pickled_error(exc: Exception) -> bytes:
    try:
        return pickle.dumps((False, exc))
    except Exception:  # an exception holding something unpicklable: keep its type and message
        return pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))


@dataclass(eq=False)
class _Call:
    message: bytes
    future: asyncio.Future[Any]
    guard: asyncio.TimerHandle | None = None


@dataclass(eq=False)
class _Worker:
    process: multiprocessing.process.BaseProcess
    sock: socket.socket
    calls: deque[_Call] = field(default_factory=deque)  # sent, answered in this order
    received: bytearray = field(default_factory=bytearray)
    unsent: bytearray = field(default_factory=bytearray)
    ready: bool = False  # it has sent _READY: its calls' guards are running
    start_guard: asyncio.TimerHandle | None = None

    @classmethod
    def start(cls, context: ForkServerContext, function: Callable[..., Any]) -> _Worker:
        ours, theirs = socket.socketpair()
        process = context.Process(target=_serve, args=(function, theirs), daemon=True)
        process.start()
        theirs.close()
        ours.setblocking(False)
        return cls(process, ours)

    def stop(self) -> None:
        # Workers keep nothing: killing one mid-call loses only that call, and SIGKILL also ends
        # a worker that is stopped or stuck where no signal handler runs.
        if self.start_guard is not None:
            self.start_guard.cancel()
        self.sock.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)


class WorkerPool:
    """`workers` processes that each run `function`; `await pool.call(*args)` runs it in one of them.

    Args:
        function: a module-level function (workers import it by name); its arguments, result and
            exceptions are pickled.
        workers: processes in the pool.
        guard: seconds a sent call may go unanswered before its worker is killed and replaced (the
            function should enforce its own, shorter, limit; this catches a worker that cannot),
            counted from when its worker has started.
        start_limit: seconds a worker may take to start while a call waits for it.

    Use it from one event loop at a time; close() from that loop's thread or after it has ended.
    """

    def __init__(
        self, function: Callable[..., Any], workers: int, guard: float, start_limit: float = START_LIMIT
    ) -> None:
        self._function = function
        self._guard = guard
        self._start_limit = start_limit
        # forkserver: workers do not inherit the service's threads and sockets.
        self._context = multiprocessing.get_context("forkserver")
        self._workers = [_Worker.start(self._context, function) for _ in range(workers)]
        self._waiting: deque[_Call] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    @property
    def pids(self) -> list[int | None]:
        return [w.process.pid for w in self._workers]

    async def call(self, *args: Any) -> Any:
        """function(*args) in a worker; its exception is raised here; RuntimeError if the worker is lost."""
        if self._closed:
            raise RuntimeError("the worker pool is closed")
        loop = asyncio.get_running_loop()
        self._bind(loop)
        future: asyncio.Future[Any] = loop.create_future()
        self._waiting.append(_Call(pickle.dumps(args), future))
        self._dispatch()
        return await future

    def close(self) -> None:
        """Stop the workers; calls not answered yet raise RuntimeError. Closing again does nothing."""
        if self._closed:
            return
        self._closed = True
        for worker in self._workers:
            self._unwatch(worker)
            self._fail(worker.calls, "the worker pool was closed")
            worker.stop()
        self._fail(self._waiting, "the worker pool was closed")

    # The event loop side ----------------------------------------------------------------------

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Watch the workers' sockets from `loop` (a new loop, as when asyncio.run is called again)."""
        if self._loop is loop:
            return
        previous, self._loop = self._loop, loop
        for index, worker in enumerate(self._workers):
            if previous is not None:
                self._unwatch(worker, previous)
            if worker.calls or worker.unsent:
                # Calls of the previous loop: their answers belong to nobody now.
                worker.calls.clear()
                worker.stop()
                worker = self._workers[index] = _Worker.start(self._context, self._function)
            loop.add_reader(worker.sock, self._on_readable, worker)
        self._waiting.clear()

    def _unwatch(self, worker: _Worker, loop: asyncio.AbstractEventLoop | None = None) -> None:
        loop = loop or self._loop
        if loop is not None and not loop.is_closed():
            loop.remove_reader(worker.sock)
            loop.remove_writer(worker.sock)

    def _dispatch(self) -> None:
        """Send waiting calls to the workers with room for them."""
        while self._waiting and not self._closed:
            worker = min(self._workers, key=lambda w: len(w.calls))
            if len(worker.calls) >= CALLS_PER_WORKER:
                return
            call = self._waiting.popleft()
            if call.future.done():  # its caller was cancelled
                continue
            if not self._send(worker, _HEADER.pack(len(call.message)) + call.message):
                # The worker had died before this call reached it: the call goes to its replacement.
                self._waiting.appendleft(call)
                self._replace(worker, "died")
                return
            worker.calls.append(call)
            assert self._loop is not None
            if worker.ready:
                call.guard = self._loop.call_later(self._guard, self._on_overdue, worker, call)
            elif worker.start_guard is None:
                worker.start_guard = self._loop.call_later(self._start_limit, self._on_not_started, worker)

    def _send(self, worker: _Worker, message: bytes) -> bool:
        """Write to the worker's socket, the rest when it can take it; False if the worker is gone."""
        if not worker.unsent:
            try:
                sent = worker.sock.send(message)
            except BlockingIOError:
                sent = 0
            except OSError:
                return False
            if sent == len(message):
                return True
            message = message[sent:]
            assert self._loop is not None
            self._loop.add_writer(worker.sock, self._on_writable, worker)
        worker.unsent += message
        return True

    def _on_writable(self, worker: _Worker) -> None:
        try:
            sent = worker.sock.send(worker.unsent)
        except BlockingIOError:
            return
        except OSError:
            self._replace(worker, "died")
            return
        del worker.unsent[:sent]
        if not worker.unsent and self._loop is not None:
            self._loop.remove_writer(worker.sock)

    def _on_readable(self, worker: _Worker) -> None:
        try:
            data = worker.sock.recv(_READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._replace(worker, "died")
            return
        received = worker.received
        received += data
        while len(received) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(received)
            end = _HEADER.size + size
            if len(received) < end:
                break
            if size == 0 and not worker.ready:
                del received[:end]
                self._on_ready(worker)
                continue
            ok, value = pickle.loads(received[_HEADER.size : end])
            del received[:end]
            call = worker.calls.popleft()
            if call.guard is not None:
                call.guard.cancel()
            if not call.future.done():
                if ok:
                    call.future.set_result(value)
                else:
                    call.future.set_exception(value)
        self._dispatch()

    def _on_ready(self, worker: _Worker) -> None:
        worker.ready = True
        if worker.start_guard is not None:
            worker.start_guard.cancel()
            worker.start_guard = None
        assert self._loop is not None
        for call in worker.calls:
            call.guard = self._loop.call_later(self._guard, self._on_overdue, worker, call)

    def _on_not_started(self, worker: _Worker) -> None:
        if worker in self._workers and not worker.ready:
            self._replace(worker, f"did not start within {self._start_limit:g}s")

    def _on_overdue(self, worker: _Worker, call: _Call) -> None:
        if worker in self._workers and call in worker.calls:
            self._replace(worker, f"did not answer within {self._guard:g}s")

    def _replace(self, worker: _Worker, what: str) -> None:
        """Kill a lost worker and start another in its place.

        The call it was running fails (it may be what killed the worker: it is not tried again);
        the one sent after it goes to the next free worker.
        """
        if worker not in self._workers:
            return
        index = self._workers.index(worker)
        self._unwatch(worker)
        worker.stop()
        log.warning("workers.replaced", pid=worker.process.pid, reason=what, calls=len(worker.calls))
        running = deque([worker.calls.popleft()]) if worker.calls else deque()
        self._fail(running, f"a worker process {what}; it was replaced")
        for call in reversed(worker.calls):
            if call.guard is not None:
                call.guard.cancel()
            self._waiting.appendleft(call)
        worker.calls.clear()
        if self._closed:
            self._fail(self._waiting, "the worker pool was closed")
            return
        replacement = self._workers[index] = _Worker.start(self._context, self._function)
        if self._loop is not None and not self._loop.is_closed():
            self._loop.add_reader(replacement.sock, self._on_readable, replacement)
        self._dispatch()

    @staticmethod
    def _fail(calls: deque[_Call], reason: str) -> None:
        while calls:
            call = calls.popleft()
            if call.guard is not None:
                call.guard.cancel()
            if not call.future.done() and not call.future.get_loop().is_closed():
                call.future.set_exception(RuntimeError(reason))


class LimitedPool:
    """A WorkerPool for a function that keeps its own time limit (with time_limited), as a context manager.

    The pool's guard allows a call two limits (it may wait in its worker behind one other) and a grace:
    a worker still silent then is stuck where the alarm cannot interrupt it, and is replaced.
    """

    GUARD_GRACE = 5.0

    def __init__(self, function: Callable[..., Any], workers: int, time_limit: float) -> None:
        self.workers = workers
        self.time_limit = time_limit
        self._pool = WorkerPool(function, workers, guard=2 * time_limit + self.GUARD_GRACE)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._pool.close()
