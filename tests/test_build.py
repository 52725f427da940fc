"""The build publishes all or nothing: a failed build leaves the previous output whole."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from ndlld.build import build
from ndlld.cli import cli
from ndlld.errors import ConfigError, ConformanceError, SourceErrors
from ndlld.synth import synthesize

from conftest import TESTS, add_fixture


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def _beside(directory: Path) -> list[str]:
    """What is in *directory* but the build lock and cache (which stay, by design)."""
    return sorted(p.name for p in directory.iterdir() if p.name not in {".dist.lock", ".dist.cache"})


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
    assert _beside(tmp_path) == ["data", "dist"], "a staging directory was left behind"


def test_build_replaces_the_whole_output(good_data: Path, tmp_path: Path):
    out = tmp_path / "dist"
    out.mkdir()
    (out / "stale.ttl").write_text("left from an older build")
    summary = build(good_data, out)
    assert set(_snapshot(out)) == {str(p.relative_to(out)) for p in summary.files}
    assert "stale.ttl" not in _snapshot(out)
    assert _beside(tmp_path) == ["data", "dist"]


def test_summary_counts_what_was_written(good_data: Path, tmp_path: Path):
    summary = build(good_data, tmp_path / "dist")
    lines = (tmp_path / "dist" / "dataset.nt").read_bytes().splitlines()
    assert summary.triples == len(lines)
    assert summary.entities == 14  # the schedule of the series is one more
    files = len(_snapshot(tmp_path / "dist"))
    assert str(summary).startswith(f"built 14 entities, {len(lines)} triples, {files} files into {tmp_path / 'dist'} in ")


@pytest.mark.parametrize("cache", [False, True])
def test_a_build_gives_the_collector_back_as_it_found_it(good_data: Path, tmp_path: Path, cache: bool):
    """A build pauses Python's garbage collector and freezes what it keeps (see
    ndlld.parallel.spared); a program that calls it finds both undone, however it ends."""
    import gc

    assert gc.isenabled() and gc.get_freeze_count() == 0
    build(good_data, tmp_path / "dist", cache_dir=tmp_path / "cache" if cache else None)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    (good_data / "organizations" / "ifla.yaml").write_text("name: [not, closed", encoding="utf-8")
    with pytest.raises(SourceErrors):
        build(good_data, tmp_path / "dist", cache_dir=tmp_path / "cache" if cache else None)
    assert gc.isenabled() and gc.get_freeze_count() == 0


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


# A build killed or raced: the previous output stays whole.


@pytest.fixture(scope="module")
def larger_data(tmp_path_factory) -> Path:
    """Enough synthetic records that a build takes a few seconds to write."""
    data = tmp_path_factory.mktemp("synth") / "data"
    synthesize(data, orgs=200, seed=5)
    return data


def _start_build(data: Path, out: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "ndlld", "build", "--quiet", "--data", str(data), "--out", str(out)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_staging(out: Path, build: subprocess.Popen) -> None:
    """Until the build has begun writing its new output beside *out*."""
    deadline = time.monotonic() + 120
    while not list(out.parent.glob(".dist.new-*")):
        assert build.poll() is None, f"the build ended before writing: {build.communicate()}"
        assert time.monotonic() < deadline, "the build never started writing"
        time.sleep(0.01)


@pytest.mark.parametrize("delay", [0.0, 0.2, 0.8, 2.0])
def test_build_killed_while_writing_leaves_previous_output_whole(good_data, larger_data, tmp_path, delay):
    out = tmp_path / "dist"
    build(good_data, out)
    before = _snapshot(out)
    running = _start_build(larger_data, out)
    _wait_for_staging(out, running)
    time.sleep(delay)
    running.send_signal(signal.SIGKILL)
    running.wait()
    after = _snapshot(out)
    if after != before:  # the kill came after the swap: then the new output is whole
        assert b"<https://example.org/synth/id/" in after["dataset.nt"], "dist/ is neither old nor new"
        assert after == _snapshot(out) and "SHA256SUMS" in after
    build(good_data, out)
    assert _snapshot(out) == before
    assert _beside(tmp_path) == ["data", "dist"], "the killed build's staging directory was not cleaned up"


def _locked(path: Path) -> bool:
    """Whether some process holds a flock on *path* (read from /proc/locks, without taking it)."""
    if not path.exists():
        return False
    inode = os.stat(path).st_ino
    return any(
        line.split()[1] == "FLOCK" and line.split()[5].endswith(f":{inode}") for line in Path("/proc/locks").read_text().splitlines()
    )


def test_second_build_at_once_is_refused_with_a_clear_message(good_data, larger_data, tmp_path):
    out = tmp_path / "dist"
    build(good_data, out)
    before = _snapshot(out)
    first = _start_build(larger_data, out)
    deadline = time.monotonic() + 60
    while not _locked(tmp_path / ".dist.lock"):
        assert first.poll() is None and time.monotonic() < deadline, "the first build never took the lock"
        time.sleep(0.01)
    second = CliRunner().invoke(cli, ["build", "--data", str(good_data), "--out", str(out)])
    assert second.exit_code == 2
    assert second.output.strip() == f"{out}: another build is writing this output now; wait for it to finish, then run again"
    assert _snapshot(out) == before, "the refused build touched the output"
    assert first.wait(timeout=300) == 0, first.communicate()
    assert "https://example.org/synth/" in (out / "dataset.nt").read_text(), "the first build was not completed"


def test_builds_in_different_processes_are_byte_identical(larger_data: Path, tmp_path: Path):
    """Many names tie (three 'observer' roles on one page): ties are broken by IRI, never by
    the process's string hashing, so every build writes the same bytes."""
    trees = []
    for seed in ("1", "2"):
        out = tmp_path / f"dist-{seed}"
        command = [sys.executable, "-m", "ndlld", "build", "--no-cache", "--data", str(larger_data), "--out", str(out)]
        subprocess.run(command, check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": seed})
        trees.append(_snapshot(out))
    assert trees[0] == trees[1]


@pytest.mark.parametrize("pages_after", [False, True], ids=["while-the-pages-are-made", "before-the-pages"])
def test_dumps_written_beside_the_pages_are_the_same(good_data: Path, tmp_path: Path, monkeypatch, pages_after: bool):
    """A large graph's dumps are written by a process of their own while the pages are (or,
    larger still, before the pages, which wait for it); the files must not change."""
    import ndlld.build

    build(good_data, tmp_path / "serial")
    monkeypatch.setattr(ndlld.build, "DUMPS_BESIDE_FROM", 0)
    if pages_after:
        monkeypatch.setattr(ndlld.build, "PAGES_AFTER_DUMPS_FROM", 0)
    summary = build(good_data, tmp_path / "beside")
    assert _snapshot(tmp_path / "beside") == _snapshot(tmp_path / "serial")
    assert {str(p.relative_to(tmp_path / "beside")) for p in summary.files} == set(_snapshot(tmp_path / "beside"))


@pytest.mark.parametrize("pages_after", [False, True], ids=["while-the-pages-are-made", "before-the-pages"])
def test_a_failure_in_the_dumps_process_fails_the_build(good_data: Path, tmp_path: Path, monkeypatch, pages_after: bool):
    import ndlld.build

    out = tmp_path / "dist"
    build(good_data, out)
    before = _snapshot(out)
    monkeypatch.setattr(ndlld.build, "DUMPS_BESIDE_FROM", 0)
    if pages_after:
        monkeypatch.setattr(ndlld.build, "PAGES_AFTER_DUMPS_FROM", 0)
    monkeypatch.setattr(ndlld.build, "write_dumps", lambda *args, **kwargs: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        build(good_data, out)
    assert _snapshot(out) == before
    assert _beside(tmp_path) == ["data", "dist"]


# With the cache, the output a build replaces is kept as the spare, and the next build starts from it.


def _inodes(directory: Path) -> dict[str, int]:
    return {str(p.relative_to(directory)): p.stat().st_ino for p in directory.rglob("*") if p.is_file()}


def _rename(data: Path, record: str, name: str, to: str) -> None:
    path = data / "organizations" / f"{record}.yaml"
    text = path.read_text(encoding="utf-8")
    assert f"\n  en: {name}\n" in text
    path.write_text(text.replace(f"\n  en: {name}\n", f"\n  en: {to}\n", 1), encoding="utf-8")


def test_a_build_starts_from_the_spare_and_never_writes_into_the_published_output(good_data: Path, tmp_path: Path):
    """The spare shares the files of unchanged pages with the published output: a page
    changed since is replaced in the spare, never written into (the published copy would change)."""
    out, cache = tmp_path / "dist", tmp_path / "cache"
    build(good_data, out, cache_dir=cache)
    _rename(good_data, "foundation", "A foundation", "Renamed")
    build(good_data, out, cache_dir=cache)
    assert _beside(tmp_path) == [".dist.spare", "cache", "data", "dist"]
    published, inodes = _snapshot(out), _inodes(out)
    _rename(good_data, "ifla", "International Federation of Library Associations and Institutions", "IFLA renamed")
    build(good_data, out, cache_dir=cache)
    assert _snapshot(tmp_path / ".dist.spare") == published, "the output replaced was changed while it was published"
    kept = {name for name, inode in _inodes(out).items() if inodes.get(name) == inode}
    assert "id/foundation.html" in kept and "embed/foundation.html" in kept, "an unchanged page was written again"
    assert "id/ifla.html" not in kept and "IFLA renamed" in (out / "id" / "ifla.html").read_text(encoding="utf-8")
    build(good_data, tmp_path / "scratch")
    assert _snapshot(out) == _snapshot(tmp_path / "scratch")


def test_a_build_from_scratch_leaves_its_own_pages_as_the_spare(good_data: Path, tmp_path: Path):
    """It wrote every page anew, so the output it replaced shares none with it: the spare
    is its own pages, linked, and the first edit after it finds them in place."""
    out, cache = tmp_path / "dist", tmp_path / "cache"
    build(good_data, out, cache_dir=cache)
    build(good_data, out, cache_dir=tmp_path / "another cache")  # from scratch, over an output
    pages = {name: inode for name, inode in _inodes(out).items() if name.startswith(("id/", "embed/"))}
    assert _inodes(tmp_path / ".dist.spare") == pages
    _rename(good_data, "foundation", "A foundation", "Renamed")
    build(good_data, out, cache_dir=tmp_path / "another cache")
    kept = {name for name, inode in _inodes(out).items() if pages.get(name) == inode}
    assert "id/ifla.html" in kept and "id/foundation.html" not in kept
    build(good_data, tmp_path / "scratch")
    assert _snapshot(out) == _snapshot(tmp_path / "scratch")


def test_files_left_in_the_spare_are_used_only_as_the_cache_describes_them(good_data: Path, tmp_path: Path):
    """A page of the spare edited by hand is written again, and the pages of a resource
    gone since are not published."""
    out, cache = tmp_path / "dist", tmp_path / "cache"
    build(good_data, out, cache_dir=cache)
    build(good_data, out, cache_dir=cache)
    spare = tmp_path / ".dist.spare"
    (spare / "id" / "ifla.html").write_text("edited by hand")
    (spare / "id" / "stray.html").write_text("not a page of this dataset")
    (spare / "embed" / "country" / "atlantis.html").write_text("nor this, a folder down")
    (good_data / "organizations" / "foundation.yaml").unlink()
    summary = build(good_data, out, cache_dir=cache)
    build(good_data, tmp_path / "scratch")
    assert _snapshot(out) == _snapshot(tmp_path / "scratch")
    assert set(_snapshot(out)) == {str(p.relative_to(out)) for p in summary.files}
    assert not (out / "id" / "foundation.html").exists() and not (out / "id" / "stray.html").exists()
    assert not (out / "embed" / "country" / "atlantis.html").exists()


def test_a_build_without_the_cache_keeps_no_spare(good_data: Path, tmp_path: Path):
    out, cache = tmp_path / "dist", tmp_path / "cache"
    build(good_data, out, cache_dir=cache)
    build(good_data, out, cache_dir=cache)
    assert (tmp_path / ".dist.spare").is_dir()
    build(good_data, out)
    assert _beside(tmp_path) == ["cache", "data", "dist"]


def test_a_build_killed_while_writing_over_the_spare_leaves_the_output_whole(good_data, larger_data, tmp_path):
    out, cache = tmp_path / "dist", tmp_path / "cache"
    for _ in range(2):
        build(good_data, out, cache_dir=cache)
    before = _snapshot(out)
    command = [sys.executable, "-m", "ndlld", "build", "--quiet", "--data", str(larger_data), "--out", str(out), "--cache-dir", str(cache)]
    running = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for_staging(out, running)
    running.send_signal(signal.SIGKILL)
    running.wait()
    after = _snapshot(out)
    if after != before:  # the kill came after the swap: then the new output is whole
        assert b"<https://example.org/synth/id/" in after["dataset.nt"] and "SHA256SUMS" in after, "dist/ is neither old nor new"
    build(good_data, out, cache_dir=cache)
    assert _snapshot(out) == before
    assert ".dist.spare" in _beside(tmp_path) and not list(tmp_path.glob(".dist.new-*"))
