"""What the build cache keeps of the records: their parts, many records to an entry.

One entry per record made a one-record edit at 100,000 organizations fetch
100,000 entries by random lookups and decode 100,000 small JSON documents:
most of its reading. Here the records are grouped, about
:data:`RECORDS_PER_ENTRY` to a group, and each group is one entry: its
records' N-Triples end to end, the path index and line of every triple as one
packed array, and the rest (nodes, references, errors) as one JSON document.

A group is a run of files in path order that ends where a path's hash says so,
so that adding or removing a file changes its own group only. An entry's key is
made of the paths and record keys of its files (each record's key is made of
its bytes and the fingerprint, see :mod:`ndlld.cache`): an edited record misses
its group's entry, and the parts of the group's other records are then taken
from the entries of the last build (:func:`unpack_each`), not read again.

A group's entry decodes as one :class:`ndlld.graph.Part` of many files; merging
it gives what merging the parts of its files one by one gives (the triples are
deduplicated and the nodes checked for duplicates across parts, in order; the
errors are sorted), tested in ``tests/test_partstore.py``.
"""

from __future__ import annotations

import json
import sys
import zlib
from array import array

from pyoxigraph import RdfFormat, parse

from ndlld.graph import Part

RECORDS_PER_ENTRY = 1024  # on average: a one-record edit rewrites about this many records' parts
_HEAD = 4  # bytes of the length of the JSON head


def groups(files: list[str], size: int | None = None) -> list[list[str]]:
    """*files* cut into runs, each ending after a file whose path's CRC-32 is a multiple of
    *size* (by default :data:`RECORDS_PER_ENTRY`)."""
    size = size or RECORDS_PER_ENTRY
    runs: list[list[str]] = [[]]
    for path in files:
        runs[-1].append(path)
        if zlib.crc32(path.encode("utf-8", "surrogateescape")) % size == 0:
            runs.append([])
    return [run for run in runs if run]


def pack(keys: list[bytes], parts: list[Part], inverses: dict[str, str]) -> bytes:
    """One entry holding the one-file *parts* (one per record, in file order) and their record
    *keys*, with the indices of the triples whose predicate has an inverse in *inverses* (the
    build's: the fingerprint in the entry's key covers them)."""
    counts = [len(part.origins) // 2 for part in parts]
    inverted, start = [], 0
    for part, count in zip(parts, counts):
        quads = parse(part.ntriples, format=RdfFormat.N_TRIPLES, lenient=True)
        inverted += [start + i for i, quad in enumerate(quads) if quad.predicate.value in inverses]
        start += count
    head = {
        "paths": [part.paths[0] for part in parts],
        "keys": [key.hex() for key in keys],
        "counts": counts,
        "sizes": [len(part.ntriples) for part in parts],
        "nodes": [(iri, written, i, line) for i, part in enumerate(parts) for iri, written, _, line in part.nodes],
        "references": [(iri, i, line) for i, part in enumerate(parts) for iri, _, line in part.references],
        "read_errors": [(i, *error) for i, part in enumerate(parts) for error in part.read_errors],
        "errors": [(i, *error) for i, part in enumerate(parts) for error in part.errors],
        "inverted": inverted,
    }
    origins = array("I")
    for i, part in enumerate(parts):
        spots = part.origins[:]  # (0, line) per triple: the path index becomes the file's index in the entry
        spots[0::2] = array("I", [i]) * counts[i]
        origins += spots
    if sys.byteorder == "big":  # the entry is little-endian wherever it was made
        origins.byteswap()
    head_bytes = json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return len(head_bytes).to_bytes(_HEAD, "big") + head_bytes + origins.tobytes() + b"".join(part.ntriples for part in parts)


def _unpacked(entry: bytes) -> tuple[dict, array, bytes]:
    size = int.from_bytes(entry[:_HEAD], "big")
    head = json.loads(entry[_HEAD : _HEAD + size])
    end = _HEAD + size + 8 * sum(head["counts"])
    origins = array("I")
    origins.frombytes(entry[_HEAD + size : end])
    if sys.byteorder == "big":
        origins.byteswap()
    return head, origins, entry[end:]


def unpack(entry: bytes) -> Part:
    """The entry as one Part of many files, ready for :func:`ndlld.graph.merge_parts`."""
    head, origins, ntriples = _unpacked(entry)
    return Part(
        paths=head["paths"],
        ntriples=ntriples,
        origins=origins,
        nodes=head["nodes"],
        references=head["references"],
        read_errors=[tuple(error[1:]) for error in head["read_errors"]],
        errors=[tuple(error[1:]) for error in head["errors"]],
        inverted=head["inverted"],
    )


def unpack_each(entry: bytes) -> dict[tuple[str, bytes], Part]:
    """The entry's one-file parts by path and record key: what an entry of the last build
    gives to a group that changed."""
    head, origins, ntriples = _unpacked(entry)
    files = range(len(head["paths"]))
    nodes, references, read_errors, errors = ({i: [] for i in files} for _ in range(4))
    for iri, written, i, line in head["nodes"]:
        nodes[i].append((iri, written, 0, line))
    for iri, i, line in head["references"]:
        references[i].append((iri, 0, line))
    for i, *error in head["read_errors"]:
        read_errors[i].append(tuple(error))
    for i, *error in head["errors"]:
        errors[i].append(tuple(error))
    parts: dict[tuple[str, bytes], Part] = {}
    first = start = 0
    for i, (path, key, count, size) in enumerate(zip(head["paths"], head["keys"], head["counts"], head["sizes"])):
        spots = origins[2 * first : 2 * (first + count)]
        spots[0::2] = array("I", [0]) * count
        parts[path, bytes.fromhex(key)] = Part([path], ntriples[start : start + size], spots, nodes[i], references[i], read_errors[i], errors[i])
        first, start = first + count, start + size
    return parts
