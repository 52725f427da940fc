"""``ndlld harvest``: the consumer side. Read a dump someone published, check it,
and load it into a local store.

It reads what ndlld itself publishes, and what partner organizations may:
JSON-LD (``.jsonld``), newline-delimited JSON-LD (``.ndjson``), Turtle
(``.ttl``), N-Triples (``.nt``), each optionally gzip-compressed (``.gz``),
and HTML pages with embedded JSON-LD; from a file or an http(s) URL. The
format comes from the HTTP Content-Type or the file's extension, and the
content must be what it claims to be: a truncated or corrupt file, or one
that is not of its type, is refused with a one-line error before anything is
written, so the store is left as it was.

JSON-LD is read by pyld, an independent processor, with contexts from this
machine only: ndlld's own context (by any URL ending in ``context.jsonld``)
and schema.org's (as its vocabulary). Any other remote context is refused.
"""

from __future__ import annotations

import gzip
import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad, RdfFormat, Store, Triple, parse

from ndlld.errors import ConformanceError, HarvestError
from ndlld.resources import context_path

FORMATS = {
    ".jsonld": "jsonld", ".json": "jsonld", ".ndjson": "ndjson", ".ttl": "turtle", ".nt": "ntriples",
    ".html": "html", ".htm": "html",
}
MEDIA_TYPES = {
    "application/ld+json": "jsonld", "application/json": "jsonld", "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson", "text/turtle": "turtle", "application/n-triples": "ntriples",
    "text/html": "html", "application/xhtml+xml": "html",
}
SCHEMA_CONTEXTS = {"http://schema.org", "https://schema.org", "http://schema.org/", "https://schema.org/"}
MAX_BYTES = 2 * 1024**3


@dataclass
class Harvested:
    """What one harvest loaded, and where."""

    source: str
    format: str
    triples: list[Triple]
    graph: NamedNode
    report: object | None = None

    def __str__(self) -> str:
        subjects = len({t.subject for t in self.triples})
        checked = f"; {self.report.summary()}" if self.report is not None else ""
        return f"harvested {len(self.triples)} triples about {subjects} resources from {self.source} ({self.format}) into <{self.graph.value}>{checked}"


def fetch(source: str) -> tuple[bytes, str, str]:
    """(content, format, name) of a path or http(s) URL; gzip undone."""
    if urlsplit(source).scheme in ("http", "https"):
        import httpx

        try:
            response = httpx.get(source, follow_redirects=True, timeout=120)
        except httpx.HTTPError as err:
            raise HarvestError(f"{source}: cannot fetch it ({err})") from None
        if response.status_code >= 400:
            raise HarvestError(f"{source}: HTTP {response.status_code}")
        content = response.content
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        name = urlsplit(source).path
        expected = _format_of_name(name)
        if media_type in MEDIA_TYPES and expected and MEDIA_TYPES[media_type] != expected and media_type != "application/json":
            raise HarvestError(f"{source}: served as {media_type}, but its name says {expected}")
        kind = MEDIA_TYPES.get(media_type) or expected
    else:
        path = Path(source)
        try:
            content = path.read_bytes()
        except OSError as err:
            raise HarvestError(f"{source}: cannot read it ({err.strerror})") from None
        name = path.name
        kind = _format_of_name(name)
    if name.endswith(".gz") or content[:2] == b"\x1f\x8b":
        try:
            content = gzip.decompress(content)
        except (OSError, EOFError, zlib.error) as err:
            raise HarvestError(f"{source}: the gzip data is truncated or corrupt ({err})") from None
    if kind is None:
        raise HarvestError(f"{source}: unknown format; name it .jsonld, .ndjson, .ttl, .nt or .html (optionally .gz)")
    return content, kind, name


def _format_of_name(name: str) -> str | None:
    suffixes = [s for s in Path(name).suffixes if s != ".gz"]
    return FORMATS.get(suffixes[-1].lower()) if suffixes else None


def read_triples(source: str) -> tuple[list[Triple], str]:
    """The triples of a dump or page, and its format; HarvestError when it is not well formed."""
    content, kind, _ = fetch(source)
    if len(content) > MAX_BYTES:
        raise HarvestError(f"{source}: larger than {MAX_BYTES} bytes")
    try:
        if kind in ("turtle", "ntriples"):
            rdf_format = RdfFormat.TURTLE if kind == "turtle" else RdfFormat.N_TRIPLES
            triples = [q.triple for q in parse(content, format=rdf_format, base_iri=_base_of(source))]
        elif kind == "jsonld":
            triples = _from_jsonld([_json(content, source)], source)
        elif kind == "ndjson":
            documents = [_json(line, source, number) for number, line in enumerate(content.splitlines(), 1) if line.strip()]
            triples = _from_jsonld(documents, source)
        else:
            triples = _from_html(content, source)
    except SyntaxError as err:
        raise HarvestError(f"{source}: not valid {kind}: {str(err).splitlines()[0]}") from None
    except UnicodeDecodeError:
        raise HarvestError(f"{source}: not UTF-8 text") from None
    if not triples:
        raise HarvestError(f"{source}: no statements in it")
    return triples, kind


def _base_of(source: str) -> str:
    return source if urlsplit(source).scheme in ("http", "https") else Path(source).resolve().as_uri()


def _json(content: bytes, source: str, line: int | None = None):
    try:
        return json.loads(content.decode("utf-8"))
    except json.JSONDecodeError as err:
        at = f" line {line}" if line else f" line {err.lineno}"
        raise HarvestError(f"{source}:{at.strip().removeprefix('line ')}: not valid JSON ({err.msg}); truncated?") from None


def _document_loader(url: str, options=None) -> dict:
    """Contexts from this machine only."""
    if url.rstrip("/") in {u.rstrip("/") for u in SCHEMA_CONTEXTS}:
        document = {"@context": {"@vocab": "http://schema.org/"}}
    elif url.endswith("context.jsonld"):
        document = json.loads(context_path().read_text(encoding="utf-8"))
    else:
        raise HarvestError(f"the JSON-LD names a remote context ndlld does not have: {url}")
    return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url, "document": document}


def _from_jsonld(documents: list, source: str) -> list[Triple]:
    from pyld import jsonld

    triples: list[Triple] = []
    for document in documents:
        try:
            dataset = jsonld.to_rdf(document, {"base": _base_of(source), "documentLoader": _document_loader})
        except HarvestError:
            raise
        except jsonld.JsonLdError as err:
            cause = getattr(err, "cause", None)
            if isinstance(cause, HarvestError):
                raise cause from None
            raise HarvestError(f"{source}: not valid JSON-LD ({str(err).splitlines()[0]})") from None
        for quads in dataset.values():
            triples += [Triple(_term(q["subject"]), _term(q["predicate"]), _term(q["object"])) for q in quads]
    return triples


def _term(node: dict):
    if node["type"] == "IRI":
        return NamedNode(node["value"])
    if node["type"] == "blank node":
        return BlankNode(node["value"].removeprefix("_:"))
    if node.get("language"):
        return Literal(node["value"], language=node["language"])
    return Literal(node["value"], datatype=NamedNode(node["datatype"]))


def _from_html(content: bytes, source: str) -> list[Triple]:
    import extruct

    try:
        found = extruct.extract(content.decode("utf-8"), base_url=_base_of(source), syntaxes=["json-ld"], uniform=False)
    except ValueError as err:
        raise HarvestError(f"{source}: an embedded JSON-LD block is not valid JSON ({err})") from None
    blocks = found.get("json-ld", [])
    if not blocks:
        raise HarvestError(f"{source}: the page embeds no JSON-LD")
    return _from_jsonld(blocks, source)


def graph_name(source: str) -> NamedNode:
    """The named graph a source is loaded into: its URL (a file's, for a path)."""
    return NamedNode(_base_of(source))


def harvest(source: str, store_dir: str | Path, check: bool = True, accept_violations: bool = False) -> Harvested:
    """Read *source*, check it against shapes/, and load it into the store at *store_dir*,
    replacing what an earlier harvest of the same source loaded."""
    triples, kind = read_triples(source)
    report = _check(triples) if check else None
    if report is not None and not report.conforms and not accept_violations:
        raise ConformanceError(report)
    graph = graph_name(source)
    try:
        store = Store(str(store_dir))
    except OSError as err:
        raise HarvestError(f"{store_dir}: cannot open the store ({err})") from None
    # Everything was read and checked above; only now is the store touched.
    try:
        if graph in set(store.named_graphs()):
            store.remove_graph(graph)
        store.extend(Quad(t.subject, t.predicate, t.object, graph) for t in triples)
        store.flush()
    finally:
        del store  # releases the store's lock now, so that the next harvest can open it
    return Harvested(source, kind, triples, graph, report)


def _check(triples: list[Triple]):
    """SHACL against shapes/ (no file and line: the records are someone else's)."""
    from ndlld.checks import check_with_project_shapes
    from ndlld.context import Context
    from ndlld.graph import Graph

    return check_with_project_shapes(Graph(base="", triples=triples), Context.load(context_path()))


def store_triples(store_dir: str | Path, graph: NamedNode | None = None) -> list[Triple]:
    """What the harvest store holds (in *graph*, or everywhere), for tests and reports."""
    store = Store(str(store_dir))
    quads = store.quads_for_pattern(None, None, None, graph)
    return [q.triple for q in quads if not isinstance(q.graph_name, DefaultGraph)]
