"""A short run of bench/load.py against a real `ndlld serve`: 16 clients for
3 seconds on a mix of pages, data, dumps and SPARQL queries, with an expensive
query alongside. No errors, and every response has the status expected for its
kind (200, and 503 for the expensive query, stopped at its timeout). Times are
reported by the benchmark, never asserted here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from test_server import serving

from conftest import ROOT, program


def test_a_short_load_has_no_errors(real_dist: Path, tmp_path: Path):
    out = tmp_path / "load.json"
    # Two workers a server process: the expensive query holds one of its process's for 3 s at a time.
    with serving(real_dist, "--query-timeout", "3", "--query-workers", "4") as (url, _):
        run = subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "load.py"),
                "--url",
                url,
                "--clients",
                "16",
                "--seconds",
                "3",
                "--out",
                str(out),
                "--report",
                "-",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads(out.read_text())
    assert results["errors"] == 0 and results["error_examples"] == []
    for name, kind in results["kinds"].items():
        assert kind["requests"] > 0, name
        assert kind["statuses"] == {str(kind["expected_status"]): kind["requests"]}, name
    assert results["kinds"]["expensive"]["expected_status"] == 503
    assert results["pages_while_expensive_query_ran"]["requests"] > 0


def test_pages_and_files_are_measured_beside_nginx(real_dist: Path, tmp_path: Path):
    """The bench starts `ndlld serve` on the build and nginx with its nginx.conf, and loads
    both with wrk: every request answered, by both, with what it should be."""
    program("wrk", "wrk")
    program("nginx", "nginx")
    out = tmp_path / "load.json"
    command = [sys.executable, str(ROOT / "bench" / "load.py"), "--dist", str(real_dist), "--clients", "8", "--seconds", "2"]
    run = subprocess.run(
        [*command, "--nginx-seconds", "1", "--out", str(out), "--report", str(tmp_path / "load.md")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    beside = json.loads(out.read_text())["beside_nginx"]
    for name, row in beside["rows"].items():
        for server in ("serve", "nginx"):
            assert row[server]["per_second"] > 0 and row[server]["socket_errors"] == 0, (name, server)
            assert (row[server]["not_2xx_3xx"] == 0) == (row["path"] != "/id/nothing"), (name, server)
    assert "## Pages and files beside nginx" in (tmp_path / "load.md").read_text()
