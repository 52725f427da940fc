"""IRIs ndlld itself refers to, bound once (pyoxigraph terms)."""

from __future__ import annotations

from pyoxigraph import NamedNode


class Namespace(str):
    """``XSD.date`` is ``NamedNode("http://www.w3.org/2001/XMLSchema#date")``."""

    def __getattr__(self, name: str) -> NamedNode:
        if name.startswith("__"):
            raise AttributeError(name)
        return NamedNode(self + name)


W3ID = "https://w3id.org/ndlld/"  # the project's own IRIs: its vocabulary, its context, the dataset
CONTEXT_IRI = W3ID + "context.jsonld"

SCHEMA = Namespace("http://schema.org/")
NDL = Namespace(W3ID + "vocab#")
NDLSH = Namespace(W3ID + "shapes#")  # the shapes of shapes/, each named, so a report can point at it
RDF = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
SH = Namespace("http://www.w3.org/ns/shacl#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
OA = Namespace("http://www.w3.org/ns/oa#")  # W3C Web Annotation: the passages statements come from

RDF_TYPE = RDF.type

# The prefixes written at the top of the Turtle dumps.
PREFIXES = {
    "dcterms": "http://purl.org/dc/terms/",
    "ndl": str(NDL),
    "oa": str(OA),
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": str(RDF),
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "schema": str(SCHEMA),
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "vann": "http://purl.org/vocab/vann/",
    "xsd": str(XSD),
}
