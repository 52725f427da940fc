"""Faults between ndlld and a real store, injected on demand.

Nothing real drops a connection half-way through an upload, or answers 500
just twice, when a test asks it to. FaultProxy stands in for the network in
front of a real store (a real ``oxigraph serve``): a small loopback proxy that
takes one request per connection, and for each request either forwards it
untouched or does what its script says:

- ``Status(500)``: answers that status itself; the store never sees the request.
- ``Cut(after=N)``: forwards the first N bytes of the request body to the store,
  then closes both connections (``after=None``: once the whole body is
  forwarded, before the store answers). ``then`` runs at the cut, e.g. to kill
  the store by its pid.
- ``Slow(seconds)``: forwards the request, and holds the store's answer back for
  that long.

A fault applies to ``times`` matching requests (``None``: all of them). The
proxy records what it did with each request in ``log``.
"""

from __future__ import annotations

import itertools
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class Status:
    code: int = 500
    times: int | None = 1


@dataclass
class Cut:
    after: int | None = None
    times: int | None = 1
    then: Callable[[], None] | None = None


@dataclass
class Slow:
    seconds: float
    times: int | None = 1


Fault = Status | Cut | Slow


class LoopbackServer:
    """A TCP server on a free loopback port, each connection handed to ``_handle`` in a thread of its own."""

    def __init__(self):
        server = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                server._handle(self.request)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handle(self, client: socket.socket) -> None:
        raise NotImplementedError


class FaultProxy(LoopbackServer):
    """A loopback proxy in front of *upstream* (``http://host:port``).

    *faults* maps ``"METHOD /path"`` (e.g. ``"PUT /store"``) to the fault for
    such requests."""

    def __init__(self, upstream: str, faults: dict[str, Fault] | None = None):
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname, parts.port)
        self.faults = dict(faults or {})
        self.log: list[str] = []
        self._lock = threading.Lock()
        super().__init__()

    def _take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            fault = self.faults.get(f"{method} {path}")
            if fault is None or fault.times == 0:
                self.log.append(f"{method} {path}: forwarded")
                return None
            if fault.times is not None:
                fault.times -= 1
            self.log.append(f"{method} {path}: {type(fault).__name__}")
            return fault

    def _handle(self, client: socket.socket) -> None:
        reader = client.makefile("rb")
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            line = reader.readline()
            if not line:
                return
            head += line
        request_line, *header_lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
        method, target, _ = request_line.split(" ", 2)
        headers = {name.strip().lower(): value.strip() for name, _, value in (h.partition(":") for h in header_lines)}
        if "chunked" in headers.get("transfer-encoding", ""):
            raise NotImplementedError("FaultProxy forwards bodies with a Content-Length only")
        length = int(headers.get("content-length") or 0)
        fault = self._take(method, urlsplit(target).path)

        if isinstance(fault, Status):
            _read(reader, length)
            client.sendall(
                f"HTTP/1.1 {fault.code} Injected\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n"
                "Connection: close\r\n\r\ninjected\n".encode("latin-1")
            )
            _close(client)
            return
        try:
            upstream = socket.create_connection(self.upstream, timeout=30)
        except OSError:
            _close(client)  # as a TCP proxy does when nothing listens behind it
            return
        try:
            # One request per connection: the store closes it after answering.
            kept = [h for h in header_lines if h.partition(":")[0].strip().lower() not in ("connection", "keep-alive")]
            upstream.sendall("\r\n".join([request_line, *kept, "Connection: close", "", ""]).encode("latin-1"))
            limit = length if not isinstance(fault, Cut) or fault.after is None else min(fault.after, length)
            sent = 0
            while sent < limit:
                chunk = reader.read1(min(65536, limit - sent))
                if not chunk:
                    break
                upstream.sendall(chunk)
                sent += len(chunk)
            if isinstance(fault, Cut):
                if fault.then is not None:
                    fault.then()
                return
            if sent < length:
                return  # the client went away
            answer = upstream.recv(65536)
            if isinstance(fault, Slow):
                time.sleep(fault.seconds)
            while answer:
                client.sendall(answer)
                answer = upstream.recv(65536)
        except OSError:
            pass  # the client gave up, or the store is gone
        finally:
            _close(upstream)
            _close(client)


def _read(reader, length: int) -> None:
    while length > 0:
        chunk = reader.read1(min(65536, length))
        if not chunk:
            return
        length -= len(chunk)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class Stranger(LoopbackServer):
    """A loopback HTTP server that does what a stranger's server may: each path (without
    its query) is answered by a function given the connected socket, which writes what
    it likes (a redirect, a body that never ends, a byte at a time). The paths asked for
    are recorded in ``asked``; an unknown path is a 404."""

    def __init__(self, answers: dict[str, Callable[[socket.socket], None]]):
        self.answers, self.asked = dict(answers), []
        super().__init__()

    def _handle(self, client: socket.socket) -> None:
        reader = client.makefile("rb")
        request_line, length = reader.readline().decode("latin-1"), 0
        while (line := reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            length = int(value) if name.strip().lower() == "content-length" else length
        _read(reader, length)  # the whole request, so that closing does not reset the connection
        path = urlsplit(request_line.split(" ")[1]).path if request_line.count(" ") >= 2 else "?"
        self.asked.append(path)
        try:
            self.answers.get(path, answer(404, b"not here\n"))(client)
        except OSError:
            pass  # the client went away: it stopped reading, as it should
        finally:
            _close(client)


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} Answer", *(f"{name}: {value}" for name, value in headers.items()), "", ""]
    return "\r\n".join(lines).encode("latin-1")


def answer(status: int, body: bytes, **headers: str) -> Callable[[socket.socket], None]:
    """A whole answer: *headers* (``Content_Type="text/turtle"``), a Content-Length unless given, the body."""
    headers = {name.replace("_", "-"): value for name, value in headers.items()}
    headers.setdefault("Content-Length", str(len(body)))

    def send(client: socket.socket) -> None:
        client.sendall(_head(status, {**headers, "Connection": "close"}) + body)

    return send


def endless(status: int = 200, piece: bytes = b"\0" * 65536, chunked: bool = False, **headers: str) -> Callable[[socket.socket], None]:
    """*piece* again and again, until the client hangs up; no Content-Length unless given,
    in chunks of the chunked transfer coding if *chunked*."""
    headers = {name.replace("_", "-"): value for name, value in headers.items()}
    if chunked:
        headers["Transfer-Encoding"] = "chunked"
        piece = b"%x\r\n%b\r\n" % (len(piece), piece)

    def send(client: socket.socket) -> None:
        client.sendall(_head(status, {**headers, "Connection": "close"}))
        while True:
            client.sendall(piece)

    return send


def trickle(text: bytes, every: float, head_too: bool = False, **headers: str) -> Callable[[socket.socket], None]:
    """*text* over and over, one byte each *every* seconds: the body (and with *head_too*
    the status line and headers too), so that no single wait is long."""
    headers = {name.replace("_", "-"): value for name, value in headers.items()}

    def send(client: socket.socket) -> None:
        head = _head(200, {**headers, "Connection": "close"})
        if not head_too:
            client.sendall(head)
        for byte in itertools.chain(head if head_too else b"", itertools.cycle(text)):
            client.sendall(bytes([byte]))
            time.sleep(every)

    return send


def silent(client: socket.socket) -> None:
    """Says nothing, until the client hangs up."""
    while client.recv(65536):
        pass


def redirect(location: str, status: int = 302) -> Callable[[socket.socket], None]:
    return answer(status, b"", Location=location)
