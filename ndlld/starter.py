"""``ndlld init``: a new data directory for another institution, ready to build.

The files are those of ``starter-data/`` (beside ontology/ and shapes/, so data, not
code): a dataset.yaml with the institution's base IRI, publisher and licence, and
one record of each kind (an organization, a series of meetings with a meeting, a
web site, a country, a source), with ``${name}`` placeholders filled in. The
records use the JSON-LD context and are checked by the shapes ndlld ships, so the
new directory builds and validates as it is (tests/test_starter.py).
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

from ndlld.errors import ConfigError
from ndlld.ids import id_problem
from ndlld.resources import resource_dir
from ndlld.sources import base_problem

CC_BY = "https://creativecommons.org/licenses/by/4.0/"


@dataclass(frozen=True)
class Institution:
    """What ``ndlld init`` asks of the institution starting a dataset."""

    base: str
    publisher: str
    country: str = "JP"
    country_name: str = "Japan"
    licence: str = CC_BY


def init(target: str | Path, institution: Institution, today: datetime.date | None = None) -> list[Path]:
    """Write a new data directory for *institution* into *target* (new or empty); the files written."""
    target = Path(target)
    problem = base_problem(institution.base)
    if problem:
        raise ConfigError(f"--base: {problem}")
    if not re.fullmatch(r"[A-Z]{2}", institution.country):
        raise ConfigError(f"--country takes an ISO 3166-1 alpha-2 code in capitals such as JP, not {institution.country!r}")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(f"{target} is not an empty directory: ndlld init writes a new data directory")
    values = _values(institution, today or datetime.date.today())
    starter = resource_dir("starter-data")
    written = []
    for template in sorted(starter.rglob("*.yaml")):
        path = target / template.relative_to(starter)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(template.read_text(encoding="utf-8")).substitute(values), encoding="utf-8")
        written.append(path)
    return written


def _values(institution: Institution, today: datetime.date) -> dict[str, str]:
    """The placeholders' values: text as YAML double-quoted scalars (JSON strings are), so any name is safe."""
    # The name in lowercase ASCII words joined by '-' (a name in another script gives none: 'publisher').
    publisher_id = re.sub(r"[^a-z0-9]+", "-", institution.publisher.lower())[:60].strip("-")
    if not publisher_id or id_problem(publisher_id):
        publisher_id = "publisher"
    host = urlsplit(institution.base).hostname or ""
    return {
        "base": institution.base,
        "publisher_id": publisher_id,
        "publisher": json.dumps(institution.publisher, ensure_ascii=False),
        "title": json.dumps(f"{institution.publisher}: Linked Open Data", ensure_ascii=False),
        "title_ja": json.dumps(
            f"{institution.publisher} のリンクト・オープン・データ（日本語の題名に置き換えてください）", ensure_ascii=False
        ),
        "description": json.dumps(f"Linked Open Data published by {institution.publisher} at {host}.", ensure_ascii=False),
        "description_ja": json.dumps(
            f"{institution.publisher} が公開するリンクト・オープン・データ（日本語の説明に置き換えてください）", ensure_ascii=False
        ),
        "site_name": json.dumps(f"{institution.publisher} web site", ensure_ascii=False),
        "licence": institution.licence,
        "site": institution.base,
        "country": institution.country,
        "country_id": institution.country.lower(),
        "country_name": json.dumps(institution.country_name, ensure_ascii=False),
        "today": today.isoformat(),
        "year": str(today.year),
    }
