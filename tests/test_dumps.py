"""Dumps: the same graph in three syntaxes, byte for byte reproducible, and
readable by independent processors (rdflib, pyld) with nothing from the network."""

from __future__ import annotations

import gzip
import json
import re
import socket
from pathlib import Path

import pytest
import rdflib
from pyld import jsonld
from rdflib.compare import isomorphic

from ndlld.build import build
from ndlld.dumps import DATASET_FILES
from ndlld.namespaces import CONTEXT_IRI

from conftest import GOLDEN, GOOD, ROOT

FORMATS = {"dataset.ttl": "turtle", "dataset.nt": "nt", "dataset.trig": "trig", "dataset.nq": "nquads"}


def _no_network(url, options=None):
    raise AssertionError(f"a JSON-LD processor tried to load {url}: the dumps must be self-contained")


def _mapped(path: Path):
    """A document loader that maps ndlld's context IRI to the context.jsonld beside the dump, and nothing else."""

    def load(url, options=None):
        if url != CONTEXT_IRI:
            _no_network(url)
        document = json.loads((path.parent / "context.jsonld").read_text(encoding="utf-8"))
        return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url, "document": document}

    return load


def read_jsonld(path: Path) -> rdflib.Graph:
    """The JSON-LD dump as pyld, an independent processor, understands it."""
    document = json.loads(path.read_text(encoding="utf-8"))
    nquads = jsonld.to_rdf(document, {"format": "application/n-quads", "documentLoader": _no_network})
    return rdflib.Graph().parse(data=nquads, format="nt")


def read_ndjson(path: Path, text: str | None = None) -> rdflib.Graph:
    """Each line a JSON-LD document of its own, read without the file's URL (no base), its
    context's IRI mapped to the copy beside the file."""
    graph = rdflib.Graph()
    lines = (text if text is not None else path.read_text(encoding="utf-8")).splitlines()
    for line in lines:
        options = {"format": "application/n-quads", "documentLoader": _mapped(path)}
        graph.parse(data=jsonld.to_rdf(json.loads(line), options), format="nt")
    return graph


def read(path: Path) -> rdflib.Graph:
    if path.suffix == ".gz":
        text = gzip.decompress(path.read_bytes()).decode("utf-8")
        plain = path.with_suffix("")
        if plain.suffix == ".ndjson":
            return read_ndjson(plain, text)
        if plain.suffix == ".jsonld":
            return to_graph_jsonld(text)
        return (
            _union(text, FORMATS[plain.name])
            if plain.suffix in (".trig", ".nq")
            else rdflib.Graph().parse(data=text, format=FORMATS[plain.name])
        )
    if path.suffix == ".jsonld":
        return read_jsonld(path)
    if path.suffix == ".ndjson":
        return read_ndjson(path)
    if path.suffix in (".trig", ".nq"):
        return _union(path.read_text(encoding="utf-8"), FORMATS[path.name])
    return rdflib.Graph().parse(path, format=FORMATS[path.name])


def _union(text: str, rdf_format: str) -> rdflib.Graph:
    """The union of the named graphs of a dataset (what the triples dumps hold)."""
    dataset = rdflib.Dataset()
    dataset.parse(data=text, format=rdf_format)
    union = rdflib.Graph()
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        union.add((s, p, o))
    return union


def to_graph_jsonld(text: str) -> rdflib.Graph:
    nquads = jsonld.to_rdf(json.loads(text), {"format": "application/n-quads", "documentLoader": _no_network})
    return rdflib.Graph().parse(data=nquads, format="nt")


@pytest.fixture(scope="module")
def fixture_dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("good") / "dist"
    build(GOOD, out)
    return out


@pytest.mark.parametrize("name", DATASET_FILES.values())
def test_dump_matches_golden_file(fixture_dist: Path, name: str):
    """Byte for byte; after an intended change run scripts/regen_golden.py and review the diff."""
    assert (fixture_dist / name).read_bytes() == (GOLDEN / name).read_bytes()


@pytest.mark.parametrize("name", DATASET_FILES.values())
def test_golden_file_means_the_fixture_records(fixture_dist: Path, name: str):
    assert isomorphic(read(GOLDEN / name), read(fixture_dist / "dataset.nt"))


ALL_DUMPS = [*DATASET_FILES.values(), *(name + ".gz" for name in DATASET_FILES.values())]


@pytest.mark.parametrize("name", ALL_DUMPS)
def test_every_dump_is_the_same_graph(real_dist: Path, name: str):
    """Each dump, gzipped or not, read by an independent parser: pyld for JSON-LD, rdflib for the rest."""
    canonical = rdflib.Graph().parse(real_dist / "dataset.nt", format="nt")
    assert len(canonical) > 400
    assert isomorphic(read(real_dist / name), canonical)


def test_ndjson_has_one_resource_a_line(real_dist: Path):
    lines = (real_dist / "dataset.ndjson").read_text(encoding="utf-8").splitlines()
    pages = {p.relative_to(real_dist / "id").with_suffix("").as_posix() for p in (real_dist / "id").rglob("*.html")}
    pages = {page for page in pages if not page.endswith(".ja")}  # the Japanese pages of the same resources
    ids = []
    for line in lines:
        document = json.loads(line)
        assert document["@context"] == CONTEXT_IRI
        documents = {node["id"].partition("#")[0] for node in document["@graph"]}
        assert len(documents) == 1
        ids.append(documents.pop().removeprefix("https://w3id.org/ndlld/id/"))
    assert ids == sorted(ids) and set(ids) == pages


def test_checksums_verify_with_sha256sum(real_dist: Path):
    """GNU coreutils' own sha256sum -c accepts SHA256SUMS."""
    import subprocess

    result = subprocess.run(["sha256sum", "--check", "--strict", "SHA256SUMS"], cwd=real_dist, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(line.split(": ")[0] for line in result.stdout.splitlines()) == sorted(ALL_DUMPS)


def test_gzip_files_are_deterministic(real_dist: Path):
    header = (real_dist / "dataset.nt.gz").read_bytes()[:10]
    assert header[4:8] == b"\0\0\0\0", "no modification time in the gzip header"


def test_builds_are_byte_identical(real_dist: Path, tmp_path: Path):
    build(ROOT / "data", tmp_path / "again")
    for path in sorted(p for p in real_dist.rglob("*") if p.is_file()):
        again = tmp_path / "again" / path.relative_to(real_dist)
        assert again.read_bytes() == path.read_bytes(), path.relative_to(real_dist)


def test_ntriples_lines_are_sorted_and_unique(real_dist: Path):
    lines = (real_dist / "dataset.nt").read_bytes().splitlines()
    assert lines == sorted(set(lines))


def test_turtle_groups_each_subject_once_in_order(real_dist: Path):
    text = (real_dist / "dataset.ttl").read_text(encoding="utf-8")
    subjects = [line.split(" ", 1)[0] for line in text.splitlines() if line.startswith("<")]
    assert subjects == sorted(set(subjects), key=lambda s: s + " ")  # the order of the N-Triples lines
    assert text.startswith("@prefix")


def test_jsonld_graph_is_sorted_by_id_with_the_project_context(real_dist: Path):
    document = json.loads((real_dist / "dataset.jsonld").read_text(encoding="utf-8"))
    ids = [node["id"] for node in document["@graph"]]
    assert ids == sorted(set(ids))
    context = json.loads((real_dist / "context.jsonld").read_text(encoding="utf-8"))
    assert document["@context"] == context["@context"]
    assert context == json.loads((ROOT / "ontology" / "context.jsonld").read_text(encoding="utf-8"))


def test_jsonld_uses_the_context_terms(real_dist: Path):
    document = json.loads((real_dist / "dataset.jsonld").read_text(encoding="utf-8"))
    ifla = next(node for node in document["@graph"] if node["id"].endswith("/id/ifla"))
    assert ifla["type"] == "Organization"
    assert ifla["name"] == {"en": "International Federation of Library Associations and Institutions"}
    count = next(node for node in document["@graph"] if node["id"].endswith("/id/ifla#member-count"))
    assert count["minValue"] == 1700 and count["countQualifier"] == "MoreThan" and "value" not in count


def test_ontology_dump_is_the_vocabulary(real_dist: Path):
    published = rdflib.Graph().parse(real_dist / "ontology.ttl", format="turtle")
    source = rdflib.Graph().parse(ROOT / "ontology" / "ndl.ttl", format="turtle")
    assert isomorphic(published, source)


def test_a_repeated_triple_is_written_once_and_rdf_type_comes_first():
    from pyoxigraph import Literal, NamedNode, Triple

    from ndlld.dumps import ntriples, turtle

    s, name = NamedNode("https://example.org/id/a"), NamedNode("http://schema.org/name")
    typed = Triple(s, NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), NamedNode("http://schema.org/Library"))
    named = Triple(s, name, Literal("A", language="en"))
    other = Triple(NamedNode("https://example.org/id/0"), name, Literal("<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"))
    lines = ntriples([named, typed, other, named]).splitlines()
    assert lines == sorted(set(lines)) and len(lines) == 3  # code-point order: schema:name before rdf:type
    text = turtle([named, typed, other, named]).decode()
    assert text.index("a schema:Library") < text.index('schema:name "A"@en')  # rdf:type first in Turtle
    assert text.count('"A"@en') == 1 and text.index("id/0") < text.index("id/a")
    assert isomorphic(rdflib.Graph().parse(data=text, format="turtle"), rdflib.Graph().parse(data=b"\n".join(lines).decode(), format="nt"))


def test_every_statement_expands_back_whether_a_term_fits_it_or_not(context):
    """Each predicate's objects by each way the JSON-LD writes them: a term's IRI, a class
    by its name, a language map, a typed or plain literal, an integer too large for a JSON
    number, and, where no term of the context fits, a compact IRI key with a value object."""
    from pyoxigraph import Literal, NamedNode, Triple

    from ndlld.dumps import jsonld, ntriples

    subject, xsd = NamedNode("https://example.org/id/a"), "http://www.w3.org/2001/XMLSchema#"
    objects = [
        NamedNode("https://example.org/id/b"),
        NamedNode("http://schema.org/Library"),
        Literal("A"),
        Literal("A", language="en"),
        Literal("エー", language="ja"),
        Literal("12", datatype=NamedNode(xsd + "integer")),
        Literal("99999999999999999999", datatype=NamedNode(xsd + "integer")),
        Literal("2020", datatype=NamedNode(xsd + "gYear")),
        Literal("x", datatype=NamedNode("https://example.org/datatype")),
    ]
    predicates = [term.iri for term in context.terms.values() if not term.reverse]
    predicates += ["https://example.org/unknown", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"]
    triples = [Triple(subject, NamedNode(p), o) for p in dict.fromkeys(predicates) for o in objects]
    written = to_graph_jsonld(jsonld(triples, context).decode("utf-8"))
    assert isomorphic(written, rdflib.Graph().parse(data=ntriples(triples).decode("utf-8"), format="nt"))
    node = json.loads(jsonld(triples, context))["@graph"][0]
    assert {"@id": "https://example.org/id/b"} in node["https://example.org/unknown"]  # no term fits: a value object


def test_chunks_write_a_repeated_triple_once_and_rdf_types_first(context, tmp_path: Path):
    """The chunks' own ordering (each line's triple kept beside it, the type lines
    found by bisection) gives the whole-graph writers' bytes on the tricky cases."""
    from pyoxigraph import Literal, NamedNode, Triple

    from ndlld.dumps import write_dumps

    rdf_type = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    s, name = NamedNode("https://example.org/id/a"), NamedNode("http://schema.org/name")
    triples = [
        Triple(s, name, Literal("A", language="en")),
        Triple(s, rdf_type, NamedNode("http://schema.org/Library")),
        Triple(s, NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), Literal("after rdf:type in code points")),
        Triple(s, rdf_type, NamedNode("http://schema.org/GovernmentOrganization")),
        Triple(NamedNode("https://example.org/id/0"), name, Literal("<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>")),
        Triple(s, name, Literal("A", language="en")),
    ]
    write_dumps(triples, [], context, tmp_path)
    for file, text in _plain_dumps(triples, context).items():
        assert (tmp_path / file).read_bytes() == text, file
    turtle = (tmp_path / "dataset.ttl").read_text()
    assert turtle.count('"A"@en') == 1
    # rdf:type first, then the lines' code-point order: schema:name before rdf:type, rdfs:label after it
    assert (
        turtle.index("a schema:GovernmentOrganization , schema:Library")
        < turtle.index('\tschema:name "A"@en')
        < turtle.index("\trdfs:label")
    )


# The dumps in chunks: an edit makes again only the chunks it changed, and the bytes are the same.


@pytest.fixture(scope="module")
def synthetic_graph(tmp_path_factory):
    from ndlld.build import load_graph
    from ndlld.synth import synthesize

    data = tmp_path_factory.mktemp("synth") / "data"
    synthesize(data, orgs=150, seed=3)
    return load_graph(data)


def _plain_dumps(triples, context) -> dict[str, bytes]:
    """The dumps as the whole-graph writers make them."""
    from ndlld.dumps import Ordered, jsonld, ndjson, node_objects, ntriples, turtle

    ordered, nodes = Ordered(triples), node_objects(triples, context)
    texts = {
        "turtle": turtle(triples, ordered),
        "jsonld": jsonld(triples, context, nodes),
        "ntriples": ntriples(triples, ordered),
        "ndjson": ndjson(triples, context, nodes),
    }
    return {DATASET_FILES[name]: text for name, text in texts.items()}


@pytest.mark.parametrize("every", [1, 4, 256])
def test_dumps_in_chunks_are_those_of_the_whole_graph(synthetic_graph, context, tmp_path: Path, every: int):
    """Byte for byte, however the chunks fall (one resource each, a few, one chunk for all);
    each gzip file is one member that gzip itself tests and reads back to the same bytes,
    and the layout says where each chunk lies in both."""
    import subprocess
    import zlib

    from ndlld.dumps import WINDOW, write_dumps

    _, layout = write_dumps(synthetic_graph.triples, [], context, tmp_path, chunk_every=every)
    subjects = {t.subject.value for t in synthetic_graph.triples}
    for kind, chunks in layout.items():
        assert len(chunks) == len(subjects) if every == 1 and kind != "ndjson" else len(chunks) < len(subjects) / every * 2 + 2
        plain = (tmp_path / DATASET_FILES[kind]).read_bytes()
        deflated = (tmp_path / (DATASET_FILES[kind] + ".gz")).read_bytes()
        for chunk in chunks:  # each chunk's bytes, and its piece of the gzip file, where the layout says
            text = plain[chunk.offset : chunk.offset + chunk.length]
            assert zlib.crc32(text) == chunk.crc
            before = plain[max(chunk.offset - WINDOW, 0) : chunk.offset]  # what the decoder's window holds there
            assert zlib.decompressobj(-15, zdict=before).decompress(deflated[chunk.zoffset : chunk.zoffset + chunk.zlength]) == text
    for name, text in _plain_dumps(synthetic_graph.triples, context).items():
        assert (tmp_path / name).read_bytes() == text, name
        assert gzip.decompress((tmp_path / (name + ".gz")).read_bytes()) == text
        tested = subprocess.run(["gzip", "--test", "--verbose", name + ".gz"], cwd=tmp_path, capture_output=True, text=True)
        assert tested.returncode == 0 and tested.stderr.strip().endswith("OK"), tested.stderr


def _python_blocks(text: str, after: str) -> list[str]:
    section = text[text.index(after) :]
    section = section[: section.index("\n## ", 1)]
    return re.findall(r"```python\n(.*?)```", section, re.S)


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")  # inside rdflib's JSON-LD parser
@pytest.mark.parametrize("build_of", ["real", "fixture"])
def test_the_docs_read_each_ndjson_line_alone_and_offline_with_pyld_and_rdflib(
    build_of: str, real_dist: Path, fixture_dist: Path, monkeypatch
):
    """docs/outputs.md gives the document loader mapping (the context's absolute IRI to the
    local file); its code, run as written, reads every line alone with the network cut off,
    whatever the dataset's base, and gets the dataset."""
    dist = real_dist if build_of == "real" else fixture_dist
    for line in (dist / "dataset.ndjson").read_text(encoding="utf-8").splitlines():
        assert json.loads(line)["@context"] == CONTEXT_IRI  # absolute: nothing to resolve against
    blocks = _python_blocks((ROOT / "docs" / "outputs.md").read_text(encoding="utf-8"), "## Harvesting the dumps offline")
    assert len(blocks) == 2

    def no_network(*args, **kwargs):
        raise AssertionError(f"the docs' code tried the network: {args}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    (dist.parent / "dist").exists() or pytest.fail("the build is not in a directory named dist")
    monkeypatch.chdir(dist.parent)
    canonical = rdflib.Graph().parse(dist / "dataset.nt", format="nt")
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/outputs.md", "exec"), namespace)
        assert isomorphic(namespace["graph"], canonical)
