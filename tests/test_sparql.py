"""The SPARQL endpoint of `ndlld serve` as a user meets it: it follows the output a
build publishes, without a restart and without ever answering from two outputs at
once; it describes itself (SPARQL 1.1 Service Description) and offers browsers a form."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import DATA, ROOT, free_port, server_process

IFLA = "https://w3id.org/ndlld/id/ifla"
# The dataset's size and one name in one query: an answer from two outputs would pair them wrongly.
VERSION = (
    "PREFIX schema: <http://schema.org/> SELECT ?n ?name WHERE { { SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o } } "
    f"OPTIONAL {{ <{IFLA}> schema:name ?name FILTER (lang(?name) = 'en') }} }}"
)
RENAMED = "International Federation of Library Associations (renamed)"


def sparql_json(url: str, query: str) -> dict:
    request = urllib.request.Request(
        url + "/sparql?" + urllib.parse.urlencode({"query": query}), headers={"Accept": "application/sparql-results+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def version(url: str) -> tuple[int, str]:
    [row] = sparql_json(url, VERSION)["results"]["bindings"]
    return int(row["n"]["value"]), row["name"]["value"]


def ndlld(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ndlld", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.fixture
def data_and_dist(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    dist = tmp_path / "dist"
    built = ndlld("build", "--data", str(data), "--out", str(dist), "--quiet")
    assert built.returncode == 0, built.stderr
    return data, dist


def rename_ifla(data: Path) -> None:
    """A changed record: another English name, and one statement more."""
    record = data / "organizations" / "ifla.yaml"
    text = record.read_text(encoding="utf-8")
    text = text.replace("  en: International Federation of Library Associations and Institutions", f"  en: {RENAMED}", 1)
    text = text.replace("alternateName: IFLA\n", "alternateName:\n  - IFLA\n  - IFLA-renamed\n", 1)
    record.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("cache", [True, False], ids=["cached-build", "build-from-scratch"])
def test_the_endpoint_follows_a_rebuild_without_restart_and_never_mixes(data_and_dist, cache: bool):
    data, dist = data_and_dist
    port = free_port()
    command = [sys.executable, "-m", "ndlld", "serve", "--out", str(dist), "--data", str(data), "--port", str(port)]
    with server_process(command, "/", port) as (url, _process):
        before = version(url)
        seen: list[tuple[int, str]] = []
        stop = threading.Event()

        def ask_in_a_loop() -> None:
            while not stop.is_set():
                seen.append(version(url))

        asking = threading.Thread(target=ask_in_a_loop)
        asking.start()
        try:
            rename_ifla(data)
            rebuilt = ndlld("build", "--data", str(data), "--out", str(dist), "--quiet", *(() if cache else ("--no-cache",)))
            assert rebuilt.returncode == 0, rebuilt.stderr
            page = urllib.request.urlopen(url + "/id/ifla.ttl", timeout=10).read().decode("utf-8")
            assert RENAMED in page  # the files are the new output's at once
            deadline = time.monotonic() + 120  # only against a hang: the workers load the new output meanwhile
            while (not seen or seen[-1] == before) and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            stop.set()
            asking.join(timeout=120)
        after = version(url)
    assert after[1] == RENAMED and after[0] > before[0], (before, after)
    assert set(seen) <= {before, after}, f"an answer from neither output, or from both: {set(seen) - {before, after}}"
    first_new = seen.index(after)
    assert before not in seen[first_new:], "once answered from the new output, the endpoint went back to the old one"
