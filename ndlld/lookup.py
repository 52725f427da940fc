"""The graph's statements looked up by subject, by object and by document.

The checks (what the shapes look at around a resource) and the web pages (what a
page shows) read the graph only through a :class:`Lookup`: held in memory for a
build from scratch (:class:`TriplesLookup`), or read from the store an
incremental build keeps. Each answer is in :func:`statement_order`, which does not
depend on where the statements came from, so the same graph gives the same pages
and findings either way.

:class:`Recording` wraps a lookup and notes each question asked: what a page was
made from, so that an incremental build knows which pages a change touches.
"""

from __future__ import annotations

import pickle
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from itertools import chain, repeat
from typing import Protocol, TypeVar, cast

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from ndlld.rdf import subject_value

# What was looked up: ("about", subject), ("stated", "subject predicate"), ("pointing_at", object),
# ("in_document", document) or ("documents", ""). A list cut short notes more kinds of its rows not
# shown: what each one's key read (:func:`ranked`), the key (:func:`sorted_by`); and when the page
# takes rows as the last build kept them (:class:`KeptAfter`), ("kept", list) once and ("unkept", row)
# of each row the last build kept that it does not.
Read = tuple[str, str]
T = TypeVar("T")


class Reads:
    """A page's reads, kept packed: a build from scratch holds every page's until it keeps
    them in the state, and as a set of pairs of strings they took twice the memory. Given
    back sorted, one at a time.

    Packed as each kind's keys, sorted: strings sort faster than pairs of them, and a
    list of strings pickles smaller (the page every record cites reads over a million
    times)."""

    __slots__ = ("_packed",)

    def __init__(self, reads: Iterable[Read]):
        by_kind: defaultdict[str, list[str]] = defaultdict(list)
        for kind, key in reads:
            by_kind[kind].append(key)
        for keys in by_kind.values():
            keys.sort()
        self._packed = pickle.dumps(sorted(by_kind.items()), pickle.HIGHEST_PROTOCOL)

    def __iter__(self) -> Iterator[Read]:
        return chain.from_iterable(zip(repeat(kind), keys) for kind, keys in pickle.loads(self._packed))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Reads) and other._packed == self._packed

    def __hash__(self) -> int:
        return hash(self._packed)


def document_of(iri: str) -> str:
    """The resource a hash IRI belongs to (``…/id/ifla#ndl-member`` -> ``…/id/ifla``)."""
    return iri.partition("#")[0]


def _term_key(term) -> tuple:
    if isinstance(term, NamedNode):
        return (0, term.value, "")
    if isinstance(term, BlankNode):
        return (1, term.value, "")
    if isinstance(term, Literal):
        return (2, term.value, term.language or term.datatype.value)
    return (3, str(term), "")  # a quoted triple


def statement_order(triple: Triple) -> tuple:
    """The order of every answer: by subject, predicate, then object (IRIs, blank nodes,
    literals; each by its text, a literal then by its language or datatype)."""
    return (_term_key(triple.subject), triple.predicate.value, _term_key(triple.object))


# statement_order within an answer whose statements share their subject, or their object:
# the same order, without the key of the term they share.
def _same_subject_order(triple: Triple) -> tuple:
    return (triple.predicate.value, _term_key(triple.object))


def _same_object_order(triple: Triple) -> tuple:
    return (_term_key(triple.subject), triple.predicate.value)


def _by_subject_iri(triple: Triple) -> tuple[str, str]:
    return (cast(NamedNode, triple.subject).value, triple.predicate.value)


def in_order(triples: Iterable[Triple], shared: str | None = None) -> list[Triple]:
    """*triples* in :func:`statement_order`; when they share their ``"subject"`` or their
    ``"object"`` (*shared*), sorted by the rest of it. Statements pointing at the source
    every record cites, hundreds of thousands, are sorted by their subjects' IRIs (when
    all are IRIs, as in a graph of records): the same order, at half the cost."""
    if shared == "subject":
        return sorted(triples, key=_same_subject_order)
    if shared == "object":
        found = list(triples)
        if all(type(t.subject) is NamedNode for t in found):
            return sorted(found, key=_by_subject_iri)
        return sorted(found, key=_same_object_order)
    return sorted(triples, key=statement_order)


class Lookup(Protocol):
    """The statements of a graph, asked for by IRI; each answer in :func:`statement_order`."""

    def about(self, subject: str) -> Sequence[Triple]:
        """The statements whose subject is *subject*."""
        ...

    def stated(self, subject: str, predicate: str) -> Sequence[Triple]:
        """The statements of *subject* by *predicate*: what a page asks of most resources it
        links to (a name), without depending on the rest of what they say."""
        ...

    def pointing_at(self, obj: str) -> Sequence[Triple]:
        """The statements whose object is the IRI *obj*."""
        ...

    def pointers(self, obj: str) -> Sequence[tuple[str, str]]:
        """Who points at the IRI *obj*, and by which predicate: the subject and predicate of
        each statement of :meth:`pointing_at`, in its order. The same question, a lighter
        answer: hundreds of thousands point at the source every record cites."""
        ...

    def pointing_by(self, obj: str, predicate: str, most: int | None = None) -> Sequence[Triple]:
        """The statements by *predicate* whose object is the IRI *obj*; with *most*, only
        that many of them (all, if there are no more), which ones the lookup chooses: for a
        reader to whom so many say as much as all (a shape's ``sh:minCount``), so that the
        source every record cites is not read whole."""
        ...

    def between(self, subject: str, obj: str) -> Sequence[Triple]:
        """The statements of *subject* whose object is the IRI *obj*: whether the publisher
        links to a resource, asked without reading all that points at it (every record
        points at the source it cites)."""
        ...

    def in_document(self, document: str) -> Sequence[Triple]:
        """The statements whose subject is *document* or one of its hash resources."""
        ...

    def documents(self) -> Sequence[str]:
        """Every document (an IRI without a fragment that is a subject or the document of
        one), sorted."""
        ...

    def count_documents(self, prefix: str) -> int:
        """How many of :meth:`documents` start with *prefix*: a count without the list."""
        ...

    def kept_after(self, cut: str) -> KeptAfter | None:
        """What the last build knew of the list *cut* short (``"list language document"``):
        the rows a change left sorting after its shown ones (:class:`KeptAfter`); None when
        nothing is known (a graph made from scratch)."""
        ...


@dataclass(frozen=True)
class KeptAfter:
    """Of a list cut short after the key *last*, the rows that still sort after it, each
    ``"who"`` with the key it sorted by: what sorting each read stays as the last build kept
    it (:func:`ranked` reads), and a page made again notes only that it keeps the list's rows
    but those it does not (``("kept", list)``, ``("unkept", row)``); and the others the last
    build kept, which a change *moved*."""

    last: str
    rows: dict[str, str]
    moved: frozenset[str] = frozenset()


GROUPED_FROM = 64  # statements about a resource from which TriplesLookup.stated keeps them by predicate


class TriplesLookup:
    """A :class:`Lookup` over triples held in memory, indexed once; each answer sorted
    when first asked for."""

    def __init__(self, triples: Iterable[Triple]):
        by_subject: dict[str, list[Triple]] = defaultdict(list)
        by_object: dict[str, list[Triple]] = defaultdict(list)
        by_document: dict[str, list[Triple]] = defaultdict(list)
        for triple in dict.fromkeys(triples):  # a statement made twice is one statement
            subject = subject_value(triple)
            by_subject[subject].append(triple)
            by_document[subject.partition("#")[0]].append(triple)
            if isinstance(triple.object, NamedNode):
                by_object[triple.object.value].append(triple)
        self._indexes = {"about": dict(by_subject), "pointing_at": dict(by_object), "in_document": dict(by_document)}
        self._sorted: set[tuple[str, str]] = set()
        self._by_predicate: dict[str, dict[str, list[Triple]]] = {}

    def _answer(self, kind: str, key: str) -> Sequence[Triple]:
        found = self._indexes[kind].get(key)
        if found is None:
            return ()
        if (kind, key) not in self._sorted:
            if kind == "in_document":  # its subjects' statements in their order: each subject's sorted once
                subjects = sorted({t.subject for t in found}, key=_term_key)
                found[:] = [t for subject in subjects if not isinstance(subject, Triple) for t in self._answer("about", subject.value)]
            else:
                found[:] = in_order(found, "subject" if kind == "about" else "object")
            self._sorted.add((kind, key))
        return found

    def about(self, subject: str) -> Sequence[Triple]:
        return self._answer("about", subject)

    def stated(self, subject: str, predicate: str) -> Sequence[Triple]:
        about = self.about(subject)
        if len(about) < GROUPED_FROM:  # most resources: a few statements, looked through
            return [t for t in about if t.predicate.value == predicate]
        grouped = self._by_predicate.get(subject)
        if grouped is None:  # grouped once: a resource with many statements is named on many pages
            grouped = self._by_predicate[subject] = defaultdict(list)
            for triple in about:
                grouped[triple.predicate.value].append(triple)
        return grouped.get(predicate, ())

    def pointing_at(self, obj: str) -> Sequence[Triple]:
        return self._answer("pointing_at", obj)

    def pointers(self, obj: str) -> Sequence[tuple[str, str]]:
        return [(subject_value(t), t.predicate.value) for t in self.pointing_at(obj)]

    def pointing_by(self, obj: str, predicate: str, most: int | None = None) -> Sequence[Triple]:
        """The first *most* in statement order: in memory, all are at hand."""
        return [t for t in self.pointing_at(obj) if t.predicate.value == predicate][:most]

    def between(self, subject: str, obj: str) -> Sequence[Triple]:
        """Looked for among the fewer of *subject*'s statements and those pointing at *obj*."""
        about, pointing = self._indexes["about"].get(subject, ()), self._indexes["pointing_at"].get(obj, ())
        if len(about) <= len(pointing):
            return [t for t in self.about(subject) if isinstance(t.object, NamedNode) and t.object.value == obj]
        return [t for t in self.pointing_at(obj) if subject_value(t) == subject]

    def in_document(self, document: str) -> Sequence[Triple]:
        return self._answer("in_document", document)

    def documents(self) -> Sequence[str]:
        return sorted(self._indexes["in_document"])

    def count_documents(self, prefix: str) -> int:
        return sum(1 for document in self._indexes["in_document"] if document.startswith(prefix))

    def kept_after(self, cut: str) -> KeptAfter | None:
        return None


class Recording:
    """A :class:`Lookup` that notes what is asked of the one it wraps, while
    :meth:`reads` is open; :func:`remembered` methods of an object holding one replay
    the notes of the answers they keep."""

    def __init__(self, lookup: Lookup):
        self.lookup = lookup
        self._open: list[set[Read]] = []
        self.keeping = True  # whether remembered methods keep their answers (:meth:`unkept`)

    @contextmanager
    def reads(self) -> Iterator[set[Read]]:
        """The set of what is looked up inside the block (nested blocks each get theirs)."""
        with self.apart() as found:
            try:
                yield found
            finally:
                if len(self._open) > 1:  # the block's own set is still open: the enclosing one is before it
                    self._open[-2] |= found

    @contextmanager
    def apart(self) -> Iterator[set[Read]]:
        """The set of what is looked up inside the block, kept out of the enclosing blocks:
        the caller notes it, as it is or as :func:`ranked` reads."""
        found: set[Read] = set()
        self._open.append(found)
        try:
            yield found
        finally:
            self._open.pop()

    @contextmanager
    def unkept(self) -> Iterator[None]:
        """What :func:`remembered` methods answer inside the block is not kept: a page that
        asks for hundreds of thousands of names once each, to sort a long list, would keep them all."""
        before, self.keeping = self.keeping, False
        try:
            yield
        finally:
            self.keeping = before

    def note(self, reads: Iterable[Read]) -> None:
        if self._open:
            self._open[-1].update(reads)

    def note_cut(
        self,
        cut: str,
        shown: Collection[str],
        reads: Mapping[str, Iterable[Read]],
        keys: Mapping[str, str],
        last: str | None,
        unkept: Collection[str] | None = None,
    ) -> None:
        """Note what sorting a list read (*reads*: by row, each a ``"who"``) as a page depends
        on it: the reads of the rows *shown* (with those whose key equals *last*) as they are;
        those of the others, which sort strictly after *last* when the list is cut (*cut*:
        ``"list language document"``), as :func:`ranked` reads, which make the page again
        only when a change sorts their row before *last*, with the key each sorted by (*keys*,
        :func:`sorted_by`). When the rows not sorted again were taken as the last build kept
        them (:class:`KeptAfter`), their reads stay as it left them: the list is noted as kept
        once, for hundreds of thousands of rows, with those of the last build's rows it did not
        keep (*unkept*).
        What makes the number of rows is read as it is."""
        name = cut.rpartition(" ")[0]
        for row, found in reads.items():
            if last is None or row in shown:
                self.note(found)
            else:
                self.note([*ranked(found, f"{name} {row}"), sorted_by(f"{name} {row}", keys[row])])
        if unkept is not None:
            self.note([("kept", name), *(("unkept", f"{name} {who}") for who in unkept)])
        if last is not None:
            self.note([("cut", f"{cut}\n{last}")])

    def about(self, subject: str) -> Sequence[Triple]:
        if self._open:
            self._open[-1].add(("about", subject))
        return self.lookup.about(subject)

    def stated(self, subject: str, predicate: str) -> Sequence[Triple]:
        if self._open:
            self._open[-1].add(("stated", f"{subject} {predicate}"))
        return self.lookup.stated(subject, predicate)

    def pointing_at(self, obj: str) -> Sequence[Triple]:
        if self._open:
            self._open[-1].add(("pointing_at", obj))
        return self.lookup.pointing_at(obj)

    def pointers(self, obj: str) -> Sequence[tuple[str, str]]:
        if self._open:  # the same question as pointing_at
            self._open[-1].add(("pointing_at", obj))
        return self.lookup.pointers(obj)

    def pointing_by(self, obj: str, predicate: str, most: int | None = None) -> Sequence[Triple]:
        if self._open:  # noted as the whole answer it is a part of: what changes it changes that
            self._open[-1].add(("pointing_at", obj))
        return self.lookup.pointing_by(obj, predicate, most)

    def between(self, subject: str, obj: str) -> Sequence[Triple]:
        if self._open:  # noted as pointing_by is
            self._open[-1].add(("pointing_at", obj))
        return self.lookup.between(subject, obj)

    def in_document(self, document: str) -> Sequence[Triple]:
        if self._open:
            self._open[-1].add(("in_document", document))
        return self.lookup.in_document(document)

    def documents(self) -> Sequence[str]:
        if self._open:
            self._open[-1].add(("documents", ""))
        return self.lookup.documents()

    def count_documents(self, prefix: str) -> int:
        if self._open:
            self._open[-1].add(("documents", ""))
        return self.lookup.count_documents(prefix)

    def kept_after(self, cut: str) -> KeptAfter | None:
        return self.lookup.kept_after(cut)  # not a read of the graph: the rows' own reads are noted with them


def remembered(method: Callable[..., T]) -> Callable[..., T]:
    """Keep what *method* answers for each set of arguments, with what it looked up in
    ``self.graph`` (a :class:`Recording`) to make it: a kept answer notes those reads
    again, so a page that uses it depends on them as if it had looked them up itself."""
    name = method.__name__

    @wraps(method)
    def wrapper(self, *args):
        try:
            kept = self._remembered
        except AttributeError:  # the first answer kept (a class with __slots__ names the attribute)
            kept = self._remembered = {}
        key = (name, args)
        found = kept.get(key)
        if found is None:
            # Recording.reads() inlined: most answers are made once, a kept one asked for many times.
            graph, reads = self.graph, set[Read]()
            graph._open.append(reads)
            try:
                answer = method(self, *args)
            finally:
                graph._open.pop()
                if graph._open:
                    graph._open[-1] |= reads
            found = (answer, tuple(reads))  # smaller than a set: there are many
            if graph.keeping:
                kept[key] = found
        elif found[1]:
            self.graph.note(found[1])
        return found[0]

    return wrapper


def ranked(reads: Iterable[Read], row: str) -> list[Read]:
    """*reads*, made to sort *row* (``"list language who"``) of a list cut short after its shown
    rows, as a page notes them: ``("ranked", "kind key\\nrow")``. A change answering one
    differently makes the page again only when *row* may sort among the shown rows (its
    ``("cut", "list language document\\nlast")`` read names the last key shown): the
    incremental layer asks the view again (``SiteView.row_key``). The reads of *who* itself
    and of its document (:func:`resource_read`) are left out: the row implies them, and a
    change to them finds the row by its who (they are most of what a key reads: names)."""
    return [("ranked", f"{kind} {key}\n{row}") for kind, key in not_implied(reads, row_who(row))]


def not_implied(reads: Iterable[Read], who: str) -> tuple[Read, ...]:
    """*reads* but those of *who* itself and of its document (:func:`resource_read`), which
    a row of a list cut short implies (:func:`ranked`): most of what its key reads."""
    implied = {who, document_of(who)}
    return tuple(read for read in reads if resource_read(*read) not in implied)


def row_who(row: str) -> str:
    """The resource a row of a list cut short is (``"list language who"``)."""
    return row.rpartition(" ")[2]


_OF_RESOURCE = frozenset({"about", "stated", "pointing_at"})  # the kinds whose key begins with the resource read


def resource_read(kind: str, key: str) -> str | None:
    """The resource a read reads: the subject of an ``about`` or ``stated`` read, what a
    ``pointing_at`` read points at; None for the other kinds."""
    return key.partition(" ")[0] if kind in _OF_RESOURCE else None


def sorted_by(row: str, key: str) -> Read:
    """The key a row of a list cut short (``"list language who"``), not shown, sorted by, as a
    page notes it: a build that makes the page again places the row by it, unread."""
    return ("sorted", f"{row}\n{key}")


def unranked(key: str) -> tuple[Read, str]:
    """The read and the row of a ``ranked`` read's key."""
    read, _, row = key.partition("\n")
    kind, _, of = read.partition(" ")
    return (kind, of), row
