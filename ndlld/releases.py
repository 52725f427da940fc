"""Releases: each version's dumps kept for good under ``releases/VERSION/``.

A release holds the dumps (and their gzip files), ``SHA256SUMS``, the
vocabulary, the context and the VoID description of its version, and the
page of the change feed listing what it created, updated and deleted since
the release before. ``releases/latest`` points to the newest release and
``releases/changes.json`` is the feed (:mod:`ndlld.changes`).

Every build carries the releases of the output it replaces over into the new
one as hard links, so nothing in an earlier release is ever rewritten, and a
release costs no second copy of the files.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from pyoxigraph import RdfFormat

from ndlld.changes import diff, feed, release_page
from ndlld.dumps import DATASET_FILES, read_triples
from ndlld.errors import PublishError
from ndlld.sources import version_problem

RELEASES = "releases"
RELEASED_FILES = [
    *DATASET_FILES.values(),
    *(name + ".gz" for name in DATASET_FILES.values()),
    "SHA256SUMS",
    "ontology.ttl",
    "context.jsonld",
    "void.ttl",
]


def carry_over(old_out: Path, new_out: Path) -> None:
    """Hard-link the releases of the output being replaced into the new one."""
    old = old_out / RELEASES
    if old.is_dir():
        shutil.copytree(old, new_out / RELEASES, symlinks=True, copy_function=os.link)


def versions(out_dir: Path) -> list[str]:
    """The releases in *out_dir*, in the order they were made."""
    pages = []
    for page in (out_dir / RELEASES).glob("*/changes.json"):
        if page.parent.is_symlink():  # latest
            continue
        made = json.loads(page.read_text(encoding="utf-8"))
        pages.append((made["endTime"], page.parent.name))
    return [version for _, version in sorted(pages)]


def add_release(out_dir: Path, version: str, time: str, base: str) -> list[Path]:
    """Keep this build's dumps as release *version*; a version is released once."""
    problem = version_problem(version)
    if problem:  # dataset.yaml's is checked when it is read: this is for other callers
        raise PublishError(problem)
    releases = out_dir / RELEASES
    target = releases / version
    if target.exists():
        if (target / "SHA256SUMS").read_bytes() == (out_dir / "SHA256SUMS").read_bytes():
            return []  # the same data released again: nothing to do
        raise PublishError(f"release {version} already exists with other data; raise 'version' in dataset.yaml for a new release")
    previous = _latest(releases)
    target.mkdir(parents=True)
    written = []
    for name in RELEASED_FILES:
        os.link(out_dir / name, target / name)
        written.append(target / name)
    old = _triples(releases / previous / DATASET_FILES["ntriples"]) if previous else []
    changes = diff(old, _triples(target / DATASET_FILES["ntriples"]))
    page = release_page(changes, version, time, base, previous)
    (target / "changes.json").write_text(json.dumps(page, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    written.append(target / "changes.json")
    pages = [json.loads((releases / v / "changes.json").read_text(encoding="utf-8")) for v in versions(out_dir)]
    (releases / "changes.json").write_text(json.dumps(feed(pages, base), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    latest = releases / "latest"
    staging_link = releases / ".latest.new"
    staging_link.unlink(missing_ok=True)
    staging_link.symlink_to(version)
    os.replace(staging_link, latest)
    return written + [releases / "changes.json", latest]


def release_note(out_dir: Path, version: str, new: bool, written_in: Path | None = None) -> str:
    """What ``ndlld release`` says it did: where release *version* is in *out_dir*, and what
    it changed since the release before (from its page of the change feed, in *written_in*
    while the output is staged there); or that it was there already."""
    target = out_dir / RELEASES / version
    if not new:
        return f"release {version} is already in {target} with this very data: nothing released"
    page = json.loads(((written_in or out_dir) / RELEASES / version / "changes.json").read_text(encoding="utf-8"))
    counts = {kind: sum(item["type"] == kind for item in page["orderedItems"]) for kind in ("Create", "Update", "Delete")}
    previous = page["prev"]["id"].split("/")[-2] if "prev" in page else None
    since = f"since {previous}" if previous else "(the first release)"
    return (
        f"released {version} into {target}: {counts['Create']} resource(s) created, {counts['Update']} updated, "
        f"{counts['Delete']} deleted {since}; {out_dir / RELEASES / 'latest'} points to it"
    )


def _latest(releases: Path) -> str | None:
    latest = releases / "latest"
    return os.readlink(latest) if latest.is_symlink() else None


def _triples(path: Path) -> list:
    return read_triples(path, RdfFormat.N_TRIPLES)


def release_dump(out_dir: Path, version: str) -> Path:
    """The N-Triples dump of a release, for ``ndlld diff``."""
    path = out_dir / RELEASES / version / DATASET_FILES["ntriples"]
    if version_problem(version) or not path.is_file():
        known = ", ".join(versions(out_dir)) or "none"
        raise PublishError(f"no release {version} in {out_dir / RELEASES} (releases: {known})")
    return path
