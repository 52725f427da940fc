"""pyoxigraph, typed as narrowly as ndlld knows it.

pyoxigraph types a triple's subject as ``NamedNode | BlankNode | Triple``. RDF 1.2
lets a triple be the object of another (a triple term) but never its subject, and
pyoxigraph's parsers refuse one there: a subject always has a ``value``. Its
writers return ``bytes | None``: None only when given a file to write to, which
these helpers never give them.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyoxigraph import QueryBoolean, QueryResultsFormat, QuerySolutions, RdfFormat, Triple, serialize


def subject_value(triple: Triple) -> str:
    """The IRI or blank node id of *triple*'s subject."""
    subject = triple.subject
    if isinstance(subject, Triple):  # made by hand only: no parser of RDF 1.2 makes one
        raise TypeError(f"a triple as the subject of {triple}: RDF 1.2 has none")
    return subject.value


def serialized(triples: Iterable[Triple], rdf_format: RdfFormat, prefixes: dict[str, str] | None = None) -> bytes:
    """*triples* written in *rdf_format*."""
    return _written(serialize(triples, format=rdf_format, prefixes=prefixes))


def results_serialized(results: QuerySolutions | QueryBoolean, results_format: QueryResultsFormat) -> bytes:
    """SELECT or ASK *results* written in *results_format*."""
    return _written(results.serialize(format=results_format))


def _written(data: bytes | None) -> bytes:
    if data is None:
        raise TypeError("pyoxigraph wrote nothing into memory")
    return data
