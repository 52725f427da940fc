"""``ndlld serve`` on every core: a server process per core, all listening on one port.

Python answers one request at a time in a process, so one process uses one core, and
pages and files cost Python's time (the HTTP parsing most of all). So ``serve``
forks a process per core (``--processes``); each one runs the whole application, its
own query workers included (a share of ``--query-workers``, one at least), and
listens on the port with a socket of its own (SO_REUSEPORT), among which the kernel
spreads new connections evenly. (One socket shared by all would not: asyncio accepts
every waiting connection at once, so the first process awake takes them all.) The parent only starts
them, says why one could not start (one line, as any other error), passes SIGTERM
and Ctrl-C on and waits for them; it exits with 0 when they all did.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

from ndlld.errors import AddressError, ConfigError
from ndlld.server import Limits

STOPS = {signal.SIGTERM, signal.SIGINT}
Prepare = Callable[[Limits, int], tuple[str, Callable[[], None]]]
"""Makes a server process's application from its limits and its share of the connections
(raising ConfigError when it cannot): what to say once it serves (a note, or ""), and
the function that then serves until it is told to stop."""


def shares(total: int, processes: int) -> list[int]:
    """*total* split among *processes* as evenly as can be, at least 1 each."""
    return [max(1, total // processes + (1 if i < total % processes else 0)) for i in range(processes)]


def listening(host: str, port: int, backlog: int, shared: bool = True) -> socket.socket:
    """A socket of this process on *host*:*port*, bound and listening; *shared*, beside those
    of the other processes. Unshared, it fails when any socket has the port, shared or not:
    ``serve`` binds one so first, so that a second ``serve`` on the same port is refused
    rather than given half the connections."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except OSError as err:
        raise AddressError(f"cannot listen on {host}:{port}: {err}") from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        taken = " (is another server running there? choose another with --port)" if err.errno == errno.EADDRINUSE else ""
        raise AddressError(f"cannot listen on {host}:{port}: {err.strerror}{taken}") from None
    sock.listen(backlog)
    return sock


@dataclass
class Processes:
    """The server processes, forked from this one: :meth:`start`, then :meth:`wait`."""

    limits: Limits
    cap: int  # connections open at once, all processes together
    count: int

    def start(self, prepare: Prepare) -> list[str]:
        """Fork the processes; each runs *prepare* with its limits and cap, says so, then
        serves. Returns the notes they gave, or raises ConfigError with why one could not start."""
        self.pids: list[int] = []
        self.stopping = False
        # From now on SIGTERM and Ctrl-C are passed on: a process may serve before the others are up.
        for stop in STOPS:
            signal.signal(stop, self.stop)
        ready = []
        # None serves before all are ready: a connection answered by one whose sibling then
        # fails to start would see the server vanish. They wait for this pipe to close.
        go, self._go = os.pipe()
        for queries, cap in zip(shares(self.limits.query_workers, self.count), shares(self.cap, self.count), strict=True):
            own = replace(self.limits, query_workers=queries)
            read, write = os.pipe()
            signal.pthread_sigmask(signal.SIG_BLOCK, STOPS)  # until the child has its own handlers
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the child, which never returns
                for stop in STOPS:
                    signal.signal(stop, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPS)
                os.close(read)
                os.close(self._go)
                _child(write, go, partial(prepare, own, cap))
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPS)
            os.close(write)
            self.pids.append(pid)
            ready.append(read)
        os.close(go)
        answers = [_read_all(read) for read in ready]  # each until its process has started, or failed
        if self.stopping:  # told to stop meanwhile: wait() collects them
            os.close(self._go)
            return []
        problems = [answer[len("error:") :] for answer in answers if answer.startswith("error:")]
        if problems or any(not answer for answer in answers):
            self.stop()
            self.wait()
            os.close(self._go)
            raise ConfigError(problems[0] if problems else "a server process stopped while starting")
        os.close(self._go)  # all ready: serve
        return sorted({answer[len("ready:") :] for answer in answers} - {""})

    def stop(self, *_) -> None:
        self.stopping = True
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def wait(self) -> int:
        """Wait for every process (SIGTERM and Ctrl-C passed on meanwhile); 0 when each exited with 0."""
        worst = 0
        for pid in self.pids:
            while True:
                try:
                    _, status = os.waitpid(pid, 0)
                    break
                except InterruptedError:  # pragma: no cover - a signal, already passed on
                    continue
                except ChildProcessError:
                    status = 0
                    break
            code = os.waitstatus_to_exitcode(status)
            if code == -signal.SIGTERM and self.stopping:  # stopped while it started: as asked
                code = 0
            worst = max(worst, abs(code))
        return worst


def _child(write: int, go: int, prepare: Callable[[], tuple[str, Callable[[], None]]]) -> None:
    """In a forked process: tell the parent it is ready (or why not), wait until all are
    (the parent closes *go*), serve, and exit."""
    _die_with_parent()
    try:
        note, serve = prepare()
    except ConfigError as err:
        os.write(write, f"error:{err}".encode())
        os._exit(2)
    except BaseException as err:  # noqa: BLE001 - told to the parent as one line
        os.write(write, f"error:a server process could not start: {type(err).__name__}: {err}".encode())
        os._exit(2)
    os.write(write, f"ready:{note}".encode())
    os.close(write)
    os.read(go, 1)  # returns at the close of the other end, once every process is ready
    os.close(go)
    code = 0
    try:
        serve()
    except BaseException:  # noqa: BLE001 - the exit code says it; uvicorn has logged why
        code = 1
    os._exit(code)


def _read_all(fd: int) -> str:
    """What a process wrote to its pipe before closing it."""
    chunks = []
    while chunk := os.read(fd, 4096):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode("utf-8", "replace")


def _die_with_parent() -> None:
    """Have the kernel stop this process if its parent dies (Linux: PR_SET_PDEATHSIG),
    so that a killed ``serve`` leaves no server behind."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG
