"""``ndlld harvest``: the consumer side. Read a dump someone published, check it,
and load it into a local store.

It reads what ndlld itself publishes, and what partner organizations may:
JSON-LD (``.jsonld``), newline-delimited JSON-LD (``.ndjson``), Turtle
(``.ttl``), N-Triples (``.nt``), TriG (``.trig``) and N-Quads (``.nq``) as the
union of their graphs, each optionally gzip-compressed (``.gz``),
and HTML pages with embedded JSON-LD; from a file or an http(s) URL, read
within the limits of :mod:`ndlld.fetch` (bytes, time, where redirects lead).
The format comes from the HTTP Content-Type or the file's extension, and the
content must be what it claims to be: a truncated or corrupt file, or one
that is not of its type, is refused with a one-line error before anything is
written, so the store is left as it was.

JSON-LD is read by pyld, an independent processor, with contexts from this
machine or from beside the source only: ndlld's own (by its IRI,
``https://w3id.org/ndlld/context.jsonld``), schema.org's (as its vocabulary),
and a ``context.jsonld`` in the source's own directory (for a dump whose lines
name their context relatively), fetched within the same limits. Any other context is
refused, by name: a document's meaning never comes from a context ndlld did
not read, nor from ndlld's own one put in the place of another.

JSON is nested at most MAX_DEPTH deep (pyld recurses on each level), and no
literal or IRI is longer than MAX_TERM characters (the SHACL validator's
parser, like pyoxigraph's, stops at 16 MiB a term).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad, RdfFormat, Store, Triple, parse

from ndlld.context import Context
from ndlld.errors import ConformanceError, HarvestError
from ndlld.fetch import Limits, fetch, is_url, out_of_memory
from ndlld.namespaces import CONTEXT_IRI
from ndlld.rdf import Graphs, subject_value, term_text
from ndlld.resources import context_path

if TYPE_CHECKING:
    from ndlld.checks import Report  # imported when a harvest is checked: it brings rdflib and pySHACL

FORMATS = {
    ".jsonld": "jsonld",
    ".json": "jsonld",
    ".ndjson": "ndjson",
    ".ttl": "turtle",
    ".nt": "ntriples",
    ".trig": "trig",
    ".nq": "nquads",
    ".html": "html",
    ".htm": "html",
}
MEDIA_TYPES = {
    "application/ld+json": "jsonld",
    "application/json": "jsonld",
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "text/turtle": "turtle",
    "application/n-triples": "ntriples",
    "application/trig": "trig",
    "application/n-quads": "nquads",
    "text/html": "html",
    "application/xhtml+xml": "html",
}
_RDF_FORMATS = {"turtle": RdfFormat.TURTLE, "ntriples": RdfFormat.N_TRIPLES, "trig": RdfFormat.TRIG, "nquads": RdfFormat.N_QUADS}
SCHEMA_CONTEXTS = {"http://schema.org", "https://schema.org"}
OWN_CONTEXTS = {CONTEXT_IRI, CONTEXT_IRI.replace("https:", "http:", 1)}
MAX_DEPTH = 100  # JSON objects and arrays nested at most this deep (ndlld's dumps: 5; pyld fails near 500)
MAX_TERM = 1_000_000  # characters of a literal or IRI


@dataclass
class Harvested:
    """What one harvest loaded, and where."""

    source: str
    format: str
    triples: list[Triple]
    graph: NamedNode
    report: Report | None = None
    replayed: int | None = None  # changes of the feed applied after the dump (--follow)

    def __str__(self) -> str:
        subjects = len({t.subject for t in self.triples})
        checked = f"; {self.report.summary()}" if self.report is not None else ""
        followed = f", {self.replayed} later change(s) of the feed replayed," if self.replayed is not None else ""
        return f"harvested {len(self.triples)} triples about {subjects} resources from {self.source} ({self.format}){followed} into <{self.graph.value}>{checked}"


def _format_of(source: str, media_type: str | None, name: str) -> str:
    """The format a source is in: by its Content-Type, else by its name; the two must agree."""
    expected = _format_of_name(name)
    if media_type in MEDIA_TYPES and expected and MEDIA_TYPES[media_type] != expected and media_type != "application/json":
        raise HarvestError(f"{source}: served as {media_type}, but its name says {expected}")
    kind = MEDIA_TYPES.get(media_type or "") or expected
    if kind is None:
        raise HarvestError(f"{source}: unknown format; name it .jsonld, .ndjson, .ttl, .nt, .trig, .nq or .html (optionally .gz)")
    return kind


def _format_of_name(name: str) -> str | None:
    suffixes = [s for s in Path(name).suffixes if s != ".gz"]
    return FORMATS.get(suffixes[-1].lower()) if suffixes else None


def read_triples(source: str, limits: Limits = Limits()) -> tuple[list[Triple], str]:
    """The triples of a dump or page, and its format; HarvestError when it is not well formed or not within *limits*."""
    triples, _, kind = read_dataset(source, limits)
    return triples, kind


def read_dataset(source: str, limits: Limits = Limits()) -> tuple[list[Triple], Graphs | None, str]:
    """The triples of a dump or page (of TriG or N-Quads, the union of its graphs), the named
    graphs each is in (None for a format of one graph), and its format; HarvestError when it is
    not well formed or not within *limits*."""
    fetched = fetch(source, limits)
    kind = _format_of(source, fetched.media_type, fetched.name)
    try:
        triples, graphs = _parse(fetched.content, kind, source, limits)
    except SyntaxError as err:
        raise HarvestError(f"{source}: not valid {kind}: {str(err).splitlines()[0]}") from None
    except UnicodeDecodeError:
        raise HarvestError(f"{source}: not UTF-8 text") from None
    except MemoryError as err:
        if "buffer maximal size" in str(err):  # pyoxigraph's parser, at a term of 16 MiB
            raise _too_long(source) from None
        raise out_of_memory(source) from None
    if not triples:
        raise HarvestError(f"{source}: no statements in it")
    return triples, graphs, kind


def _parse(content: bytes, kind: str, source: str, limits: Limits) -> tuple[list[Triple], Graphs | None]:
    if kind in _RDF_FORMATS:  # of a dataset (TriG, N-Quads), the union of its graphs: the triples dumps' graph
        graphs: dict[Triple, set[str]] = {}
        for quad in parse(content, format=_RDF_FORMATS[kind], base_iri=_base_of(source)):
            graphs.setdefault(quad.triple, set()).add(getattr(quad.graph_name, "value", ""))  # the default graph: ""
        for triple in graphs:
            for term in triple:
                _check_length(getattr(term, "value", ""), source)  # a triple term has none of its own
        dataset = kind in ("trig", "nquads")
        return list(graphs), {t: frozenset(g) for t, g in graphs.items()} if dataset else None
    contexts = Contexts(source, limits)
    if kind == "jsonld":
        return _from_jsonld([_json(content, source)], source, contexts), None
    if kind == "ndjson":
        documents = [_json(line, source, number) for number, line in enumerate(content.splitlines(), 1) if line.strip()]
        return _from_jsonld(documents, source, contexts), None
    return _from_html(content, source, contexts), None


def _base_of(source: str) -> str:
    return source if is_url(source) else Path(source).resolve().as_uri()


def _json(content: bytes, source: str, line: int | None = None):
    at = f"{source}:{line}" if line else source
    try:
        document = json.loads(content.decode("utf-8"))
    except json.JSONDecodeError as err:
        raise HarvestError(f"{source}:{line or err.lineno}: not valid JSON ({err.msg}); truncated?") from None
    except RecursionError:  # json's own limit, about 1,000 levels
        raise _too_deep(at) from None
    _check_depth(document, at)
    return document


def _check_depth(document, at: str) -> None:
    """HarvestError if *document* nests objects and arrays more than MAX_DEPTH deep (walked without recursion)."""
    level = _children([document])
    for _ in range(MAX_DEPTH):
        if not level:
            return
        level = [child for value in level for child in _children(value)]
    if level:
        raise _too_deep(at)


def _too_deep(at: str) -> HarvestError:
    return HarvestError(f"{at}: JSON nested more than {MAX_DEPTH} levels deep")


def _children(value) -> list:
    if isinstance(value, dict):
        return [v for v in value.values() if isinstance(v, (dict, list))]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, (dict, list))]
    return []


def _check_length(value: str, source: str) -> None:
    if len(value) > MAX_TERM:
        raise _too_long(source)


def _too_long(source: str) -> HarvestError:
    return HarvestError(f"{source}: a literal or IRI longer than {MAX_TERM:,} characters, the most ndlld reads")


class Contexts:
    """The JSON-LD document loader of one source: ndlld's own context and schema.org's from
    this machine, a context.jsonld beside the source fetched once, any other refused by name."""

    def __init__(self, source: str, limits: Limits):
        self.source, self.limits = source, limits
        self.beside = urljoin(_base_of(source), "context.jsonld")
        self.documents: dict[str, dict] = {}

    def __call__(self, url: str, options=None) -> dict:
        if url not in self.documents:
            self.documents[url] = self._load(url)
        return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url, "document": self.documents[url]}

    def _load(self, url: str) -> dict:
        if url.rstrip("/") in SCHEMA_CONTEXTS:
            return {"@context": {"@vocab": "http://schema.org/"}}
        if url in OWN_CONTEXTS:
            return json.loads(context_path().read_text(encoding="utf-8"))
        if url == self.beside:
            where = url if is_url(self.source) else str(Path(self.source).resolve().parent / "context.jsonld")
            try:
                return _json(fetch(where, self.limits).content, where)
            except HarvestError as err:
                raise HarvestError(f"{self.source}: cannot read the context beside it ({err})", hint=err.hint) from None
        raise HarvestError(f"{self.source}: the JSON-LD names a remote context ndlld does not read: {url}")


def _from_jsonld(documents: list, source: str, contexts: Contexts) -> list[Triple]:
    from pyld import jsonld

    triples: list[Triple] = []
    for document in documents:
        try:
            dataset = jsonld.to_rdf(document, {"base": _base_of(source), "documentLoader": contexts})
        except HarvestError:
            raise
        except jsonld.JsonLdError as err:
            raise _jsonld_error(err, source) from None
        except RecursionError:
            raise HarvestError(f"{source}: JSON-LD nested too deep for pyld") from None
        for quads in dataset.values():
            triples += [Triple(*(_term(q[part], source) for part in ("subject", "predicate", "object"))) for q in quads]
    return triples


def _jsonld_error(err: BaseException, source: str) -> HarvestError:
    """The HarvestError a document loader raised under pyld's wrapping, else pyld's own first message."""
    innermost = err
    cause: BaseException | None = err
    while cause is not None:
        if isinstance(cause, HarvestError):
            return cause
        innermost = cause
        cause = cause.__cause__ or getattr(cause, "cause", None)
    message = innermost.args[0] if innermost.args and isinstance(innermost.args[0], str) else str(innermost)
    return HarvestError(f"{source}: not valid JSON-LD ({message.splitlines()[0] if message else type(innermost).__name__})")


def _term(node: dict, source: str):
    value = node["value"]
    _check_length(value, source)
    try:
        value.encode("utf-8")
        if node["type"] == "IRI":
            return NamedNode(value)
        if node["type"] == "blank node":
            return BlankNode(value.removeprefix("_:"))
        if node.get("language"):
            return Literal(value, language=node["language"])
        return Literal(value, datatype=NamedNode(node["datatype"]))
    except UnicodeEncodeError:
        raise HarvestError(f"{source}: a string that is not Unicode text (a lone surrogate, written \\ud800 or so)") from None
    except ValueError as err:
        raise HarvestError(f"{source}: not valid JSON-LD ({err}: {(node.get('language') or value)[:80]!r})") from None


def _from_html(content: bytes, source: str, contexts: Contexts) -> list[Triple]:
    import extruct

    try:
        found = extruct.extract(content.decode("utf-8"), base_url=_base_of(source), syntaxes=["json-ld"], uniform=False)
    except ValueError as err:
        raise HarvestError(f"{source}: an embedded JSON-LD block is not valid JSON ({err})") from None
    except RecursionError:
        raise _too_deep(source) from None
    blocks = found.get("json-ld", [])
    if not blocks:
        raise HarvestError(f"{source}: the page embeds no JSON-LD")
    for block in blocks:
        _check_depth(block, source)
    return _from_jsonld(blocks, source, contexts)


def graph_name(source: str) -> NamedNode:
    """The named graph a source is loaded into: its URL (a file's, for a path)."""
    return NamedNode(_base_of(source))


def harvest(
    source: str,
    store_dir: str | Path,
    check: bool = True,
    accept_violations: bool = False,
    limits: Limits = Limits(),
    follow: bool = False,
) -> Harvested:
    """Read *source* within *limits*, check it against shapes/, and load it into the store at
    *store_dir*, replacing what an earlier harvest of the same source loaded. With *follow*,
    *source* is a release's dump, brought up to date from the change feed first (:mod:`ndlld.replay`)."""
    triples, kind = read_triples(source, limits)
    replayed = None
    if follow:
        from ndlld.replay import follow as replay

        triples, replayed = replay(source, triples, limits)
    report = _check(triples, part=kind == "html") if check else None
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
    return Harvested(source, kind, triples, graph, report, replayed)


def _check(triples: list[Triple], part: bool = False) -> Report:
    """SHACL against shapes/, the findings worded in triples (no file and line, no YAML: the
    data is someone else's). A *part* of a dataset (one page's JSON-LD) is not held to what
    only the whole can show: the types of what it links to, the statements that point at it."""
    from ndlld.checks import check_with_project_shapes, merged_report
    from ndlld.graph import Graph

    graph, context = Graph(base="", triples=triples), Context.load(context_path())
    report = check_with_project_shapes(graph, context)
    described = {subject_value(t) for t in triples}
    results = {document: _reworded(kept, described if part else None, context) for document, kept in report.by_document.items()}
    return merged_report({document: kept for document, kept in results.items() if kept}, graph, context)


# The advice a shape's message gives the editor of a record ("…: add 'source: …'"), and the
# record keys it names in quotes: left out, and named as the properties they are.
_ADVICE = re.compile(r"[:;] (?:add|put) .*$")
_KEY = re.compile(r"'(\w+)'")


def _in_triples(message: str, context: Context) -> str:
    """A shape's message for the editor of a record, about triples instead: no advice on
    what to write in YAML, each key as its property (``'source'``: ``dcterms:source``)."""

    def prop(key: re.Match[str]) -> str:
        term = context.terms.get(key.group(1))
        return context.compact(term.iri) if term is not None else key.group(0)

    return _KEY.sub(prop, _ADVICE.sub("", message)).replace("record", "resource")


def _reworded(triples: list[Triple], described: set[str] | None, context: Context) -> list[Triple]:
    """One document's SHACL results with each message about triples (:func:`_in_triples`);
    with *described* (the subjects of a part of a dataset), without the results only the
    whole could settle (:func:`_for_the_whole`)."""
    from ndlld.checks.report import RESULT_MESSAGE

    dropped = _for_the_whole(triples, described) if described is not None else set()
    return [
        Triple(t.subject, t.predicate, Literal(_in_triples(t.object.value, context)))
        if t.predicate == RESULT_MESSAGE and isinstance(t.object, Literal)
        else t
        for t in triples
        if t.subject not in dropped
    ]


def _for_the_whole(triples: list[Triple], described: set[str]) -> set:
    """The nodes of the results (and their trees) that a part of a dataset, describing the
    resources *described*, cannot settle: the class of a resource it does not describe, a
    path followed backwards (the statements pointing at it are in other parts)."""
    from ndlld.checks.report import DETAIL, RESULT_PATH, SOURCE_COMPONENT, VALUE, first, index
    from ndlld.namespaces import SH

    about = index(triples)
    details = {t.object for t in triples if t.predicate == DETAIL}
    dropped: set = set()
    for result in [s for s in about if s not in details and SOURCE_COMPONENT in about[s]]:
        path, value = first(about, result, RESULT_PATH), first(about, result, VALUE)
        of_class = first(about, result, SOURCE_COMPONENT) == SH.ClassConstraintComponent
        if not isinstance(path, NamedNode) or (of_class and value is not None and term_text(value) not in described):
            dropped |= _tree(about, result)
    return dropped


def _tree(about, node) -> set:
    """*node* and every blank node below it: a result's tree in a report graph."""
    found = {node}
    for objects in about.get(node, {}).values():
        for value in objects:
            if isinstance(value, BlankNode) and value not in found:
                found |= _tree(about, value)
    return found


def store_triples(store_dir: str | Path, graph: NamedNode | None = None) -> list[Triple]:
    """What the harvest store holds (in *graph*, or everywhere), for tests and reports."""
    store = Store(str(store_dir))
    quads = store.quads_for_pattern(None, None, None, graph)
    return [q.triple for q in quads if not isinstance(q.graph_name, DefaultGraph)]
