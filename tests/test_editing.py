"""The editing loop as a librarian meets it (issue 23, item 4), through the real ndlld command:
no record file skipped, every file's problems in one run, the JSON report whatever happened,
hints that say what to do."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ndlld.cli import cli

from conftest import TESTS, add_fixture

BAD = TESTS / "records" / "bad"


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch):
    """validate keeps its cache beside dist/ in the working directory: a test's own."""
    monkeypatch.chdir(tmp_path)


# -- no file skipped -------------------------------------------------------------------


def test_a_yml_record_is_read_like_a_yaml_one(good_data: Path, tmp_path: Path):
    shutil.copyfile(BAD / "unknown-key.yaml", good_data / "organizations" / "unknown-key.yml")
    result = run("validate", "--data", good_data)
    assert result.exit_code == 2
    assert (
        result.stderr
        == f"{good_data / 'organizations' / 'unknown-key.yml'}:7: unknown key 'homepage'; see ontology/context.jsonld for the keys\n"
    )
    (good_data / "organizations" / "unknown-key.yml").unlink()
    shutil.move(good_data / "organizations" / "foundation.yaml", good_data / "organizations" / "foundation.yml")
    built = run("build", "--data", good_data, "--out", tmp_path / "dist")
    assert built.exit_code == 0, built.output
    assert (tmp_path / "dist" / "id" / "foundation.html").is_file()


def test_a_dataset_yml_is_named_not_passed_over(good_data: Path):
    shutil.move(good_data / "dataset.yaml", good_data / "dataset.yml")
    result = run("validate", "--data", good_data)
    assert result.exit_code == 2
    assert result.stderr == f"{good_data / 'dataset.yml'}: the dataset file is read as dataset.yaml; rename it\n"


# -- every file's problems in one run -----------------------------------------------------


@pytest.mark.parametrize("command", ["validate", "build"])
def test_a_yaml_syntax_error_hides_no_other_files_problems(command: str, good_data: Path, tmp_path: Path):
    broken = add_fixture(good_data, BAD / "unquoted-colon.yaml")
    unknown = add_fixture(good_data, BAD / "unknown-key.yaml")
    year = add_fixture(good_data, BAD / "bad-year.yaml")
    args = ["--out", tmp_path / "dist"] if command == "build" else []
    result = run(command, "--data", good_data, *args)
    assert result.exit_code == 2
    assert [line.split(": ", 1)[0] for line in result.stderr.splitlines()] == sorted([f"{year}:6", f"{broken}:6", f"{unknown}:7"]), (
        result.stderr
    )
    assert not (tmp_path / "dist").exists()


def test_a_broken_file_makes_no_false_dangling_reference(good_data: Path):
    """The records that refer to ndl stay quiet while ndl.yaml cannot be read: only its own line."""
    (good_data / "organizations" / "ndl.yaml").write_text("id: ndl\ntype: Organization\nname: Note: x\n")
    result = run("validate", "--data", good_data, "--no-cache")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{good_data / 'organizations' / 'ndl.yaml'}:3: YAML syntax: mapping values are not allowed in this context; "
        "a value with ': ' in it must be in quotes: quote the value (name: \"Note: x\")"
    ]


# -- validate --format json -----------------------------------------------------------------


def test_validate_json_when_records_cannot_be_read_has_the_same_findings(good_data: Path):
    add_fixture(good_data, BAD / "tabs.yaml")
    add_fixture(good_data, BAD / "unknown-key.yaml")
    text = run("validate", "--data", good_data)
    as_json = run("validate", "--data", good_data, "--format", "json")
    assert text.exit_code == as_json.exit_code == 2
    report = json.loads(as_json.stdout)
    assert report["conforms"] is False
    assert [f"{f['file']}:{f['line']}: {f['message']}" for f in report["findings"]] == text.stderr.splitlines()
    assert {f["severity"] for f in report["findings"]} == {"Error"}
    assert all(set(f) == {"severity", "message", "focus", "path", "value", "shape", "file", "line"} for f in report["findings"])


def test_validate_json_without_a_data_directory(tmp_path: Path):
    result = run("validate", "--data", tmp_path / "nowhere", "--format", "json")
    assert result.exit_code == 2
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["severity"] == "Error" and "no dataset.yaml" in finding["message"] and finding["file"] is None


def test_every_field_of_the_json_report_is_documented_and_shape_names_a_shape(good_data: Path):
    add_fixture(good_data, TESTS / "shapes" / "bad" / "no-english-name.yaml")
    report = json.loads(run("validate", "--data", good_data, "--format", "json").stdout)
    assert {f["shape"] for f in report["findings"]} == {"https://w3id.org/ndlld/shapes#EnglishName"} or all(
        f["shape"].startswith("https://w3id.org/ndlld/shapes#") for f in report["findings"]
    )
    checks = (TESTS.parent / "docs" / "checks.md").read_text(encoding="utf-8")
    table = checks.split("## The JSON report", 1)[1]
    documented = set(re.findall(r"^\| `(\w+)`(?:, `(\w+)`)? \|", table, re.M))
    fields = {name for pair in documented for name in pair if name}
    assert set(report["findings"][0]) == fields
    assert '"conforms"' in table


# -- hints ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "line", "hint"),
    [
        ("unquoted-colon.yaml", 6, "quote the value"),
        ("area-key.yaml", 6, "unknown key 'area'; did you mean 'areaServed'?"),
        ("member-uppercase.yaml", 8, "did you mean 'ndl'?"),
        ("language-eng.yaml", 5, "'eng' is not a known language tag; English is 'en'"),
    ],
)
def test_hints_say_what_to_do(fixture: str, line: int, hint: str, good_data: Path):
    target = add_fixture(good_data, BAD / fixture)
    result = run("validate", "--data", good_data)
    assert result.exit_code == 2
    [reported] = result.stderr.splitlines()
    assert reported.startswith(f"{target}:{line}: ") and hint in reported


def test_a_two_letter_code_that_is_no_language_is_named(good_data: Path):
    ifla = good_data / "organizations" / "ifla.yaml"
    ifla.write_text(ifla.read_text().replace("  ja: 国際図書館連盟", "  jp: 国際図書館連盟"))
    result = run("validate", "--data", good_data)
    assert result.exit_code == 2
    assert result.stderr == f"{ifla}:5: 'jp' is not a known language tag: 'jp' is no ISO 639-1 language code (English is en, Japanese ja)\n"


# -- query, embed ---------------------------------------------------------------------------


def test_query_with_an_id_no_record_has_says_so(tmp_path: Path):
    from conftest import DATA

    built = run("build", "--data", DATA, "--out", tmp_path / "dist")
    assert built.exit_code == 0, built.output
    result = run("query", "organization", "--param", "organization=nope", "--data", DATA, "--out", tmp_path / "dist")
    assert result.exit_code == 2
    assert result.stderr == "no record has the id 'nope' (--param organization=nope); the ids are those of the records, such as ifla\n"
    found = run("query", "organization", "--param", "organization=cdnlao", "--format", "nt", "--data", DATA, "--out", tmp_path / "dist")
    assert found.exit_code == 0 and "<https://w3id.org/ndlld/id/cdnlao>" in found.stdout


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("year=19x", "'year' must be a whole number; got '19x'"),
        ("colour=red", "query 'founded-before' has no parameter 'colour' (its parameters: year, limit)"),
    ],
)
def test_query_with_a_bad_parameter_builds_nothing_first(param: str, message: str, tmp_path: Path):
    from conftest import DATA

    result = run("query", "founded-before", "--param", param, "--data", DATA, "--out", tmp_path / "dist")
    assert result.exit_code == 2
    assert result.stderr == message + "\n"
    assert not (tmp_path / "dist").exists() and not (tmp_path / ".dist.cache").exists()


def test_embed_takes_the_iri_its_page_shows_and_prints_readable_json_ld():
    from conftest import DATA

    by_id = run("embed", "ifla", "--data", DATA)
    by_iri = run("embed", "https://w3id.org/ndlld/id/ifla", "--data", DATA)
    assert by_id.exit_code == by_iri.exit_code == 0, by_iri.output
    assert by_iri.stdout == by_id.stdout
    comment, script = by_id.stdout.split("\n", 1)
    assert comment == (
        "<!-- International Federation of Library Associations and Institutions: schema.org description from "
        "The National Diet Library's international cooperation network (https://w3id.org/ndlld/id/ifla) -->"
    )
    assert script.startswith('<script type="application/ld+json">\n{\n  "@context": {\n    "@vocab": "http://schema.org/",')
    document = json.loads(script.removeprefix('<script type="application/ld+json">').removesuffix("</script>\n"))
    assert document["@graph"][0]["@id"] == "https://w3id.org/ndlld/id/ifla"
    other = run("embed", "https://example.org/id/ifla", "--data", DATA)
    assert other.exit_code == 2
    assert (
        other.stderr
        == "<https://example.org/id/ifla> is not an IRI of this dataset: its resources' IRIs start with https://w3id.org/ndlld/id/\n"
    )


# -- release, diff ----------------------------------------------------------------------------


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def two_releases(good_data: Path, tmp_path: Path) -> Path:
    out = tmp_path / "dist"
    first = run("release", "--data", good_data, "--out", out, "-q")
    assert first.exit_code == 0, first.output
    assert re.fullmatch(
        re.escape(f"released 0.0.1 into {out / 'releases' / '0.0.1'}: ")
        + r"\d+ resource\(s\) created, 0 updated, 0 deleted \(the first release\); "
        + re.escape(f"{out / 'releases' / 'latest'} points to it"),
        first.stdout.splitlines()[1],
    ), first.stdout
    _edit(good_data / "dataset.yaml", "version: 0.0.1", "version: 0.0.2")
    _edit(good_data / "dataset.yaml", "dateModified: 2026-01-31", "dateModified: 2026-02-28")  # releases follow in time
    _edit(good_data / "organizations" / "ifla.yaml", "minValue: 1700", "minValue: 1800")
    second = run("release", "--data", good_data, "--out", out, "-q")
    assert second.exit_code == 0, second.output
    assert second.stdout.splitlines()[1] == (
        f"released 0.0.2 into {out / 'releases' / '0.0.2'}: 0 resource(s) created, 2 updated, 0 deleted since 0.0.1; "
        f"{out / 'releases' / 'latest'} points to it"
    )
    again = run("release", "--data", good_data, "--out", out, "-q")
    assert again.stdout.splitlines()[1] == f"release 0.0.2 is already in {out / 'releases' / '0.0.2'} with this very data: nothing released"
    return out


def test_diff_reads_as_a_change_list_for_people(two_releases: Path):
    result = run("diff", "0.0.1", "0.0.2", "--out", two_releases)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "updated IFLA <https://example.org/ndlld/id/ifla>" in lines
    assert "  IFLA · member count: 1,700 → 1,800" in lines
    assert any(re.fullmatch(r"  .+ · version: 0\.0\.1 → 0\.0\.2", line) for line in lines), lines
    assert lines[-1] == "3 triple(s) added, 3 removed, in 2 resource(s)"  # the count, the version, the date


def test_diff_for_programs_as_n_triples_or_json(two_releases: Path):
    member_count = "<https://example.org/ndlld/id/ifla#member-count> <http://schema.org/minValue>"
    nt = run("diff", "0.0.1", "0.0.2", "--out", two_releases, "--format", "nt")
    assert nt.exit_code == 0, nt.output
    assert f'  + {member_count} "1800"^^<http://www.w3.org/2001/XMLSchema#integer> .' in nt.stdout.splitlines()
    assert f'  - {member_count} "1700"^^<http://www.w3.org/2001/XMLSchema#integer> .' in nt.stdout.splitlines()
    report = json.loads(run("diff", "0.0.1", "0.0.2", "--out", two_releases, "--format", "json").stdout)
    assert report["added"] == report["removed"] == 3


# -- each command's help ---------------------------------------------------------------------


def _help(command: str) -> str:
    result = run(command, "--help")
    assert result.exit_code == 0
    return result.stdout


def test_each_command_says_what_it_does_in_words_of_its_own():
    firsts = {name: command.get_short_help_str(200) for name, command in cli.commands.items()}
    assert len(set(firsts.values())) == len(firsts), firsts
    assert "--out" not in _help("validate") and "dist/" in _help("validate")
    assert _help("diff").split("\n\n")[1].strip().startswith("Say what changed between two versions")
    build_out = next(p.help for p in cli.commands["build"].params if p.name == "out_dir")
    for name in ("diff", "query", "serve", "publish"):
        [out] = [p.help for p in cli.commands[name].params if p.name == "out_dir"]
        assert out != build_out, name


# -- harvesting the project's own pages ----------------------------------------------------------


def test_one_page_is_harvested_as_a_part_of_the_dataset(real_dist: Path, tmp_path: Path):
    """The page's JSON-LD links to the source and the NDL without describing them: a part, not a broken whole."""
    result = run("harvest", real_dist / "id" / "ifla.html", "--into", tmp_path / "store")
    assert result.exit_code == 0, result.output
    assert re.fullmatch(
        r"harvested \d+ triples about \d+ resources from .+ \(html\) into <.+>; the data conforms: 0 violation\(s\), 1 warning\(s\)\n",
        result.stdout,
    )


def test_harvest_findings_speak_of_triples_not_of_yaml(real_dist: Path, tmp_path: Path):
    source = "<https://w3id.org/ndlld/id/source/ndl-links>"
    lines = (real_dist / "dataset.nt").read_text(encoding="utf-8").splitlines()
    broken = tmp_path / "no-source-record.nt"
    broken.write_text("\n".join(line for line in lines if not line.startswith(source)) + "\n", encoding="utf-8")
    result = run("harvest", broken, "--into", tmp_path / "store")
    assert result.exit_code == 1
    findings = result.stderr.splitlines()[:-1]
    assert (
        "Violation: dcterms:source must name a document resource such as source/ndl-links [https://w3id.org/ndlld/id/ifla dcterms:source]"
        in findings
    )
    assert not [line for line in findings if "add '" in line or "record" in line or re.search(r"'\w+'", line)]


# -- serve: "serving" only once it listens ---------------------------------------------------------


def test_serve_on_a_taken_port_exits_3_with_one_line(real_dist: Path):
    import socket
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "ndlld", "serve", "--out", str(real_dist), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 3
    assert (
        result.stderr
        == f"cannot listen on 127.0.0.1:{port}: Address already in use (is another server running there? choose another with --port)\n"
    )
    assert "serving" not in result.stdout + result.stderr
