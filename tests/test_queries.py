"""The query library: every query documented, with a golden result on the real
data, the same from the embedded store and from a real Oxigraph server, and
parameters that can only ever be values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import rdflib
from click.testing import CliRunner
from pyoxigraph import QuerySolutions

from ndlld.cli import cli
from ndlld.errors import ParameterError
from ndlld.queries import load_queries, run_query
from ndlld.resources import resource_dir
from ndlld.results import width
from ndlld.store import EmbeddedStore, RemoteEndpoint

from conftest import DATA, GOLDEN, as_bytes, kind_of

QUERIES = load_queries(resource_dir("queries"))
BASE = "https://w3id.org/ndlld/"


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def embedded(real_dist: Path) -> EmbeddedStore:
    return EmbeddedStore.open(real_dist)


@pytest.fixture(scope="module")
def remote(oxigraph: str, real_dist: Path) -> RemoteEndpoint:
    """The real build published into a real Oxigraph server with `ndlld publish`."""
    result = run("publish", "--store", f"{oxigraph}/store", "--out", real_dist, "--data", DATA)
    assert result.exit_code == 0, result.output
    return RemoteEndpoint(f"{oxigraph}/query", EmbeddedStore.open(real_dist).graph)


def test_there_are_at_least_ten_queries():
    assert len(QUERIES) >= 10
    assert any(q.parameters for q in QUERIES.values())


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_query_is_documented(name: str, embedded):
    query = QUERIES[name]
    assert query.title and query.description and query.columns, f"{name}.rq needs title, description and columns"
    result = run_query(query, {}, embedded, BASE)
    if isinstance(result, QuerySolutions):
        assert [v.value for v in result.variables] == query.columns


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_query_matches_its_golden_result(name: str, embedded):
    result = run_query(QUERIES[name], {}, embedded, BASE)
    kind = kind_of(result)
    golden = GOLDEN / "queries" / f"{name}.{kind}"
    assert as_bytes(result, kind) == golden.read_bytes(), f"run scripts/regen_golden.py if {golden.name} should change"
    assert golden.read_bytes().count(b"\n") > 1, "a golden result with no rows checks nothing"


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_remote_store_gives_the_same_result(name: str, embedded, remote):
    local = run_query(QUERIES[name], {}, embedded, BASE)
    kind = kind_of(local)
    theirs = run_query(QUERIES[name], {}, remote, BASE)
    if kind == "csv":
        assert as_bytes(theirs, kind) == as_bytes(local, kind)
    else:
        ours_graph = rdflib.Graph().parse(data=as_bytes(local, "nt"), format="nt")
        their_graph = rdflib.Graph().parse(data=as_bytes(theirs, "nt"), format="nt")
        assert set(ours_graph) == set(their_graph) and len(ours_graph) > 0


def test_parameters_are_bound_as_values(embedded):
    before_1970 = as_bytes(run_query(QUERIES["founded-before"], {"year": "1970"}, embedded, BASE), "csv")
    assert before_1970.decode().splitlines()[1:] == ["International House of Japan,1952", "Council on East Asian Libraries,1967"]
    countries = as_bytes(run_query(QUERIES["member-countries"], {"organization": "ifla"}, embedded, BASE), "csv")
    assert countries.decode().splitlines() == ["country,code"]


def test_a_limit_parameter_sets_the_limit_clause(embedded):
    query = QUERIES["schema-org-view"]
    assert re.search(r"^LIMIT 5$", query.bind({"limit": "5"}, BASE), re.MULTILINE)
    assert len(list(run_query(query, {"limit": "5"}, embedded, BASE))) == 5
    for hostile in ["5 }", "-1", "5.0", "1 OFFSET 2", "", "ten"]:
        with pytest.raises(ParameterError):
            query.bind({"limit": hostile}, BASE)
    golden = (GOLDEN / "queries" / "timeline.csv").read_bytes().decode().splitlines()
    first_two = as_bytes(run_query(QUERIES["timeline"], {"limit": "2"}, embedded, BASE), "csv").decode().splitlines()
    assert first_two == golden[:3]  # the header and the first two rows in order


@pytest.mark.parametrize("hostile", ["consal> } ?s ?p ?o {", 'x" } UNION { ?s ?p ?o', "a}b", "<http://x> } ; DROP ALL"])
def test_a_parameter_value_cannot_change_the_query(embedded, hostile: str):
    query = QUERIES["member-countries"]
    with pytest.raises(ParameterError):
        run_query(query, {"organization": hostile}, embedded, BASE)


def test_a_string_parameter_with_quotes_stays_a_literal(embedded, tmp_path: Path):
    path = tmp_path / "named.rq"
    path.write_text(
        "# title: By name\n# description: x\n# columns: o\n"
        "# param: label xsd:string IFLA -- an abbreviation\n"
        "PREFIX schema: <http://schema.org/>\n"
        'SELECT ?o WHERE { VALUES ?label { "IFLA" } ?o schema:alternateName ?label }\n',
        encoding="utf-8",
    )
    from ndlld.queries import read_query

    query = read_query(path)
    assert len(list(run_query(query, {}, embedded, BASE))) == 1
    for hostile in ['IFLA" } ?o ?p ?x . { "', "IFLA' }", 'a\\" } }', "x >  } #"]:
        assert list(run_query(query, {"label": hostile}, embedded, BASE)) == []


def test_unknown_parameter_and_bad_value_are_clear():
    result = run("query", "founded-before", "--param", "yeer=1970")
    assert result.exit_code == 2
    assert result.stderr == "query 'founded-before' has no parameter 'yeer' (its parameters: year, limit)\n"
    result = run("query", "founded-before", "--param", "year=nineteen")
    assert result.exit_code == 2 and "'year' must be a whole number" in result.stderr


def test_malformed_query_names_line_and_column(tmp_path: Path):
    path = tmp_path / "broken.rq"
    path.write_text("SELECT ?x\nWHERE { ?x ?y }\n", encoding="utf-8")
    result = run("query", path)
    assert result.exit_code == 2
    assert re.match(rf"{re.escape(str(path))}:(\d+): malformed query at line \1, column \d+: expected", result.stderr)
    assert "Traceback" not in result.output and len(result.stderr.splitlines()) == 1


def test_query_from_standard_input_as_json():
    result = CliRunner().invoke(cli, ["query", "-", "--format", "json"], input="ASK { ?s a <http://schema.org/Library> }")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == '{"head":{},"boolean":true}'


def test_table_aligns_wide_characters():
    result = run("query", "japanese-names")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header, rows = lines[0], lines[2:-1]
    source_column = width(header[: header.index("source")])
    for row in rows:
        japanese = row.split("  ", 1)[1].lstrip()
        prefix = row[: row.index(japanese.split()[0])] + japanese.split("  ")[0]
        assert width(prefix) <= source_column
    assert any("国立国会図書館" in row for row in rows)
    assert lines[-1] == f"({len(rows)} rows)"


def test_construct_formats():
    for output_format, parse_as in (("turtle", "turtle"), ("nt", "nt"), ("jsonld", "json-ld")):
        result = run("query", "organization", "--param", "organization=cdnlao", "--format", output_format)
        assert result.exit_code == 0, result.output
        graph = rdflib.Graph().parse(data=result.stdout, format=parse_as)
        assert (rdflib.URIRef(BASE + "id/cdnlao"), rdflib.URIRef("http://schema.org/alternateName"), rdflib.Literal("CDNLAO")) in graph
    result = run("query", "organization", "--format", "table")
    assert result.exit_code == 2 and "CONSTRUCT or DESCRIBE" in result.stderr


def test_queries_lists_every_query_with_its_title():
    result = run("queries")
    assert result.exit_code == 0
    for name, query in QUERIES.items():
        assert any(line.startswith(name + " ") and query.title in line for line in result.stdout.splitlines())


def test_remote_endpoint_cli(remote, oxigraph: str):
    result = run("query", "memberships", "--endpoint", f"{oxigraph}/query", "--format", "csv", "--data", DATA)
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == (GOLDEN / "queries" / "memberships.csv").read_bytes()


def test_unreachable_endpoint_is_a_clear_error():
    from conftest import free_port

    result = run("query", "memberships", "--endpoint", f"http://127.0.0.1:{free_port()}/query", "--data", DATA)
    assert result.exit_code == 2
    assert "cannot reach the endpoint" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize(
    "query",
    [
        "ASK { SERVICE <STORE_IRI> { ?s ?p ?o } }",
        "SELECT * WHERE { SERVICE SILENT <STORE_IRI> { ?s ?p ?o } }",
        "CONSTRUCT { ?s ?p ?o } WHERE { service <STORE_IRI> { ?s ?p ?o } }",
    ],
    ids=["ask", "select-silent", "construct"],
)
def test_a_query_for_an_endpoint_calls_none_of_its_services_from_here(private_store, query: str, tmp_path):
    """The query's form is found by an empty local store before it is sent: its SERVICE
    calls are for the endpoint to make, never from this machine. (A process of its own:
    a call that went out would wait on the silent store, and the timeout fails the test.)"""
    import subprocess
    import sys

    from conftest import ROOT, free_port

    file = tmp_path / "federated.rq"
    file.write_text(private_store.spell(query), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "ndlld", "query", str(file), "--endpoint", f"http://127.0.0.1:{free_port()}/query", "--data", str(DATA)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "cannot reach the endpoint" in done.stderr
    assert not private_store.reached()


@pytest.mark.parametrize(
    "status, expected", [(400, "refused the query"), (404, "refused the query"), (500, "refused the query"), (503, "HTTP 503")]
)
def test_endpoint_errors_are_clear(faulty_store, status: int, expected: str):
    store = faulty_store((status, "something went wrong"))
    result = run("query", "memberships", "--endpoint", store.url + "/query", "--data", DATA)
    assert result.exit_code == 2, result.output
    assert expected in result.stderr and len(result.stderr.splitlines()) == 1
