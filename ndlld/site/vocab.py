"""The vocabulary page: every class, property and concept of ontology/ndl.ttl,
in English and Japanese, each at the anchor of its local name so that
``https://w3id.org/ndlld/vocab#memberCount`` leads to its entry."""

from __future__ import annotations

from collections import defaultdict

from pyoxigraph import Literal, NamedNode, Triple

from ndlld.context import Context
from ndlld.namespaces import NDL, RDF_TYPE

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


def vocabulary_page(vocabulary: list[Triple], view, context: Context) -> dict:
    """What vocab.html shows: the ontology's header and its terms, grouped by kind."""
    about: dict[str, list[Triple]] = defaultdict(list)
    for triple in vocabulary:
        about[triple.subject.value].append(triple)

    def texts(iri: str, *predicates: str) -> dict[str, str]:
        found = {}
        for triple in about.get(iri, ()):
            if triple.predicate.value in predicates and isinstance(triple.object, Literal):
                found.setdefault(triple.object.language or "", triple.object.value)
        return found

    ontology = next((t.subject.value for t in vocabulary if t.predicate == RDF_TYPE and t.object.value == OWL + "Ontology"), "")
    title = texts(ontology, RDFS + "label", DCTERMS + "title")
    comment = texts(ontology, RDFS + "comment", DCTERMS + "description")
    groups = []
    for heading, kind in _GROUPS:
        members = sorted(t.subject.value for t in vocabulary if t.predicate == RDF_TYPE and t.object.value == kind)
        terms = []
        for iri in members:
            labels = texts(iri, RDFS + "label", SKOS + "prefLabel")
            comments = texts(iri, RDFS + "comment", SKOS + "definition")
            facts = []
            for label, predicate in _FACTS:
                values = [t.object for t in about[iri] if t.predicate.value == predicate]
                if values:
                    facts.append((label, sorted((_show(v, context) for v in values), key=lambda v: v["text"])))
            terms.append(
                {
                    "anchor": iri.rpartition("#")[2],
                    "label": labels.get("en", context.compact(iri)),
                    "label_ja": labels.get("ja", ""),
                    "curie": context.compact(iri),
                    "comment": comments.get("en", ""),
                    "comment_ja": comments.get("ja", ""),
                    "facts": facts,
                }
            )
        if terms:
            groups.append({"title": heading, "terms": terms})
    version = next((t.object.value for t in about.get(ontology, ()) if t.predicate.value == OWL + "versionInfo"), "")
    return {
        "title": title.get("en", "Vocabulary"),
        "title_ja": title.get("ja", ""),
        "descriptions": [{"text": comment[lang], "language": lang} for lang in ("en", "ja") if lang in comment],
        "namespace": str(NDL),
        "version": version,
        "groups": groups,
    }


def _show(value, context: Context) -> dict:
    if isinstance(value, NamedNode):
        if value.value.startswith(str(NDL)):
            return {"href": "#" + value.value.rpartition("#")[2], "text": context.compact(value.value)}
        return {"href": value.value, "text": context.compact(value.value)}
    return {"href": None, "text": value.value}
