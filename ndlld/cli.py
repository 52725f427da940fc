"""The ``ndlld`` command: a thin layer over the pipeline stages.

Each command parses its options, calls one library function and prints what
it returns. ndlld's own errors become one message per line on stderr and the
exit code they carry (1: the data does not conform, 2: ndlld could not run);
a user never sees a traceback for bad input.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from ndlld import __version__
from ndlld.errors import NdlldError


def _reports_errors(command):
    """Turn an :class:`NdlldError` into its message and exit code."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except NdlldError as err:
            click.echo(str(err), err=True)
            sys.exit(err.exit_code)

    return wrapper


def data_option(command):
    return click.option(
        "--data",
        "data_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("data"),
        show_default=True,
        help="Directory of source records, with dataset.yaml at its top.",
    )(command)


@click.group()
@click.version_option(__version__, prog_name="ndlld")
def cli():
    """Publish the National Diet Library's international cooperation network as Linked Open Data."""


@cli.command()
@data_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "turtle"]),
    default="text",
    show_default=True,
    help="text for people, json for programs, turtle for the SHACL report graph.",
)
@_reports_errors
def validate(data_dir: Path, output_format: str):
    """Check the records, then the graph against shapes/.

    Exit 0 when the data conforms (warnings allowed), 1 on violations, 2 when
    the records cannot be read.
    """
    from ndlld.build import validate as run_validate

    report = run_validate(data_dir)
    click.echo(getattr(report, output_format)())
    sys.exit(0 if report.conforms else 1)


def out_option(command):
    return click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("dist"),
        show_default=True,
        help="Output directory; replaced as a whole only when the build succeeds.",
    )(command)


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
@quiet_option
@_reports_errors
def build(data_dir: Path, out_dir: Path, quiet: bool):
    """Validate the data and write the dumps and the web site."""
    from ndlld.build import build as run_build

    summary = run_build(data_dir, out_dir, progress=_progress(quiet))
    click.echo(str(summary))


@cli.command()
@data_option
@out_option
@quiet_option
@_reports_errors
def release(data_dir: Path, out_dir: Path, quiet: bool):
    """Build, and keep the dumps as the release of the dataset's version.

    The release goes to OUT/releases/VERSION/ (VERSION from dataset.yaml) and is
    never rewritten; OUT/releases/latest points to it, and the change feed
    OUT/releases/changes.json lists what it created, updated and deleted.
    """
    from ndlld.build import build as run_build

    summary = run_build(data_dir, out_dir, release=True, progress=_progress(quiet))
    click.echo(str(summary))


@cli.command()
@click.argument("old")
@click.argument("new")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@out_option
@_reports_errors
def diff(old: str, new: str, output_format: str, out_dir: Path):
    """Report the triples added and removed between OLD and NEW, by resource.

    OLD and NEW are dump files (.nt, .ttl, .jsonld, .ndjson, optionally .gz) or
    release versions in OUT/releases/.
    """
    from ndlld.changes import diff as run_diff
    from ndlld.harvest import read_triples
    from ndlld.releases import release_dump

    def triples(spec: str):
        path = spec if Path(spec).is_file() or "://" in spec else str(release_dump(out_dir, spec))
        return read_triples(path)[0]

    changes = run_diff(triples(old), triples(new))
    click.echo(changes.text() if output_format == "text" else changes.json(), nl=False)


@cli.command()
@data_option
@click.argument("record_id")
@_reports_errors
def embed(data_dir: Path, record_id: str):
    """Print the schema.org JSON-LD block of one resource, for pasting into another page.

    RECORD_ID is the id of its record, e.g. ifla.
    """
    from ndlld.build import embed_snippet

    click.echo(embed_snippet(data_dir, record_id), nl=False)


@cli.command()
@data_option
@out_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@_reports_errors
def serve(data_dir: Path, out_dir: Path, host: str, port: int):
    """Serve the site with content negotiation, and a read-only SPARQL endpoint at /sparql.

    Builds first when the output directory holds no build yet.
    """
    import uvicorn

    from ndlld.build import build as run_build
    from ndlld.server import create_app

    if not (out_dir / "index.html").is_file():
        click.echo(str(run_build(data_dir, out_dir)), err=True)
    click.echo(f"serving {out_dir} at http://{host}:{port}/ (SPARQL at /sparql); Ctrl-C stops", err=True)
    uvicorn.run(create_app(out_dir), host=host, port=port, log_level="warning")


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
@out_option
@_reports_errors
def query(query_spec, params, output_format, endpoint, graph, data_dir, out_dir):
    """Run a named query, a query file, or a query from standard input (-).

    Without --endpoint, the query runs against the embedded store loaded from
    the build in --out (built first when there is none).
    """
    from ndlld.build import build as run_build
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
    if not endpoint and not (out_dir / "dataset.nt").is_file():
        click.echo(str(run_build(data_dir, out_dir)), err=True)
    target, base = open_target(endpoint, graph, data_dir, out_dir)
    result = run_query(selected, bindings, target, base)
    click.echo(render(result, output_format, Context.load(context_path())), nl=False)


@cli.command()
@click.option("--store", metavar="URL", help="The store's Graph Store Protocol endpoint (Oxigraph: http://HOST:7878/store).")
@click.option("--update", metavar="URL",
              help="Its SPARQL Update endpoint: the graphs are uploaded beside the old ones, then swapped in by one update.")
@click.option("--query", "query_url", metavar="URL", help="Its SPARQL query endpoint, to count what it holds afterwards.")
@click.option("--graph", metavar="IRI", help="The named graph for the dataset (default: <base>id/dataset).")
@click.option("--retries", default=4, show_default=True, type=click.IntRange(1, 20), help="Attempts per request.")
@click.option("--timeout", default=300.0, show_default=True, type=click.FloatRange(0, min_open=True), metavar="SECONDS",
              help="How long to wait for the store to connect, take data or answer, before trying again.")
@data_option
@out_option
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
@click.option("--into", "store_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("harvest"),
              show_default=True, help="The local store (a directory) to load into.")
@click.option("--accept-violations", is_flag=True, help="Load even when the data violates the shapes.")
@_reports_errors
def harvest(source: str, store_dir: Path, accept_violations: bool):
    """Load a dump or a page with embedded JSON-LD into a local store, checked against shapes/.

    SOURCE is a file or an http(s) URL: .jsonld, .ndjson, .ttl, .nt (optionally .gz) or .html.
    A harvest of the same source replaces what the last one loaded.
    """
    from ndlld.harvest import harvest as run_harvest

    click.echo(str(run_harvest(source, store_dir, accept_violations=accept_violations)))


@cli.command()
@click.option("--orgs", type=click.IntRange(1), required=True, help="How many organizations.")
@click.option("--seed", type=int, default=0, show_default=True, help="The same seed writes the same files.")
@click.option("--defects", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="The share of organizations given one deliberate SHACL violation.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="A new (or empty) directory for the records.")
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
    click.echo(f"wrote {summary.organizations} organizations in {summary.files} files into {out_dir}"
               + (f", {len(summary.defects)} with a deliberate violation" if summary.defects else ""))
