"""The vocabulary page: every class, property and concept of ontology/ndl.ttl,
in English and Japanese, each at the anchor of its local name so that
``https://w3id.org/ndlld/vocab#memberCount`` leads to its entry; a table of
contents, and the vocabulary itself embedded as JSON-LD (as pyLODE's pages have)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from ndlld.context import Context
from ndlld.namespaces import NDL, RDF_TYPE
from ndlld.rdf import subject_value

OWL = "http://www.w3.org/2002/07/owl#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"

_GROUPS = [
    ("Classes", OWL + "Class"),
    ("Object properties", OWL + "ObjectProperty"),
    ("Datatype properties", OWL + "DatatypeProperty"),
    ("Concept schemes", SKOS + "ConceptScheme"),
    ("Concepts", SKOS + "Concept"),
]
_FACTS = [
    ("subclass of", RDFS + "subClassOf"),
    ("subproperty of", RDFS + "subPropertyOf"),
    ("domain", RDFS + "domain"),
    ("range", RDFS + "range"),
    ("in scheme", SKOS + "inScheme"),
    ("top concepts", SKOS + "hasTopConcept"),
    ("notation", SKOS + "notation"),
    ("also called", SKOS + "altLabel"),
]


def vocabulary_page(vocabulary: list[Triple], context: Context) -> dict:
    """What vocab.html shows: the ontology's header and its terms, grouped by kind."""
    about: dict[str, list[Triple]] = defaultdict(list)
    for triple in vocabulary:
        about[subject_value(triple)].append(triple)
    ontology = next(_of_type(vocabulary, OWL + "Ontology"), "")
    title = _texts(about.get(ontology, ()), RDFS + "label", DCTERMS + "title")
    comment = _texts(about.get(ontology, ()), RDFS + "comment", DCTERMS + "description")
    groups = []
    for heading, kind in _GROUPS:
        terms = [_term(iri, about[iri], context) for iri in sorted(_of_type(vocabulary, kind))]
        if terms:
            # the section's anchor: lower case, so it meets no term's (ndl: names are camelCase)
            groups.append({"title": heading, "anchor": heading.lower().replace(" ", "-"), "terms": terms})
    version = next(
        (t.object.value for t in about.get(ontology, ()) if t.predicate.value == OWL + "versionInfo" and isinstance(t.object, Literal)), ""
    )
    return {
        "title": title.get("en", "Vocabulary"),
        "title_ja": title.get("ja", ""),
        "titles": {language: title[language] for language in ("en", "ja") if language in title},
        "descriptions": [{"text": comment[lang], "language": lang} for lang in ("en", "ja") if lang in comment],
        "namespace": str(NDL),
        "version": version,
        "groups": groups,
    }


def _of_type(vocabulary: list[Triple], kind: str) -> Iterator[str]:
    """The subjects stated to be of the class *kind*, in the order of *vocabulary*."""
    for t in vocabulary:
        if t.predicate == RDF_TYPE and isinstance(t.object, NamedNode) and t.object.value == kind:
            yield subject_value(t)


def _texts(about: Iterable[Triple], *predicates: str) -> dict[str, str]:
    """The first text given by any of *predicates*, by language ('' for none)."""
    found: dict[str, str] = {}
    for triple in about:
        if triple.predicate.value in predicates and isinstance(triple.object, Literal):
            found.setdefault(triple.object.language or "", triple.object.value)
    return found


def _term(iri: str, about: list[Triple], context: Context) -> dict[str, Any]:
    """The entry of one class, property or concept."""
    labels = _texts(about, RDFS + "label", SKOS + "prefLabel")
    comments = _texts(about, RDFS + "comment", SKOS + "definition")
    return {
        "anchor": iri.rpartition("#")[2],
        "label": labels.get("en", context.compact(iri)),
        "label_ja": labels.get("ja", ""),
        "curie": context.compact(iri),
        "comment": comments.get("en", ""),
        "comment_ja": comments.get("ja", ""),
        "facts": _facts(about, context),
    }


def _facts(about: list[Triple], context: Context) -> list[tuple[str, list[dict[str, str | None]]]]:
    """What the term's other statements say (its domain, its range, ...), each fact's values sorted."""
    facts = []
    for label, predicate in _FACTS:
        values = [t.object for t in about if t.predicate.value == predicate]
        if values:
            facts.append((label, sorted((_show(v, context) for v in values), key=lambda v: v["text"] or "")))
    return facts


def _show(value: NamedNode | BlankNode | Literal | Triple, context: Context) -> dict[str, str | None]:
    if isinstance(value, NamedNode):
        if value.value.startswith(str(NDL)):
            return {"href": "#" + value.value.rpartition("#")[2], "text": context.compact(value.value)}
        return {"href": value.value, "text": context.compact(value.value)}
    if isinstance(value, Triple):  # a triple term: as N-Triples writes it
        return {"href": None, "text": str(value), "language": None}
    return {"href": None, "text": value.value, "language": value.language if isinstance(value, Literal) else None}
