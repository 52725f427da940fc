"""The connections of ``ndlld serve``: each one bounded in time, all of them in number,
and a log that stays small whatever a client does.

uvicorn alone keeps a connection that sends nothing open for ever, and one
that sends a byte now and then, and accepts connections until the process
runs out of file descriptors; then asyncio logs the same traceback for every
accept it retries. So:

* A connection has a deadline for each phase (:class:`BoundedProtocol`):
  idle (no request begun since it opened, or since its last response), the request's
  headers (from then until they are complete, however slowly they trickle
  in), its body, and each write of the response (a client that stops reading).
  Past it, the connection is closed; a request begun gets a 408 first. A request's
  line and headers together have a bound too (431).
* At most so many connections are open (:func:`connection_cap`, below the
  open-file limit). A new one beyond that takes the place of the connection
  that has waited longest for its request, and when none is waiting, it is
  answered 503 and closed at once. A request being answered is never dropped.
* The same log message is written a few times a minute at most (:class:`RepeatFilter`).

Requests are read by httptools (llhttp, in C), and a page or file asked for again is
answered from the answers kept in memory (:mod:`ndlld.httpcache`), without the
application: one parse and one write. Every response leaves in one write, its head
with its body.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import resource
import socket
import struct
import time

from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from ndlld.httpcache import HttpCache, Key, answer_of, key_of
from ndlld.server import SECURITY_HEADERS, Limits
from ndlld.web import CACHED_UP_TO, is_service

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


class BoundedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline on each phase of a connection, a cap on
    how many are open and on the size of a request's head, and the answers kept in memory
    (:mod:`ndlld.httpcache`) in front of the application; :meth:`bounded` makes the class
    for one server."""

    limits: Limits
    cap: int
    waiting: dict  # connections waiting for a request's headers, oldest first, shared by all
    cache: HttpCache | None
    # uvicorn's own headers (Date, Server) as written: it makes a new list of them each second.
    server_headers: tuple[list, bytes] = ([], b"")

    @classmethod
    def bounded(cls, limits: Limits, cap: int, cache: HttpCache | None = None) -> type[BoundedProtocol]:
        return type(cls.__name__, (cls,), {"limits": limits, "cap": cap, "waiting": {}, "cache": cache})

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # llhttp would refuse a request with both Content-Length and Transfer-Encoding with uvicorn's
        # "Invalid HTTP request"; server._Guard refuses it in its own words, and closes the connection.
        self.parser.set_dangerous_leniencies(lenient_chunked_length=True)
        self.most_head_bytes = self.limits.max_url_bytes + 16_384  # the request line and the headers
        self._reading = "idle"  # of the request coming in: none begun ("idle"), its "head", its "body", "done"
        self._answered = False  # the request being read needs nothing more: answered from the cache
        self._head_bytes = 0  # of the request's head, so far
        self._ended = False  # a request ended in the data being parsed
        self._phase: str | None = None  # what the connection waits for: "headers", "body", or nothing (None)
        self._since = 0.0  # loop.time() when that phase began
        self._timer: asyncio.TimerHandle | None = None  # at or before the phase's deadline
        self._write_deadline: asyncio.TimerHandle | None = None  # for a client that reads too slowly
        self._refused = False  # over the cap: closed before uvicorn saw it

    # -- the cap -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.cap and not self._evict():
            self._refused, self.transport = True, transport
            transport.write(BUSY)
            transport.close()
            return
        super().connection_made(transport)
        self._enter("headers")

    def _evict(self) -> bool:
        """Close the connection that has waited longest for a request, if any does."""
        if not self.waiting:
            return False
        oldest = next(iter(self.waiting))
        del self.waiting[oldest]
        oldest._drop(BUSY)
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self._timer, self._write_deadline):
            if timer is not None:
                timer.cancel()
        self.waiting.pop(self, None)
        if not self._refused:
            super().connection_lost(exc)

    # -- requests: the head bounded, answered from the cache or by the application ----
    def data_received(self, data: bytes) -> None:
        self._ended = False
        super().data_received(data)
        if self.transport.is_closing():
            return
        if self._reading == "head":  # a head not complete yet: all of this data is of it, unless a request ended in it
            self._head_bytes += 0 if self._ended else len(data)
            if self._head_bytes > self.most_head_bytes:
                return self._too_large()
        self._follow()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading, self._head_bytes, self._answered = "head", 0, False

    def on_headers_complete(self) -> None:
        self._reading = "body"
        if self.transport.is_closing():  # the connection ends with an answer already given: nothing more is read
            self._answered = True
            return
        key = key_of(self.parser.get_method(), self.url, self.headers) if self.cache is not None else None
        generation = self.cache.look() if self.cache is not None and key is not None else None
        if key is not None and self._from_cache(key):
            return
        cycle = self.cycle
        super().on_headers_complete()
        if self.cycle is not cycle:  # a new request cycle of the application's (not an upgrade)
            self._hold(self.cycle, key if not is_service(self.scope["path"]) else None, generation)

    def on_body(self, body: bytes) -> None:
        if not self._answered:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._reading, self._ended = "done", True
        if not self._answered:
            super().on_message_complete()

    def _from_cache(self, key: Key) -> bool:
        """Answer the request from the cache, in one write, when it has the answer and the
        connection has no other to give first (requests sent without waiting for answers)."""
        assert self.cache is not None
        if (self.cycle is not None and not self.cycle.response_complete) or self.pipeline:
            return False
        answer = self.cache.get(key)
        if answer is None:
            return False
        keep_alive = self.parser.get_http_version() != "1.0" and self.parser.should_keep_alive()
        self.transport.write(answer.response(self._server_headers(self.server_state.default_headers), keep_alive))
        self._answered = True
        self.server_state.total_requests += 1
        if keep_alive:
            self._enter("headers")  # the next request's deadlines count from this answer
        else:
            self.transport.close()
        return True

    def _hold(self, cycle: RequestResponseCycle, key: Key | None, generation: tuple | None) -> None:
        """Have *cycle* write its response through a :class:`Held` transport, and keep the
        response in the cache once complete when *key* is given."""
        held = Held(self.transport, cycle, copy=key is not None)
        cycle.transport = held
        done = cycle.on_response

        def completed() -> None:
            held.flush()
            if key is not None and held.head is not None and held.body is not None and cycle.keep_alive and self.cache is not None:
                answer = answer_of(held.head, self._server_headers(cycle.default_headers), b"".join(held.body))
                if answer is not None:
                    self.cache.keep(key, generation, answer)
            done()

        cycle.on_response = completed

    @classmethod
    def _server_headers(cls, headers: list[tuple[bytes, bytes]]) -> bytes:
        if cls.server_headers[0] is not headers:
            cls.server_headers = (headers, b"".join(name.lower() + b": " + value + b"\r\n" for name, value in headers))
        return cls.server_headers[1]

    def _too_large(self) -> None:
        """A request's head past its bound: 431, unless an answer is being written, and closed."""
        if self.cycle is None or self.cycle.response_complete:
            message = f"request header fields too large: a request's line and headers may have at most {self.most_head_bytes} bytes"
            self.transport.write(raw_response(431, "Request Header Fields Too Large", message))
        self.transport.close()

    # -- the deadlines ---------------------------------------------------------------
    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._follow()

    def _follow(self) -> None:
        """Give the connection the deadline of the phase it is in now: waiting for a
        request's headers, for its body, or none while it is answered."""
        answering = (self.cycle is not None and not self.cycle.response_complete) or bool(self.pipeline)
        phase = "body" if self._reading == "body" else None if answering else "headers"
        if phase != self._phase:
            self._enter(phase)

    def _enter(self, phase: str | None) -> None:
        """Begin *phase* now. Its deadline is looked at when the timer fires, which it does
        no later than the deadline: a request answered from the cache moves no timer."""
        self._phase, self._since = phase, self.loop.time()
        self.waiting.pop(self, None)
        if phase is None or self.transport.is_closing():
            return
        if phase == "headers":
            self.waiting[self] = None
        due = self._due()
        if self._timer is None or self._timer.when() > due:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self.loop.call_at(due, self._expire)

    def _due(self) -> float:
        """The deadline of the phase: idle (no request begun) or the headers since the phase
        began, or the body."""
        limits = self.limits
        if self._phase == "body":
            return self._since + limits.body_timeout
        if self._reading == "head":
            return self._since + limits.header_timeout
        return self._since + min(limits.idle_timeout, limits.header_timeout)

    def _expire(self) -> None:
        self._timer = None
        if self._phase is None or self.transport.is_closing():
            return
        due = self._due()
        if due - self.loop.time() > 0.001:  # the phase began again since the timer was set
            self._timer = self.loop.call_at(due, self._expire)
            return
        self._drop()

    def _drop(self, answer: bytes | None = None) -> None:
        """Close the connection; a request begun and not answered gets *answer* first,
        by default a 408 for its phase's deadline."""
        if self.transport.is_closing():
            return
        begun = self._phase == "body" or (self._phase == "headers" and self._reading == "head")
        answered = self._phase == "body" and self.cycle is not None and self.cycle.response_started
        if begun and not answered:
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


class Held(asyncio.Transport):
    """The connection's transport as one request's cycle writes to it. The response's head
    is held back until its body comes, or the response ends without one, so that both leave
    in one write (one system call, where uvicorn makes two); with *copy*, the response is
    kept (the head, and the body up to what the cache keeps) for the cache."""

    def __init__(self, transport: asyncio.Transport, cycle: RequestResponseCycle, copy: bool):
        super().__init__()
        self.transport, self.cycle = transport, cycle
        self.head: bytes | None = None
        self.held = False
        self.body: list[bytes] | None = [] if copy else None  # None once more than the cache keeps
        self.body_bytes = 0

    def write(self, data) -> None:
        if not self.cycle.response_started:  # "100 Continue", before the response
            self.transport.write(data)
            return
        if self.head is None:
            self.head, self.held = bytes(data), True
            return
        if self.body is not None:
            self.body_bytes += len(data)
            if self.body_bytes > CACHED_UP_TO:
                self.body = None
            else:
                self.body.append(bytes(data))
        if self.held:
            self.held = False
            self.transport.write(self.head + bytes(data))
        else:
            self.transport.write(data)

    def flush(self) -> None:
        if self.held:
            self.held = False
            self.transport.write(self.head or b"")

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def get_extra_info(self, name, default=None):
        return self.transport.get_extra_info(name, default)


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
