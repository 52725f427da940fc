"""Reading what others publish, within bounds: the input of ``ndlld harvest`` and ``ndlld diff``.

A source from a stranger may be a gzip bomb, a body that never ends, a server
that sends a byte every few seconds, or a redirect to an address inside the
network (a cloud's metadata service, a router's admin page). So a fetch reads
in chunks and stops at a byte limit (on what arrives, and on what it
decompresses to) and at one deadline for the whole fetch; and it follows
redirects itself: to another host only if every address of that host is a
public one, and then it connects to the address it checked, so that a second
DNS answer cannot lead it elsewhere.

HTTP is spoken by httpcore, the engine under httpx, because it lets ndlld
choose where each connection goes and cut every wait to the time left. A
file must be a regular file (not ``/dev/zero``, a pipe or a directory).
"""

from __future__ import annotations

import io
import ipaddress
import itertools
import os
import socket
import stat
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ndlld import __version__
from ndlld.errors import HarvestError

if TYPE_CHECKING:
    from httpcore import NetworkBackend, NetworkStream
else:  # httpcore is imported when a URL is fetched, not with the CLI: it takes longer than the rest
    NetworkBackend = NetworkStream = object  # its pool calls a backend's methods, never isinstance()

MAX_BYTES = 2 * 1024**3  # the most a source may be, as it arrives and once decompressed
TIMEOUT = 300.0  # seconds for a whole fetch: connecting, redirects, every byte
MAX_REDIRECTS = 10
CHUNK = 1 << 16
REDIRECTS = {301, 302, 303, 307, 308}
GZIP_MAGIC = b"\x1f\x8b"
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # IPv6 addresses that stand for IPv4 ones


@dataclass(frozen=True)
class Limits:
    """How much a fetch may read (bytes), and for how long (seconds)."""

    max_bytes: int = MAX_BYTES
    timeout: float = TIMEOUT


@dataclass
class Fetched:
    """A source's bytes (gzip undone), its media type (from HTTP; None for a file), and its name."""

    content: bytes
    media_type: str | None
    name: str


def is_url(source: str) -> bool:
    return urlsplit(source).scheme in ("http", "https")


def fetch(source: str, limits: Limits = Limits(), accept: str | None = None) -> Fetched:
    """The bytes of a path or http(s) URL (asked for as *accept*, if given), within *limits*;
    HarvestError (one line, with the HTTP status if one refused it) otherwise."""
    deadline = Deadline(source, limits.timeout)
    if is_url(source):
        return _fetch_url(source, limits, deadline, accept)
    name = Path(source).name
    return Fetched(_read_all(_file_chunks(source, limits), source, name, False, limits, deadline), None, name)


class Deadline:
    """The end of one fetch; every wait on the network is cut to the time left."""

    def __init__(self, source: str, seconds: float):
        self.source, self.seconds = source, seconds
        self.end = time.monotonic() + seconds

    def cap(self, timeout: float | None) -> float:
        """*timeout*, or the time left if that is shorter; httpcore's timeout when none is left."""
        import httpcore

        left = self.end - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("the deadline has passed")
        return left if timeout is None else min(timeout, left)

    def check(self) -> None:
        if time.monotonic() >= self.end:
            raise self.error()

    def error(self) -> HarvestError:
        return HarvestError(f"{self.source}: not read within {self.seconds:g} s", hint=("--timeout", "--timeout allows longer"))


def _too_large(source: str, limits: Limits) -> HarvestError:
    return HarvestError(f"{source}: larger than {limits.max_bytes} bytes", hint=("--max-bytes", "--max-bytes raises the limit"))


# -- bytes, counted and decompressed a chunk at a time ---------------------------------


def _read_all(chunks: Iterator[bytes], source: str, name: str, encoded: bool, limits: Limits, deadline: Deadline) -> bytes:
    """The content of *chunks* (gzip undone: the transfer's if *encoded*, the file's if it
    is named ``.gz`` or starts as gzip does), never holding more than the limit and a chunk."""
    chunks = _limited(chunks, source, limits, deadline)
    content = io.BytesIO()
    try:
        if encoded:
            chunks = _gunzip(chunks)
        head, chunks = _head(chunks, len(GZIP_MAGIC))
        if name.endswith(".gz") or head == GZIP_MAGIC:
            chunks = _gunzip(chunks)
        for chunk in chunks:
            if content.tell() + len(chunk) > limits.max_bytes:
                raise _too_large(source, limits)
            content.write(chunk)
    except (zlib.error, EOFError) as err:
        raise HarvestError(f"{source}: the gzip data is truncated or corrupt ({err})") from None
    except MemoryError:  # the machine (or a ulimit) holds less than --max-bytes allows
        raise out_of_memory(source) from None
    return content.getvalue()


def out_of_memory(source: str) -> HarvestError:
    return HarvestError(
        f"{source}: not enough memory to read it", hint=("--max-bytes", "a lower --max-bytes refuses such a source at once")
    )


def _limited(chunks: Iterator[bytes], source: str, limits: Limits, deadline: Deadline) -> Iterator[bytes]:
    """*chunks* as they come, until the byte limit or the deadline."""
    count = 0
    for chunk in chunks:
        count += len(chunk)
        if count > limits.max_bytes:
            raise _too_large(source, limits)
        deadline.check()
        yield chunk


def _head(chunks: Iterator[bytes], size: int) -> tuple[bytes, Iterator[bytes]]:
    """The first *size* bytes of *chunks* (fewer if there are not as many), and all of them still to be read."""
    taken, seen = [], 0
    for chunk in chunks:
        taken.append(chunk)
        seen += len(chunk)
        if seen >= size:
            break
    return b"".join(taken)[:size], itertools.chain(taken, chunks)


def _gunzip(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The bytes a gzip stream (of one member or several) stands for, at most a chunk at a
    time, however much a few bytes expand to; EOFError if it ends before its end."""
    inflate, fed = zlib.decompressobj(zlib.MAX_WBITS | 16), False
    for data in chunks:
        if not fed and not data.strip(b"\0"):
            continue  # zeros after the last member, as gzip allows
        fed = True
        while True:
            out = inflate.decompress(data, CHUNK)
            if out:
                yield out
            if inflate.eof:  # the member is whole; what follows it may be another
                data, inflate = inflate.unused_data, zlib.decompressobj(zlib.MAX_WBITS | 16)
                fed = bool(data.strip(b"\0"))
                if not fed:
                    break
                continue
            data = inflate.unconsumed_tail
            if not data and len(out) < CHUNK:  # all taken in, nothing held back
                break
    if fed:
        raise EOFError("it ends before the end of its compressed data")


# -- files ------------------------------------------------------------------------------


def _file_chunks(source: str, limits: Limits) -> Iterator[bytes]:
    """A regular file's bytes; a device, pipe or directory is refused before a byte is read."""
    try:
        # O_NONBLOCK: opening a named pipe returns at once rather than waiting for a writer.
        descriptor = os.open(source, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise HarvestError(f"{source}: cannot read it ({err.strerror})") from None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode) or info.st_size > limits.max_bytes:
        os.close(descriptor)
        raise _too_large(source, limits) if stat.S_ISREG(info.st_mode) else HarvestError(f"{source}: not a regular file")
    with open(descriptor, "rb", buffering=0) as file:
        while True:
            try:
                chunk = file.read(CHUNK)
            except OSError as err:
                raise HarvestError(f"{source}: cannot read it ({err.strerror})") from None
            if not chunk:
                return
            yield chunk


# -- HTTP -------------------------------------------------------------------------------


def _fetch_url(source: str, limits: Limits, deadline: Deadline, accept: str | None = None) -> Fetched:
    import httpcore
    import httpx

    try:
        url = httpx.URL(source)
    except httpx.InvalidURL as err:
        raise HarvestError(f"{source}: not a URL ndlld can fetch ({err})") from None
    if not url.host:
        raise HarvestError(f"{source}: not a URL ndlld can fetch (no host)")
    backend = _Guarded(url.raw_host.decode("ascii"), deadline)
    with httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(), network_backend=backend) as pool:
        response, at = _follow(pool, url, source, deadline, accept)
        try:
            headers = _headers(response)
            if response.status >= 400:  # its body is not read at all
                raise HarvestError(f"{source}: HTTP {response.status}" + (f" from {at}" if at != url else ""), status=response.status)
            content = _read_body(response, headers, source, url.path, limits, deadline)
        finally:
            response.close()
    return Fetched(content, headers.get("content-type", "").split(";")[0].strip().lower(), url.path)


def _headers(response) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1").strip() for name, value in response.headers}


def _read_body(response, headers: dict[str, str], source: str, name: str, limits: Limits, deadline: Deadline) -> bytes:
    """A response's body within *limits*: a Content-Length past the limit is refused before a byte is read."""
    length = headers.get("content-length", "")
    if length.isdigit() and int(length) > limits.max_bytes:
        raise _too_large(source, limits)
    encoding = headers.get("content-encoding", "identity").lower()
    if encoding not in ("identity", "gzip", "x-gzip"):
        raise HarvestError(f"{source}: sent with Content-Encoding {encoding}, which ndlld does not undo")
    return _read_all(_network_chunks(response, source, deadline), source, name, encoding != "identity", limits, deadline)


def _follow(pool, url, source: str, deadline: Deadline, accept: str | None = None):
    """The response at *url* once redirects (at most MAX_REDIRECTS) are followed, and the URL it came from."""
    for _ in range(MAX_REDIRECTS + 1):
        response = _get(pool, url, source, deadline, accept)
        if response.status not in REDIRECTS:
            return response, url
        location = _headers(response).get("location")
        response.close()
        if location is None:
            raise HarvestError(f"{source}: HTTP {response.status} without a Location")
        url = _next_hop(url, location, source)
    raise HarvestError(f"{source}: more than {MAX_REDIRECTS} redirects")


def _next_hop(url, location: str, source: str):
    import httpx

    try:
        hop = url.join(location)
    except httpx.InvalidURL as err:
        raise HarvestError(f"{source}: redirected to a URL that is not one ({err})") from None
    if hop.scheme not in ("http", "https") or not hop.host:
        raise HarvestError(f"{source}: refused a redirect to {hop}: only http(s) is followed")
    return hop


def _get(pool, url, source: str, deadline: Deadline, accept: str | None = None):
    import httpcore

    target = httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path)
    headers = [(b"Host", url.netloc), (b"Accept-Encoding", b"identity"), (b"User-Agent", f"ndlld/{__version__}".encode("ascii"))]
    if accept:
        headers.append((b"Accept", accept.encode("ascii")))
    where = "" if str(url) == source else f" at {url}"
    try:
        left = deadline.cap(None)
        timeouts = {"connect": left, "read": left, "write": left, "pool": left}
        return pool.handle_request(httpcore.Request("GET", target, headers=headers, extensions={"timeout": timeouts}))
    except _Refused as refused:
        raise HarvestError(f"{source}: refused a redirect to {url}: {refused}") from None
    except httpcore.TimeoutException:
        raise deadline.error() from None
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as err:
        raise HarvestError(f"{source}: cannot fetch it{where} ({_reason(err)})") from None


def _network_chunks(response, source: str, deadline: Deadline) -> Iterator[bytes]:
    import httpcore

    try:
        yield from response.iter_stream()
    except httpcore.TimeoutException:
        raise deadline.error() from None
    except (httpcore.NetworkError, httpcore.ProtocolError) as err:
        raise HarvestError(f"{source}: the connection ended before the whole body came ({_reason(err)})") from None


def _reason(err: Exception) -> str:
    lines = str(err).strip().splitlines()
    return lines[0][:200] if lines else type(err).__name__


class _Refused(Exception):
    """A hop to another host at an address a redirect may not lead to."""


def address_kind(address: str) -> str | None:
    """Why a redirect may not lead to *address* ("loopback", "private", "link-local", …),
    or None for a public address. An IPv6 address that stands for an IPv4 one is judged as that."""
    ip = ipaddress.ip_address(address.partition("%")[0])
    candidates = [ip]
    if ip.version == 6:
        embedded = ip.ipv4_mapped or ip.sixtofour or (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in NAT64 else None)
        candidates = [embedded, ip] if embedded else candidates
    for candidate in candidates:
        for kind in ("unspecified", "loopback", "link_local", "multicast", "reserved", "private"):
            if getattr(candidate, f"is_{kind}"):
                return kind.replace("_", "-")
        if not candidate.is_global:
            return "non-global"
    return None


class _Guarded(NetworkBackend):
    """httpcore's network backend for one fetch: connections to the host the user named
    as asked; to any other host only at checked public addresses. Every wait is cut to
    the deadline."""

    def __init__(self, trusted_host: str, deadline: Deadline):
        import httpcore

        self.trusted, self.deadline, self.inner = trusted_host.lower(), deadline, httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout=None, local_address=None, socket_options=None):
        import httpcore

        addresses = [host] if host.lower() == self.trusted else _public_addresses(host, port)
        failure = None
        for address in addresses:
            try:
                stream = self.inner.connect_tcp(address, port, self.deadline.cap(timeout), local_address, socket_options)
            except httpcore.ConnectError as err:
                failure = err
                continue
            return _Capped(stream, self.deadline)
        raise failure or httpcore.ConnectError(f"no address for {host}")

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise _Refused("a Unix socket")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _public_addresses(host: str, port: int) -> list[str]:
    """The addresses of *host*, all of them public; _Refused names the first that is not."""
    import httpcore

    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as err:
        raise httpcore.ConnectError(f"cannot resolve {host} ({err})") from None
    addresses = list(dict.fromkeys(info[4][0] for info in found if isinstance(info[4][0], str)))  # IPv4 and IPv6 give text
    for address in addresses:
        kind = address_kind(address)
        if kind:
            raise _Refused(f"{host} is at {address}, a {kind} address")
    return addresses


class _Capped(NetworkStream):
    """A network stream whose every wait ends by the deadline."""

    def __init__(self, stream, deadline: Deadline):
        self.stream, self.deadline = stream, deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.stream.read(max_bytes, self.deadline.cap(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.stream.write(buffer, self.deadline.cap(timeout))

    def close(self) -> None:
        self.stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        return _Capped(self.stream.start_tls(ssl_context, server_hostname, self.deadline.cap(timeout)), self.deadline)

    def get_extra_info(self, info: str):
        return self.stream.get_extra_info(info)
