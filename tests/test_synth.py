"""Synthetic data (ndlld.synth): deterministic, valid, shaped like the real data,
and with exactly the violations it says it planted."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import Quad, Store

from ndlld.build import load_graph, validate
from ndlld.synth import DEFECT_KINDS, synthesize


def _tree(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def _store(data: Path) -> Store:
    store = Store()
    store.extend(Quad(t.subject, t.predicate, t.object) for t in load_graph(data).triples)
    return store


def _ask(store: Store, query: str) -> bool:
    prefixes = "PREFIX schema: <http://schema.org/> PREFIX ndl: <https://w3id.org/ndlld/vocab#> "
    return bool(store.query(prefixes + query))


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path):
    first = synthesize(tmp_path / "a", 50, seed=7, defects=0.1)
    again = synthesize(tmp_path / "b", 50, seed=7, defects=0.1)
    other = synthesize(tmp_path / "c", 50, seed=8, defects=0.1)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    assert first.defects == again.defects
    assert _tree(tmp_path / "a") != _tree(tmp_path / "c")
    assert first.defects != other.defects


def test_files_are_spread_over_numbered_directories(tmp_path: Path):
    summary = synthesize(tmp_path, 1200)
    assert summary.files == sum(1 for p in tmp_path.rglob("*.yaml"))
    assert summary.file_of("org-000999") == tmp_path / "organizations" / "000" / "org-000999.yaml"
    assert summary.file_of("org-001000").is_file()
    assert all(len(list(d.iterdir())) <= 1000 for d in tmp_path.rglob("*") if d.is_dir())


def test_valid_data_conforms_with_about_20_triples_per_organization(tmp_path: Path):
    synthesize(tmp_path, 200, seed=1)
    report = validate(tmp_path)
    assert report.conforms
    assert report.findings == [], report.text()  # no warnings either
    assert 15 <= len(load_graph(tmp_path)) / 200 <= 27  # links outward on one in three


def test_each_defect_is_one_violation_in_its_organizations_file(tmp_path: Path):
    summary = synthesize(tmp_path, 300, seed=2, defects=0.05)
    assert len(summary.defects) == 15
    assert set(summary.defect_kinds.values()) <= set(DEFECT_KINDS)
    report = validate(tmp_path)
    assert not report.conforms
    violated = {Path(f.origin.path) for f in report.findings if f.severity == "Violation"}
    assert violated == {summary.file_of(org) for org in summary.defects}


def test_every_kind_of_defect_is_caught(tmp_path: Path):
    summary = synthesize(tmp_path, 40, seed=4, defects=1.0)
    assert sorted(set(summary.defect_kinds.values())) == sorted(DEFECT_KINDS)
    violated = {Path(f.origin.path) for f in validate(tmp_path).findings if f.severity == "Violation"}
    assert violated == {summary.file_of(org) for org in summary.defects}
    assert len(violated) == 40


def test_the_graph_has_the_shape_of_the_real_data(tmp_path: Path):
    synthesize(tmp_path, 200, seed=3)
    store = _store(tmp_path)
    assert _ask(store, 'ASK { ?org a schema:Organization ; schema:name ?ja . FILTER(lang(?ja) = "ja") }')
    assert _ask(
        store,
        """ASK { ?ndl schema:memberOf ?role . ?role a schema:OrganizationRole ;
        schema:memberOf ?org ; ndl:membershipCategory ?category ; schema:startDate ?since . }""",
    )
    assert _ask(
        store,
        """ASK { ?series a schema:EventSeries ; schema:organizer ?org ;
        schema:attendee [ a schema:Role ; schema:attendee ?ndl ] ;
        schema:subEvent [ schema:startDate ?year ; schema:location [ a schema:Country ] ] . }""",
    )
    assert _ask(store, "ASK { ?branch schema:parentOrganization [ schema:subOrganization ?branch ] }")
    assert _ask(store, "ASK { ?org ndl:memberCount [ ndl:countQualifier ?q ] ; ndl:memberCountry ?c }")
    assert _ask(store, "ASK { ?work schema:publisher ?org ; schema:about ?org }")


def test_refuses_a_directory_that_is_not_empty(tmp_path: Path):
    (tmp_path / "stale.yaml").write_text("id: x\n")
    with pytest.raises(FileExistsError):
        synthesize(tmp_path, 10)
