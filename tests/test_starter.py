"""ndlld init (issue 23, item 5): a new data directory for another institution that builds
and validates at once, through the real command; its site's server configuration names the
institution's host, not the NDL's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from ndlld.cli import cli

BASE = "https://lod.example-library.org/"


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def started(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)  # validate keeps its cache beside dist/ here
    result = run(
        "init",
        tmp_path / "mydata",
        "--base",
        BASE,
        "--publisher",
        'Example "City" Library: Central',
        "--country",
        "DE",
        "--country-name",
        "Germany",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"wrote 6 files into {tmp_path / 'mydata'} for <{BASE}>; next: ndlld validate --data {tmp_path / 'mydata'}, "
        f"then ndlld build --data {tmp_path / 'mydata'}\n"
    )
    return tmp_path / "mydata"


def test_a_new_data_directory_validates_and_builds_at_once(started: Path, tmp_path: Path):
    validated = run("validate", "--data", started)
    assert validated.exit_code == 0, validated.output
    assert (
        validated.stdout.splitlines()[-1] == "the data conforms: 0 violation(s), 3 warning(s)"
    )  # no Japanese name, no description, no EU country link (its sources are the NDL's)
    built = run("build", "--data", started, "--out", tmp_path / "mydist")
    assert built.exit_code == 0, built.output
    page = (tmp_path / "mydist" / "id" / "example-city-library-central.html").read_text(encoding="utf-8")
    assert 'Example "City" Library: Central' in page.replace("&#34;", '"').replace("&quot;", '"')
    dump = (tmp_path / "mydist" / "dataset.nt").read_text(encoding="utf-8")
    assert f"<{BASE}id/dataset> <http://schema.org/publisher> <{BASE}id/example-city-library-central> ." in dump
    assert f'<{BASE}id/country/de> <http://schema.org/name> "Germany"@en .' in dump
    assert "<https://w3id.org/ndlld/id/" not in dump
    for japanese in ("index.ja.html", "id/example-city-library-central.ja.html", "404.ja.html", "sparql.ja.html", "vocab.ja.html"):
        assert '<html lang="ja">' in (tmp_path / "mydist" / japanese).read_text(encoding="utf-8"), japanese  # its site in Japanese too


def test_one_record_of_each_kind(started: Path):
    files = sorted(str(p.relative_to(started)) for p in started.rglob("*.yaml"))
    assert files == [
        "dataset.yaml",
        "events/meetings.yaml",
        "organizations/publisher.yaml",
        "places/countries.yaml",
        "publications/website.yaml",
        "sources/about.yaml",
    ]
    dataset = (started / "dataset.yaml").read_text(encoding="utf-8")
    assert f"base: {BASE}\n" in dataset and "license: https://creativecommons.org/licenses/by/4.0/\n" in dataset
    assert re.search(r"^  dateModified: \d{4}-\d{2}-\d{2}$", dataset, re.M)


def test_the_server_configuration_names_the_institutions_host(started: Path, tmp_path: Path):
    assert run("build", "--data", started, "--out", tmp_path / "mydist").exit_code == 0
    nginx = (tmp_path / "mydist" / "server" / "nginx.conf").read_text(encoding="utf-8")
    assert re.findall(r"^\s*server_name (.+);$", nginx, re.M) == ["lod.example-library.org"]
    assert "w3id.org" not in re.sub(r"#.*", "", nginx)


def test_init_refuses_what_it_cannot_start(tmp_path: Path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    taken = run("init", tmp_path / "taken", "--base", BASE, "--publisher", "X")
    assert taken.exit_code == 2
    assert taken.stderr == f"{tmp_path / 'taken'} is not an empty directory: ndlld init writes a new data directory\n"
    assert (tmp_path / "taken" / "notes.txt").read_text() == "mine"
    bad_base = run("init", tmp_path / "new", "--base", "https://example.org/ndl?x", "--publisher", "X")
    assert bad_base.exit_code == 2 and bad_base.stderr.startswith("--base: 'base' must be an http(s) IRI ending in '/'")
    bad_country = run("init", tmp_path / "new", "--base", BASE, "--publisher", "X", "--country", "Germany")
    assert bad_country.exit_code == 2 and "ISO 3166-1 alpha-2" in bad_country.stderr
    assert not (tmp_path / "new").exists()
