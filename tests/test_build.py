"""The build publishes all or nothing: a failed build leaves the previous output whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from ndlld.build import build
from ndlld.errors import ConformanceError, ConfigError, SourceErrors

from conftest import TESTS, add_fixture


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    "fixture, error",
    [
        (TESTS / "shapes" / "bad" / "no-english-name.yaml", ConformanceError),
        (TESTS / "records" / "bad" / "unknown-key.yaml", SourceErrors),
        (TESTS / "records" / "bad" / "yaml-syntax.yaml", SourceErrors),
    ],
    ids=["violation", "source-error", "yaml-error"],
)
def test_failed_build_leaves_previous_output_untouched(good_data: Path, tmp_path: Path, fixture: Path, error):
    out = tmp_path / "dist"
    build(good_data, out)
    before = _snapshot(out)
    add_fixture(good_data, fixture)
    with pytest.raises(error):
        build(good_data, out)
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "dist"], "a staging directory was left behind"


def test_build_replaces_the_whole_output(good_data: Path, tmp_path: Path):
    out = tmp_path / "dist"
    out.mkdir()
    (out / "stale.ttl").write_text("left from an older build")
    summary = build(good_data, out)
    assert set(_snapshot(out)) == {str(p.relative_to(out)) for p in summary.files}
    assert "stale.ttl" not in _snapshot(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "dist"]


def test_summary_counts_what_was_written(good_data: Path, tmp_path: Path):
    summary = build(good_data, tmp_path / "dist")
    lines = (tmp_path / "dist" / "dataset.nt").read_bytes().splitlines()
    assert summary.triples == len(lines)
    assert summary.entities == 13
    files = len(_snapshot(tmp_path / "dist"))
    assert str(summary).startswith(f"built 13 entities, {len(lines)} triples, {files} files into {tmp_path / 'dist'} in ")


def test_output_path_that_is_a_file_is_refused(good_data: Path, tmp_path: Path):
    out = tmp_path / "dist"
    out.write_text("not a directory")
    with pytest.raises(ConfigError):
        build(good_data, out)
    assert out.read_text() == "not a directory"


def test_progress_names_each_stage(good_data: Path, tmp_path: Path):
    messages: list[str] = []
    build(good_data, tmp_path / "dist", progress=messages.append)
    stages = [m.split("] ", 1)[1] for m in messages]
    assert stages[0] == "reading the records" and stages[-1] == "writing the pages"
    assert any(s.startswith("checking ") and s.endswith("triples against the shapes") for s in stages)
