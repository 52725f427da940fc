"""The whole pipeline: records -> graph -> checks -> dumps, published atomically.

Each stage is a plain function in its own module; this one only runs them in
order and makes sure that what was published before is never lost: the new
output is written into a fresh directory beside the old one and swapped in
only when every file is complete.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import operator
import os
import shutil
import stat
import struct
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import RdfFormat, Triple

from ndlld.cache import Cache, pack_records, record_groups, unpack_each_record, unpack_records
from ndlld.cache import key as cache_key
from ndlld.checks import DEFAULT_ENGINE, Report
from ndlld.checks.cached import check_with_project_shapes
from ndlld.context import Context
from ndlld.dumps import Chunks, read_triples, write_dumps
from ndlld.errors import ConfigError, ConformanceError, PublishError, SourceError, SourceErrors
from ndlld.graph import Delta, Graph, Part, build_graph, merge_parts, read_each, read_part, resource_base, touched_iris
from ndlld.namespaces import SCHEMA
from ndlld.parallel import beside, fork_map, keep, spared
from ndlld.resources import context_path, ontology_path, schemaorg_path
from ndlld.sources import MAX_FILE_BYTES, Record, load_sources, read_dataset, record_files


@dataclass
class Summary:
    """What a build wrote, for the one line the CLI prints."""

    out_dir: Path
    entities: int
    triples: int
    written: list[str] = field(repr=False)  # relative to out_dir
    seconds: float
    report: Report

    @property
    def files(self) -> list[Path]:
        """The files published, under *out_dir* (made on demand: a large site has many)."""
        return [self.out_dir / name for name in self.written]

    def __str__(self) -> str:
        return (
            f"built {self.entities} entities, {self.triples} triples, {len(self.written)} files "
            f"into {self.out_dir} in {self.seconds:.1f} s ({self.report.count('Warning')} warning(s))"
        )


PARALLEL_RECORDS = 5_000  # from this many record files on, they are read by one process per core


def load_graph(
    data_dir: str | Path,
    context: Context | None = None,
    parallel_from: int = PARALLEL_RECORDS,
    cache: Cache | None = None,
) -> Graph:
    """Read the records of *data_dir* and make the graph (source checks included).

    Many records are read by several processes, each over a share of the files,
    and merged in file order: the same graph, origins and errors (tested). With
    a *cache*, only the records whose bytes changed are read again.
    """
    context = context or Context.load(context_path())
    inverses = inverse_properties(schemaorg_path())
    looked = time.time_ns()  # before any stat: a file changed after this is too recent to trust next time
    paths = record_files(data_dir)
    workers = os.cpu_count() or 1
    parallel = len(paths) >= parallel_from and workers >= 2
    cached = cache is not None and cache.enabled
    if not parallel and not cached:
        return build_graph(load_sources(data_dir), context, inverses)
    try:
        base, dataset = read_dataset(data_dir)
    except (SourceError, SourceErrors):  # the plain path reports it with every other broken file
        return build_graph(load_sources(data_dir), context, inverses)
    files = [path for path, _ in paths[1:]]
    if not cached:
        size = -(-len(files) // (workers * 4))  # contiguous shares, so that merging keeps file order
        shares = [files[i : i + size] for i in range(0, len(files), size)]
        return merge_parts(dataset, _in_processes(read_part, shares, base, context, workers), base, context, inverses)
    salt = cache_key(cache.fingerprint, base)
    parts, entries, touched = _cached_parts(paths[1:], salt, base, context, cache, workers if parallel else 1, looked, inverses)
    identity, delta = _identity_and_delta(
        cache, salt, dataset, entries, touched
    )  # noted before any error: the next delta is from these records
    graph = merge_parts(dataset, parts, base, context, inverses)
    graph.identity, graph.delta = identity, delta
    return graph


def _identity_and_delta(cache: Cache, salt: bytes, dataset: Record, entries: bytes, touched: set[str] | None) -> tuple[bytes, Delta | None]:
    """The graph's identity (its records' entries, *entries*, and the *dataset* record's data),
    and its :class:`~ndlld.graph.Delta` from the graph made before with this cache: the IRIs
    *touched* by the records that changed, unless the dataset record changed too (every page
    shows it)."""
    noted_key = cache_key(salt, "graph")
    noted = cache.get("graph", noted_key) or b""
    described = cache_key(json.dumps(dataset.data, sort_keys=True, ensure_ascii=False, default=str))
    identity = cache_key(salt, described, entries)
    cache.put_many("graph", {noted_key: identity + described})
    if touched is None or len(noted) != 64 or noted[32:] != described:
        return identity, None
    return identity, Delta(since=noted[:32], iris=frozenset(touched))


def _cached_parts(
    found_files: list[tuple[str, os.stat_result | None]],
    salt: bytes,
    base: str,
    context: Context,
    cache: Cache,
    workers: int,
    looked: int,
    inverses: dict[str, str],
) -> tuple[list[Part], bytes, set[str] | None]:
    """The parts of the records (*found_files*: path and stat, from
    :func:`ndlld.sources.record_files`), a group of files to a part (:func:`ndlld.cache.pack_records`):
    a group's from the cache when none of its files changed, else made of the parts the
    last build kept of its unchanged files and of its other files read anew (and kept).
    *looked*: when the files were first stated (:func:`_record_keys`); *inverses*: the
    schema.org inverse properties, as :func:`ndlld.graph.merge_parts` takes them.

    Also returns the groups' keys, joined, and the IRIs that the files changed since the
    last build looked at them touch (:func:`ndlld.graph.touched_iris`; None if unknown)."""
    keys = _record_keys(found_files, salt, cache, looked)
    files = [path for path, _ in found_files]
    runs = record_groups(files)
    run_keys = [cache_key(salt, "records", *[x for path in run for x in (path, keys[path])]) for run in runs]
    found = cache.get_many("records", run_keys, counted=False)
    index_key = cache_key(salt, "record entries")
    earlier = cache.get("record entries", index_key) or b""
    missed = [run for run, key in zip(runs, run_keys) if key not in found]
    kept: dict[tuple[str, bytes], Part] = {}
    # The last build's entries that this one does not use hold the parts of its unchanged
    # files, and what the changed ones were.
    unused = {earlier[i : i + 32] for i in range(0, len(earlier), 32)} - found.keys()
    last = cache.get_many("records", unused, counted=False, used=False) if unused else {}
    for entry in last.values():
        kept.update(unpack_each_record(entry))
    before = dict(kept) if len(last) == len(unused) else None  # None: one is gone, what it held is not known
    missing = [path for run in missed for path in run if (path, keys[path]) not in kept]
    if workers > 1 and len(missing) >= PARALLEL_RECORDS:
        size = -(-len(missing) // (workers * 4))
        shares = [missing[i : i + size] for i in range(0, len(missing), size)]
        fresh = [part for parts in _in_processes(read_each, shares, base, context, workers) for part in parts]
    else:
        fresh = read_each(missing, base, context.document)
    for part in fresh:
        kept[part.paths[0], keys[part.paths[0]]] = part
    made = {
        key: pack_records([keys[path] for path in run], [kept[path, keys[path]] for path in run], inverses)
        for run, key in zip(runs, run_keys)
        if key not in found
    }
    cache.put_many("records", made)
    cache.put_many("record entries", {index_key: b"".join(run_keys)})
    cache.hits += len(files) - len(missing)
    cache.misses += len(missing)
    parts = [unpack_records(found.get(key) or made[key]) for key in run_keys]
    touched = _touched(before, kept, keys, {path for run in missed for path in run}) if earlier and before is not None else None
    return parts, b"".join(run_keys), touched


def _touched(
    before: dict[tuple[str, bytes], Part], now: dict[tuple[str, bytes], Part], keys: dict[str, bytes], regrouped: set[str]
) -> set[str] | None:
    """The IRIs touched by the record files that changed since the last build.

    *before*: the files of the last build's groups that changed, by path and key, as that
    build had them; *now*: those and the files of this build's changed groups, *regrouped*,
    as they are now; *keys*: each file's key now. Every other file is in a group that did
    not change. None if one file's IRIs cannot be told (:func:`ndlld.graph.touched_iris`).
    """
    old = {path: (key, part) for (path, key), part in before.items()}
    touched: set[str] = set()
    for path in old.keys() | regrouped:
        key, part = old.get(path, (None, None))
        if key is not None and key == keys.get(path):
            continue  # the same bytes, in another group
        if path in keys and path not in regrouped:
            return None  # changed, yet in a group that did not: cannot be (the group's key has the file's)
        found = touched_iris(part, now.get((path, keys[path])) if path in keys else None)
        if found is None:
            return None
        touched |= found
    return touched


RACY_NANOSECONDS = 2_000_000_000  # a file changed this close to the last build's look may have changed again unseen


def _record_keys(files: list[tuple[str, os.stat_result | None]], salt: bytes, cache: Cache, looked: int) -> dict[str, bytes]:
    """Each file's key, a SHA-256 of its path and bytes: reading every file to hash it
    is most of an edit's reading at scale, so, as git's index does, a file whose
    device, inode, mode, size and times are those noted at the last build keeps the
    key noted then. A file changed within :data:`RACY_NANOSECONDS` before a build
    looked could be rewritten after with the same size and times (a time stamp's
    tick, a coarse clock): that build does not note it, so the next one reads and
    hashes it again, as any other doubt. *files*: each path with its stat, if the walk
    that found it could make one; *looked*: the time before that walk.

    The files are compared column by column (a loop over 100,000 files in Python took
    a second): one by one are only those whose facts changed.
    """
    noted_key = cache_key(salt, "record files")
    noted_paths, noted_facts, noted_keys = _unpack_note(cache.get("files", noted_key))
    paths = [path for path, _ in files]
    facts = [_facts(path, info) for path, info in files]
    if noted_paths != paths:  # a file added, removed or renamed: line the notes up by path
        at = dict(zip(noted_paths, range(len(noted_paths))))
        order = [at.get(path) for path in paths]
        noted_facts = [None if i is None else noted_facts[i] for i in order]
        noted_keys = [None if i is None else noted_keys[i] for i in order]
    trusted = [fact is not None and fact == seen for fact, seen in zip(facts, noted_facts)]
    keys = dict(zip(paths, noted_keys))
    noted = trusted[:]  # what this build notes: the trusted files, and those read that stay still
    recent = looked - RACY_NANOSECONDS
    for i in itertools.compress(range(len(paths)), map(operator.not_, trusted)):
        path, fact = paths[i], facts[i]
        content = _bytes_if_readable(path)
        if content is None:
            keys[path] = os.urandom(16)  # a key that cannot hit, so that reading reports it
            continue
        keys[path] = cache_key(salt, path, content)
        if fact is not None:
            _, _, _, size, modified, changed = _FACTS.unpack(fact)
            noted[i] = len(content) == size and max(modified, changed) < recent  # else changed while read, or may change unseen
    cache.put_many("files", {noted_key: _pack_note(list(itertools.compress(zip(paths, facts, (keys[path] for path in paths)), noted)))})
    return keys


# What the file system says of a file, as the note keeps it: device, inode, mode, size,
# modification and change times (ns); little-endian, so that the note reads the same anywhere.
_FACTS = struct.Struct("<QQQQqq")
_KEY = 32  # bytes of a record's key (SHA-256)
_NOTE_HEAD = struct.Struct("<QQ")  # files, bytes of their paths


def _facts(path: str, info: os.stat_result | None = None) -> bytes | None:
    """What the file system says of the file at *path* (*info*, if already asked), packed
    as :data:`_FACTS`; None if it cannot say."""
    try:
        info = info or os.stat(path)
    except OSError:
        return None
    return _FACTS.pack(info.st_dev, info.st_ino, info.st_mode, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _pack_note(files: list[tuple[str, bytes, bytes]]) -> bytes:
    """The note of the record files: their paths, facts and keys, each column packed (a
    JSON note took a second to read and write at 100,000 organizations)."""
    paths = "\0".join(path for path, _, _ in files).encode("utf-8", "surrogateescape")  # no path holds a NUL
    return _NOTE_HEAD.pack(len(files), len(paths)) + paths + b"".join(facts for _, facts, _ in files) + b"".join(key for _, _, key in files)


def _unpack_note(note: bytes | None) -> tuple[list[str], list[bytes], list[bytes]]:
    """The paths noted at the last build, and the facts and key of each (none if there is
    no note, or one this code cannot read)."""
    head = _NOTE_HEAD.size
    if not note or len(note) < head:
        return [], [], []
    count, size = _NOTE_HEAD.unpack_from(note)
    if not count or len(note) != head + size + count * (_FACTS.size + _KEY):
        return [], [], []
    paths = note[head : head + size].decode("utf-8", "surrogateescape").split("\0")
    facts, keys = head + size, head + size + count * _FACTS.size
    return (
        paths,
        [note[at : at + _FACTS.size] for at in range(facts, keys, _FACTS.size)],
        [note[at : at + _KEY] for at in range(keys, len(note), _KEY)],
    )


def _bytes_if_readable(path: str) -> bytes | None:
    """The file's bytes, or None for what reading would refuse (not a regular file,
    too large, unreadable)."""
    try:
        info = os.stat(path)
        if stat.S_ISREG(info.st_mode) and info.st_size <= MAX_FILE_BYTES:
            return Path(path).read_bytes()
    except OSError:
        pass
    return None


def _in_processes(function, shares: list[list[str]], base: str, context: Context, workers: int) -> list:
    """``function(share, base, context)`` for each share, in forked processes, with the
    collector (a build pauses it in this process: see :func:`ndlld.parallel.spared`)."""
    return fork_map(_read_share, shares, (function, base, context.document), workers, collect=True)


def _read_share(shared: tuple[Callable, str, dict], paths: list[str]) -> list:
    function, base, document = shared
    return function(paths, base, document)


def inverse_properties(path: Path) -> dict[str, str]:
    """The ``schema:inverseOf`` pairs of *path*, both ways round."""
    inverses = {}
    for triple in read_triples(path, RdfFormat.TURTLE):
        if triple.predicate.value == "http://schema.org/inverseOf":
            inverses[triple.subject.value] = triple.object.value
            inverses[triple.object.value] = triple.subject.value
    return inverses


def validate(data_dir: str | Path, cache_dir: str | Path | None = None, engine: str = DEFAULT_ENGINE) -> Report:
    """Source checks, then SHACL (by *engine*): the report on the data of *data_dir*.

    With *cache_dir*, what an earlier run made of unchanged records is reused
    (see :mod:`ndlld.cache`).
    """
    context = Context.load(context_path())
    with Cache(cache_dir) as cache, spared():
        graph = load_graph(data_dir, context, cache=cache)
        keep()
        return check_with_project_shapes(graph, context, cache, engine)


def build(
    data_dir: str | Path,
    out_dir: str | Path = "dist",
    release: bool = False,
    progress: Callable[[str], None] | None = None,
    cache_dir: str | Path | None = None,
    engine: str = DEFAULT_ENGINE,
) -> Summary:
    """Validate the data of *data_dir* and publish its dumps into *out_dir*.

    The releases already in *out_dir* are kept; with *release*, this build's
    dumps become the release of the dataset's version too. *progress* is told
    when each stage starts (the CLI prints it on a terminal). With *cache_dir*,
    only the records and resources that changed since the last build are read
    and checked again (:mod:`ndlld.cache`); the output is the same. *engine*
    is the SHACL validator (:data:`ndlld.checks.ENGINES`).
    """
    started = time.perf_counter()
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    with _lock(out_dir), Cache(cache_dir) as cache, spared():
        return _build(data_dir, out_dir, release, cache, engine, _progress(progress, started), started)


def _build(data_dir: Path, out_dir: Path, release: bool, cache: Cache, engine: str, say: Callable[[str], None], started: float) -> Summary:
    from ndlld.releases import add_release, carry_over
    from ndlld.site import render_site  # jinja2 and the templates: not needed to validate
    from ndlld.site.reuse import PAGE_DIRECTORIES

    context = Context.load(context_path())
    say("reading the records")
    graph = load_graph(data_dir, context, cache=cache)
    keep()
    say(f"checking {len(graph)} triples against the shapes")
    report = check_with_project_shapes(graph, context, cache, engine)
    if not report.conforms:
        raise ConformanceError(report)
    # Where each statement was made is for the checks' findings only: at 100,000 organizations
    # two million origins, dropped before the dumps' process is forked with the rest.
    graph.origins = {}
    keep(collecting=False)
    ontology_triples = read_triples(ontology_path(), RdfFormat.TURTLE)
    chunks = _dump_chunks(cache)
    with _staging(out_dir, spare=cache.enabled, keep=PAGE_DIRECTORIES) as staging:
        new = staging.path
        say("writing the dumps")
        with _dumps_beside(graph.triples, ontology_triples, context, new, chunks) as dumps:
            say("writing the pages")
            previous = out_dir if out_dir.is_dir() else None
            pages = render_site(graph, ontology_triples, context, new, previous=previous, cache=cache, dumps_written=dumps)
        files = [str(path.relative_to(new)) for path in dumps()] + pages
        if chunks is not None:
            cache.put_many("dump", chunks.new)
            cache.keep("dump", chunks.reused)
        carry_over(out_dir, new)
        if release:
            version, released_at = _version_and_time(graph)
            files += [str(path.relative_to(new)) for path in add_release(new, version, released_at, graph.base)]
        staging.remove_all_but(files)
    return Summary(
        out_dir=out_dir,
        entities=len(graph.nodes),
        triples=len(graph),
        written=files,
        seconds=time.perf_counter() - started,
        report=report,
    )


def _dump_chunks(cache: Cache) -> Chunks | None:
    """The dumps' chunks of the last build, keyed by ndlld's code, context and vocabulary
    (the cache's fingerprint) and the zlib that compressed them (another zlib writes
    other bytes, and a build must equal one from scratch)."""
    if not cache.enabled:
        return None
    return Chunks(known=cache.all("dump"), salt=cache_key(cache.fingerprint, "dump", zlib.ZLIB_RUNTIME_VERSION))


DUMPS_BESIDE_FROM = 50_000  # triples from which the dumps are written by a process of their own


@contextmanager
def _dumps_beside(
    triples: list[Triple], ontology: list[Triple], context: Context, out_dir: Path, chunks: Chunks | None = None
) -> Iterator[Callable[[], list[Path]]]:
    """Write the dumps while the body runs (the pages): in a process forked now, when the
    graph is large and there is a core for it, else before the body. Yields a function
    that returns what :func:`write_dumps` returned (or raises what it raised); by then
    *chunks* holds what the dumps made and reused, wherever they were written.

    The dumps and the pages need nothing from each other, and each takes seconds at
    10,000 organizations, even after a one-record edit: on two cores they overlap.
    """
    if len(triples) < DUMPS_BESIDE_FROM or (os.cpu_count() or 1) < 2:
        written = write_dumps(triples, ontology, context, out_dir, chunks)
        yield lambda: written
        return
    with beside(_write_dumps_forked, (triples, ontology, context, out_dir, chunks)) as forked:

        def result() -> list[Path]:
            written, new, reused = forked()
            if chunks is not None:
                chunks.new.update(new)
                chunks.reused.update(reused)
            return written

        yield result  # leaving the block waits for the child, also when the body failed


def _write_dumps_forked(shared: tuple) -> tuple[list[Path], dict[bytes, bytes], set[bytes]]:
    """In the forked process: the files written, and the chunks made and reused, for the parent's cache."""
    triples, ontology, context, out_dir, chunks = shared
    written = write_dumps(triples, ontology, context, out_dir, chunks)
    return (written, chunks.new, chunks.reused) if chunks is not None else (written, {}, set())


def _progress(progress: Callable[[str], None] | None, started: float) -> Callable[[str], None]:
    if progress is None:
        return lambda message: None
    return lambda message: progress(f"[{time.perf_counter() - started:6.1f} s] {message}")


def _version_and_time(graph: Graph) -> tuple[str, str]:
    """The dataset's version, and its date of last change as the release time."""
    dataset = graph.base + "id/dataset"
    found = {t.predicate.value: t.object.value for t in graph.triples if t.subject.value == dataset}
    version, modified = found.get(str(SCHEMA) + "version"), found.get(str(SCHEMA) + "dateModified")
    if not version or not modified:
        raise ConfigError("a release needs 'version' and 'dateModified' in dataset.yaml")
    return version, f"{modified}T00:00:00Z"


class _lock:
    """Only one build writes *out_dir* at a time: a second one stops with a clear message.

    An advisory ``flock`` on ``.<out_dir>.lock`` beside it; the kernel drops it
    when the build ends, however it ends (SIGKILL included), so it never goes
    stale. Under the lock, staging directories left by a killed build are removed.
    """

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir

    def __enter__(self) -> None:
        parent = self.out_dir.resolve().parent
        self.path = parent / f".{self.out_dir.name}.lock"
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise PublishError(f"cannot write beside {self.out_dir}: {err.strerror}", path=self.out_dir) from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise PublishError(
                "another build is writing this output now; wait for it to finish, then run again",
                path=self.out_dir,
            ) from None
        for kind in ("new", "old"):
            for leftover in parent.glob(f".{self.out_dir.name}.{kind}-*"):
                shutil.rmtree(leftover, ignore_errors=True)

    def __exit__(self, exc_type, exc, tb) -> None:
        os.close(self.fd)  # releases the lock; the file stays, so no other build can race on it


class _staging:
    """A directory beside *out_dir* to write the new output into, swapped in on
    success, removed on failure.

    With *spare*, the output a build replaces is kept as ``.dist.spare`` beside
    ``dist/`` (with the cache, so that a page is reused only when its files are
    those the cache describes), and the next build starts from it instead of an
    empty directory: of the files under *keep* (the pages), those that did not
    change since are already in place and those changed by the last build are
    linked from ``dist/``, so an edit costs what changed, not one link per file of
    the site (650,000 at 100,000 organizations). Everything else in the spare is
    removed first, so every other file is written anew. Without *spare*, the
    directory starts empty and the replaced output, and any spare, are removed.
    """

    def __init__(self, out_dir: Path, spare: bool = False, keep: tuple[str, ...] = ()):
        self.out_dir, self.spare, self.keep = out_dir, spare, keep
        self.reused = False

    def __enter__(self) -> _staging:
        parent = self.out_dir.resolve().parent
        self.spare_path = parent / f".{self.out_dir.name}.spare"
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self.path = Path(tempfile.mkdtemp(prefix=f".{self.out_dir.name}.new-", dir=parent))
            if self.spare and self.spare_path.is_dir() and not self.spare_path.is_symlink():
                # Renamed first: if this build dies, the next one removes it with any other leftover.
                os.rename(self.spare_path, self.path)  # over the empty directory just made
                self.reused = True
                for entry in os.scandir(self.path):
                    if entry.name in self.keep and entry.is_dir(follow_symlinks=False):
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        shutil.rmtree(entry.path)
                    else:
                        os.unlink(entry.path)
        except OSError as err:
            raise PublishError(f"cannot write beside {self.out_dir}: {err.strerror}", path=self.out_dir) from None
        return self

    def remove_all_but(self, written: list[str]) -> None:
        """Remove what the spare held under *keep* that this build did not write
        (the pages of resources gone since)."""
        if not self.reused:
            return
        wanted = set(written)
        folders = [(str(self.path / name), name + "/") for name in self.keep]
        while folders:  # by scandir, not os.walk, which joined 650,000 paths at 100,000 organizations
            folder, relative = folders.pop()
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        folders.append((entry.path, relative + entry.name + "/"))
                    elif relative + entry.name not in wanted:
                        os.unlink(entry.path)

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            if isinstance(exc, OSError):
                raise PublishError(f"cannot write the output: {exc.strerror}", path=self.out_dir) from None
            return
        os.chmod(self.path, 0o755)  # mkdtemp makes it private; published output is not
        try:
            replaced = _swap_into_place(self.path, self.out_dir)
        except OSError as err:
            shutil.rmtree(self.path, ignore_errors=True)
            raise PublishError(f"cannot replace the output: {err.strerror}", path=self.out_dir) from None
        if replaced is not None and self.spare and not self.spare_path.exists():
            try:
                os.rename(replaced, self.spare_path)
                return
            except OSError:
                pass
        if replaced is not None:
            shutil.rmtree(replaced, ignore_errors=True)
        if not self.spare:
            shutil.rmtree(self.spare_path, ignore_errors=True)


def _swap_into_place(new: Path, out_dir: Path) -> Path | None:
    """Put *new* at *out_dir*; the old output stays whole until the new one is in place.
    Returns where the old output now is (for the caller to remove or keep), if there was one."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"{out_dir} exists and is not a directory")
    if not out_dir.exists():
        os.rename(new, out_dir)
        return None
    if not _exchange(new, out_dir):
        old = new.with_name(new.name.replace(".new-", ".old-"))
        os.rename(out_dir, old)  # the one moment out_dir is missing: between these two renames
        os.rename(new, out_dir)
        new = old
    return new  # after the swap, *new* holds the old output


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one atomic step (Linux renameat2 RENAME_EXCHANGE)."""
    import ctypes.util  # only here: `ndlld validate` starts faster without it

    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return result == 0


def embed_snippet(data_dir: str | Path, record_id: str) -> str:
    """The schema.org JSON-LD block of the resource whose record id is *record_id*."""
    import difflib

    from ndlld.site import embed_snippet as snippet

    context = Context.load(context_path())
    graph = load_graph(data_dir, context)
    iri = resource_base(graph.base) + record_id
    if "#" in record_id or iri not in graph.nodes:
        known = [i[len(resource_base(graph.base)) :] for i in graph.nodes if "#" not in i]
        close = difflib.get_close_matches(record_id, known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ConfigError(f"no record with id '{record_id}'{hint}")
    vocabulary = read_triples(ontology_path(), RdfFormat.TURTLE)
    return snippet(graph.triples, vocabulary, context, graph.base, iri)
