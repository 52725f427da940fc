"""The graph as files: Turtle, JSON-LD and N-Triples dumps, byte for byte deterministic.

* ``dataset.ttl`` -- Turtle (https://www.w3.org/TR/turtle/), prefixes first,
  grouped by subject, subjects and their statements sorted.
* ``dataset.nt`` -- N-Triples (https://www.w3.org/TR/n-triples/), one line a
  triple, lines sorted by code point.
* ``dataset.jsonld`` -- JSON-LD 1.1 compacted with the project context
  (inline, so the file needs nothing from the network), one flat node object
  per resource, ``@graph`` sorted by ``@id``.
* ``dataset.ndjson`` -- one JSON-LD document per line and per resource, for
  harvesters that stream; the context by its absolute IRI
  (``https://w3id.org/ndlld/context.jsonld``, a copy beside the dump), so a
  line read alone, without the file's URL, still means what it says.
* ``dataset.trig`` and ``dataset.nq`` -- the same statements as an RDF dataset in TriG
  (https://www.w3.org/TR/trig/) and N-Quads (https://www.w3.org/TR/n-quads/), each in
  the named graph of each source or passage that states it (:mod:`ndlld.provenance`):
  their union is the graph of the other dumps. The TriG is grouped by subject as the
  Turtle is, a block per graph (TriG takes the union of blocks of one name); the
  N-Quads lines are sorted.
* each of them gzip-compressed (``.gz``), and ``SHA256SUMS`` for them all.

They are made in chunks of resources (:class:`Chunks`), each compressed on its
own, so that the build cache can keep them and an edit makes again only the
chunks it changed; the files are those the whole-graph writers below make.

pyoxigraph writes Turtle and N-Triples: it is the fast writer of the field
(rdflib's pretty Turtle writer grows quadratically with the graph). The
JSON-LD is compacted here, term by term from the context, because a generic
compaction (pyld) is two orders of magnitude slower on large graphs; the tests
expand the result with pyld and compare it with the other dumps.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import zlib
from bisect import bisect_left
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, Triple, parse

from ndlld.context import Context, Term
from ndlld.graph import document_of
from ndlld.lookup import Lookup, TriplesLookup
from ndlld.namespaces import CONTEXT_IRI, PREFIXES, RDF_TYPE, W3ID, XSD
from ndlld.provenance import Provenance
from ndlld.rdf import serialized, serialized_dataset, subject_value

_TYPE = b" <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
_Item = TypeVar("_Item")
_FIRST = b" <\x01> "
_XSD_STRING, _XSD_INTEGER = str(XSD) + "string", str(XSD) + "integer"
_SUBJECT_LINE = re.compile(rb"\n(?=[^\t@\n])")

DATASET_FILES = {
    "turtle": "dataset.ttl",
    "jsonld": "dataset.jsonld",
    "ntriples": "dataset.nt",
    "ndjson": "dataset.ndjson",
    "trig": "dataset.trig",
    "nquads": "dataset.nq",
}


def read_triples(path: Path, rdf_format: RdfFormat) -> list[Triple]:
    """The triples of an RDF file (pyoxigraph's parser yields quads in the default graph)."""
    return [quad.triple for quad in parse(path=str(path), format=rdf_format)]


class Ordered:
    """Each distinct triple once, in the dumps' order, with its N-Triples line.

    The order is that of the N-Triples lines with rdf:type first in each subject
    (Turtle reads best so; sorted N-Triples lines put each subject's statements
    together). Lines are compared as bytes, in C; the triples are then taken in
    that order, so that nothing is parsed again (bench/history.md has what that saves).
    """

    def __init__(self, triples: Iterable[Triple]):
        triples = triples if isinstance(triples, list) else list(triples)
        # rdf:type first: a placeholder that sorts before every IRI (N-Triples escapes
        # control characters, so \x01 cannot occur in the data), put back in ntriples().
        lines = serialized(triples, RdfFormat.N_TRIPLES).replace(_TYPE, _FIRST).splitlines(keepends=True)
        self.triples: list[Triple] = []
        self._lines: list[bytes] = []
        last = None
        for index in sorted(range(len(lines)), key=lines.__getitem__):
            if lines[index] != last:  # a repeated triple: its lines are equal, hence neighbours
                last = lines[index]
                self.triples.append(triples[index])
                self._lines.append(last)

    def ntriples(self) -> bytes:
        """The N-Triples lines sorted by code point (rdf:type back among the other predicates)."""
        lines = b"".join(self._lines).replace(_FIRST, _TYPE).splitlines(keepends=True)
        return b"".join(sorted(lines))  # nearly in order already: the sort merges short runs


def turtle(triples: Iterable[Triple], ordered: Ordered | None = None, first: str | None = None) -> bytes:
    """Turtle with the project's prefixes, a blank line before each subject; statements in
    the :class:`Ordered` order (subjects sorted, rdf:type first in each); those of the
    document *first*, then of its hash resources, before the others: a reader of a
    resource's file meets the resource first."""
    ordered = ordered or Ordered(triples)
    for triple in ordered.triples:
        if isinstance(triple.subject, BlankNode) or isinstance(triple.object, BlankNode):
            raise ValueError(f"blank nodes cannot be written deterministically: {triple}")
    written = ordered.triples
    if first is not None:  # a stable sort: each part keeps its order
        written = sorted(written, key=lambda t: _first_key(subject_value(t), first))
    text = serialized(written, RdfFormat.TURTLE, PREFIXES)
    # pyoxigraph escapes newlines inside literals, so a line that starts with neither a tab
    # (a continued statement) nor '@' (a prefix) starts a subject.
    return _SUBJECT_LINE.sub(b"\n\n", text)


def _first_key(subject: str, first: str) -> tuple[bool, bool]:
    """The document *first* itself, then its hash resources, then the rest."""
    return subject != first, document_of(subject) != first


def ntriples(triples: Iterable[Triple], ordered: Ordered | None = None) -> bytes:
    """N-Triples, one line a triple, lines sorted."""
    return (ordered or Ordered(triples)).ntriples()


def node_objects(triples: Iterable[Triple], context: Context) -> list[dict]:
    """One compacted node object per subject, sorted by ``@id``."""
    by_subject: dict[str, list[Triple]] = defaultdict(list)
    for triple in triples:
        subject = triple.subject
        if not isinstance(subject, NamedNode):
            raise ValueError(f"blank nodes cannot be written deterministically: {triple}")
        by_subject[subject.value].append(triple)
    compactor = _Compactor(context)
    return [compactor.node(iri, by_subject[iri]) for iri in sorted(by_subject)]


def jsonld(triples: Iterable[Triple], context: Context, nodes: list[dict] | None = None) -> bytes:
    """JSON-LD compacted with *context* (inline), one node object per subject and per line.

    One node a line reads well enough and diffs well, and lets the C JSON encoder
    do the work (an indented dump goes through the pure-Python one, many times slower).
    """
    nodes = node_objects(triples, context) if nodes is None else nodes
    head = context.inline_head
    body = ",\n".join(map(node_json, nodes))
    return f'{head},\n  "@graph": [\n{body}\n]}}\n'.encode()


def ndjson(triples: Iterable[Triple], context: Context, nodes: list[dict] | None = None, context_url: str = CONTEXT_IRI) -> bytes:
    """Newline-delimited JSON-LD: one line per resource, with its hash resources
    (roles, counts, single meetings) beside it, and the context by its absolute IRI:
    a relative one would mean nothing to whoever reads a line without the file's URL."""
    id_key = context.alias_of.get("@id", "@id")
    lines: dict[str, list[dict]] = defaultdict(list)
    for node in node_objects(triples, context) if nodes is None else nodes:
        lines[document_of(node[id_key])].append(node)
    return b"".join(ndjson_line([compact_json(node) for node in nodes], context_url) for _, nodes in sorted(lines.items()))


# Encoders made once: json.dumps makes one at every call, a cost a dump of many small nodes pays for each.
_JSON = json.JSONEncoder(ensure_ascii=False).encode
_COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def node_json(node: dict) -> str:
    """A node object as the JSON-LD dump's line holds it, its line breaks escaped."""
    return _one_line(_JSON(node))


def compact_json(node: dict) -> str:
    """A node object as an NDJSON line holds it: JSON without spaces, its line breaks escaped."""
    return _one_line(_COMPACT_JSON(node))


def ndjson_line(nodes: list[str], context_url: str = CONTEXT_IRI) -> bytes:
    """An NDJSON line of a document's nodes (:func:`compact_json`): the JSON of
    ``{"@context": context_url, "@graph": nodes}``, written without spaces."""
    return f'{{"@context":{_context_json(context_url)},"@graph":[{",".join(nodes)}]}}\n'.encode()


@functools.lru_cache(maxsize=4)
def _context_json(context_url: str) -> str:
    return _one_line(_JSON(context_url))


def _one_line(text: str) -> str:
    """JSON whose line breaks are all escaped: json.dumps leaves NEL, LINE SEPARATOR and
    PARAGRAPH SEPARATOR raw in strings, and readers that split lines as Python's
    str.splitlines() does would cut a line there. Outside strings JSON is ASCII."""
    if text.isascii():
        return text
    return text.replace("\x85", "\\u0085").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def checksums_of_digests(digests: dict[str, str]) -> bytes:
    """A SHA256SUMS file of files whose SHA-256 (hexadecimal) is known, names sorted."""
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(digests.items())).encode()


class _Compactor:
    """Chooses, for each statement, the context term that expands back to it. A graph has
    few predicates: how the objects of each are written is worked out once (:class:`_Predicate`)."""

    def __init__(self, context: Context):
        self.context = context
        self.id_key = context.alias_of.get("@id", "@id")
        self.type_key = context.alias_of.get("@type", "@type")
        self.terms_by_iri: dict[str, list[Term]] = defaultdict(list)
        for term in sorted(context.terms.values(), key=lambda t: t.name):
            if not term.reverse:
                self.terms_by_iri[term.iri].append(term)
        self._predicates: dict[NamedNode, _Predicate] = {}

    def node(self, iri: str, triples: list[Triple]) -> dict:
        """The node object of *iri* with its statements *triples*: rdf:type first, then by
        predicate and object; a repeated statement once, as in the other dumps."""
        values: dict[str, list] = {}
        maps: dict[str, dict[str, list]] = {}  # the values of a language map, by language
        predicates = self._predicates
        rows = [(predicates.get(p := t.predicate) or self._predicate(p)).row(t.object) for t in triples]
        rows.sort()
        last = None
        for row in rows:
            if row == last:  # rows are equal only for equal statements
                continue
            last = row
            key, value, language = row[6:]
            if language is None:
                values.setdefault(key, []).append(value)
            else:
                maps.setdefault(key, {}).setdefault(language, []).append(value)
        for key, by_language in maps.items():
            values[key] = [{lang: _one_or_many(texts) for lang, texts in sorted(by_language.items())}]
        node: dict = {self.id_key: iri}
        types = values.pop(self.type_key, None)
        if types is not None:
            node[self.type_key] = _one_or_many(types)
        for key in sorted(values):
            node[key] = _one_or_many(values[key])
        return node

    def _predicate(self, predicate: NamedNode) -> _Predicate:
        made = self._predicates[predicate] = _Predicate(self, predicate.value)
        return made


_NAME, _IRI, _ID_OBJECT, _TEXT, _INTEGER, _LANGUAGE_MAP, _LANGUAGE_OBJECT, _TYPED_OBJECT = range(8)
_RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"  # the datatype of a literal with a language


class _Predicate:
    """How the objects of one predicate are written: for each kind of object (an IRI the
    context names or not, a literal with a language, or of a datatype) the first term, by
    name, that expands back to the statement, and the form of its value; without one, a
    compact IRI key and an explicit value object.

    :meth:`row` gives a statement's row of its node: the order of the dumps (rdf:type first,
    then predicate, then object: IRIs before literals, by value, datatype and language),
    then its key, value and, for a language map, its language."""

    def __init__(self, compactor: _Compactor, predicate: str):
        self.predicate = predicate
        self.is_type = predicate == RDF_TYPE.value
        terms = compactor.terms_by_iri.get(predicate, [])
        fallback = compactor.context.compact(predicate)
        self.iri = next(((t.name, _IRI) for t in terms if t.type == "@id"), (fallback, _ID_OBJECT))
        named = ((t.name, _NAME if t.type == "@vocab" else _IRI) for t in terms if t.type in {"@vocab", "@id"})
        self.iri_named = next(named, self.iri)  # an IRI the context has a name for
        self.language = next(((t.name, _LANGUAGE_MAP) for t in terms if t.container == "@language"), (fallback, _LANGUAGE_OBJECT))
        self._terms, self._fallback = terms, fallback
        self._typed: dict[str, tuple[str, int]] = {}
        self._name_of, self._compact, self._type_key = compactor.context.name_of, compactor.context.compact, compactor.type_key

    def row(self, obj: NamedNode | Literal | BlankNode | Triple) -> tuple:
        """The row of the statement of this predicate and *obj* (see the class)."""
        if isinstance(obj, NamedNode):
            return self._iri_row(obj.value)
        if isinstance(obj, Literal):
            return self._literal_row(obj)
        raise ValueError(f"blank nodes and quoted triples cannot be written deterministically: <{self.predicate}> {obj}")

    def _iri_row(self, iri: str) -> tuple:
        if self.is_type:
            return (False, self.predicate, 0, iri, "", "", self._type_key, self._compact(iri), None)
        name = self._name_of(iri)
        key, form = self.iri_named if name else self.iri
        written: object = name if form == _NAME else iri if form == _IRI else {"@id": iri}
        return (True, self.predicate, 0, iri, "", "", key, written, None)

    def _literal_row(self, literal: Literal) -> tuple:
        value, language = literal.value, literal.language
        written: object
        if language:
            key, form = self.language
            if form == _LANGUAGE_MAP:
                return (not self.is_type, self.predicate, 1, value, _RDF_LANGSTRING, language, key, value, language)
            written = {"@value": value, "@language": language}
            return (not self.is_type, self.predicate, 1, value, _RDF_LANGSTRING, language, key, written, None)
        datatype = literal.datatype.value
        key, form = self._typed.get(datatype) or self._typed_term(datatype)
        if form == _TEXT:
            written = value
        else:
            written = _json_integer(value) if form == _INTEGER else {"@value": value, "@type": self._compact(datatype)}
        return (not self.is_type, self.predicate, 1, value, datatype, "", key, written, None)

    def _typed_term(self, datatype: str) -> tuple[str, int]:
        """The first term a literal of *datatype* is written by (a plain string by a term without type or container)."""
        for term in self._terms:
            if (term.type is None and term.container is None and datatype == _XSD_STRING) or term.type == datatype:
                made = self._typed[datatype] = (term.name, _INTEGER if term.type == _XSD_INTEGER else _TEXT)
                return made
        made = self._typed[datatype] = (self._fallback, _TYPED_OBJECT)
        return made


_JSON_SAFE_INTEGER = 2**53 - 1  # beyond it JSON readers that hold numbers as doubles lose digits (RFC 8259 §6)


def _json_integer(lexical: str) -> int | str:
    """An xsd:integer as a JSON number where every reader keeps it exact, else as its text
    (the term's type makes it the same literal; JSON-LD reads a number from 10**21 on as a double)."""
    number = int(lexical)
    return number if abs(number) <= _JSON_SAFE_INTEGER else lexical


def _one_or_many(values: list):
    return values[0] if len(values) == 1 else values


def write_dumps(
    triples: list[Triple],
    ontology: list[Triple],
    context: Context,
    out_dir: Path,
    chunk_every: int = 0,
    base: str = W3ID,
    lookup: Lookup | None = None,
) -> tuple[list[Path], dict[str, list[Chunk]]]:
    """Write the dataset dumps, their gzip files and SHA256SUMS, the ontology and the context
    into *out_dir*; return the files written and where each dump's chunks lie in them.
    *base* is that of the dataset's IRIs (``base`` in dataset.yaml), for the name of the
    graph of the project's own statements; *lookup*, one over *triples* made already (a
    page's view reads the same), else one is made for the statements' graphs.

    The dumps are made in chunks (:class:`Statements`), which an incremental build makes
    again one by one; the bytes are those of :func:`turtle`, :func:`ntriples`,
    :func:`jsonld` and :func:`ndjson` all the same (tested)."""
    out_dir = Path(out_dir)
    provenance = Provenance(lookup or TriplesLookup(triples), base)
    statements = Statements(triples, context, chunk_every or CHUNK_EVERY, provenance)
    dumps = write_pieces(statements, out_dir)
    digests = {path.name: digest for dump in dumps.values() for path, digest in dump.digests.items()}
    files = {
        "SHA256SUMS": checksums_of_digests(digests),
        "ontology.ttl": turtle(ontology),
        "context.jsonld": (json.dumps(context.document, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
    }
    for name, content in files.items():
        (out_dir / name).write_bytes(content)
    written = [path for dump in dumps.values() for path in dump.digests] + [out_dir / name for name in files]
    return written, {kind: dump.chunks for kind, dump in dumps.items()}


# -- Dumps in chunks, so that an edit makes again only the chunks it changed ---------

# A chunk ends, on average, after this many resources (where the resource's name says). An
# edit makes its chunk again, and that chunk is on average twice this size (a resource more
# likely falls in a long one); each chunk's deflate piece reaches back into the one before,
# so small chunks cost the gzip files little (see deflate).
CHUNK_EVERY = 64


@dataclass(frozen=True)
class Piece:
    """A part of a dump: its text, and *last*: the key of the last resource of a chunk (its
    N-Triples subject, its IRI for the JSON-LD, its document for the NDJSON), or None for a
    head or a tail. Its gzip file holds it as a deflate piece (see :func:`deflate`)."""

    text: bytes
    last: str | None = None


@dataclass(frozen=True)
class Chunk:
    """Where one chunk of a dump lies: in the file, and as a deflate piece in its gzip file."""

    last: str
    offset: int
    length: int
    zoffset: int
    zlength: int
    crc: int


WINDOW = 32_768  # how far back deflate reaches


def deflate(text: bytes, after: bytes = b"") -> bytes:
    """*text* as raw deflate ending on a byte boundary (a sync flush), not final, that may
    refer back into the last :data:`WINDOW` bytes of *after*, the text before it: such
    pieces, one after another and closed by an empty final block, make one deflate stream,
    which any gunzip reads with its window holding *after* (as pigz does); gzip's own
    level, 6. Reaching back, a small chunk loses little to being apart; its piece is made
    again when the chunk before it changes."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15, zdict=after[-WINDOW:])
    return compressor.compress(text) + compressor.flush(zlib.Z_SYNC_FLUSH)


GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no name, no time (the same input, the same bytes), OS unknown
LAST_BLOCK = b"\x03\x00"  # an empty final block
_PREFIX_LINES = re.compile(rb"(@prefix [^\n]*\n)*")  # the head of pyoxigraph's Turtle


def write_pieces(statements: Statements, out_dir: Path, kinds: Iterable[str] = tuple(DATASET_FILES)) -> dict[str, DumpFile]:
    """The dumps of *kinds* and their gzip files written into *out_dir*, by kind. Each piece
    goes to its files as it is made: the dumps are never all held at once."""
    with ExitStack() as stack:
        dumps = {kind: stack.enter_context(DumpFile(out_dir / DATASET_FILES[kind])) for kind in kinds}
        for kind, piece in statements.each_piece(kinds=kinds):
            dumps[kind].add(piece)
    return dumps


class DumpFile:
    """A dump and its gzip file (one member), written piece by piece: where its chunks lie
    in both, and the SHA-256 of each, once closed."""

    def __init__(self, path: Path):
        self.paths = (path, Path(f"{path}.gz"))
        self.text, self.gz = open(self.paths[0], "wb"), open(self.paths[1], "wb")
        self.hashes = (hashlib.sha256(), hashlib.sha256())
        self.offset, self.zoffset, self.crc = 0, 0, 0
        self.before = b""  # the last piece's text, which the next one's deflate reaches into
        self.chunks: list[Chunk] = []
        self.digests: dict[Path, str] = {}
        self._write_gz(GZIP_HEADER)

    def add(self, piece: Piece) -> None:
        deflated = deflate(piece.text, self.before)
        if piece.last is not None:
            self.chunks.append(Chunk(piece.last, self.offset, len(piece.text), self.zoffset, len(deflated), zlib.crc32(piece.text)))
        self.text.write(piece.text)
        self.hashes[0].update(piece.text)
        self.crc = zlib.crc32(piece.text, self.crc)
        self.offset += len(piece.text)
        self.before = piece.text
        self._write_gz(deflated)

    def _write_gz(self, data: bytes) -> None:
        self.gz.write(data)
        self.hashes[1].update(data)
        self.zoffset += len(data)

    def __enter__(self) -> DumpFile:
        return self

    def __exit__(self, *failed: object) -> None:
        self._write_gz(LAST_BLOCK + self.crc.to_bytes(4, "little") + (self.offset & 0xFFFFFFFF).to_bytes(4, "little"))
        self.text.close()
        self.gz.close()
        self.digests = {path: digest.hexdigest() for path, digest in zip(self.paths, self.hashes)}


def _type_first(subject: bytes, lines: list[bytes], triples: list[_Item]) -> list[_Item]:
    """A subject's triples (or what stands beside each) in its sorted N-Triples lines'
    order, with its rdf:type statements first (in order): Turtle's order. The type lines
    are one run of the sorted lines, found by bisection."""
    start = bisect_left(lines, subject + _TYPE)
    end = bisect_left(lines, subject + _TYPE + b"\xff", start)  # no N-Triples line holds the byte 0xff
    return triples[start:end] + triples[:start] + triples[end:] if start else triples


def ends_chunk(key: bytes, every: int = CHUNK_EVERY) -> bool:
    """Whether a chunk ends after the resource of *key*: where its CRC-32 ends in zero
    bits, so that a resource added or removed moves no boundary but its own."""
    return zlib.crc32(key) % every == 0


def _runs(names: list[bytes], every: int) -> list[tuple[int, int]]:
    """Where chunks of *names* start and end (:func:`ends_chunk`)."""
    runs, start = [], 0
    for index, name in enumerate(names):
        if ends_chunk(name, every):
            runs.append((start, index + 1))
            start = index + 1
    if start < len(names):
        runs.append((start, len(names)))
    return runs


class Statements:
    """The statements of some resources by subject, sorted, and their dumps' pieces, made
    a chunk at a time.

    The statements are grouped by subject once; a chunk's N-Triples lines are written when
    the chunk is made (pyoxigraph's writer is slow per call, fast on a chunk's thousands of
    statements) and each kept beside its triple, so that no chunk parses its lines back for
    the Turtle. Only one chunk's lines are held at a time, and the nodes the JSON-LD makes
    for the NDJSON until the NDJSON's chunk holding them is made, so that the dumps of a large
    graph take little memory beside it. Made for the whole graph, the pieces are the whole dumps;
    made for the resources of some chunks (an incremental build), they are those chunks,
    the same bytes."""

    def __init__(self, triples: list[Triple], context: Context, every: int = CHUNK_EVERY, provenance: Provenance | None = None):
        self.triples, self.context, self.every, self.provenance = triples, context, every, provenance
        self.statements_of: dict[bytes, list[Triple]] = defaultdict(list)  # subject, as N-Triples writes it -> its statements
        for triple in triples:
            named = triple.subject
            if not isinstance(named, NamedNode):
                raise ValueError(f"blank nodes cannot be written deterministically: {triple}")
            self.statements_of[f"<{named.value}>".encode()].append(triple)
        self.subjects = sorted(self.statements_of)  # Turtle's and N-Triples' order
        self.by_iri = sorted(self.subjects, key=lambda s: s[1:-1])  # JSON-LD's, by IRI (UTF-8 sorts as code points)
        self.documents: dict[str, list[bytes]] = defaultdict(list)  # NDJSON's lines, each a page's resources
        for subject in self.by_iri:
            self.documents[document_of(subject[1:-1].decode("utf-8"))].append(subject)
        self._compactor = _Compactor(context)
        self._ndjson_nodes: dict[bytes, str] = {}  # each node as the NDJSON writes it, kept from the JSON-LD's making

    def pieces(self, first: bool = True, heads: bool = True, kinds: Iterable[str] = tuple(DATASET_FILES)) -> dict[str, list[Piece]]:
        """Each dump's pieces, by the dump's kind (:data:`DATASET_FILES`; only *kinds*): its
        chunks, and its head and tail with *heads*. The first chunk of the JSON-LD dump has
        no comma before it: these chunks start the dump when *first*."""
        wanted = set(kinds)
        made: dict[str, list[Piece]] = {kind: [] for kind in DATASET_FILES if kind in wanted}
        for kind, piece in self.each_piece(first, heads, wanted):
            made[kind].append(piece)
        return made

    def each_piece(
        self, first: bool = True, heads: bool = True, kinds: Iterable[str] = tuple(DATASET_FILES)
    ) -> Iterator[tuple[str, Piece]]:
        """:meth:`pieces` one at a time, with its dump's kind, each dump's in their order."""
        wanted = set(kinds)
        if wanted & {"turtle", "ntriples", "trig", "nquads"}:
            yield from self._line_pieces(heads, wanted)
        if "jsonld" in wanted and "ndjson" in wanted:
            yield from self._jsonld_and_ndjson_pieces(first, heads)
        elif "jsonld" in wanted:
            yield from (("jsonld", piece) for piece in self._jsonld_pieces(first, heads, keep=False))
        elif "ndjson" in wanted:
            yield from (("ndjson", piece) for piece in self._ndjson_pieces())

    def _jsonld_and_ndjson_pieces(self, first: bool, heads: bool) -> Iterator[tuple[str, Piece]]:
        """The JSON-LD's pieces, each NDJSON piece as soon as the JSON-LD has made all of its
        nodes: the nodes kept for the NDJSON are a few chunks' at a time, not the graph's."""
        runs = deque(self._ndjson_runs())
        for piece in self._jsonld_pieces(first, heads, keep=True):
            yield "jsonld", piece
            while runs and all(s in self._ndjson_nodes for d in runs[0] for s in self.documents[d]):
                yield "ndjson", self._ndjson_piece(runs.popleft())
        yield from (("ndjson", self._ndjson_piece(documents)) for documents in runs)

    def _line_pieces(self, heads: bool, kinds: set[str]) -> Iterator[tuple[str, Piece]]:
        """The pieces of the dumps ordered by N-Triples subject: Turtle, N-Triples, TriG, N-Quads."""
        if heads and self.triples:  # pyoxigraph writes no prefixes for no statements
            head = _PREFIX_LINES.match(serialized(self.triples[:1], RdfFormat.TURTLE, PREFIXES))
            for kind in sorted({"turtle", "trig"} & kinds):  # the TriG's prefixes are the Turtle's
                yield kind, Piece(head.group(0) if head else b"")
        for start, end in _runs(self.subjects, self.every):
            some = self.subjects[start:end]
            lines = self._lines(some)
            last = some[-1].decode("utf-8")
            if "ntriples" in kinds:
                yield "ntriples", Piece(b"".join(line for s in some for line in lines[s][0]), last)
            if "turtle" in kinds:
                yield "turtle", Piece(self._turtle(some, lines), last)
            if "trig" in kinds or "nquads" in kinds:
                for kind, text in self._quads(some, lines, kinds).items():
                    yield kind, Piece(text, last)

    def _lines(self, some: list[bytes]) -> dict[bytes, tuple[list[bytes], list[Triple]]]:
        """Each subject of *some*: its N-Triples lines sorted, each statement once, and the
        statement of each line."""
        triples = [t for s in some for t in self.statements_of[s]]
        written = serialized(triples, RdfFormat.N_TRIPLES).splitlines(keepends=True)
        if len(written) != len(triples):  # one line a triple, in the list's order (line breaks are escaped): never seen otherwise
            raise ValueError(f"the N-Triples writer wrote {len(written)} lines for {len(triples)} triples")
        lines, at = {}, 0
        for s in some:
            end = at + len(self.statements_of[s])
            if not written[at].startswith(s + b" "):  # the subject as the writer wrote it: never seen otherwise
                raise ValueError(f"the N-Triples writer wrote {written[at].decode()!r} for the subject {s.decode()}")
            by_line = dict(zip(written[at:end], triples[at:end]))  # a repeated statement once
            ordered = sorted(by_line)  # N-Triples' order
            lines[s] = (ordered, [by_line[line] for line in ordered])
            at = end
        return lines

    def _jsonld_pieces(self, first: bool, heads: bool, keep: bool) -> Iterator[Piece]:
        """The JSON-LD's pieces; with *keep*, each node as the NDJSON writes it kept for it."""
        if heads:
            yield Piece(f'{self.context.inline_head},\n  "@graph": [\n'.encode())
        for start, end in _runs([s[1:-1] for s in self.by_iri], self.every):
            some = self.by_iri[start:end]
            nodes = [self._node(s) for s in some]
            if keep:
                self._ndjson_nodes.update(zip(some, map(compact_json, nodes)))
            text = ",\n".join(map(node_json, nodes))
            yield Piece((text if first and start == 0 else ",\n" + text).encode("utf-8"), some[-1][1:-1].decode("utf-8"))
        if heads:
            yield Piece(b"\n]}\n")

    def _ndjson_pieces(self) -> Iterator[Piece]:
        return (self._ndjson_piece(documents) for documents in self._ndjson_runs())

    def _ndjson_runs(self) -> list[list[str]]:
        """The documents of each chunk of the NDJSON, in order."""
        names = sorted(self.documents)
        return [names[start:end] for start, end in _runs([name.encode("utf-8") for name in names], self.every)]

    def _ndjson_piece(self, documents: list[str]) -> Piece:
        lines = [ndjson_line([self._ndjson_node(s) for s in self.documents[name]]) for name in documents]
        return Piece(b"".join(lines), documents[-1])

    def _turtle(self, some: list[bytes], lines: dict[bytes, tuple[list[bytes], list[Triple]]]) -> bytes:
        triples = [t for s in some for t in _type_first(s, *lines[s])]
        text = serialized(triples, RdfFormat.TURTLE, PREFIXES)
        return b"\n" + _SUBJECT_LINE.sub(b"\n\n", _PREFIX_LINES.sub(b"", text, count=1))  # as turtle() spaces subjects

    def _quads(self, some: list[bytes], lines: dict[bytes, tuple[list[bytes], list[Triple]]], kinds: set[str]) -> dict[str, bytes]:
        """The TriG and the N-Quads of the subjects *some* (those of *kinds*): each subject's
        statements by graph, then in Turtle's order; the N-Quads lines sorted. Each statement
        is attributed once; an N-Quads line is its N-Triples line with the graph's name."""
        if self.provenance is None:
            raise ValueError("the quads dumps need the provenance of the statements")
        names: dict[str, NamedNode] = {}
        quads: list[Quad] = []
        nquads: list[bytes] = []
        for s in some:
            own_lines, triples = lines[s]
            graphs = [self.provenance.graphs(t) for t in triples]
            if "nquads" in kinds:
                nquads += [line[:-3] + b" <" + g.encode("utf-8") + b"> .\n" for line, gs in zip(own_lines, graphs) for g in gs]
            if "trig" in kinds:
                by_graph: dict[str, list[Triple]] = defaultdict(list)
                for triple, gs in _type_first(s, own_lines, list(zip(triples, graphs))):
                    for g in gs:
                        by_graph[g].append(triple)
                for g in sorted(by_graph):
                    name = names.get(g) or names.setdefault(g, NamedNode(g))
                    quads += [Quad(t.subject, t.predicate, t.object, name) for t in by_graph[g]]
        made = {}
        if "trig" in kinds:
            made["trig"] = _PREFIX_LINES.sub(b"", serialized_dataset(quads, RdfFormat.TRIG, PREFIXES), count=1)
        if "nquads" in kinds:
            made["nquads"] = b"".join(sorted(nquads))
        return made

    def _node(self, subject: bytes) -> dict:
        return self._compactor.node(subject[1:-1].decode("utf-8"), self.statements_of[subject])

    def _ndjson_node(self, subject: bytes) -> str:
        kept = self._ndjson_nodes.pop(subject, None)
        return kept if kept is not None else compact_json(self._node(subject))
