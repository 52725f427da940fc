"""`ndlld harvest`: our own outputs, served over loopback HTTP, load back as the
canonical graph; a truncated, corrupt or mistyped input changes nothing."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from pyoxigraph import RdfFormat

from ndlld.cli import cli
from ndlld.dumps import read_triples
from ndlld.fetch import MAX_REDIRECTS
from ndlld.harvest import MAX_DEPTH, MAX_TERM, graph_name, harvest, store_triples
from ndlld.namespaces import CONTEXT_IRI

from conftest import TESTS, ndlld_measured
from faults import Stranger, answer, endless, redirect, silent, trickle

SOURCES = [
    "dataset.nt",
    "dataset.ttl",
    "dataset.jsonld",
    "dataset.ndjson",
    "dataset.nt.gz",
    "dataset.ttl.gz",
    "dataset.jsonld.gz",
    "dataset.ndjson.gz",
]


def canonical(real_dist: Path) -> set:
    return set(read_triples(real_dist / "dataset.nt", RdfFormat.N_TRIPLES))


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.parametrize("name", SOURCES)
def test_each_dump_over_http_loads_as_the_canonical_graph(served: str, real_dist: Path, tmp_path: Path, name: str):
    result = run("harvest", f"{served}/{name}", "--into", tmp_path / "store")
    assert result.exit_code == 0, result.output
    resources = len({t.subject for t in canonical(real_dist)})
    assert result.stdout.startswith(f"harvested {len(canonical(real_dist))} triples about {resources} resources from {served}/{name}")
    assert set(store_triples(tmp_path / "store")) == canonical(real_dist)


def test_pages_over_http_load_as_their_descriptions(served: str, real_dist: Path, tmp_path: Path):
    store = tmp_path / "store"
    for page in ("id/ifla", "id/ndl"):
        # A page describes one resource; the shapes ask for the types of what it links to,
        # which other pages describe, so it is loaded as it is.
        harvested = harvest(f"{served}/{page}", store, accept_violations=True)
        assert harvested.format == "html"
        # The page embeds the resource's own statements; its .nt has the links to it and names too.
        iri = "https://w3id.org/ndlld/" + page
        described = read_triples(real_dist / f"{page}.nt", RdfFormat.N_TRIPLES)
        expected = {t for t in described if str(t.subject.value).partition("#")[0] == iri}
        assert set(store_triples(store, graph_name(f"{served}/{page}"))) == expected


def test_harvesting_again_replaces_what_the_source_gave(served: str, tmp_path: Path, real_dist: Path):
    store = tmp_path / "store"
    harvest(f"{served}/dataset.nt", store)
    harvest(f"{served}/dataset.nt", store)
    assert len(store_triples(store)) == len(canonical(real_dist))


def _broken_inputs(real_dist: Path, tmp: Path) -> dict[str, Path]:
    nt = (real_dist / "dataset.nt").read_bytes()
    jsonld = (real_dist / "dataset.jsonld").read_bytes()
    inputs = {
        "truncated.nt": nt[: len(nt) // 2 - 7],
        "truncated.jsonld": jsonld[: len(jsonld) // 2],
        "truncated.nt.gz": gzip.compress(nt)[:-40],
        "corrupt.nt.gz": b"\x1f\x8b\x08\x00" + b"not gzip at all" * 10,
        "corrupt.ttl": b"<http://a> <http://b> ;; nonsense .\n",
        "html-named.ttl": (real_dist / "id" / "ifla.html").read_bytes(),
        "latin1.nt": '<http://a> <http://b> "caf\xe9" .\n'.encode("latin-1"),
        "empty.nt": b"",
        "remote-context.jsonld": b'{"@context": "https://example.org/context.json", "@id": "http://a", "name": "x"}',
        "no-jsonld.html": b"<!DOCTYPE html><html><body><p>nothing</p></body></html>",
    }
    paths = {}
    for name, content in inputs.items():
        paths[name] = tmp / name
        paths[name].write_bytes(content)
    return paths


def test_bad_inputs_are_refused_and_change_nothing(real_dist: Path, tmp_path: Path):
    store = tmp_path / "store"
    harvest(str(real_dist / "dataset.nt"), store)
    before = set(store_triples(store))
    for name, path in _broken_inputs(real_dist, tmp_path).items():
        result = run("harvest", path, "--into", store)
        assert result.exit_code == 2, f"{name}: {result.output}"
        assert result.stderr.startswith(str(path)) and len(result.stderr.splitlines()) == 1, f"{name}: {result.stderr}"
        assert "Traceback" not in result.output
        assert set(store_triples(store)) == before, name


def test_missing_url_is_a_clear_error(served: str, tmp_path: Path):
    result = run("harvest", f"{served}/nothing.nt", "--into", tmp_path / "store")
    assert result.exit_code == 2 and result.stderr == f"{served}/nothing.nt: HTTP 404\n"


def test_data_that_violates_the_shapes_is_not_loaded_unless_asked(tmp_path: Path):
    partner = tmp_path / "partner.ttl"
    partner.write_text(
        '<https://partner.example/org/1> a <http://schema.org/Organization> ;\n    <http://schema.org/name> "Partner library"@en .\n',
        encoding="utf-8",
    )
    result = run("harvest", partner, "--into", tmp_path / "store")
    assert result.exit_code == 1
    assert "does not say where its facts come from" in result.stderr
    assert store_triples(tmp_path / "store") == []
    result = run("harvest", partner, "--into", tmp_path / "store", "--accept-violations")
    assert result.exit_code == 0 and "1 violation(s)" in result.stdout
    assert len(store_triples(tmp_path / "store")) == 2


@pytest.mark.parametrize("suffix", [".ttl", ".nt"])
def test_a_triple_term_as_an_object_is_a_finding_not_a_crash(suffix: str, tmp_path: Path):
    """RDF 1.2's triple terms, which both parsers read as objects, are judged by the shapes
    like any other value: as a parent organization (a link the checks follow up), a
    membership, a source."""
    term = "<<( <https://partner.example/a> <https://partner.example/said> <https://partner.example/b> )>>"
    partner = tmp_path / f"partner{suffix}"
    org = "<https://partner.example/org/1>"
    partner.write_text(
        "".join(
            f"{org} <{p}> {o} .\n"
            for p, o in [
                ("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", "<http://schema.org/Organization>"),
                ("http://schema.org/name", '"Partner library"@en'),
                ("http://schema.org/parentOrganization", term),
                ("http://schema.org/memberOf", term),
                ("http://purl.org/dc/terms/source", term),
            ]
        ),
        encoding="utf-8",
    )
    result = run("harvest", partner, "--into", tmp_path / "store")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output  # an exit, not a crash
    for said in (
        "schema:parentOrganization must name an organization",
        "schema:memberOf must lead to",
        "dcterms:source must name a document",
    ):
        assert said in result.stderr
    assert store_triples(tmp_path / "store") == []


# -- bounded: bytes, time, where redirects lead, what a document may hold -------------
#
# What a stranger's server or file may do to a harvester, each through the real
# command: a process of its own where a crash, a hang or memory is the question.

LIMIT = 20_000_000  # --max-bytes in the tests of size: far below what the inputs expand to
MEMORY = 400 * 1024**2  # the most a run with LIMIT may hold, generously (it holds about 100 MB)
NTRIPLE = b'<http://partner.example/org/1> <http://schema.org/name> "Partner library"@en .\n'


@pytest.fixture
def stranger():
    made = []

    def make(answers: dict) -> Stranger:
        made.append(Stranger(answers))
        return made[-1]

    yield make
    for each in made:
        each.close()


def refusal(ran, *said: str) -> str:
    """The one line a refused command printed, which says each of *said*."""
    assert "Traceback" not in ran.stderr, ran.stderr
    assert ran.exit_code == 2, ran.stderr
    lines = ran.stderr.splitlines()
    assert len(lines) == 1, ran.stderr
    for part in said:
        assert part in lines[0], lines[0]
    return lines[0]


def gzip_bomb() -> bytes:
    """About 4 MB of gzip that expands to 4 GiB: 64 members of 64 MiB of zeros each."""
    return gzip.compress(b"\0" * 2**26, compresslevel=9) * 64


@pytest.mark.parametrize("where", ["file", "http-file", "http-content-encoding"])
def test_gzip_bomb_is_refused_at_the_limit_in_bounded_memory(where: str, stranger, tmp_path: Path):
    bomb = gzip_bomb()
    if where == "file":
        source = tmp_path / "bomb.nt.gz"
        source.write_bytes(bomb)
    else:
        site = stranger(
            {
                "/bomb.nt.gz": answer(200, bomb, Content_Type="application/gzip"),
                "/bomb.nt": answer(200, bomb, Content_Type="application/n-triples", Content_Encoding="gzip"),
            }
        )
        source = f"{site.url}/bomb.nt" + (".gz" if where == "http-file" else "")
    ran = ndlld_measured("harvest", source, "--into", tmp_path / "store", "--max-bytes", LIMIT)
    refusal(ran, f"{source}: larger than {LIMIT} bytes", "--max-bytes")
    assert ran.max_rss < MEMORY


def test_gzip_bomb_under_a_memory_limit_is_one_line(tmp_path: Path):
    """With the default --max-bytes (2 GiB) and less memory than that: refused, not a crash."""
    source = tmp_path / "bomb.nt.gz"
    source.write_bytes(gzip_bomb())
    ran = ndlld_measured("harvest", source, "--into", tmp_path / "store", address_space=1024**3)
    refusal(ran, f"{source}: not enough memory to read it", "--max-bytes")


ENDLESS = {
    "no-length": endless(piece=NTRIPLE * 1000, Content_Type="application/n-triples"),
    "chunked": endless(piece=NTRIPLE * 1000, chunked=True, Content_Type="application/n-triples"),
    "length-past-the-limit": endless(piece=NTRIPLE * 1000, Content_Length=str(5 * 1024**3)),
    "gzip-without-end": endless(piece=gzip.compress(NTRIPLE * 100_000)[:-8], Content_Type="application/gzip"),
}


@pytest.mark.parametrize("body", list(ENDLESS))
def test_body_that_never_ends_is_refused_at_the_limit(body: str, stranger, tmp_path: Path):
    site = stranger({"/endless.nt": ENDLESS[body]})
    ran = ndlld_measured("harvest", f"{site.url}/endless.nt", "--into", tmp_path / "store", "--max-bytes", LIMIT)
    refusal(ran, f"{site.url}/endless.nt: ")
    assert "larger than" in ran.stderr or "gzip data is truncated or corrupt" in ran.stderr
    assert ran.max_rss < MEMORY


def test_content_length_that_lies_is_not_believed(stranger, tmp_path: Path):
    site = stranger(
        {
            # Fewer bytes announced than sent: only those are read, and they end mid-statement.
            "/short.nt": endless(piece=NTRIPLE, Content_Length=str(len(NTRIPLE) + 20)),
            # More announced than sent: the body is cut short.
            "/long.nt": answer(200, NTRIPLE, Content_Length=str(10 * len(NTRIPLE))),
        }
    )
    refusal(ndlld_measured("harvest", f"{site.url}/short.nt", "--into", tmp_path / "store"), "not valid ntriples")
    refusal(ndlld_measured("harvest", f"{site.url}/long.nt", "--into", tmp_path / "store"), "ended before the whole body came")


@pytest.mark.parametrize("command", ["harvest", "diff"])
@pytest.mark.parametrize("kind", ["device", "fifo", "directory", "too-large"])
def test_file_that_is_not_a_regular_one_or_too_large_is_refused_unread(command: str, kind: str, real_dist: Path, tmp_path: Path):
    if kind == "device":
        source = Path("/dev/zero")
    elif kind == "fifo":
        source = tmp_path / "pipe.nt"
        os.mkfifo(source)  # nothing ever writes to it: a reader that waits would wait forever
    elif kind == "directory":
        source = tmp_path / "dir.nt"
        source.mkdir()
    else:
        source = tmp_path / "large.nt"
        with open(source, "wb") as file:
            file.truncate(LIMIT + 1)  # sparse: its size is all that counts
    args = ["--into", tmp_path / "store"] if command == "harvest" else []
    pair = [source] if command == "harvest" else [real_dist / "dataset.nt", source]
    ran = ndlld_measured(command, *pair, *args, "--max-bytes", LIMIT)
    refusal(ran, f"{source}: ", "larger than" if kind == "too-large" else "not a regular file")


SLOW = {
    "body": trickle(NTRIPLE, 0.2, Content_Type="application/n-triples"),
    "head": trickle(NTRIPLE, 0.2, head_too=True, Content_Type="application/n-triples"),
    "nothing": silent,
}


@pytest.mark.parametrize("command", ["harvest", "diff"])
@pytest.mark.parametrize("how", list(SLOW))
def test_server_that_trickles_or_says_nothing_is_given_up_at_the_deadline(
    command: str, how: str, stranger, real_dist: Path, tmp_path: Path
):
    site = stranger({"/slow.nt": SLOW[how]})
    url = f"{site.url}/slow.nt"
    pair = [url, "--into", tmp_path / "store"] if command == "harvest" else [real_dist / "dataset.nt", url]
    ran = ndlld_measured(command, *pair, "--timeout", "2")
    refusal(ran, f"{url}: not read within 2 s", "--timeout")


@pytest.mark.parametrize("status", [404, 500, 503])
def test_error_body_is_not_read(status: int, stranger, tmp_path: Path):
    site = stranger({"/gone.nt": endless(status, Content_Type="text/plain"), "/huge.nt": endless(status, Content_Length=str(2 * 1024**3))})
    for path in ("/gone.nt", "/huge.nt"):
        ran = ndlld_measured("harvest", site.url + path, "--into", tmp_path / "store")
        assert refusal(ran) == f"{site.url}{path}: HTTP {status}"
        assert ran.max_rss < MEMORY


# -- no traceback, whatever the document holds -----------------------------------------

BAD = TESTS / "harvest" / "bad"
# What each file of tests/harvest/bad/ is refused for (besides its name).
EXPECTED = {
    "remote-context.jsonld": "names a remote context ndlld does not read: https://example.org/context.json",
    "remote-context-in-a-list.jsonld": "names a remote context ndlld does not read: https://example.org/terms.jsonld",
    "remote-context-imported.jsonld": "names a remote context ndlld does not read: https://example.org/imported.jsonld",
    "remote-context-scoped.jsonld": "names a remote context ndlld does not read: https://example.org/scoped.jsonld",
    "remote-context-in-a-node.jsonld": "names a remote context ndlld does not read: http://example.org/inner.jsonld",
    "remote-context.ndjson": "names a remote context ndlld does not read: https://example.org/ndjson-context.jsonld",
    "remote-context.html": "names a remote context ndlld does not read: https://example.org/page-context.jsonld",
    "context-named-like-ndlld-s.jsonld": "names a remote context ndlld does not read: https://partner.example/ndlld/context.jsonld",
    "context-named-like-ndlld-s.ndjson": "names a remote context ndlld does not read: http://w3id.org.example/ndlld/context.jsonld",
    "language-tag-with-a-space.jsonld": "not valid JSON-LD",
    "lone-surrogate.jsonld": "not Unicode text",
    "lone-surrogate.ndjson": "not Unicode text",
    "context-not-an-object.jsonld": "not valid JSON-LD",
}


def _nested(depth: int, array: bool) -> str:
    """A JSON-LD document whose node objects (in arrays, if *array*) nest *depth* JSON levels deep."""
    levels = (depth - 2) // 2 if array else depth - 2
    inner = '{"@id": "http://a/last"}'
    for i in range(levels):
        inner = f'{{"@id": "http://a/{i}", "knows": {"[" + inner + "]" if array else inner}}}'
    return '{"@context": {"@vocab": "http://schema.org/"}, "@id": "http://a/top", "knows": ' + inner + "}"


def _long(characters: int) -> str:
    return "x" * characters


GENERATED = {
    "deep-arrays.json": lambda: "[" * 100_000 + "]" * 100_000,
    "deep-objects.jsonld": lambda: _nested(900, array=False),
    "deep-lists.jsonld": lambda: _nested(900, array=True),
    "deep-line.ndjson": lambda: '{"@context": {"@vocab": "http://schema.org/"}, "@id": "http://a/x"}\n' + _nested(900, False) + "\n",
    "deep-block.html": lambda: f'<html><script type="application/ld+json">{"[" * 100_000 + "]" * 100_000}</script></html>',
    "deep-object-block.html": lambda: f'<html><script type="application/ld+json">{_nested(900, False)}</script></html>',
    "long-literal.nt": lambda: f'<http://a/x> <http://schema.org/name> "{_long(20 * 2**20)}" .\n',
    "long-literal.ttl": lambda: f'<http://a/x> <http://schema.org/name> """{_long(20 * 2**20)}""" .\n',
    "long-iri.nt": lambda: f'<http://a/{_long(2 * 2**20)}> <http://schema.org/name> "x" .\n',
    "long-literal.jsonld": lambda: json.dumps(
        {"@context": {"@vocab": "http://schema.org/"}, "@id": "http://a/x", "name": _long(20 * 2**20)}
    ),
    "long-literal.ndjson": lambda: (
        json.dumps({"@context": {"@vocab": "http://schema.org/"}, "@id": "http://a/x", "name": _long(20 * 2**20)}) + "\n"
    ),
    # 5 MB: lxml, under extruct, cuts a text of more than 10 MB short (then it is not valid JSON).
    "long-literal.html": lambda: (
        '<html><script type="application/ld+json">'
        + json.dumps({"@context": {"@vocab": "http://schema.org/"}, "@id": "http://a/x", "name": _long(5 * 2**20)})
        + "</script></html>"
    ),
}
GENERATED_SAY = {"deep": f"nested more than {MAX_DEPTH} levels deep", "long": f"longer than {MAX_TERM:,} characters"}


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    inputs = {path.name: (path, EXPECTED[path.name]) for path in sorted(BAD.iterdir())}
    for name, text in GENERATED.items():
        (tmp_path / name).write_text(text(), encoding="utf-8")
        inputs[name] = (tmp_path / name, GENERATED_SAY[name.split("-")[0]])
    return inputs


def test_every_bad_input_fixture_says_what_it_is_refused_for():
    assert {path.name for path in BAD.iterdir()} == set(EXPECTED)


def _options(command: str) -> set[str]:
    return {name for parameter in cli.commands[command].params for name in parameter.opts}


@pytest.mark.parametrize("command", ["harvest", "diff"])
def test_bad_documents_are_one_line_each_and_no_traceback(command: str, real_dist: Path, tmp_path: Path):
    """Through the real command, each in a process of its own: nesting that exhausted the
    stack, terms too long for the parsers, contexts from elsewhere, text that is not Unicode.
    A message names only options the command has."""
    for name, (path, says) in _bad_inputs(tmp_path).items():
        pair = [path, "--into", tmp_path / "store"] if command == "harvest" else [real_dist / "dataset.nt", path]
        ran = ndlld_measured(command, *pair)
        line = refusal(ran, f"{path}", says)
        assert line.startswith(str(path)), name
        assert set(re.findall(r"--[a-z][a-z-]*", line)) <= _options(command), line
    assert not (tmp_path / "store").exists() or store_triples(tmp_path / "store") == []


def test_just_within_the_limits_is_read(tmp_path: Path):
    deep = tmp_path / "deep.jsonld"
    deep.write_text(_nested(MAX_DEPTH, array=False), encoding="utf-8")
    long = tmp_path / "long.nt"
    long.write_text(f'<http://a/x> <http://schema.org/name> "{_long(MAX_TERM)}" .\n', encoding="utf-8")
    for source in (deep, long):
        result = run("harvest", source, "--into", tmp_path / "store", "--accept-violations")
        assert result.exit_code == 0, result.output
    deeper = tmp_path / "deeper.jsonld"
    deeper.write_text(_nested(MAX_DEPTH + 1, array=False), encoding="utf-8")
    result = run("harvest", deeper, "--into", tmp_path / "store", "--accept-violations")
    assert result.exit_code == 2 and "nested more than" in result.stderr


# -- JSON-LD contexts: ndlld's own, or beside the source, never another -----------------


def test_ndlld_s_own_context_by_its_iri_is_read_from_this_machine(tmp_path: Path):
    source = tmp_path / "own.jsonld"
    source.write_text(json.dumps({"@context": CONTEXT_IRI, "id": "http://a/x", "name": {"en": "A"}}), encoding="utf-8")
    result = run("harvest", source, "--into", tmp_path / "store", "--accept-violations")
    assert result.exit_code == 0, result.output
    assert len(store_triples(tmp_path / "store")) == 1


def test_ndlld_s_ndjson_dump_alone_is_read_with_the_context_of_this_machine(real_dist: Path, tmp_path: Path):
    """Each line names ndlld's context by its absolute IRI: no context.jsonld need be beside it."""
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copyfile(real_dist / "dataset.ndjson", copy / "dataset.ndjson")
    result = run("harvest", copy / "dataset.ndjson", "--into", tmp_path / "store")
    assert result.exit_code == 0, result.output
    assert set(store_triples(tmp_path / "store")) == canonical(real_dist)


def test_the_context_beside_a_dump_is_read_and_no_other(real_dist: Path, tmp_path: Path):
    """A dump whose lines name a relative context.jsonld (as ndlld's once did, as others may) reads the one beside it."""
    copy = tmp_path / "copy"
    copy.mkdir()
    lines = (real_dist / "dataset.ndjson").read_text(encoding="utf-8").splitlines()
    relative = [json.dumps({**json.loads(line), "@context": "context.jsonld"}, ensure_ascii=False) for line in lines]
    (copy / "dataset.ndjson").write_text("\n".join(relative) + "\n", encoding="utf-8")
    result = run("harvest", copy / "dataset.ndjson", "--into", tmp_path / "store")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{copy / 'dataset.ndjson'}: cannot read the context beside it")
    shutil.copyfile(real_dist / "context.jsonld", copy / "context.jsonld")
    result = run("harvest", copy / "dataset.ndjson", "--into", tmp_path / "store")
    assert result.exit_code == 0, result.output
    assert set(store_triples(tmp_path / "store")) == canonical(real_dist)


def test_a_context_elsewhere_on_the_web_is_named_and_never_fetched(stranger, real_dist: Path, tmp_path: Path):
    context = answer(200, (real_dist / "context.jsonld").read_bytes(), Content_Type="application/ld+json")
    site = stranger({"/a/context.jsonld": context, "/b/context.jsonld": context})
    elsewhere = [f"{site.url}/b/context.jsonld", f"http://localhost:{site.port}/a/context.jsonld", "http://169.254.169.254/context.jsonld"]
    for url in elsewhere:
        document = json.dumps({"@context": url, "id": "http://a/x", "name": {"en": "A"}}).encode("utf-8")
        site.answers["/a/doc.jsonld"] = answer(200, document, Content_Type="application/ld+json")
        result = run("harvest", f"{site.url}/a/doc.jsonld", "--into", tmp_path / "store")
        assert result.exit_code == 2
        assert result.stderr == f"{site.url}/a/doc.jsonld: the JSON-LD names a remote context ndlld does not read: {url}\n"
    assert "/b/context.jsonld" not in site.asked and "/a/context.jsonld" not in site.asked


# -- redirects ------------------------------------------------------------------------

INTERNAL = {
    "http://169.254.169.254/latest/meta-data/": "link-local",
    "http://localhost:{port}/dataset.nt": "loopback",
    "http://[::1]:{port}/dataset.nt": "loopback",
    "http://[::ffff:127.0.0.1]:{port}/dataset.nt": "loopback",
    "http://127.1.2.3:{port}/dataset.nt": "loopback",
    "http://0.0.0.0:{port}/dataset.nt": "unspecified",
    "http://[::]:{port}/dataset.nt": "unspecified",
    "http://10.0.0.1/dataset.nt": "private",
    "http://172.16.5.4/dataset.nt": "private",
    "http://192.168.1.1/dataset.nt": "private",
    "http://100.64.0.1/dataset.nt": "non-global",
    "http://[fd00::1]/dataset.nt": "private",
    "http://[fe80::1]/dataset.nt": "link-local",
    "http://224.0.0.251/dataset.nt": "multicast",
    "http://[ff02::1]/dataset.nt": "multicast",
    "http://240.0.0.1/dataset.nt": "reserved",
    "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/": "link-local",
    "http://[2002:a9fe:a9fe::1]/latest/meta-data/": "link-local",
}


@pytest.mark.parametrize("target", list(INTERNAL))
def test_redirect_to_an_internal_address_is_refused_without_connecting(target: str, stranger, real_dist: Path, tmp_path: Path):
    inside = stranger({"/dataset.nt": answer(200, (real_dist / "dataset.nt").read_bytes())})
    location = target.format(port=inside.port)
    outside = stranger({"/dataset.nt": redirect(location)})
    result = run("harvest", f"{outside.url}/dataset.nt", "--into", tmp_path / "store", "--timeout", "20")
    assert result.exit_code == 2, result.output
    host = httpx.URL(location).host
    assert result.stderr.startswith(f"{outside.url}/dataset.nt: refused a redirect to ")
    assert f"{host} is at " in result.stderr and f"a {INTERNAL[target]} address" in result.stderr, result.stderr
    assert inside.asked == []
    assert not (tmp_path / "store").exists()


def test_redirects_on_the_same_host_are_followed_and_checked_at_each_hop(stranger, real_dist: Path, tmp_path: Path):
    site = stranger({"/dataset.nt": answer(200, (real_dist / "dataset.nt").read_bytes(), Content_Type="application/n-triples")})
    site.answers["/old.nt"] = redirect("/older.nt", 301)
    site.answers["/older.nt"] = redirect(f"{site.url}/dataset.nt", 308)
    result = run("harvest", f"{site.url}/old.nt", "--into", tmp_path / "store")
    assert result.exit_code == 0, result.output
    assert set(store_triples(tmp_path / "store")) == canonical(real_dist)
    site.answers["/moved.nt"] = redirect("/away.nt", 303)
    site.answers["/away.nt"] = redirect(f"http://localhost:{site.port}/dataset.nt")
    result = run("harvest", f"{site.url}/moved.nt", "--into", tmp_path / "other")
    assert result.exit_code == 2 and "refused a redirect to" in result.stderr and "loopback" in result.stderr
    assert site.asked.count("/dataset.nt") == 1


@pytest.mark.parametrize(
    "location, says",
    [
        ("file:///etc/passwd", "only http(s) is followed"),
        ("ftp://127.0.0.1/dataset.nt", "only http(s) is followed"),
        ("/loop.nt", f"more than {MAX_REDIRECTS} redirects"),
    ],
)
def test_redirect_elsewhere_than_http_or_without_end_is_refused(location: str, says: str, stranger, tmp_path: Path):
    site = stranger({"/loop.nt": redirect(location)})
    result = run("harvest", f"{site.url}/loop.nt", "--into", tmp_path / "store")
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"{site.url}/loop.nt: ") and says in result.stderr, result.stderr
