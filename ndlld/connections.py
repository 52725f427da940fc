"""The connections of ``ndlld serve``: each one bounded in time, all of them in number,
and a log that stays small whatever a client does.

uvicorn alone keeps a connection that sends nothing open for ever, and one
that sends a byte now and then, and accepts connections until the process
runs out of file descriptors; then asyncio logs the same traceback for every
accept it retries. So:

* A connection has a deadline for each phase (:class:`BoundedH11Protocol`):
  idle (no byte since it opened, or since its last response), the request's
  headers (from then until they are complete, however slowly they trickle
  in), its body, and each write of the response (a client that stops reading).
  Past it, the connection is closed; a request begun gets a 408 first.
* At most so many connections are open (:func:`connection_cap`, below the
  open-file limit). A new one beyond that takes the place of the connection
  that has waited longest for its request, and when none is waiting, it is
  answered 503 and closed at once. A request being answered is never dropped.
* The same log message is written a few times a minute at most (:class:`RepeatFilter`).
"""

from __future__ import annotations

import asyncio
import copy
import logging
import resource
import socket
import struct
import time

import h11
from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.h11_impl import H11Protocol

from ndlld.server import SECURITY_HEADERS, Limits

# Connections asyncio may accept in one turn of the event loop, before any of them
# is counted; also the kernel's queue of connections not yet accepted.
BACKLOG = 64


def raw_response(status: int, reason: str, message: str) -> bytes:
    """A whole HTTP/1.1 response that closes its connection, for the answers given
    outside any request (the connection's own deadlines and cap)."""
    body = (message + "\n").encode("utf-8")
    headers = {"Content-Type": "text/plain; charset=utf-8", "Content-Length": str(len(body)), "Connection": "close", **SECURITY_HEADERS}
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return (head + "\r\n").encode("latin-1") + body


BUSY = raw_response(503, "Service Unavailable", "busy: too many connections; try again later")


def open_file_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit, and return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):  # a hard limit the kernel will not grant (nr_open)
            pass
    return soft


def connection_cap(limits: Limits, open_files: int) -> int:
    """How many connections may be open at once: *limits*' own number, or fewer when the
    open-file limit is lower. A connection may hold a file it is sending besides its socket;
    the query workers' pipes, the connections accepted in one turn and the
    server's own files need the rest."""
    reserve = 64 + 2 * limits.query_workers + 2 * BACKLOG
    return max(0, min(limits.max_connections, (open_files - reserve) // 2))


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline on each phase of a connection and a cap on
    how many are open; :meth:`bounded` makes the class for one server."""

    limits: Limits
    cap: int
    waiting: dict  # connections waiting for a request's headers, oldest first, shared by all
    _phase: str | None  # what the connection waits for: "headers", "body", or nothing (None)
    _deadline: asyncio.TimerHandle | None  # of that phase
    _write_deadline: asyncio.TimerHandle | None  # for a client that reads too slowly
    _refused: bool  # over the cap: closed before uvicorn saw it

    @classmethod
    def bounded(cls, limits: Limits, cap: int) -> type[BoundedH11Protocol]:
        return type(cls.__name__, (cls,), {"limits": limits, "cap": cap, "waiting": {}})

    # -- the cap -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._phase, self._deadline, self._write_deadline, self._refused = None, None, None, False
        if len(self.connections) >= self.cap and not self._evict():
            self._refused, self.transport = True, transport
            transport.write(BUSY)
            transport.close()
            return
        super().connection_made(transport)
        # uvicorn's keep-alive deadline only starts after a response: start it now too.
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)
        self._follow()

    def _evict(self) -> bool:
        """Close the connection that has waited longest for a request, if any does."""
        if not self.waiting:
            return False
        oldest = next(iter(self.waiting))
        del self.waiting[oldest]
        oldest._drop(BUSY)
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        for deadline in (self._deadline, self._write_deadline):
            if deadline is not None:
                deadline.cancel()
        self.waiting.pop(self, None)
        if not self._refused:
            super().connection_lost(exc)

    # -- the deadlines ---------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._follow()

    def _follow(self) -> None:
        """Give the connection the deadline of the phase it is in now: waiting for a
        request's headers, for its body, or none while it is answered."""
        state = self.conn.their_state
        if state is h11.IDLE and (self.cycle is None or self.cycle.response_complete):
            phase, seconds = "headers", self.limits.header_timeout
        elif state is h11.SEND_BODY:
            phase, seconds = "body", self.limits.body_timeout
        else:
            phase, seconds = None, 0.0
        if phase == self._phase:
            return
        if self._deadline is not None:
            self._deadline.cancel()
        self._phase, self._deadline = phase, None
        self.waiting.pop(self, None)
        if phase is None or self.transport.is_closing():
            return
        self._deadline = self.loop.call_later(seconds, self._drop)
        if phase == "headers":
            self.waiting[self] = None

    def _drop(self, answer: bytes | None = None) -> None:
        """Close the connection; a request begun and not answered gets *answer* first,
        by default a 408 for its phase's deadline."""
        if self.transport.is_closing():
            return
        begun = self._phase == "body" or (self._phase == "headers" and bool(self.conn.trailing_data[0]))
        if begun and (self.cycle is None or not self.cycle.response_started):
            limit = self.limits.body_timeout if self._phase == "body" else self.limits.header_timeout
            message = f"request timeout: the request's {self._phase} must arrive within {limit:g} s"
            self.transport.write(answer or raw_response(408, "Request Timeout", message))
        self.transport.close()

    def pause_writing(self) -> None:
        """The client reads slower than the response is written: it has so long to catch up."""
        super().pause_writing()
        if self._write_deadline is None:
            self._write_deadline = self.loop.call_later(self.limits.send_timeout, self._reset)

    def _reset(self) -> None:
        """Drop the connection with a reset: a plain close would leave what the kernel
        holds for it to be sent, as slowly as the client pleases."""
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._write_deadline is not None:
            self._write_deadline.cancel()
            self._write_deadline = None


class RepeatFilter(logging.Filter):
    """Lets the same message (by its logger and text before arguments) through *burst*
    times per *period* seconds, saying so the last time: a client that makes the server
    log with every request must not fill the disk."""

    def __init__(self, burst: int = 3, period: float = 60.0):
        super().__init__()
        self.burst, self.period = burst, period
        self.seen: dict[tuple, tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        if len(self.seen) > 1_000:  # messages of many kinds: forget those of past periods
            self.seen = {key: value for key, value in self.seen.items() if now - value[0] < self.period}
        key = (record.name, record.levelno, str(record.msg))
        start, count = self.seen.get(key, (now, 0))
        if now - start >= self.period:
            start, count = now, 0
        self.seen[key] = (start, count + 1)
        if count + 1 == self.burst:
            record.msg = f"{record.msg} [said {self.burst} times: not again for {self.period:g} s]"
        return count < self.burst


def log_config() -> dict:
    """uvicorn's logging configuration, with :class:`RepeatFilter` on every handler, and
    asyncio's messages (a failed accept, for one) through the same handler."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"repeats": {"()": RepeatFilter}}
    for handler in config["handlers"].values():
        handler["filters"] = ["repeats"]
    config["loggers"]["asyncio"] = {"handlers": ["default"], "level": "WARNING", "propagate": False}
    return config
