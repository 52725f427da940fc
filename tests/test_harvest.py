"""`ndlld harvest`: our own outputs, served over loopback HTTP, load back as the
canonical graph; a truncated, corrupt or mistyped input changes nothing."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyoxigraph import RdfFormat

from ndlld.cli import cli
from ndlld.dumps import read_triples
from ndlld.harvest import graph_name, harvest, store_triples

SOURCES = [
    "dataset.nt", "dataset.ttl", "dataset.jsonld", "dataset.ndjson",
    "dataset.nt.gz", "dataset.ttl.gz", "dataset.jsonld.gz", "dataset.ndjson.gz",
]


def canonical(real_dist: Path) -> set:
    return set(read_triples(real_dist / "dataset.nt", RdfFormat.N_TRIPLES))


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.parametrize("name", SOURCES)
def test_each_dump_over_http_loads_as_the_canonical_graph(served: str, real_dist: Path, tmp_path: Path, name: str):
    result = run("harvest", f"{served}/{name}", "--into", tmp_path / "store")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"harvested {len(canonical(real_dist))} triples about 90 resources from {served}/{name}")
    assert set(store_triples(tmp_path / "store")) == canonical(real_dist)


def test_pages_over_http_load_as_their_descriptions(served: str, real_dist: Path, tmp_path: Path):
    store = tmp_path / "store"
    for page in ("id/ifla", "id/ndl"):
        # A page describes one resource; the shapes ask for the types of what it links to,
        # which other pages describe, so it is loaded as it is.
        harvested = harvest(f"{served}/{page}", store, accept_violations=True)
        assert harvested.format == "html"
        expected = set(read_triples(real_dist / f"{page}.nt", RdfFormat.N_TRIPLES))
        assert set(store_triples(store, graph_name(f"{served}/{page}"))) == expected


def test_harvesting_again_replaces_what_the_source_gave(served: str, tmp_path: Path, real_dist: Path):
    store = tmp_path / "store"
    harvest(f"{served}/dataset.nt", store)
    harvest(f"{served}/dataset.nt", store)
    assert len(store_triples(store)) == len(canonical(real_dist))


def _broken_inputs(real_dist: Path, tmp: Path) -> dict[str, Path]:
    nt = (real_dist / "dataset.nt").read_bytes()
    jsonld = (real_dist / "dataset.jsonld").read_bytes()
    inputs = {
        "truncated.nt": nt[: len(nt) // 2 - 7],
        "truncated.jsonld": jsonld[: len(jsonld) // 2],
        "truncated.nt.gz": gzip.compress(nt)[:-40],
        "corrupt.nt.gz": b"\x1f\x8b\x08\x00" + b"not gzip at all" * 10,
        "corrupt.ttl": b"<http://a> <http://b> ;; nonsense .\n",
        "html-named.ttl": (real_dist / "id" / "ifla.html").read_bytes(),
        "latin1.nt": '<http://a> <http://b> "caf\xe9" .\n'.encode("latin-1"),
        "empty.nt": b"",
        "remote-context.jsonld": b'{"@context": "https://example.org/context.json", "@id": "http://a", "name": "x"}',
        "no-jsonld.html": b"<!DOCTYPE html><html><body><p>nothing</p></body></html>",
    }
    paths = {}
    for name, content in inputs.items():
        paths[name] = tmp / name
        paths[name].write_bytes(content)
    return paths


def test_bad_inputs_are_refused_and_change_nothing(real_dist: Path, tmp_path: Path):
    store = tmp_path / "store"
    harvest(str(real_dist / "dataset.nt"), store)
    before = set(store_triples(store))
    for name, path in _broken_inputs(real_dist, tmp_path).items():
        result = run("harvest", path, "--into", store)
        assert result.exit_code == 2, f"{name}: {result.output}"
        assert result.stderr.startswith(str(path)) and len(result.stderr.splitlines()) == 1, f"{name}: {result.stderr}"
        assert "Traceback" not in result.output
        assert set(store_triples(store)) == before, name


def test_missing_url_is_a_clear_error(served: str, tmp_path: Path):
    result = run("harvest", f"{served}/nothing.nt", "--into", tmp_path / "store")
    assert result.exit_code == 2 and result.stderr == f"{served}/nothing.nt: HTTP 404\n"


def test_data_that_violates_the_shapes_is_not_loaded_unless_asked(tmp_path: Path):
    partner = tmp_path / "partner.ttl"
    partner.write_text(
        '<https://partner.example/org/1> a <http://schema.org/Organization> ;\n'
        '    <http://schema.org/name> "Partner library"@en .\n',
        encoding="utf-8",
    )
    result = run("harvest", partner, "--into", tmp_path / "store")
    assert result.exit_code == 1
    assert "does not say where its facts come from" in result.stderr
    assert store_triples(tmp_path / "store") == []
    result = run("harvest", partner, "--into", tmp_path / "store", "--accept-violations")
    assert result.exit_code == 0 and "1 violation(s)" in result.stdout
    assert len(store_triples(tmp_path / "store")) == 2
