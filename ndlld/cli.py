"""The ``ndlld`` command: a thin layer over the pipeline stages.

Each command parses its options, calls one library function and prints what
it returns. ndlld's own errors become one message per line on stderr and the
exit code they carry (1: the data does not conform, 2: ndlld could not run);
a user never sees a traceback for bad input.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path

import click

from ndlld import __version__
from ndlld.errors import HarvestError, NdlldError


def _reports_errors(command):
    """Turn an :class:`NdlldError` into its message and exit code."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except NdlldError as err:
            click.echo(err.text_for(_options()), err=True)
            sys.exit(err.exit_code)

    return wrapper


def _options() -> set[str]:
    """The options of the command running now (``--shacl-engine``, ...)."""
    context = click.get_current_context(silent=True)
    return {name for parameter in context.command.params for name in parameter.opts} if context else set()


def data_option(command):
    return click.option(
        "--data",
        "data_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("data"),
        show_default=True,
        help="Directory of source records, with dataset.yaml at its top.",
    )(command)


def cache_options(command, where: str = ".dist.cache beside --out"):
    command = click.option(
        "--cache-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help=f"Where to keep what was made of each record and resource [default: {where}].",
    )(command)
    return click.option("--no-cache", is_flag=True, help="Read and check everything anew, and keep nothing.")(command)


def engine_option(command):
    return click.option(
        "--shacl-engine",
        "engine",
        type=click.Choice(["rudof", "pyshacl"]),
        default="rudof",
        show_default=True,
        help="The SHACL validator: rudof (fast, held to pySHACL's findings by the tests) or pySHACL (the reference).",
    )(command)


def fetch_options(command):
    """--max-bytes and --timeout: the bounds of reading a source someone else published."""
    from ndlld.fetch import MAX_BYTES, TIMEOUT

    command = click.option(
        "--timeout",
        default=TIMEOUT,
        show_default=True,
        type=click.FloatRange(0, min_open=True),
        metavar="SECONDS",
        help="The most reading a source may take, redirects and all; one still arriving then is refused.",
    )(command)
    return click.option(
        "--max-bytes",
        default=MAX_BYTES,
        show_default=True,
        type=click.IntRange(1),
        metavar="N",
        help="The largest source, as it arrives and once decompressed; a larger one is refused.",
    )(command)


def built_cache_option(what: str):
    """--cache-dir of a command that reads what the build in --out kept: *what*."""
    return click.option(
        "--cache-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help=f"The cache of the build in --out, whose {what} [default: .dist.cache beside --out].",
    )


def _cache_dir(out_dir: Path, cache_dir: Path | None, no_cache: bool) -> Path | None:
    return None if no_cache else _kept_in(out_dir, cache_dir)


def _kept_in(out_dir: Path, cache_dir: Path | None) -> Path:
    """The cache of the build in *out_dir*: *cache_dir*, or the one beside it."""
    from ndlld.output import cache_dir_of

    return cache_dir if cache_dir is not None else cache_dir_of(out_dir)


@click.group()
@click.version_option(__version__, prog_name="ndlld")
def cli():
    """Publish the National Diet Library's international cooperation network as Linked Open Data."""


def format_option(choices: list[str], help: str):
    """--format, its first choice the default (the one for people)."""
    return click.option("--format", "output_format", type=click.Choice(choices), default=choices[0], show_default=True, help=help)


@cli.command()
@data_option
@format_option(
    ["text", "json", "turtle"], "text for people, json for programs (always, whatever happened), turtle for the SHACL report graph."
)
@functools.partial(cache_options, where="the .dist.cache that ndlld build keeps for dist/ here")
@engine_option
@_reports_errors
def validate(data_dir: Path, output_format: str, cache_dir: Path | None, no_cache: bool, engine: str):
    """Check the records, then the graph against shapes/, and report every problem.

    Exit 0 when the data conforms (warnings allowed), 1 on violations, 2 when
    the records cannot be read. Uses the cache of `ndlld build` (.dist.cache),
    so only what changed is checked again; nothing is written but that cache.
    """
    from ndlld.build import validate as run_validate

    try:
        report = run_validate(data_dir, cache_dir=_cache_dir(Path("dist"), cache_dir, no_cache), engine=engine)
    except NdlldError as err:
        if output_format == "json":  # a program reads JSON whatever happened; a person still sees the lines
            from ndlld.checks.report import errors_json

            click.echo(errors_json(err))
        raise
    click.echo(getattr(report, output_format)())
    sys.exit(0 if report.conforms else 1)


def out_option(command, help: str = "Output directory; replaced as a whole only when the build succeeds."):
    return click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("dist"),
        show_default=True,
        help=help,
    )(command)


def built_option(what: str):
    """--out for a command that reads a build (*what* it does with it), and makes one if there is none."""
    return functools.partial(out_option, help=f"The build {what}; built first (from --data) when it holds none.")


def quiet_option(command):
    return click.option("--quiet", "-q", is_flag=True, help="No progress lines (they are shown only on a terminal anyway).")(command)


def _progress(quiet: bool):
    """Stage lines on stderr, when a person is watching."""
    if quiet or not sys.stderr.isatty():
        return None
    return lambda message: click.echo(message, err=True)


@cli.command()
@data_option
@out_option
@cache_options
@engine_option
@click.option(
    "--trust-output",
    is_flag=True,
    help="Take the output to be as the last build left it: look at none of the pages kept for an edit by hand "
    "(a stat of each of their files, a million at 100,000 organizations), and with no record changed write nothing.",
)
@quiet_option
@_reports_errors
def build(data_dir: Path, out_dir: Path, cache_dir: Path | None, no_cache: bool, engine: str, trust_output: bool, quiet: bool):
    """Validate the data and write the dumps and the web site.

    Only what changed since the last build is read and checked again; the
    output is the same as a build from scratch (--no-cache), and a file of it
    edited by hand is written again.
    """
    from ndlld.build import build as run_build

    cache = _cache_dir(out_dir, cache_dir, no_cache)
    summary = run_build(data_dir, out_dir, progress=_progress(quiet), cache_dir=cache, engine=engine, trust_output=trust_output)
    click.echo(str(summary))


@cli.command()
@data_option
@out_option
@cache_options
@engine_option
@quiet_option
@_reports_errors
def release(data_dir: Path, out_dir: Path, cache_dir: Path | None, no_cache: bool, engine: str, quiet: bool):
    """Build, and keep the dumps as the release of the dataset's version.

    The release goes to OUT/releases/VERSION/ (VERSION from dataset.yaml) and is
    never rewritten; OUT/releases/latest points to it, and the change feed
    OUT/releases/changes.json lists what it created, updated and deleted.
    """
    from ndlld.build import build as run_build

    summary = run_build(
        data_dir,
        out_dir,
        release=True,
        progress=_progress(quiet),
        cache_dir=_cache_dir(out_dir, cache_dir, no_cache),
        engine=engine,
    )
    click.echo(str(summary))
    click.echo(summary.release_note)


@cli.command()
@click.argument("old")
@click.argument("new")
@format_option(
    ["text", "nt", "nq", "json"],
    "text: a change list for people, by name; nt: the N-Triples added (+) and removed (-); nq: the same as N-Quads,"
    " each statement in its graphs (of two datasets); json: the counts and lines, for programs.",
)
@functools.partial(out_option, help="The output whose releases/ a version names.")
@fetch_options
@_reports_errors
def diff(old: str, new: str, output_format: str, out_dir: Path, max_bytes: int, timeout: float):
    """Say what changed between two versions of the dataset, resource by resource.

    OLD and NEW are dump files (.nt, .ttl, .jsonld, .ndjson, .trig, .nq, optionally
    .gz), URLs of dumps, or release versions in OUT/releases/. Between two datasets
    (.trig, .nq; releases have them), statements that moved from one source's graph
    to another's are reported too.
    """
    from ndlld.changes import diff as run_diff
    from ndlld.context import Context
    from ndlld.fetch import Limits
    from ndlld.harvest import read_dataset
    from ndlld.releases import release_dump
    from ndlld.resources import context_path

    def read(spec: str):
        # Whatever exists by that name is read as a file (and refused if it is not a regular one).
        path = spec if os.path.lexists(spec) or "://" in spec else str(release_dump(out_dir, spec))
        return read_dataset(path, Limits(max_bytes, timeout))

    (old_triples, old_graphs, old_kind), (new_triples, new_graphs, new_kind) = read(old), read(new)
    graphs = (old_graphs, new_graphs) if old_graphs is not None and new_graphs is not None else None
    if output_format == "nq" and graphs is None:
        given = f"{old} is {old_kind}" if old_graphs is None else f"{new} is {new_kind}"
        raise HarvestError(f"--format nq compares two datasets (TriG or N-Quads), but {given}")
    changes = run_diff(old_triples, new_triples, graphs)
    shown = {"text": lambda: changes.text(Context.load(context_path())), "nt": changes.ntriples, "nq": changes.nquads, "json": changes.json}
    click.echo(shown[output_format](), nl=False)


@cli.command()
@data_option
@click.argument("record_id", metavar="ID|IRI")
@_reports_errors
def embed(data_dir: Path, record_id: str):
    """Print the schema.org JSON-LD block of one resource, for pasting into another page.

    ID|IRI is the id of its record (ifla), or the IRI its page shows
    (https://w3id.org/ndlld/id/ifla).
    """
    from ndlld.build import embed_snippet

    click.echo(embed_snippet(data_dir, record_id), nl=False)


def _seconds(name: str, default: float, help: str):
    """An option of ``serve`` that is a time limit."""
    return click.option(name, default=default, show_default=True, type=click.FloatRange(0.1), metavar="SECONDS", help=help)


def _megabytes(name: str, default: int, help: str):
    """An option of ``serve`` that is an amount of memory, given to :class:`ndlld.server.Limits` as ``<name>_mb``."""
    dest = name.removeprefix("--").replace("-", "_") + "_mb"
    return click.option(name, dest, default=default, show_default=True, type=click.IntRange(0), metavar="MB", help=help)


@cli.command()
@data_option
@built_option("to serve")
@built_cache_option("search index /search and /reconcile answer from (else one is made from the dumps)")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@_seconds("--query-timeout", 10.0, "A query still running after this is stopped (503).")
@click.option(
    "--max-results",
    default=10_000,
    show_default=True,
    type=click.IntRange(1),
    metavar="N",
    help="Most rows (SELECT) or triples (CONSTRUCT, DESCRIBE) a query may give; more is an error (400).",
)
@click.option(
    "--max-request-bytes",
    default=1_000_000,
    show_default=True,
    type=click.IntRange(1),
    metavar="N",
    help="Largest request body (413 past it).",
)
@click.option(
    "--max-url-bytes",
    default=8_192,
    show_default=True,
    type=click.IntRange(256),
    metavar="N",
    help="Longest path and query string (414 past it).",
)
@click.option(
    "--query-workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    metavar="N",
    help="Queries run at once, each in a process of its own with its own copy of the dataset.",
)
@_megabytes("--query-memory", 2_048, "Memory a query worker may use (0: no limit).")
@_megabytes(
    "--page-cache", 32, "Answers of pages and files each process keeps in memory and gives again without the application (0: none)."
)
@_seconds("--idle-timeout", 5.0, "A connection that sends nothing this long, before its first request or between two, is closed.")
@_seconds("--header-timeout", 10.0, "A request's headers must be in this long after the connection opened or the last answer ended (408).")
@_seconds("--body-timeout", 30.0, "A request's body must be in this long after its headers (408).")
@_seconds("--send-timeout", 30.0, "A client that reads nothing of an answer this long is disconnected.")
@click.option(
    "--max-connections",
    default=1_000,
    show_default=True,
    type=click.IntRange(1),
    metavar="N",
    help="Connections open at once (fewer if the open-file limit is low); past it, the one waiting longest "
    "for its request is closed, or the new one gets 503 when none waits.",
)
@click.option(
    "--processes",
    default=os.cpu_count() or 1,
    show_default="the number of cores",
    type=click.IntRange(1, 256),
    metavar="N",
    help="Server processes, each on a core of its own; --max-connections and --query-workers are shared among them.",
)
@click.option("--watch", is_flag=True, help="Build again whenever a record file changes; the pages, /sparql and /search follow each build.")
@_reports_errors
def serve(data_dir: Path, out_dir: Path, cache_dir: Path | None, host: str, port: int, processes: int, watch: bool, **limit_options):
    """Serve the site with content negotiation, a read-only SPARQL endpoint at /sparql,
    and search (/search) and reconciliation (/reconcile).

    Builds first when the output directory holds no build yet, and again on each
    change of a record with --watch. SIGTERM or Ctrl-C lets the requests in flight
    finish, then exits with 0; exits with 3 when it cannot listen on --host and
    --port (the port is taken).
    """
    import tempfile

    from ndlld.build import build as run_build
    from ndlld.finding import Indexes
    from ndlld.server import Limits

    kept = _kept_in(out_dir, cache_dir)
    if not (out_dir / "index.html").is_file():
        click.echo(str(run_build(data_dir, out_dir, cache_dir=kept)), err=True)
    # The watch's builds keep their state, and so the search index, where this server looks for it.
    start_watching = (lambda: _watching(data_dir, out_dir, cache_dir)) if watch else None
    with tempfile.TemporaryDirectory(prefix="ndlld-search-") as made:  # search indexes made from the dumps, shared by the processes
        indexes = Indexes(out_dir.resolve(), kept, Path(made))
        _serve(out_dir, indexes, host, port, processes, Limits(**limit_options), start_watching)


def _serve(out_dir: Path, indexes, host: str, port: int, processes: int, limits, start_watching: Callable | None) -> None:
    """Serve *out_dir* in *processes*; with *start_watching*, this process watches (calling
    it once the servers are up) and the server is a child even when there is one."""
    from ndlld.connections import BACKLOG, connection_cap, open_file_limit
    from ndlld.errors import ConfigError
    from ndlld.processes import Processes, listening

    open_files = open_file_limit()
    cap = connection_cap(limits, open_files)
    if cap < 1:
        raise ConfigError(f"the open-file limit ({open_files}) leaves no room for connections: raise it (ulimit -n)")
    processes = min(processes, cap)
    alone = listening(host, port, BACKLOG, shared=False)  # refused if anything has the port (exit code 3)
    port = alone.getsockname()[1]  # the one the system chose, for --port 0
    search_note = indexes.prepare()  # found, or made, once for every process
    if processes == 1 and start_watching is None:
        note, run = _server(out_dir, indexes, host, port, limits, cap)
        _serving(out_dir, host, port, processes, cap, limits, open_files, [n for n in (note, search_note) if n])
        run([alone])
        return
    alone.close()
    group = Processes(limits, cap, processes)
    notes = group.start(
        lambda own, own_cap: _in_process(_server(out_dir, indexes, host, port, own, own_cap), listening(host, port, BACKLOG))
    )
    if not group.stopping:
        _serving(out_dir, host, port, processes, cap, limits, open_files, notes + ([search_note] if search_note else []))
    stop_watching = start_watching() if start_watching is not None and not group.stopping else None
    code = group.wait()
    if stop_watching:
        stop_watching()
    if code:
        sys.exit(code)


def _watching(data_dir: Path, out_dir: Path, cache_dir: Path | None):
    """Start building again on each change of a record (see :mod:`ndlld.watch`), into the
    cache *cache_dir* when serve was given one."""
    from ndlld.watch import watching

    def changed(paths: list[str]) -> None:
        more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
        click.echo(f"changed: {', '.join(paths[:3])}{more}; building again", err=True)

    stop = watching(data_dir, out_dir, [out_dir, _kept_in(out_dir, cache_dir)], changed, cache_dir)
    click.echo(f"watching {data_dir} for changes to records", err=True)
    return stop


def _server(out_dir: Path, indexes, host: str, port: int, limits, cap: int):
    """The application on *out_dir*, its query workers started: a note to print (or ""),
    and the function that serves it, on its own socket or on those it is given."""
    import signal

    import uvicorn

    from ndlld.connections import BACKLOG, BoundedProtocol, log_config
    from ndlld.httpcache import HttpCache
    from ndlld.server import create_app

    app = create_app(out_dir, limits, indexes)
    cache = HttpCache(app.state.root, limits.page_cache_mb * 2**20) if limits.page_cache_mb else None
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        log_config=log_config(),
        http=BoundedProtocol.bounded(limits, cap, cache),
        backlog=BACKLOG,
        # uvicorn hands it to loop.call_later, which takes fractions of a second.
        timeout_keep_alive=limits.idle_timeout,
        timeout_graceful_shutdown=int(limits.query_timeout) + 5,
    )

    def run(sockets) -> None:
        # uvicorn shuts down gracefully on these signals, then raises them again once
        # done; with these handlers that ends the command normally (exit code 0).
        for stop in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop, lambda *_: None)
        uvicorn.Server(config).run(sockets=sockets)

    note = (
        "" if app.state.pool.sandboxed else "the query workers run without a seccomp filter (no libseccomp here): SERVICE is still refused"
    )
    return note, run


def _in_process(server, sock):
    note, run = server
    return note, lambda: run([sock])


def _serving(out_dir: Path, host: str, port: int, processes: int, cap: int, limits, open_files: int, notes: list[str]) -> None:
    """What serve says once it listens."""
    cores = f", {processes} processes" if processes > 1 else ""
    click.echo(
        f"serving {out_dir} at http://{host}:{port}/ (SPARQL at /sparql, search at /search, reconciliation at /reconcile{cores}); Ctrl-C stops",
        err=True,
    )
    if cap < limits.max_connections:
        click.echo(f"at most {cap} connections at once: the open-file limit is {open_files}", err=True)
    for note in notes:
        click.echo(note, err=True)


def _queries_dir() -> Path:
    from ndlld.resources import resource_dir

    return resource_dir("queries")


@cli.command()
@_reports_errors
def queries():
    """List the named queries of queries/ with their titles."""
    from ndlld.queries import load_queries

    library = load_queries(_queries_dir())
    width = max((len(name) for name in library), default=0)
    for name, query in library.items():
        parameters = "".join(f" [{p.name}={p.default}]" for p in query.parameters.values())
        click.echo(f"{name.ljust(width)}  {query.title}{parameters}")


@cli.command()
@click.argument("query_spec", metavar="NAME|FILE|-")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="Set a parameter of the query (repeatable).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "tsv", "json", "turtle", "jsonld", "nt"]),
    help="SELECT/ASK: table (default), csv, tsv, json. CONSTRUCT/DESCRIBE: turtle (default), jsonld, nt.",
)
@click.option("--endpoint", metavar="URL", help="Query this SPARQL 1.1 endpoint instead of the embedded store.")
@click.option("--graph", metavar="IRI", help="With --endpoint: the graph holding the dataset (default: <base>id/dataset).")
@data_option
@built_option("to query (its store, else its dumps)")
@built_cache_option("store of the graph is opened")
@_reports_errors
def query(query_spec, params, output_format, endpoint, graph, data_dir, out_dir, cache_dir):
    """Run a named query, a query file, or a query from standard input (-).

    Without --endpoint, the query runs against the embedded store: the one the
    build in --out kept in its cache, opened, or else its dumps loaded (built
    first when there is none).
    """
    from ndlld.context import Context
    from ndlld.errors import ParameterError
    from ndlld.queries import find_query, run_query
    from ndlld.resources import context_path
    from ndlld.results import render
    from ndlld.store import open_target

    bindings = {}
    for item in params:
        key, equals, value = item.partition("=")
        if not equals or not key:
            raise ParameterError(f"--param takes KEY=VALUE, not {item!r}")
        bindings[key] = value
    selected = find_query(query_spec, _queries_dir())
    cache_dir = _kept_in(out_dir, cache_dir)
    if not endpoint and not (out_dir / "dataset.nt").is_file():
        from ndlld.build import build as run_build  # only here: a query starts faster without it
        from ndlld.queries import check_parameters
        from ndlld.sources import read_base

        check_parameters(selected, bindings, read_base(data_dir))  # a mistyped parameter is told before a build

        click.echo(str(run_build(data_dir, out_dir, cache_dir=cache_dir)), err=True)
    target, base = open_target(endpoint, graph, data_dir, out_dir, cache_dir)
    result = run_query(selected, bindings, target, base)
    click.echo(render(result, output_format, Context.load(context_path())), nl=False)


@cli.command()
@click.option("--store", metavar="URL", help="The store's Graph Store Protocol endpoint (Oxigraph: http://HOST:7878/store).")
@click.option(
    "--update",
    metavar="URL",
    help="Its SPARQL Update endpoint: the graphs are uploaded beside the old ones, then swapped in by one update.",
)
@click.option("--query", "query_url", metavar="URL", help="Its SPARQL query endpoint, to count what it holds afterwards.")
@click.option("--graph", metavar="IRI", help="The named graph for the dataset (default: <base>id/dataset).")
@click.option("--retries", default=4, show_default=True, type=click.IntRange(1, 20), help="Attempts per request.")
@click.option(
    "--timeout",
    default=300.0,
    show_default=True,
    type=click.FloatRange(0, min_open=True),
    metavar="SECONDS",
    help="How long to wait for the store to connect, take data or answer, before trying again.",
)
@data_option
@built_option("whose dumps to load")
@_reports_errors
def publish(store, update, query_url, graph, retries, timeout, data_dir, out_dir):
    """Load the built dataset into a SPARQL 1.1 store, replacing its named graph at once.

    With --update the graphs are staged, then swapped in by one update request.
    Credentials come from NDLLD_STORE_USER and NDLLD_STORE_PASSWORD, or ~/.netrc.
    """
    from ndlld.build import build as run_build
    from ndlld.publish import publish as run_publish

    if not (out_dir / "dataset.nt").is_file():
        click.echo(str(run_build(data_dir, out_dir)), err=True)
    click.echo(str(run_publish(out_dir, store=store, update=update, query=query_url, graph=graph, attempts=retries, timeout=timeout)))


@cli.command()
@click.argument("source", metavar="URL|PATH")
@click.option(
    "--into",
    "store_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("harvest"),
    show_default=True,
    help="The local store (a directory) to load into.",
)
@click.option("--accept-violations", is_flag=True, help="Load even when the data violates the shapes.")
@click.option(
    "--follow",
    is_flag=True,
    help="SOURCE is a release's dump: replay the changes the feed lists after it (its position.json says where) before loading.",
)
@fetch_options
@_reports_errors
def harvest(source: str, store_dir: Path, accept_violations: bool, follow: bool, max_bytes: int, timeout: float):
    """Load a dump or a page with embedded JSON-LD into a local store, checked against shapes/.

    SOURCE is a file or an http(s) URL: .jsonld, .ndjson, .ttl, .nt (optionally .gz) or .html.
    A harvest of the same source replaces what the last one loaded.
    """
    from ndlld.fetch import Limits
    from ndlld.harvest import harvest as run_harvest

    limits = Limits(max_bytes, timeout)
    click.echo(str(run_harvest(source, store_dir, accept_violations=accept_violations, limits=limits, follow=follow)))


@cli.command()
@click.argument("target", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--base", required=True, metavar="IRI", help="Where your dataset will live: every IRI starts with it (https://lod.example.org/)."
)
@click.option("--publisher", required=True, metavar="NAME", help="Your institution's name in English: the publisher of the dataset.")
@click.option(
    "--country", default="JP", show_default=True, metavar="CODE", help="Your country's ISO 3166-1 alpha-2 code, for the example place."
)
@click.option("--country-name", default="Japan", show_default=True, metavar="NAME", help="Your country's name in English.")
@click.option(
    "--licence", default="https://creativecommons.org/licenses/by/4.0/", show_default=True, metavar="IRI", help="The data's licence."
)
@_reports_errors
def init(target: Path, base: str, publisher: str, country: str, country_name: str, licence: str):
    """Start a dataset of your own: a new data directory that builds and validates at once.

    DIR (new or empty) gets dataset.yaml with your base IRI, publisher and licence,
    and one record of each kind to edit: an organization, a series of meetings,
    a web site, a country, a source.
    """
    from ndlld.starter import Institution
    from ndlld.starter import init as run_init

    written = run_init(target, Institution(base, publisher, country, country_name, licence))
    click.echo(
        f"wrote {len(written)} files into {target} for <{base}>; next: ndlld validate --data {target}, then ndlld build --data {target}"
    )


@cli.group()
def links():
    """Links outward: sameAs to the authorities of ontology/authorities.yaml, home pages."""


@links.command("check")
@data_option
@click.option(
    "--base",
    "bases",
    multiple=True,
    metavar="KEY=URL",
    help="Ask the authority KEY (wikidata, viaf, isni, ...) at URL instead of its own address; repeatable.",
)
@click.option("--timeout", default=30.0, show_default=True, type=click.FloatRange(min=0, min_open=True), help="Seconds for each question.")
@_reports_errors
def links_check(data_dir: Path, bases: tuple[str, ...], timeout: float):
    """Ask each authority whether the records' identifiers exist and still name the same thing.

    Needs the network; never part of a build. One line a link; exit code 2 if an
    authority could not be asked, 1 if a link is gone or renamed, 0 otherwise.
    """
    from ndlld.linkcheck import check_links, parse_bases

    result = check_links(data_dir, parse_bases(bases), timeout)
    for outcome in result.outcomes:
        click.echo(str(outcome))
    click.echo(result.summary(), err=result.exit_code != 0)
    sys.exit(result.exit_code)


@cli.command()
@click.option("--orgs", type=click.IntRange(1), required=True, help="How many organizations.")
@click.option("--seed", type=int, default=0, show_default=True, help="The same seed writes the same files.")
@click.option(
    "--defects",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="The share of organizations given one deliberate SHACL violation.",
)
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True, help="A new (or empty) directory for the records."
)
@_reports_errors
def synth(orgs: int, seed: int, defects: float, out_dir: Path):
    """Write a synthetic data directory of ORGS organizations, shaped like the real records.

    For benchmarks and tests at scale: ndlld build --data OUT then runs on it.
    """
    from ndlld.errors import ConfigError
    from ndlld.synth import synthesize

    try:
        summary = synthesize(out_dir, orgs, seed=seed, defects=defects)
    except FileExistsError:
        raise ConfigError(f"{out_dir} is not empty: synth writes into a new directory") from None
    click.echo(
        f"wrote {summary.organizations} organizations in {summary.files} files into {out_dir}"
        + (f", {len(summary.defects)} with a deliberate violation" if summary.defects else "")
    )
