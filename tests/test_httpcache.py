"""The answers `ndlld serve` keeps in memory (ndlld/httpcache.py): a page or file asked for
again is answered without the application, and must be what the application answers.

A real `ndlld serve` (one process, so that a request asked twice meets the answer its
first left) on a build of the real data: a new build is answered at once, an answer is
given only to a request asking the same (its Accept, Accept-Language, Accept-Encoding,
Origin, validators), HEAD has no body, requests sent back to back are answered in order,
a connection asked to close is closed, and a request's head has a bound (431). The table
of tests/test_http.py, sent with and without the cache, is compared there."""

from __future__ import annotations

import gzip
import shutil
import sys
import time
from pathlib import Path

import pytest

from ndlld.build import build

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
