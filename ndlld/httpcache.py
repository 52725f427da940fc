"""The answers of ``ndlld serve`` kept in memory: an HTTP cache beside the application, as
nginx's ``proxy_cache`` or Varnish would stand in front of it.

A page or a file costs the application (uvicorn's request cycle, Starlette, the look at
the files) far more than writing it does, and its answer depends on nothing but the
request and the build being served. So the connection (:mod:`ndlld.connections`) keeps
the complete response the application gave, its bytes as written (status, headers, body),
and answers the same request again with them, the ``Date`` header written anew:

* **What is kept.** Answers to GET and HEAD without a body, of any path but the services
  (:func:`ndlld.web.is_service`: ``/sparql``, ``/search``, ``/reconcile``), with a status of
  :data:`STATUSES`, a body of :data:`~ndlld.web.CACHED_UP_TO` at most (the dumps are sent
  from disk), and a connection kept open (no ``Connection: close`` of the application's).
* **The key** (RFC 9111 §4.1) is the method, the request target as sent, and every value of
  each request header in :data:`KEYED`: those the pages and files are chosen by, whether a
  response names them in ``Vary`` (``Accept``, ``Accept-Language``, ``Accept-Encoding``) or
  not (``Origin``, which adds the CORS headers; the validators of a conditional request;
  ``Range``). A response whose ``Vary`` names another header is not kept.
* **Dropped whole** when the build served changes: a build swaps a new output in at the
  directory's name (:mod:`ndlld.output`), which is looked at before each answer (one
  ``stat``). A file changed in place, by hand, is answered as it is now after
  :data:`LIFETIME` at most, which is each answer's life.
* **Bounded**: so many answers and so many bytes per process, the least recently used
  dropped first.

So every status and header (303, 304, ``Link``, CORS, the security headers,
``Content-Language``, the 404 and 410 pages) is the application's, by construction. It is the
server's own cache, not one between client and server: no ``Age`` header (RFC 9111 §5.1), and
nothing of it is seen by another server.
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from ndlld.web import CACHED_UP_TO

STATUSES = frozenset({200, 301, 303, 304, 404, 406, 410})  # the answers of pages and files
# The request headers web.answer and server._page read. A header they come to read must be
# added here, or the cache would answer one client with what another was given.
KEYED = frozenset(
    {b"accept", b"accept-encoding", b"accept-language", b"origin", b"if-none-match", b"if-modified-since", b"range", b"if-range"}
)
BODY = frozenset({b"content-length", b"transfer-encoding"})  # a request with a body is never answered from here
LIFETIME = 1.0  # seconds: a file edited in place by hand, not by a build, is seen this late at most
ENTRY_BYTES = 512  # what an answer costs beside its bytes and its key's (the objects holding them)

Key = tuple[bytes, bytes, tuple[tuple[bytes, bytes], ...]]


def key_of(method: bytes, target: bytes, headers: list[tuple[bytes, bytes]]) -> Key | None:
    """The key of a request (its header names lowercased), or None when its answer is never
    kept: not a GET or HEAD, or one with a body."""
    if method not in (b"GET", b"HEAD"):
        return None
    keyed = []
    for name, value in headers:
        if name in KEYED:
            keyed.append((name, value))
        elif name in BODY:
            return None
    return method, target, tuple(keyed)


@dataclass(frozen=True)
class Answer:
    """A response as the server wrote it, but for its status line and the server's own
    headers (``Date``, ``Server``), which come first and are written anew each time."""

    status_line: bytes
    headers: bytes  # each ending with CRLF, without the empty line that ends them
    body: bytes
    expires: float  # time.monotonic()

    def response(self, server_headers: bytes, keep_alive: bool) -> bytes:
        """The whole response, as uvicorn writes it: ``Connection: close`` last when the
        connection ends after it."""
        close = b"" if keep_alive else b"connection: close\r\n"
        return b"".join((self.status_line, server_headers, self.headers, close, b"\r\n", self.body))

    def cost(self, key: Key) -> int:
        """The bytes it holds kept under *key*, that key's included (a target and headers may be long)."""
        _, target, headers = key
        keyed = sum(len(name) + len(value) for name, value in headers)
        return len(self.status_line) + len(self.headers) + len(self.body) + len(target) + keyed + ENTRY_BYTES


class HttpCache:
    """The answers of one server process for the build in *root*: at most *max_bytes*
    (:meth:`Answer.cost`) and *max_entries* of them."""

    def __init__(self, root: Path, max_bytes: int, max_entries: int = 4_096):
        self.root, self.max_bytes, self.max_entries = root, max_bytes, max_entries
        self.answers: OrderedDict[Key, Answer] = OrderedDict()  # least recently used first
        self.total = 0  # bytes, as Answer.cost counts them
        self.generation: tuple | None = None  # of the output the answers came from

    def look(self) -> tuple | None:
        """The generation of the output served now, the answers of any other dropped: the
        directory's identity, which a build's swap changes (a new directory, or the spare
        written into). None while there is none (between the two renames of a swap without
        ``renameat2``): nothing is answered or kept then."""
        try:
            stat = os.stat(self.root)
        except OSError:
            generation = None
        else:
            generation = (stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_ctime_ns)
        if generation != self.generation:
            self.answers.clear()
            self.total = 0
            self.generation = generation
        return generation

    def get(self, key: Key) -> Answer | None:
        """The answer kept for *key*, if there is one for the output :meth:`look` found."""
        answer = self.answers.get(key)
        if answer is None:
            return None
        if answer.expires < time.monotonic():
            self._drop(key)
            return None
        self.answers.move_to_end(key)
        return answer

    def keep(self, key: Key, generation: tuple | None, answer: Answer) -> None:
        """Keep *answer*, made for *key* from the output of *generation* (:meth:`look` as
        the request came), unless another output is served now or it is too big."""
        if generation is None or generation != self.generation or len(answer.body) > CACHED_UP_TO:
            return
        if key in self.answers:
            self._drop(key)
        self.answers[key] = answer
        self.total += answer.cost(key)
        while self.answers and (self.total > self.max_bytes or len(self.answers) > self.max_entries):
            self._drop(next(iter(self.answers)))

    def _drop(self, key: Key) -> None:
        self.total -= self.answers.pop(key).cost(key)


def answer_of(head: bytes, server_headers: bytes, body: bytes) -> Answer | None:
    """The response the application gave, as written (*head*: its status line and headers,
    ended by an empty line; *server_headers*: those uvicorn wrote after the status line),
    as an :class:`Answer` to keep; None when it is not to be kept."""
    status_line, _, rest = head.partition(b"\r\n")
    status_line += b"\r\n"
    if not rest.startswith(server_headers) or not head.endswith(b"\r\n\r\n"):
        return None
    try:
        status = int(status_line[9:12])
    except ValueError:
        return None
    headers = rest[len(server_headers) : -2]
    if status not in STATUSES or not _keepable(headers):
        return None
    return Answer(status_line, headers, body, time.monotonic() + LIFETIME)


def _keepable(headers: bytes) -> bool:
    """Whether headers (lowercased names, as uvicorn writes them) allow keeping the answer:
    a connection kept open, no chunks, nothing private, and a ``Vary`` the key covers."""
    for line in headers.split(b"\r\n"):
        name, _, value = line.partition(b": ")
        if name in (b"connection", b"transfer-encoding", b"set-cookie"):
            return False
        if name == b"cache-control" and (b"no-store" in value or b"private" in value):
            return False
        if name == b"vary" and not {token.strip().lower() for token in value.split(b",")} <= KEYED:
            return False
    return True
