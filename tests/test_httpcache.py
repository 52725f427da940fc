"""The answers `ndlld serve` keeps in memory (ndlld/httpcache.py): a page or file asked for
again is answered without the application, and must be what the application answers.

A real `ndlld serve` (one process, so that a request asked twice meets the answer its
first left) on a build of the real data: a new build is answered at once, an answer is
given only to a request asking the same (its Accept, Accept-Language, Accept-Encoding,
Origin, validators), HEAD has no body, requests sent back to back are answered in order,
a connection asked to close is closed, and a request's head has a bound (431). The table
of tests/test_http.py, sent with and without the cache, is compared there. Last, the cache
itself: what it keeps, its bound in bytes and answers, and a new output dropping all."""

from __future__ import annotations

import gzip
import shutil
import sys
import time
from pathlib import Path

import pytest

from ndlld.build import build
from ndlld.httpcache import HttpCache, answer_of, key_of
from ndlld.web import CACHED_UP_TO

from conftest import DATA, connect, free_port, http_fetch, read_until_closed, server_process

IFLA_NAME = "International Federation of Library Associations and Institutions"
GONE = "cdnlao-newsletter"  # a record no other refers to but the page's passage about it (as in test_http.py)
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return Path(shutil.copytree(DATA, tmp_path_factory.mktemp("httpcache") / "data"))


@pytest.fixture(scope="module")
def site(data: Path) -> Path:
    out = data.parent / "dist"
    build(data, out)
    return out


@pytest.fixture(scope="module")
def url(site: Path):
    port = free_port()
    command = [sys.executable, "-m", "ndlld", "serve", "--out", str(site), "--port", str(port), "--processes", "1"]
    with server_process(command, "/", port) as (served, _process):
        yield served


def twice(url: str, path: str, headers: dict | None = None, method: str = "GET"):
    """The same request sent twice (the second meets the answer the first left): the second
    answer, once checked to be the first's but for its Date."""
    first, second = (http_fetch(url + path, method, headers) for _ in range(2))
    assert (first[0], without_date(first[1]), first[2]) == (second[0], without_date(second[1]), second[2])
    return second


def without_date(headers) -> list[tuple[str, str]]:
    return [(name.lower(), value) for name, value in headers.items() if name.lower() != "date"]


def test_a_new_build_is_answered_at_once(data: Path, site: Path, url: str):
    """Edit, build, ask: the new page and its new validators, and a 404 for a resource the
    build no longer has, each asked for before the build and kept."""
    record = data / "organizations" / "ifla.yaml"
    status, before, page = twice(url, "/id/ifla.html")
    assert status == 200 and IFLA_NAME.encode() in page
    assert twice(url, f"/id/{GONE}", {"Accept": "text/turtle"})[0] == 303
    assert twice(url, "/id/ifla.ttl")[0] == 200
    record.write_text(record.read_text(encoding="utf-8").replace(IFLA_NAME, "World Library Federation"), encoding="utf-8")
    (data / "publications" / f"{GONE}.yaml").unlink()
    passages = data / "sources" / "ndl-links.yaml"  # where in the page each record's statements are
    passages.write_text(passages.read_text(encoding="utf-8").replace(f", {GONE},", ","), encoding="utf-8")
    build(data, site)
    status, after, page = http_fetch(url + "/id/ifla.html")
    assert status == 200 and b"World Library Federation" in page and IFLA_NAME.encode() not in page
    assert after["ETag"] != before["ETag"]
    assert b"World Library Federation" in http_fetch(url + "/id/ifla.ttl")[2]
    assert http_fetch(url + f"/id/{GONE}", headers={"Accept": "text/turtle"})[0] == 404


def test_a_file_changed_in_place_is_answered_anew_within_a_second(site: Path, url: str):
    """Not a build: a file of the output written over by hand (its directory unchanged)."""
    robots = site / "robots.txt"
    original = robots.read_bytes()
    assert twice(url, "/robots.txt")[2] == original
    robots.write_bytes(original + b"# changed by hand\n")
    time.sleep(1.1)
    assert http_fetch(url + "/robots.txt")[2] == original + b"# changed by hand\n"


@pytest.mark.parametrize(
    ("path", "first", "then", "differs"),
    [
        ("/", {"Accept-Language": "ja"}, {"Accept-Language": "en"}, "Content-Language"),
        ("/id/ifla", {"Accept": "text/turtle"}, {"Accept": "application/ld+json"}, "Location"),
        ("/id/ifla", {"Accept": BROWSER, "Accept-Language": "ja"}, {"Accept": BROWSER}, "Location"),
        ("/vocab", {"Accept": "text/turtle"}, {"Accept": "application/rdf+xml"}, "Content-Location"),
        ("/id/ifla.html", {"Accept-Encoding": "gzip"}, {}, "Content-Encoding"),
        ("/id/ifla.jsonld", {"Origin": "https://example.org"}, {}, "Access-Control-Allow-Origin"),
        ("/id/nothing", {"Accept-Language": "ja"}, {}, "Content-Language"),
    ],
)
def test_an_answer_is_given_only_to_the_same_request(url: str, path: str, first: dict, then: dict, differs: str):
    kept = twice(url, path, first)
    other = twice(url, path, then)
    assert kept[1][differs] != other[1][differs]
    assert http_fetch(url + path, headers=first)[1][differs] == kept[1][differs]  # and each keeps its own


def test_a_conditional_request_is_answered_for_its_validator(url: str, site: Path):
    status, headers, body = twice(url, "/id/ifla.ttl")
    assert status == 200 and body == (site / "id" / "ifla.ttl").read_bytes()
    assert twice(url, "/id/ifla.ttl", {"If-None-Match": headers["ETag"]})[0] == 304
    assert twice(url, "/id/ifla.ttl", {"If-None-Match": '"0-0"'})[0] == 200
    status, _, body = twice(url, "/id/ifla.ttl", {"Accept-Encoding": "gzip"})
    assert status == 200 and gzip.decompress(body) == (site / "id" / "ifla.ttl").read_bytes()


def test_head_is_answered_without_a_body_and_the_next_request_with_one(url: str, site: Path):
    """HEAD twice and a GET, sent at once on one connection: three answers, in order, the
    first two without a body."""
    size = (site / "id" / "ifla.html").stat().st_size
    requests = b"HEAD /id/ifla.html HTTP/1.1\r\nHost: x\r\n\r\n" * 2 + b"GET /robots.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    with connect(url) as connection:
        connection.sendall(requests)
        answer = read_until_closed(connection)
    heads = answer.split(b"\r\n\r\n")
    assert [head.split(b"\r\n", 1)[0] for head in heads[:3]] == [b"HTTP/1.1 200 OK"] * 3
    assert all(f"\r\ncontent-length: {size}\r\n".encode() in head for head in heads[:2])
    assert heads[3] == (site / "robots.txt").read_bytes()


def test_requests_sent_back_to_back_are_answered_in_order(url: str, site: Path):
    """A request whose answer is kept, sent behind one the application answers, waits for it."""
    twice(url, "/robots.txt")
    requests = (
        b"GET /id/ndl.nt HTTP/1.1\r\nHost: x\r\n\r\n"  # not asked before: the application answers
        b"GET /robots.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    with connect(url) as connection:
        connection.sendall(requests)
        answer = read_until_closed(connection)
    assert answer.count(b"HTTP/1.1 200 OK\r\n") == 2 and (site / "id" / "ndl.nt").read_bytes() in answer
    assert answer.endswith(b"\r\n\r\n" + (site / "robots.txt").read_bytes())


@pytest.mark.parametrize("request_line", [b"GET /robots.txt HTTP/1.1\r\nHost: x\r\nConnection: close", b"GET /robots.txt HTTP/1.0"])
def test_a_kept_answer_to_a_connection_that_ends_says_so_and_ends_it(url: str, site: Path, request_line: bytes):
    twice(url, "/robots.txt")
    with connect(url) as connection:
        connection.sendall(request_line + b"\r\n\r\n")
        answer = read_until_closed(connection)  # a timeout fails: the server kept the connection
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ") and b"\r\nconnection: close" in head
    assert body == (site / "robots.txt").read_bytes()


def test_a_request_head_past_its_bound_is_431_and_closed(url: str):
    """The bound is --max-url-bytes and 16 KiB more, whether the head comes at once or bit by
    bit; here it is passed by its last byte, so that nothing is left unread when the server closes."""
    limit = 8_192 + 16_384
    start = b"GET / HTTP/1.1\r\nHost: x\r\n"
    header = b"X-Big: " + b"x" * (limit + 1 - len(start) - len(b"X-Big: \r\n")) + b"\r\n"
    for pieces in ([header], [header[i : i + 4_096] for i in range(0, len(header), 4_096)]):
        with connect(url) as connection:
            connection.sendall(start)
            for piece in pieces:
                connection.sendall(piece)
            answer = read_until_closed(connection)
        assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"), answer[:200]
        assert answer.endswith(f"may have at most {limit} bytes\n".encode())
    assert http_fetch(url + "/")[0] == 200


# -- the cache itself ------------------------------------------------------------------
SERVER = b"date: Sat, 05 Dec 2026 10:00:00 GMT\r\nserver: uvicorn\r\n"


def response(status: bytes = b"200 OK", headers: bytes = b"", body: bytes = b"x") -> tuple[bytes, bytes, bytes]:
    """A response as uvicorn writes it: the head (uvicorn's own headers after the status line), the server's headers, the body."""
    head = b"HTTP/1.1 " + status + b"\r\n" + SERVER + headers + b"content-length: %d\r\n\r\n" % len(body)
    return head, SERVER, body


@pytest.mark.parametrize(
    ("method", "headers", "kept"),
    [
        (b"GET", [(b"accept", b"text/turtle"), (b"user-agent", b"curl")], True),
        (b"HEAD", [], True),
        (b"POST", [], False),
        (b"GET", [(b"content-length", b"0")], False),
        (b"GET", [(b"transfer-encoding", b"chunked")], False),
    ],
)
def test_only_a_get_or_head_without_a_body_has_a_key(method: bytes, headers: list, kept: bool):
    key = key_of(method, b"/id/ifla", headers)
    assert (key is not None) == kept
    if key is not None:
        assert key == (method, b"/id/ifla", tuple(header for header in headers if header[0] != b"user-agent"))


@pytest.mark.parametrize(
    ("status", "headers", "kept"),
    [
        (b"303 See Other", b"vary: Accept, Accept-Language\r\nlocation: ifla.ttl\r\n", True),
        (b"404 Not Found", b"vary: Accept-Language\r\n", True),
        (b"500 Internal Server Error", b"", False),
        (b"503 Service Unavailable", b"", False),
        (b"200 OK", b"vary: User-Agent\r\n", False),
        (b"200 OK", b"vary: *\r\n", False),
        (b"200 OK", b"set-cookie: a=b\r\n", False),
        (b"200 OK", b"cache-control: no-store\r\n", False),
        (b"400 Bad Request", b"connection: close\r\n", False),
    ],
)
def test_what_answers_are_kept(status: bytes, headers: bytes, kept: bool):
    answer = answer_of(*response(status, headers))
    assert (answer is not None) == kept
    if answer is not None:  # given again as it was written, but for the server's own headers
        assert answer.response(SERVER, keep_alive=True) == b"".join(response(status, headers)[::2])
        close = answer.response(b"date: now\r\n", keep_alive=False)
        assert close.startswith(b"HTTP/1.1 " + status + b"\r\ndate: now\r\n") and close.endswith(b"connection: close\r\n\r\nx")


def test_the_answers_kept_are_bounded_the_least_recently_used_dropped_first(tmp_path: Path):
    cache = HttpCache(tmp_path, max_bytes=50_000, max_entries=20)
    generation = cache.look()
    answer = answer_of(*response(body=b"x" * 1_000))
    for n in range(100):
        cache.keep(key_of(b"GET", b"/%d" % n, []), generation, answer)
        cache.get(key_of(b"GET", b"/0", []))  # the first, used again each time: kept
    assert len(cache.answers) == 20 and cache.total <= 50_000
    assert cache.get(key_of(b"GET", b"/0", [])) is answer and cache.get(key_of(b"GET", b"/99", [])) is answer
    assert cache.get(key_of(b"GET", b"/1", [])) is None
    cache.keep(key_of(b"GET", b"/big", []), generation, answer_of(*response(body=b"x" * (CACHED_UP_TO + 1))))
    assert cache.get(key_of(b"GET", b"/big", [])) is None  # sent from disk, never kept
    long_target = b"/" + b"y" * 8_000  # a key counts too: 8 KB targets fill the bound by 6 answers
    for n in range(10):
        cache.keep(key_of(b"GET", long_target + b"%d" % n, []), generation, answer)
    assert cache.total <= 50_000 and len(cache.answers) <= 6


def test_a_new_output_drops_every_answer_and_an_old_one_is_not_kept(tmp_path: Path):
    (tmp_path / "dist").mkdir()
    cache = HttpCache(tmp_path / "dist", max_bytes=50_000)
    before = cache.look()
    cache.keep(key_of(b"GET", b"/", []), before, answer_of(*response()))
    assert cache.get(key_of(b"GET", b"/", [])) is not None
    (tmp_path / "dist").rename(tmp_path / "old")  # a build's swap, as ndlld.output makes it without renameat2
    assert cache.look() is None and cache.get(key_of(b"GET", b"/", [])) is None
    (tmp_path / "dist").mkdir()
    after = cache.look()
    assert after != before and cache.get(key_of(b"GET", b"/", [])) is None and cache.total == 0
    cache.keep(key_of(b"GET", b"/", []), before, answer_of(*response()))  # made from the output before
    assert cache.get(key_of(b"GET", b"/", [])) is None
