"""The new graph, as the last build's store and what changed since: a :class:`~ndlld.lookup.Lookup`.

An incremental build reads the graph it is making through this, without
writing the store: the store is changed only once the build has published
(:mod:`ndlld.incremental.state`), so a build that fails leaves it as it was.
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from functools import cached_property
from itertools import islice

from pyoxigraph import NamedNode, Store, Triple

from ndlld.incremental.state import keeps_pointers, kept_pointers, triples_of
from ndlld.lookup import KeptAfter, document_of, in_order
from ndlld.rdf import subject_value


class Overlay:
    """The statements of the graph in *store*'s named graph *graph*, minus *removed*, plus *added*."""

    def __init__(self, store: Store, graph: NamedNode, db: sqlite3.Connection, removed: Iterable[Triple], added: Iterable[Triple]):
        self.store, self.graph, self.db = store, graph, db
        self.removed = set(removed)
        self.added = {t for t in added if t not in self.removed}
        self._added_about: dict[str, list[Triple]] = defaultdict(list)
        self._added_pointing: dict[str, list[Triple]] = defaultdict(list)
        for triple in self.added:
            self._added_about[subject_value(triple)].append(triple)
            if isinstance(triple.object, NamedNode):
                self._added_pointing[triple.object.value].append(triple)
        changed = self.removed | self.added
        self.changed_stated = {f"{subject_value(t)} {t.predicate.value}" for t in changed}
        self._changed_subjects = {subject_value(t) for t in changed}
        self.changed_objects = {t.object.value for t in changed if isinstance(t.object, NamedNode)}
        self._changed_between = {f"{subject_value(t)} {t.object.value}" for t in changed if isinstance(t.object, NamedNode)}
        self._removed_pointing = Counter(f"{t.object.value} {t.predicate.value}" for t in self.removed if isinstance(t.object, NamedNode))
        self._answers: dict[tuple[str, str], Sequence[Triple]] = {}
        self._pointers: dict[str, list[tuple[str, str]]] = {}
        self._documents: list[str] | None = None
        self._kept_after: dict[str, KeptAfter] = {}

    def use_kept(self, answers: dict[str, str]) -> None:
        """Take the last graph's answers to ``stated`` reads (by key, as N-Triples) as the
        new graph's, but for those the change answers differently: a page that names
        thousands of resources then reads their names at once, not one by one from the store."""
        found: dict[str, list[Triple]] = {
            key: [] for key in answers if key not in self.changed_stated and ("stated", key) not in self._answers
        }
        text = "\n".join(answers[key] for key in found if answers[key])
        for triple in triples_of(text) if text else ():
            found[f"{subject_value(triple)} {triple.predicate.value}"].append(triple)
        self._answers.update((("stated", key), triples) for key, triples in found.items())

    def use_kept_after(self, lists: dict[str, KeptAfter]) -> None:
        """Take what the last build knew of the lists cut short, by cut (:meth:`kept_after`)."""
        self._kept_after.update(lists)

    def kept_after(self, cut: str) -> KeptAfter | None:
        return self._kept_after.get(cut)

    def _read(self, subject: str | None, predicate: str | None, obj: str | None, changed: bool, added: list[Triple]) -> list[Triple]:
        """The store's statements that match, in statement order; when *changed* (the change
        removed or added some that match), minus those removed, plus *added*."""
        s, p, o = (NamedNode(term) if term is not None else None for term in (subject, predicate, obj))
        stored = [q.triple for q in self.store.quads_for_pattern(s, p, o, self.graph)]
        return self._changed(stored, changed, added, "subject" if subject is not None else "object")

    def _changed(self, stored: list[Triple], changed: bool, added: list[Triple], shared: str) -> list[Triple]:
        """The last graph's *stored* statements in the new one, in statement order (they
        share their *shared* term: :func:`~ndlld.lookup.in_order`)."""
        if not changed:  # the most answers, by far: the store's are the new graph's
            return in_order(stored, shared)
        found = {t for t in stored if t not in self.removed}
        found.update(added)
        return in_order(found, shared)

    def use_last(self, triples: Iterable[Triple]) -> None:
        """Take *triples*, every statement the last graph had of their subjects (a chunk of its
        N-Triples dump), as what :meth:`about` reads of the store for those subjects."""
        by_subject: dict[str, list[Triple]] = defaultdict(list)
        for triple in triples:
            by_subject[subject_value(triple)].append(triple)
        for subject, stored in by_subject.items():
            key = ("about", subject)
            if key not in self._answers:
                changed = subject in self._changed_subjects
                self._answers[key] = self._changed(stored, changed, self._added_about.get(subject, []), "subject")

    def about(self, subject: str) -> Sequence[Triple]:
        key = ("about", subject)
        found = self._answers.get(key)
        if found is None:
            found = self._answers[key] = self._read(
                subject, None, None, subject in self._changed_subjects, self._added_about.get(subject, [])
            )
        return found

    def stated(self, subject: str, predicate: str) -> Sequence[Triple]:
        key = ("stated", f"{subject} {predicate}")
        found = self._answers.get(key)
        if found is None:
            about = self._answers.get(("about", subject))
            if about is not None:  # every statement of it read already (a dump chunk made again): no store read
                found = self._answers[key] = [t for t in about if t.predicate.value == predicate]
            else:
                added = [t for t in self._added_about.get(subject, ()) if t.predicate.value == predicate]
                found = self._answers[key] = self._read(subject, predicate, None, key[1] in self.changed_stated, added)
        return found

    def pointing_at(self, obj: str) -> Sequence[Triple]:
        key = ("pointing_at", obj)
        found = self._answers.get(key)
        if found is None:
            changed, added = obj in self.changed_objects, self._added_pointing.get(obj, [])
            kept = self._kept_pointers(obj)
            if kept is None:
                found = self._read(None, None, obj, changed, added)
            else:  # the last graph's, in order: the change put in its place
                pairs = self._pointers[obj] = self._changed_pointers(kept, obj) if changed else kept
                target = NamedNode(obj)
                found = [Triple(NamedNode(subject), NamedNode(predicate), target) for subject, predicate in pairs]
            self._answers[key] = found
        return found

    def _kept_pointers(self, obj: str) -> list[tuple[str, str]] | None:
        """Who points at *obj* in the last graph, by which predicate, when the state keeps it
        with the read (:mod:`ndlld.incremental.pages`: a long one): read back faster than the
        store gives its statements one by one."""
        return kept_pointers(self.db, obj) if keeps_pointers(self.db, obj) else None

    def pointers(self, obj: str) -> Sequence[tuple[str, str]]:
        """From the last graph's answer when the state keeps it: no statement is made of it
        (the page of the source every record cites asks only who points at it)."""
        found = self._pointers.get(obj)
        if found is None:
            answered = self._answers.get(("pointing_at", obj))
            kept = self._kept_pointers(obj) if answered is None else None
            if kept is None:
                found = [(subject_value(t), t.predicate.value) for t in (answered or self.pointing_at(obj))]
            else:
                found = self._changed_pointers(kept, obj) if obj in self.changed_objects else kept
            self._pointers[obj] = found
        return found

    def _changed_pointers(self, kept: list[tuple[str, str]], obj: str) -> list[tuple[str, str]]:
        """The last graph's pointers at *obj* (in order: by subject IRI, then predicate) as the change leaves them."""
        target = NamedNode(obj)
        removed = {(subject_value(t), t.predicate.value) for t in self.removed if t.object == target}
        found = [pair for pair in kept if pair not in removed] if removed else list(kept)
        for pair in sorted((subject_value(t), t.predicate.value) for t in self._added_pointing.get(obj, ())):
            at = bisect_left(found, pair)
            if at == len(found) or found[at] != pair:
                found.insert(at, pair)
        return found

    def pointing_by(self, obj: str, predicate: str, most: int | None = None) -> Sequence[Triple]:
        """With *most*, the first statements the store gives that the change left, and those
        it added, the first *most* of them in statement order: the same ones for the same
        store, and never all of the hundreds of thousands that cite one source."""
        key = ("pointing_by", f"{obj} {predicate} {most}")
        found = self._answers.get(key)
        if found is None:
            added = [t for t in self._added_pointing.get(obj, ()) if t.predicate.value == predicate]
            removed = self._removed_pointing[f"{obj} {predicate}"]
            if most is None:
                found = self._read(None, predicate, obj, bool(removed or added), added)
            else:
                stored = self.store.quads_for_pattern(None, NamedNode(predicate), NamedNode(obj), self.graph)
                stored_first = [q.triple for q in islice(stored, most + removed)]
                found = self._changed(stored_first, bool(removed or added), added, "object")[:most]
            self._answers[key] = found
        return found

    def between(self, subject: str, obj: str) -> Sequence[Triple]:
        key = ("between", f"{subject} {obj}")
        found = self._answers.get(key)
        if found is None:
            target = NamedNode(obj)
            added = [t for t in self._added_about.get(subject, ()) if t.object == target]
            found = self._answers[key] = self._read(subject, None, obj, key[1] in self._changed_between, added)
        return found

    def subjects_of(self, document: str) -> list[str]:
        """The subjects of *document* (itself and its hash resources) in the new graph."""
        rows = self.db.execute("SELECT iri FROM subjects WHERE document = ?", (document,))
        candidates = {iri for (iri,) in rows} | {s for s in self._added_about if document_of(s) == document}
        return sorted(s for s in candidates if self.about(s))

    def in_document(self, document: str) -> Sequence[Triple]:
        key = ("in_document", document)
        if key not in self._answers:
            self._answers[key] = in_order(t for s in self.subjects_of(document) for t in self.about(s))
        return self._answers[key]

    def documents(self) -> Sequence[str]:
        if self._documents is None:
            kept = {document for (document,) in self.db.execute("SELECT DISTINCT document FROM subjects")}
            self._documents = sorted((kept - self._touched_documents) | {d for d in self._touched_documents if self.subjects_of(d)})
        return self._documents

    @cached_property
    def _touched_documents(self) -> set[str]:
        """The documents of the statements the change removes or adds."""
        return {document_of(subject_value(t)) for t in self.removed | self.added}

    def count_documents(self, prefix: str) -> int:
        if self._documents is not None or not prefix:
            return sum(1 for document in self.documents() if document.startswith(prefix))
        # The kept documents in the range of those starting with the prefix, counted by the index.
        beyond = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        (kept,) = self.db.execute(
            "SELECT COUNT(DISTINCT document) FROM subjects WHERE document >= ? AND document < ?", (prefix, beyond)
        ).fetchone()
        for document in (d for d in self._touched_documents if d.startswith(prefix)):
            known = self.db.execute("SELECT 1 FROM subjects WHERE document = ?", (document,)).fetchone() is not None
            kept += bool(self.subjects_of(document)) - known
        return kept
