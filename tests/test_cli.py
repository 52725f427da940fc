"""The ndlld command: exit codes, messages on stderr, no tracebacks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import rdflib
from click.testing import CliRunner

from ndlld import __version__
from ndlld.checks import load_shapes
from ndlld.cli import cli
from ndlld.resources import shapes_dir

from conftest import GOOD, TESTS, add_fixture, shacl_report_problems


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_validate_conforming_data_exits_0():
    result = run("validate", "--data", GOOD)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "the data conforms: 0 violation(s), 0 warning(s)"


def test_validate_violation_exits_1_naming_file_and_line(good_data: Path):
    target = add_fixture(good_data, TESTS / "shapes" / "bad" / "no-english-name.yaml")
    result = run("validate", "--data", good_data)
    assert result.exit_code == 1
    assert f"{target}:2: Violation: has no English name" in result.stdout


def test_validate_bad_record_exits_2_with_one_line_per_error(good_data: Path):
    target = add_fixture(good_data, TESTS / "records" / "bad" / "unknown-key.yaml")
    result = run("validate", "--data", good_data)
    assert result.exit_code == 2
    assert result.stderr == f"{target}:7: unknown key 'homepage'; see ontology/context.jsonld for the keys\n"
    assert "Traceback" not in result.output


def test_validate_formats(good_data: Path):
    add_fixture(good_data, TESTS / "shapes" / "bad" / "no-japanese-name.yaml")
    as_json = run("validate", "--data", good_data, "--format", "json")
    assert as_json.exit_code == 0
    report = json.loads(as_json.stdout)
    assert report["conforms"] is True and report["findings"][0]["severity"] == "Warning"
    as_turtle = run("validate", "--data", good_data, "--format", "turtle")
    assert as_turtle.exit_code == 0  # ndlld's verdict: Warnings allowed
    graph = rdflib.Graph().parse(data=as_turtle.stdout, format="turtle")
    assert (None, rdflib.SH.resultSeverity, rdflib.SH.Warning) in graph
    # SHACL's: a report with results does not conform, and each result is whole
    assert (None, rdflib.SH.conforms, rdflib.Literal(False)) in graph
    assert shacl_report_problems(graph, load_shapes(shapes_dir())) == []
    assert set(graph.objects(None, rdflib.SH.sourceShape)) == {rdflib.URIRef("https://w3id.org/ndlld/shapes#OrganizationJapaneseName")}


def test_validate_with_either_shacl_engine(good_data: Path):
    add_fixture(good_data, TESTS / "shapes" / "bad" / "parent-cycle.yaml")
    add_fixture(good_data, TESTS / "shapes" / "bad" / "no-japanese-name.yaml")
    reports = {}
    for engine in ("rudof", "pyshacl"):
        result = run("validate", "--data", good_data, "--no-cache", "--format", "json", "--shacl-engine", engine)
        assert result.exit_code == 1, result.output
        reports[engine] = json.loads(result.stdout)
    assert reports["rudof"] == reports["pyshacl"]
    assert {f["severity"] for f in reports["rudof"]["findings"]} == {"Violation", "Warning"}
    unknown = run("validate", "--data", good_data, "--shacl-engine", "topbraid")
    assert unknown.exit_code == 2 and "topbraid" in unknown.stderr


def test_build_writes_dumps_and_one_summary_line(tmp_path: Path):
    out = tmp_path / "dist"
    result = run("build", "--data", GOOD, "--out", out)
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"built \d+ entities, \d+ triples, \d+ files into .+ in \d+\.\d s \(0 warning\(s\)\)\n", result.stdout)
    dumps = {"dataset.ttl", "dataset.jsonld", "dataset.nt", "ontology.ttl", "context.jsonld"}
    assert dumps | {"index.html", "vocab.html", "sitemap.xml", "void.ttl"} <= {p.name for p in out.iterdir()}


def test_build_with_violation_exits_1_and_publishes_nothing(good_data: Path, tmp_path: Path):
    add_fixture(good_data, TESTS / "shapes" / "bad" / "no-english-name.yaml")
    result = run("build", "--data", good_data, "--out", tmp_path / "dist")
    assert result.exit_code == 1
    assert "has no English name" in result.stderr
    assert not (tmp_path / "dist").exists()


def test_missing_data_directory_exits_2(tmp_path: Path):
    result = run("validate", "--data", tmp_path / "nowhere")
    assert result.exit_code == 2
    assert "no dataset.yaml" in result.stderr and "Traceback" not in result.output


def test_usage_error_exits_2():
    result = run("validate", "--format", "xml")
    assert result.exit_code == 2


def test_version_and_help():
    assert run("--version").stdout.strip() == f"ndlld, version {__version__}"
    help_text = run("--help").stdout
    assert "build" in help_text and "validate" in help_text


def test_a_hint_names_an_option_only_in_the_commands_that_have_it():
    """Library code is shared: rudof's failure in harvest (which has no --shacl-engine) must
    not suggest --shacl-engine; build, validate and release must."""
    from ndlld.checks import OTHER_ENGINE
    from ndlld.errors import ShapesError

    error = ShapesError("rudof cannot validate: no", hint=OTHER_ENGINE)
    for name, command in cli.commands.items():
        options = {option for parameter in command.params for option in parameter.opts}
        shown = error.text_for(options)
        assert shown == (
            "rudof cannot validate: no (or --shacl-engine pyshacl)" if "--shacl-engine" in options else "rudof cannot validate: no"
        ), name
    assert {name for name, command in cli.commands.items() if "--shacl-engine" in str([p.opts for p in command.params])} == {
        "build",
        "release",
        "validate",
    }
