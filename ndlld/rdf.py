"""pyoxigraph, typed as narrowly as ndlld knows it.

pyoxigraph types a triple's subject as ``NamedNode | BlankNode | Triple``. RDF 1.2
lets a triple be the object of another (a triple term) but never its subject, and
pyoxigraph's parsers refuse one there: a subject always has a ``value``. Its
writers return ``bytes | None``: None only when given a file to write to, which
these helpers never give them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeAlias

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, QueryBoolean, QueryResultsFormat, QuerySolutions, RdfFormat, Triple, serialize

# Any term of a triple: what its object may be.
Term: TypeAlias = NamedNode | BlankNode | Literal | Triple
# Each statement of a dataset (TriG, N-Quads), and the names of the graphs it is in ("" the default graph).
Graphs: TypeAlias = dict[Triple, frozenset[str]]


def subject_of(triple: Triple) -> NamedNode | BlankNode:
    """*triple*'s subject: an IRI or a blank node."""
    subject = triple.subject
    if isinstance(subject, Triple):  # made by hand only: no parser of RDF 1.2 makes one
        raise TypeError(f"a triple as the subject of {triple}: RDF 1.2 has none")
    return subject


def subject_value(triple: Triple) -> str:
    """The IRI or blank node id of *triple*'s subject."""
    return subject_of(triple).value


def term_text(term: Term) -> str:
    """The IRI, blank node id or literal text of *term*; of a triple term (an object in
    RDF 1.2, which pyoxigraph reads in others' data), its three terms as N-Triples
    writes them, which no IRI or blank node id can be."""
    return str(term) if isinstance(term, Triple) else term.value


def serialized(triples: Iterable[Triple], rdf_format: RdfFormat, prefixes: dict[str, str] | None = None) -> bytes:
    """*triples* written in *rdf_format*."""
    return _written(serialize(triples, format=rdf_format, prefixes=prefixes))


def serialized_dataset(quads: Iterable[Quad], rdf_format: RdfFormat, prefixes: dict[str, str] | None = None) -> bytes:
    """*quads* written in *rdf_format*, a format of datasets (TriG, N-Quads)."""
    return _written(serialize(quads, format=rdf_format, prefixes=prefixes))


def results_serialized(results: QuerySolutions | QueryBoolean, results_format: QueryResultsFormat) -> bytes:
    """SELECT or ASK *results* written in *results_format*."""
    return _written(results.serialize(format=results_format))


def _written(data: bytes | None) -> bytes:
    if data is None:
        raise TypeError("pyoxigraph wrote nothing into memory")
    return data
