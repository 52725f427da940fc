"""The pipeline: records -> graph -> checks -> dumps and pages, published whole.

This module only puts the stages in order: the records read and made a graph
(:mod:`ndlld.sources`, :mod:`ndlld.graph`), checked against the shapes
(:mod:`ndlld.checks`), written as dumps (:mod:`ndlld.dumps`) and pages
(:mod:`ndlld.site`), and published so that the last output is never lost
(:mod:`ndlld.output`). From scratch, each stage runs over the whole dataset. With
a cache, the incremental layer (:mod:`ndlld.incremental`) says what changed since
the last build, and each stage runs over only what that touches; the files are
the same either way (tests/test_incremental.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from pyoxigraph import RdfFormat, Triple

from ndlld import incremental
from ndlld.checks import DEFAULT_ENGINE, Report, check_with_project_shapes, project_rules
from ndlld.context import Context
from ndlld.dumps import Chunk, read_triples, write_dumps
from ndlld.errors import ConfigError, ConformanceError, NdlldError, SourceError, SourceErrors
from ndlld.graph import Graph, Part, build_graph, merge_parts, read_each, read_part, resource_base
from ndlld.incremental.state import State
from ndlld.lookup import TriplesLookup
from ndlld.output import Lock, Staging, Writer
from ndlld.parallel import beside, fork_map, keep, spared
from ndlld.resources import context_path, inverse_properties, ontology_path, schemaorg_path
from ndlld.sources import load_sources, read_dataset, record_files

PAGE_DIRECTORIES = ("id", "embed")  # where the pages' files are, and nothing else


@dataclass
class Summary:
    """What a build wrote, for the one line the CLI prints."""

    out_dir: Path
    entities: int
    triples: int
    written: Collection[str] = field(repr=False)  # relative to out_dir
    seconds: float
    report: Report
    release_note: str | None = None  # what a release did (ndlld.releases.release_note)

    @property
    def files(self) -> list[Path]:
        """The files published, under *out_dir* (made on demand: a large site has many)."""
        return [self.out_dir / name for name in self.written]

    def __str__(self) -> str:
        return (
            f"built {self.entities} entities, {self.triples} triples, {len(self.written)} files "
            f"into {self.out_dir} in {self.seconds:.1f} s ({self.report.count('Warning')} warning(s))"
        )


# -- the graph ------------------------------------------------------------------------

PARALLEL_RECORDS = 5_000  # from this many record files on, they are read by one process per core


def load_graph(data_dir: str | Path, context: Context | None = None, parallel_from: int = PARALLEL_RECORDS) -> Graph:
    """Read the records of *data_dir* and make the graph (source checks included).

    Many records are read by several processes, each over a share of the files,
    and merged in file order: the same graph, origins and errors (tested)."""
    context = context or Context.load(context_path())
    inverses = inverse_properties(schemaorg_path())
    files = [path for path, _ in record_files(data_dir)[1:]]
    if len(files) < parallel_from or (_cores() < 2):
        return build_graph(load_sources(data_dir), context, inverses)
    try:
        base, dataset = read_dataset(data_dir)
    except (SourceError, SourceErrors):  # the plain path reports it with every other broken file
        return build_graph(load_sources(data_dir), context, inverses)
    shares = chunked(files, _cores() * 4)  # contiguous shares, so that merging keeps file order
    return merge_parts(dataset, fork_map(_read_share, shares, (base, context)), base, context, inverses)


def _read_share(shared: tuple[str, Context], paths: list[str]) -> Part:
    base, context = shared
    return read_part(paths, base, context.document)


def read_each_record(data_dir: Path, context: Context) -> tuple[Graph, list[Part]]:
    """The graph and what each record file made of it (one part per file), for the state
    an incremental build keeps: the same graph as :func:`load_graph`'s."""
    inverses = inverse_properties(schemaorg_path())
    try:
        base, dataset = read_dataset(data_dir)
    except (SourceError, SourceErrors):
        return load_graph(data_dir, context), []  # which raises what is wrong, with every other file
    files = [path for path, _ in record_files(data_dir)[1:]]
    if len(files) < PARALLEL_RECORDS or _cores() < 2:
        parts = read_each(files, base, context.document)
    else:
        parts = [part for share in fork_map(_read_each_share, chunked(files, _cores() * 4), (base, context)) for part in share]
    graph = merge_parts(dataset, parts, base, context, inverses)
    return graph, [_dataset_part(graph, str(dataset.path)), *parts]


def _dataset_part(graph: Graph, path: str) -> Part:
    """What dataset.yaml states, as a record file's part: the state keeps where each statement was made."""
    from array import array

    from ndlld.rdf import serialized

    stated = [t for t, origin in graph.origins.items() if origin.path == path]
    lines = array("I", [n for t in stated for n in (0, graph.origins[t].line)])
    nodes = [(iri, iri, 0, origin.line) for iri, origin in graph.nodes.items() if origin.path == path]
    return Part(paths=[path], ntriples=serialized(stated, RdfFormat.N_TRIPLES), origins=lines, nodes=nodes)


def _read_each_share(shared: tuple[str, Context], paths: list[str]) -> list[Part]:
    base, context = shared
    return read_each(paths, base, context.document)


def chunked(items: list, parts: int) -> list[list]:
    """*items* in at most *parts* contiguous shares of about the same size, in order."""
    size = -(-len(items) // max(parts, 1)) or 1
    return [items[i : i + size] for i in range(0, len(items), size)]


def _cores() -> int:
    import os

    return os.cpu_count() or 1


# -- validate and build -----------------------------------------------------------------


def validate(data_dir: str | Path, cache_dir: str | Path | None = None, engine: str = DEFAULT_ENGINE) -> Report:
    """Source checks, then SHACL (by *engine*): the report on the data of *data_dir*.

    With *cache_dir*, the state of the last build is the starting point: only what
    changed since is read and checked again. The state is left as it was."""
    data_dir = Path(data_dir)
    context = Context.load(context_path())
    with spared():
        if cache_dir is not None:
            with State.open(cache_dir) as state, state.writing(keep=False):
                change = incremental.change(state, data_dir, None, context)
                if change is not None:
                    return change.check(project_rules(engine), context)
        graph = load_graph(data_dir, context)
        keep()
        return check_with_project_shapes(graph, context, engine)


def build(
    data_dir: str | Path,
    out_dir: str | Path = "dist",
    release: bool = False,
    progress: Callable[[str], None] | None = None,
    cache_dir: str | Path | None = None,
    engine: str = DEFAULT_ENGINE,
    trust_output: bool = False,
) -> Summary:
    """Validate the data of *data_dir* and publish its dumps and pages into *out_dir*.

    The releases already in *out_dir* are kept; with *release*, this build's
    dumps become the release of the dataset's version too. *progress* is told
    when each stage starts (the CLI prints it on a terminal). With *cache_dir*,
    only what changed since the last build is read, checked and written again
    (:mod:`ndlld.incremental`); the output is the same. *engine* is the SHACL
    validator (:data:`ndlld.checks.ENGINES`). With *trust_output*, the published output is
    taken to be as the last build left it: no file kept is looked at for an edit by hand,
    and when no record changed nothing is written.
    """
    run = _Run(Path(data_dir), Path(out_dir), release, engine, _progress(progress), time.perf_counter(), trust_output)
    with Lock(run.out_dir), spared():
        if cache_dir is None:
            return run.from_scratch()
        with State.open(cache_dir) as state:
            with state.writing():
                change = incremental.change(state, run.data_dir, run.out_dir, run.context)
                try:
                    summary = run.from_scratch(state) if change is None else run.incrementally(change)
                except NdlldError as err:
                    # Its traceback's frames would keep the state's store, and the store's lock, in a
                    # process that goes on (a test, a server that builds): the error says what went wrong.
                    del change
                    raise err.with_traceback(None) from None
            state.checkpoint(run.out_dir)
            return summary


@dataclass
class _Run:
    """One build: what it was asked, and the stages in their order."""

    data_dir: Path
    out_dir: Path
    release: bool
    engine: str
    say: Callable[[str], None]
    started: float
    trust_output: bool = False
    context: Context = field(default_factory=lambda: Context.load(context_path()))
    release_note: str | None = None
    vocabulary: list[Triple] = field(default_factory=lambda: read_triples(ontology_path(), RdfFormat.TURTLE))

    def from_scratch(self, state: State | None = None) -> Summary:
        """Every stage over the whole dataset; with *state*, kept whole for the next build."""
        self.say("reading the records")
        if state is None:
            graph = load_graph(self.data_dir, self.context)
        else:
            noted = incremental.look_at_records(self.data_dir)
            graph, parts = read_each_record(self.data_dir, self.context)
            incremental.start_anew(state, parts, noted)
            del parts  # kept in the state: not held while the checks, dumps and pages run
        keep()
        self.say(f"checking {len(graph)} triples against the shapes")
        report = check_with_project_shapes(graph, self.context, self.engine)
        if not report.conforms:
            raise ConformanceError(report)
        graph.origins = {}  # for the findings only: dropped before the dumps' process is forked with the rest
        keep(collecting=False)
        with Staging(self.out_dir, spare=state is not None, keep=PAGE_DIRECTORIES, anew=True) as staging:
            writer = Writer(staging.path, self.out_dir if self.out_dir.is_dir() else None)
            kept = incremental.keeping(state, staging.path, graph.base) if state is not None else None
            # One index of the statements, for the dumps' provenance and the pages' view: made
            # before the dumps' process is forked, it is one in memory, shared by both.
            lookup = TriplesLookup(graph.triples)
            self.say("writing the dumps")
            with _dumps_beside(graph.triples, self.vocabulary, self.context, staging.path, graph.base, lookup) as dumps:
                if len(graph) >= PAGES_AFTER_DUMPS_FROM:
                    dumps()  # written first, by their process alone
                self.say("writing the pages")
                from ndlld.site import SiteView, render_site  # jinja2 and the templates: not needed to validate

                view = SiteView(lookup, self.vocabulary, graph.base, self.context)
                companions = render_site(view, self.vocabulary, writer, len(graph), dumps_written=dumps, keep=kept)
                del view  # its memos let go before the state is kept
            written, layout = dumps()
            files = [str(path.relative_to(staging.path)) for path in written] + writer.written
            from ndlld.releases import release_of

            release, gone = self._releases(staging.path, release_of(graph), graph.base, files)
            files += release + gone
            staging.remove_all_but(files)
            if kept is not None:
                incremental.index_for_search(kept)
        if kept is not None:
            incremental.remember(
                kept, self.data_dir, self.out_dir, graph, report, layout, companions, lookup, self.vocabulary, self.context
            )
            incremental.note_output(kept.state, len(files) - len(release))
        return Summary(self.out_dir, len(graph.nodes), len(graph), files, time.perf_counter() - self.started, report, self.release_note)

    def incrementally(self, change: incremental.Change) -> Summary:
        """Each stage over what changed since the last build, the rest kept."""
        self.say(f"checking what {len(change.delta.files)} changed record file(s) touch")
        report = change.check(project_rules(self.engine), self.context)
        if not report.conforms:
            raise ConformanceError(report)
        if self.trust_output and not self.release and change.unchanged():
            # Its output is the one published: nothing to write, and no file of it to stat.
            published = change.published_files(self.out_dir)
            return Summary(self.out_dir, change.entities(), change.triples(), published, time.perf_counter() - self.started, report)
        with Staging(self.out_dir, spare=True, keep=PAGE_DIRECTORIES) as staging:
            self.say("writing the dumps and pages they touch")
            trusted = self.trust_output and not self.release and staging.reused
            written = change.write(staging.path, self.out_dir, self.vocabulary, self.context, trusted)
            kept = change.kept_files
            # The spare's pages the build did not write, found by a walk of all, in a process
            # beside the companions, which are made on one core; with the output trusted, the
            # spare holds none.
            walk = nullcontext(list) if trusted else beside(staging.unwanted, {*written, *kept})
            with walk as unwanted:
                meanwhile = change.write_companions(self.vocabulary)
                release, gone = self._releases(staging.path, change.version_and_time(), change.base, chain(written, kept, meanwhile))
                meanwhile += release + gone
            also = set(meanwhile)
            staging.remove(name for name in unwanted() if name not in also)
        change.commit(report, self.out_dir)
        count = len(written) + len(kept) + len(meanwhile)
        incremental.note_output(change.state, count - len(release))
        files: Collection[str] = change.published_files(self.out_dir) if trusted else [*written, *kept, *meanwhile]
        return Summary(
            self.out_dir, change.entities(), change.triples(), files, time.perf_counter() - self.started, report, self.release_note
        )

    def _releases(
        self, new: Path, version_and_time: tuple[str | None, str | None], base: str, files: Iterable[str]
    ) -> tuple[list[str], list[str]]:
        """The releases of the output being replaced, carried over; this build's too, if asked;
        and the page of each resource a release had that this build (its *files*) has not: the
        names of this build's release files (which a build that writes nothing does not count),
        and of those pages."""
        from ndlld.releases import add_release, carry_over, release_note, versions

        carry_over(self.out_dir, new)
        written = []
        if self.release:
            version, released_at = version_and_time
            if not version or not released_at:
                raise ConfigError("a release needs 'version' and 'dateModified' in dataset.yaml")
            added = add_release(new, version, released_at, base)
            self.release_note = release_note(self.out_dir, version, bool(added), written_in=new)
            written = [str(path.relative_to(new)) for path in added]
        writer = Writer(new, self.out_dir if self.out_dir.is_dir() else None)
        if versions(new):  # the pages of this build, to tell which resources of a release are gone
            from ndlld.site.gone import render_gone  # the site's code: not loaded by a build that makes no page

            documents = {
                name.removesuffix(".html") for name in files if name.startswith(PAGE_DIRECTORIES[0] + "/") and name.endswith(".html")
            }
            writer.files(render_gone(new, documents, base))
        return written, writer.written


DUMPS_BESIDE_FROM = 50_000  # statements from which the dumps are written by a process of their own
# Statements from which the pages wait for the dumps' process: it and a page process each copy
# much of the graph as they read it (each object's reference count), and with the parent's they
# held more memory than the pages gain in time (bench/history.md).
PAGES_AFTER_DUMPS_FROM = 1_000_000


@contextmanager
def _dumps_beside(
    triples: list[Triple], ontology: list[Triple], context: Context, out_dir: Path, base: str, lookup: TriplesLookup
) -> Iterator[Callable[[], tuple[list[Path], dict[str, list[Chunk]]]]]:
    """Write the dumps while the body runs (the pages): in a process forked now, when the
    graph is large and there is a core for it, else before the body. Yields a function
    that returns what :func:`write_dumps` returned (or raises what it raised)."""
    if len(triples) < DUMPS_BESIDE_FROM or _cores() < 2:
        made = write_dumps(triples, ontology, context, out_dir, base=base, lookup=lookup)
        yield lambda: made
        return
    with beside(_write_dumps, (triples, ontology, context, out_dir, base, lookup)) as forked:
        yield forked  # leaving the block waits for the child, also when the body failed


def _write_dumps(shared: tuple) -> tuple[list[Path], dict[str, list[Chunk]]]:
    triples, ontology, context, out_dir, base, lookup = shared
    return write_dumps(triples, ontology, context, out_dir, base=base, lookup=lookup)


def _progress(progress: Callable[[str], None] | None) -> Callable[[str], None]:
    if progress is None:
        return lambda message: None
    started = time.perf_counter()
    return lambda message: progress(f"[{time.perf_counter() - started:6.1f} s] {message}")


def embed_snippet(data_dir: str | Path, record_id: str) -> str:
    """The schema.org JSON-LD block of the resource whose record id is *record_id*, or whose
    IRI it is (as every page shows it)."""
    import difflib

    from ndlld.site import embed_snippet as snippet

    context = Context.load(context_path())
    graph = load_graph(data_dir, context)
    if "://" in record_id:
        if not record_id.startswith(resource_base(graph.base)):
            raise ConfigError(f"<{record_id}> is not an IRI of this dataset: its resources' IRIs start with {resource_base(graph.base)}")
        record_id = record_id[len(resource_base(graph.base)) :]
    iri = resource_base(graph.base) + record_id
    if "#" in record_id or iri not in graph.nodes:
        known = [i[len(resource_base(graph.base)) :] for i in graph.nodes if "#" not in i]
        close = difflib.get_close_matches(record_id, known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ConfigError(f"no record with id '{record_id}'{hint}")
    vocabulary = read_triples(ontology_path(), RdfFormat.TURTLE)
    return snippet(graph.triples, vocabulary, context, graph.base, iri)
