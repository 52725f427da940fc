"""What ``/sparql`` of ``ndlld serve`` says of itself, and what it shows a browser.

* A GET without a query is answered, by the ``Accept`` header, with the endpoint's
  SPARQL 1.1 Service Description (https://www.w3.org/TR/sparql11-service-description/)
  in Turtle, JSON-LD, RDF/XML or N-Triples, or, for a browser, with a query form.
* The form is a plain GET form: its answers come back as an HTML table made here,
  so the page runs no script and the site's Content-Security-Policy stays as it is.
* The named queries of ``queries/`` (:mod:`ndlld.queries`) are listed on it as
  links, each with a small form of its parameters, as datasette lists its canned
  queries: ``/sparql?named=organization&organization=ifla`` runs one (for any client,
  in any results format).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2
from pyoxigraph import Literal, NamedNode, RdfFormat, Triple, parse

from ndlld.conneg import LANGUAGES, negotiate_language
from ndlld.dumps import read_triples
from ndlld.queries import Query
from ndlld.rdf import serialized
from ndlld.site import environment, language_context
from ndlld.site.parts import Link, Text
from ndlld.store import VOCABULARY_GRAPH, dataset_graph

HTML = "text/html"
# The description's formats, the server's preference first; HTML (the form) last, so
# that a client that takes anything gets RDF, and a browser, which names HTML, the form.
DESCRIPTION_FORMATS = {
    "text/turtle": RdfFormat.TURTLE,
    "application/ld+json": RdfFormat.JSON_LD,
    "application/rdf+xml": RdfFormat.RDF_XML,
    "application/n-triples": RdfFormat.N_TRIPLES,
    "application/xml": RdfFormat.RDF_XML,
    HTML: None,
}
# What a worker is asked for when the answer is to be a table: results as JSON, statements as N-Triples.
FOR_A_TABLE = "application/sparql-results+json, application/n-triples"
# Parameters of /sparql itself: never a named query's parameter.
PROTOCOL_PARAMETERS = frozenset({"query", "named", "format", "default-graph-uri", "named-graph-uri", "lang"})
_PLACEHOLDERS = ("urn:ndlld:endpoint", "urn:ndlld:dataset", "urn:ndlld:vocabulary")
DCTERMS_TITLE = "http://purl.org/dc/terms/title"
_PREFIXES = {
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "formats": "http://www.w3.org/ns/formats/",
    "entailment": "http://www.w3.org/ns/entailment/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "dcterms": "http://purl.org/dc/terms/",
}
_TEMPLATES = Path(__file__).parent / "site" / "templates"


@cache
def _environment() -> jinja2.Environment:
    return environment()


def title_of(dist_dir: Path, base: str) -> dict[str, Text]:
    """The dataset's title in each language of the pages (English where there is none in
    one), as the VoID description of *dist_dir* gives it."""
    dataset = dataset_graph(base)
    found: dict[str | None, str] = {}
    for triple in read_triples(dist_dir / "void.ttl", RdfFormat.TURTLE):
        if triple.subject == dataset and triple.predicate.value == DCTERMS_TITLE and isinstance(triple.object, Literal):
            found.setdefault(triple.object.language, triple.object.value)
    english = Text(found.get("en", "ndlld"), "en")
    return {language: Text(found[language], language) if language in found else english for language in LANGUAGES}


def description(endpoint: str, base: str) -> list[Triple]:
    """The Service Description of the endpoint reached at *endpoint* serving the dataset
    of *base*: the file's placeholder IRIs replaced by these (each checked as an IRI)."""
    text = (_TEMPLATES / "sparql-service.ttl").read_bytes()
    iris = dict(zip(_PLACEHOLDERS, (endpoint, dataset_graph(base).value, VOCABULARY_GRAPH.value)))

    def real(term):
        if isinstance(term, NamedNode) and term.value.startswith("urn:ndlld:"):
            head, hash_, fragment = term.value.partition("#")
            return NamedNode(iris[head] + hash_ + fragment)
        return term

    return [Triple(real(q.subject), q.predicate, real(q.object)) for q in parse(text, format=RdfFormat.TURTLE)]


def description_bytes(endpoint: str, base: str, media_type: str) -> bytes:
    rdf_format = DESCRIPTION_FORMATS[media_type]
    assert rdf_format is not None  # HTML is the form, not the description
    return serialized(description(endpoint, base), rdf_format, _PREFIXES)


@dataclass
class Table:
    """An answer as the form shows it: a head and rows of cells (a Link or a Text each)."""

    columns: list[str]
    rows: list[list[Link | Text | None]]


def table(body: bytes, media_type: str, base: str) -> Table:
    """The answer a worker gave (:data:`FOR_A_TABLE`) as a table: solutions by variable,
    a boolean as one cell, statements as subject, predicate and object."""
    if media_type.startswith("application/n-triples"):
        triples = [quad.triple for quad in parse(body, format=RdfFormat.N_TRIPLES)]
        return Table(
            ["subject", "predicate", "object"], [[_cell(t.subject, base), _cell(t.predicate, base), _cell(t.object, base)] for t in triples]
        )
    results = json.loads(body)
    if "boolean" in results:
        return Table(["answer"], [[Text("true" if results["boolean"] else "false")]])
    columns = results["head"].get("vars", [])
    return Table(columns, [[_json_cell(row.get(name), base) for name in columns] for row in results["results"]["bindings"]])


def _json_cell(term: Mapping | None, base: str) -> Link | Text | None:
    if term is None:
        return None
    if term["type"] == "uri":
        return _iri_cell(term["value"], base)
    if term["type"] == "bnode":
        return Text("_:" + term["value"])
    return Text(term["value"], term.get("xml:lang"))


def _cell(term, base: str) -> Link | Text:
    if isinstance(term, NamedNode):
        return _iri_cell(term.value, base)
    if isinstance(term, Literal):
        return Text(term.value, term.language)
    return Text(str(term))


def _iri_cell(iri: str, base: str) -> Link:
    """An IRI as a link: to this server's own page when it is one of the dataset's."""
    if iri.startswith(base):
        return Link(iri[len(base) :] or "./", iri)
    return Link(iri, iri, external=True)


@dataclass
class Form:
    """What the form page shows: the query in the form, the named query it came from
    (with the values given), and its answer or why there is none."""

    title: Mapping[str, Text]  # by language
    query: str = ""
    named: str | None = None
    values: Mapping[str, str] | None = None
    answer: Table | None = None
    error: str | None = None
    static: bool = False  # the page a build writes, for a copy of the site served without an endpoint
    language: str = LANGUAGES[0]


def form_page(form: Form, queries: Mapping[str, Query], alternates: Mapping[str, str] | None = None) -> str:
    """The query form, the answer to its query as a table, and the named queries with
    their parameters (the values given to the one chosen filled in), in the form's language;
    *alternates*: where the form is in each language (by default, ``sparql?lang=…``)."""
    listed = []
    for q in queries.values():
        given = form.values if q.name == form.named and form.values is not None else {}
        parameters = [
            {"name": p.name, "type": p.type, "description": p.description, "value": given.get(p.name, p.default)}
            for p in q.parameters.values()
        ]
        listed.append({"name": q.name, "title": q.title or q.name, "description": q.description, "parameters": parameters, "text": q.text})
    alternates = alternates or {language: f"sparql?lang={language}" for language in LANGUAGES}
    context = language_context(form.language, dict(alternates))
    return _environment().get_template("sparql.html").render(form=form, queries=listed, title=form.title[form.language], **context)


def form_language(params: Mapping[str, str], headers: Mapping[str, str]) -> str:
    """The language of the form: the one its ``lang`` parameter names (the switch, and the
    form's own hidden field), else the one ``Accept-Language`` chooses."""
    asked = params.get("lang")
    return asked if asked in LANGUAGES else negotiate_language(headers.get("accept-language"))
