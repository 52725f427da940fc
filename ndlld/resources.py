"""Where the project's data files are (ontology/, shapes/, queries/), and what the graph
takes from schema.org's vocabulary: its inverse properties.

They live at the top of the repository, beside the package (the layout the
client fixed). An installed wheel carries a copy inside the package
(pyproject.toml's force-include); a checkout or editable install reads the
repository's own directories.
"""

from __future__ import annotations

from pathlib import Path

from pyoxigraph import NamedNode, RdfFormat, parse

from ndlld.namespaces import SCHEMA

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """The directory *name* (``"ontology"``, ``"shapes"``, ``"queries"``)."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"ndlld is installed without its {name}/ directory")


def context_path() -> Path:
    return resource_dir("ontology") / "context.jsonld"


def ontology_path() -> Path:
    return resource_dir("ontology") / "ndl.ttl"


def schemaorg_path() -> Path:
    """The part of schema.org ndlld relies on: class hierarchy, inverses (not published)."""
    return resource_dir("ontology") / "schemaorg.ttl"


def languages_path() -> Path:
    """The language codes a record may tag text with (made by scripts/regen_languages.py)."""
    return resource_dir("ontology") / "languages.tsv"


def shapes_dir() -> Path:
    return resource_dir("shapes")


def inverse_properties(path: Path) -> dict[str, str]:
    """The ``schema:inverseOf`` pairs of the vocabulary at *path* (Turtle), both ways round:
    what :func:`ndlld.graph.build_graph` mirrors statements by."""
    inverses = {}
    for quad in parse(path=str(path), format=RdfFormat.TURTLE):
        subject, predicate, inverse = quad.subject, quad.predicate, quad.object
        if predicate.value == str(SCHEMA) + "inverseOf" and isinstance(subject, NamedNode) and isinstance(inverse, NamedNode):
            inverses[subject.value] = inverse.value
            inverses[inverse.value] = subject.value
    return inverses
