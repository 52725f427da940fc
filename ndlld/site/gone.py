"""The pages of resources deleted in a release: ``gone/id/x.html`` for each.

Every release keeps its dumps (:mod:`ndlld.releases`), so the build knows each
resource a release had. One that this build has no page for answers 410 Gone
with its page (``ndlld serve``, and the nginx and Apache configurations, look for
``gone/<path>.html``), which names the last release that had it and links to that
release's dumps, rather than a 404 that says nothing of what was there.
"""

from __future__ import annotations

import json
from pathlib import Path

from ndlld.conneg import GONE, LANGUAGES, language_suffix
from ndlld.dumps import DATASET_FILES
from ndlld.graph import resource_base
from ndlld.releases import RELEASES, versions

_DUMPS = ("turtle", "jsonld", "ntriples")


def render_gone(out_dir: Path, documents: set[str], base: str) -> dict[str, bytes]:
    """``gone/<path>.html`` for each resource document (``id/x``) a release in *out_dir*
    had and *documents* (this build's) has not, naming the last release that had it."""
    from ndlld.site import alternates, environment, language_context

    last_had: dict[str, str] = {}
    for version in versions(out_dir):  # oldest first: a later release overwrites
        for path in _documents(out_dir / RELEASES / version / DATASET_FILES["ntriples"], base):
            last_had[path] = version
    template = environment().get_template("gone.html")
    pages = {}
    for path, version in sorted(last_had.items()):
        if path in documents:
            continue
        root = "../" * path.count("/")
        dumps = [(DATASET_FILES[kind], f"{root}{RELEASES}/{version}/{DATASET_FILES[kind]}") for kind in _DUMPS]
        released = _released(out_dir, version)
        for language in LANGUAGES:
            # Served at the resource's IRI and its documents' names (x.ja.html for this one): the
            # switch leads to the other's name, which answers 410 with the other's page.
            context = language_context(language, alternates(path.rsplit("/", 1)[-1]))
            html = template.render(iri=base + path, version=version, released=released, dumps=dumps, root=root, **context)
            pages[f"{GONE}{path}{language_suffix(language)}.html"] = html.encode("utf-8")
    return pages


def _documents(dump: Path, base: str) -> set[str]:
    """The site paths (``id/x``) of the resource documents whose subjects *dump* has.

    N-Triples puts each subject first on its line: the lines are scanned, not parsed."""
    prefix = b"<" + resource_base(base).encode("utf-8")
    found = set()
    with dump.open("rb") as lines:
        for line in lines:
            if line.startswith(prefix):
                iri = line[1 : line.index(b">")].decode("utf-8")
                found.add(iri[len(base) :].partition("#")[0])
    return found


def _released(out_dir: Path, version: str) -> str:
    """When *version* was released, as its page of the change feed says."""
    try:
        return str(json.loads((out_dir / RELEASES / version / "changes.json").read_text(encoding="utf-8"))["endTime"])
    except (OSError, ValueError, KeyError):
        return ""
