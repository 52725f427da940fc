"""Releases: each version's dumps kept for good under ``releases/VERSION/``.

A release holds the dumps (and their gzip files), ``SHA256SUMS``, the
vocabulary, the context and the VoID description of its version, the page of
the change feed listing what it created, updated and deleted since the release
before (``changes.json``), the same as a node of the event stream
(``feed.trig``), and ``position.json``: the last activity of the feed its dumps
include, so that a harvester loads a dump and replays the feed from there.
``releases/latest`` points to the newest release; ``releases/changes.json`` is
the feed (:mod:`ndlld.changes`) and ``releases/feed.trig`` the root of the event
stream (:mod:`ndlld.eventstream`).

Every build carries the releases of the output it replaces over into the new
one as hard links, so nothing in an earlier release is ever rewritten, and a
release costs no second copy of the files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from pyoxigraph import Literal, RdfFormat

from ndlld import eventstream
from ndlld.changes import diff, feed, release_page
from ndlld.dumps import DATASET_FILES, read_triples
from ndlld.errors import PublishError
from ndlld.graph import Graph, resource_base
from ndlld.namespaces import SCHEMA
from ndlld.sources import version_problem

RELEASES = "releases"
# What is in a release's directory never changes (releases/latest/ is the newest, whichever it is):
# servers say so, as the LDES server primer asks of immutable pages.
IMMUTABLE_PATH = re.compile(r"releases/(?!latest/)[^/]+/.+")
IMMUTABLE = "public, max-age=31536000, immutable"
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
    if previous is not None:
        _check_later(_page(releases / previous)["endTime"], time, previous)
    target.mkdir(parents=True)
    written = []
    for name in RELEASED_FILES:
        os.link(out_dir / name, target / name)
        written.append(target / name)
    old = _triples(releases / previous / DATASET_FILES["ntriples"]) if previous else []
    new = _triples(target / DATASET_FILES["ntriples"])
    changes = diff(old, new)
    page = release_page(changes, version, time, base, previous)
    written.append(_write_json(target / "changes.json", page))
    written.append(_write(target / "feed.trig", eventstream.release_node(changes, version, time, base, new)))
    written.append(_write_json(target / "position.json", _position(page, releases / previous if previous else None, base)))
    made = versions(out_dir)
    pages = [_page(releases / v) for v in made]
    written.append(_write_json(releases / "changes.json", feed(pages, base, _licence(new, base))))
    # A release made before the event stream has no node: the stream starts after it.
    times = [(v, p["endTime"]) for v, p in zip(made, pages) if (releases / v / "feed.trig").is_file()]
    written.append(_write(out_dir / eventstream.ROOT, eventstream.root_node(times, base)))
    latest = releases / "latest"
    staging_link = releases / ".latest.new"
    staging_link.unlink(missing_ok=True)
    staging_link.symlink_to(version)
    os.replace(staging_link, latest)
    return written + [latest]


def _check_later(before: str, time: str, previous: str) -> None:
    """A release comes after the one before it: the feed and the stream are ordered by time."""
    if time <= before:
        raise PublishError(
            f"a release needs a 'dateModified' later than that of release {previous} ({before[:10]}); raise it in dataset.yaml"
        )


def _position(page: dict, previous: Path | None, base: str) -> dict:
    """Where in the feed this release's dumps stand: the last activity they include."""
    items = page["orderedItems"]
    last = {"id": items[-1]["id"], "endTime": items[-1]["endTime"]} if items else None
    if last is None and previous is not None:  # nothing changed: where the release before stood
        last = json.loads((previous / "position.json").read_text(encoding="utf-8"))["lastActivity"]
    return {
        "page": page["id"],
        "feed": f"{base}releases/changes.json",
        "eventStream": eventstream.stream_iri(base),
        "view": eventstream.root_iri(base),
        "lastActivity": last,
    }


def _licence(triples: list, base: str) -> str | None:
    dataset, licence = f"<{base}id/dataset>", f"<{SCHEMA}license>"
    return next((t.object.value for t in triples if str(t.subject) == dataset and str(t.predicate) == licence), None)


def _page(release: Path) -> dict:
    return json.loads((release / "changes.json").read_text(encoding="utf-8"))


def _write_json(path: Path, document: dict) -> Path:
    return _write(path, (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))


def _write(path: Path, content: bytes) -> Path:
    """Write *path* as a new file: the one there may be a hard link into the output being replaced."""
    fresh = path.with_name(f".{path.name}.new")
    fresh.write_bytes(content)
    os.replace(fresh, path)
    return path


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
    """The dump of a release for ``ndlld diff``: its N-Quads, which say what states each
    statement, else (a release made before there were any) its N-Triples."""
    path = out_dir / RELEASES / version / DATASET_FILES["ntriples"]
    if version_problem(version) or not path.is_file():
        known = ", ".join(versions(out_dir)) or "none"
        raise PublishError(f"no release {version} in {out_dir / RELEASES} (releases: {known})")
    quads = path.with_name(DATASET_FILES["nquads"])
    return quads if quads.is_file() else path


def release_of(graph: Graph) -> tuple[str | None, str | None]:
    """The dataset's version, and its date of last change as the release time."""
    dataset = f"<{resource_base(graph.base)}dataset>"
    found = {t.predicate.value: t.object.value for t in graph.triples if str(t.subject) == dataset and isinstance(t.object, Literal)}
    version, modified = found.get(str(SCHEMA) + "version"), found.get(str(SCHEMA) + "dateModified")
    return version, f"{modified}T00:00:00Z" if modified else None
