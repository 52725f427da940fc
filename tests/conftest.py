"""Shared fixtures: the project's context, the real data's graph and build, and
copies of the small good dataset in tests/records/good to break on purpose."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from ndlld.build import build, load_graph
from ndlld.context import Context
from ndlld.resources import context_path
from ndlld.synth import synthesize

TESTS = Path(__file__).parent
ROOT = TESTS.parent
DATA = ROOT / "data"
GOOD = TESTS / "records" / "good"
GOLDEN = TESTS / "golden"


def kind_of(result) -> str:
    """How `ndlld query` writes a query's answer by default: CSV for rows, N-Triples for statements."""
    from pyoxigraph import QueryBoolean, QuerySolutions

    return "csv" if isinstance(result, (QuerySolutions, QueryBoolean)) else "nt"


def as_bytes(result, kind: str) -> bytes:
    """A query's answer written as *kind*, as `ndlld query --format` writes it."""
    from ndlld.results import render

    return render(result, kind, Context.load(context_path()))


_EXPECT = re.compile(r"^# expect: (?:(?P<severity>Violation|Warning) )?(?P<line>\d+): (?P<message>.+)$")


@dataclass(frozen=True)
class Expectation:
    """What a fixture file says must be reported about it (its '# expect:' lines)."""

    line: int
    message: str
    severity: str | None = None


def expectations(path: Path) -> list[Expectation]:
    found = []
    for text in path.read_bytes().decode("utf-8", errors="replace").lstrip("\ufeff").splitlines():
        match = _EXPECT.match(text)
        if match:
            found.append(Expectation(int(match["line"]), match["message"], match["severity"]))
    assert found, f"{path} has no '# expect:' line"
    return found


def add_fixture(data_dir: Path, fixture: Path) -> Path:
    """Put *fixture* into a copy of the good dataset; return where it went.

    ``dataset-*.yaml`` fixtures replace dataset.yaml; others are added as an
    organization record.
    """
    target = data_dir / "dataset.yaml" if fixture.name.startswith("dataset-") else data_dir / "organizations" / fixture.name
    shutil.copyfile(fixture, target)
    return target


def shacl_report_problems(report, shapes) -> list[str]:
    """What breaks SHACL's validation report rules (https://www.w3.org/TR/shacl/#results-validation-report)
    in *report* (an rdflib graph), its shapes being *shapes*: one sh:ValidationReport whose
    sh:conforms is true iff it has no sh:result; each result (and detail) with exactly one
    sh:focusNode, sh:resultSeverity (an IRI) and sh:sourceConstraintComponent (an IRI), at most
    one sh:value and sh:resultPath, messages in distinct languages; and, as ndlld requires, one
    sh:sourceShape: a shape of *shapes* by IRI, or a blank node described as a shape of *shapes* is."""
    import rdflib
    from rdflib.compare import isomorphic

    SH, problems = rdflib.SH, []
    reports = list(report.subjects(rdflib.RDF.type, SH.ValidationReport))
    if len(reports) != 1:
        return [f"{len(reports)} sh:ValidationReport instances, not one"]
    conforms = list(report.objects(reports[0], SH.conforms))
    results = list(report.objects(reports[0], SH.result))
    if len(conforms) != 1 or not isinstance(conforms[0], rdflib.Literal) or conforms[0].datatype != rdflib.XSD.boolean:
        problems.append(f"sh:conforms is {conforms}, not one xsd:boolean")
    elif conforms[0].toPython() != (not results):
        problems.append(f"sh:conforms {conforms[0]} beside {len(results)} results")
    blank_shapes = [_described(shapes, s) for s in set(shapes.subjects()) if isinstance(s, rdflib.BNode)]
    for result in set(results) | set(report.subjects(rdflib.RDF.type, SH.ValidationResult)):
        if (result, rdflib.RDF.type, SH.ValidationResult) not in report:
            problems.append(f"result {result} is no sh:ValidationResult")
        for predicate, least, most in [
            (SH.focusNode, 1, 1),
            (SH.resultSeverity, 1, 1),
            (SH.sourceConstraintComponent, 1, 1),
            (SH.sourceShape, 1, 1),
            (SH.value, 0, 1),
            (SH.resultPath, 0, 1),
        ]:
            values = list(report.objects(result, predicate))
            if not least <= len(values) <= most:
                problems.append(f"a result has {len(values)} {predicate.n3()}")
        for predicate in (SH.resultSeverity, SH.sourceConstraintComponent):
            if not all(isinstance(v, rdflib.URIRef) for v in report.objects(result, predicate)):
                problems.append(f"a result's {predicate.n3()} is not an IRI")
        languages = [m.language for m in report.objects(result, SH.resultMessage)]
        if len(languages) != len(set(languages)):
            problems.append("a result has two messages in one language")
        for shape in report.objects(result, SH.sourceShape):
            if isinstance(shape, rdflib.URIRef) and (shape, None, None) not in shapes:
                problems.append(f"sh:sourceShape {shape} is no shape of the shapes graph")
            if isinstance(shape, rdflib.BNode) and not any(isomorphic(_described(report, shape), s) for s in blank_shapes):
                problems.append("a blank sh:sourceShape is not described as any shape of the shapes graph")
    return problems


def _described(graph, node):
    """*node*'s statements and those of the blank nodes below it, as a graph of their own."""
    import rdflib

    found, todo = rdflib.Graph(), [node]
    while todo:
        subject = todo.pop()
        for predicate, value in graph.predicate_objects(subject):
            if isinstance(value, rdflib.BNode) and (subject, predicate, value) not in found:
                todo.append(value)
            found.add((subject, predicate, value))
    return found


@pytest.fixture
def good_data(tmp_path: Path) -> Path:
    """A fresh, writable copy of tests/records/good."""
    return Path(shutil.copytree(GOOD, tmp_path / "data"))


@pytest.fixture(scope="session")
def context() -> Context:
    return Context.load(context_path())


@pytest.fixture(scope="session")
def real_graph(context):
    return load_graph(DATA, context)


@pytest.fixture(scope="session")
def real_dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("real") / "dist"
    build(DATA, out)
    return out


# Organizations enough for the source every synthetic record cites to be linked from more
# resources than a page lists (ndlld.site.LIST_SHOWN): about 1,100 rows.
WIDELY_CITED_ORGS = 400
WIDELY_CITED = "id/source/synthetic"  # its site path


@pytest.fixture(scope="session")
def widely_cited(tmp_path_factory) -> tuple[Path, Path]:
    """Synthetic records whose source is cited by more resources than its page lists, and
    their build from scratch: (the records, the output). Copy the records to edit them."""
    root = tmp_path_factory.mktemp("widely-cited")
    synthesize(root / "data", orgs=WIDELY_CITED_ORGS, seed=1)
    build(root / "data", root / "dist")
    return root / "data", root / "dist"


def wait_until_up(url: str, process: subprocess.Popen, why, seconds: float = 30) -> None:
    """Wait until *url* answers; fail with *why()* if the server dies or never answers."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers, if not with 200
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(why()) from None
            time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connect(url: str, receive_buffer: int | None = None) -> socket.socket:
    """A raw connection to the server at *url*; a receive buffer of so many bytes makes a
    client that reads slowly. The server must act within 30 s: a timeout fails the test."""
    connection = socket.socket()
    if receive_buffer:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    connection.settimeout(30)
    connection.connect(("127.0.0.1", int(url.rsplit(":", 1)[1])))
    return connection


def read_until_closed(connection: socket.socket) -> bytes:
    """What the server sends until it closes the connection (or resets it)."""
    answer = b""
    try:
        while chunk := connection.recv(65536):
            answer += chunk
    except ConnectionResetError:
        pass
    return answer


def sending_nothing(url: str) -> bytes:
    """What a connection to *url* that sends nothing gets before the server closes it."""
    with connect(url) as connection:
        return read_until_closed(connection)


def trickle(connection: socket.socket, start: bytes, drip: bytes) -> bytes:
    """Send *start*, then *drip* every 0.3 s, until the server answers or closes (30 s at
    most); then what it sends until it closes."""
    connection.sendall(start)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not select.select([connection], [], [], 0.3)[0]:
        try:
            connection.sendall(drip)
        except (BrokenPipeError, ConnectionResetError):
            break
    return read_until_closed(connection)


@contextlib.contextmanager
def server_process(command: list, probe: str, port: int, clean_exit: bool = True, log: Path | None = None, preexec_fn=None):
    """A real server started by *command* on loopback *port*; yields (url, process) once
    *probe* (a path) answers, and on leaving stops it by its pid with SIGTERM; with
    *clean_exit*, it must then exit with 0. Its output goes to the file *log* when
    given (a pipe nobody reads would stop a server that writes much), and
    *preexec_fn* runs in the child before the command (to set its limits)."""
    output = log.open("wb") if log is not None else subprocess.PIPE
    process = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, preexec_fn=preexec_fn)
    read = (lambda: log.read_text(errors="replace")) if log is not None else (lambda: process.stdout.read().decode())
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + probe, process, read)
        yield url, process
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
        code = process.wait(timeout=30)
        if log is not None:
            output.close()
    if clean_exit:
        assert code == 0, f"{command[0]} did not shut down cleanly on SIGTERM: {read()}"


@dataclass
class Ran:
    """How a process of ``python -m ndlld`` ended, and the most memory it held."""

    exit_code: int
    stdout: str
    stderr: str
    max_rss: int  # bytes


# Runs a command under an address-space limit, then writes its peak resident memory
# (with its children's) into a file: the test's own children would count too otherwise.
_MEASURE = """
import resource, subprocess, sys
limit = int(sys.argv[2])
code = subprocess.call(sys.argv[3:], preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)))
open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024))
sys.exit(code)
"""


def ndlld_measured(*args, address_space: int = 3 * 1024**3, env: dict | None = None, timeout: float = 120) -> Ran:
    """``python -m ndlld ARGS`` as a process of its own (with *env* added to its
    environment), measured. Past *address_space* bytes its allocations fail, so that a
    regression ends in an error rather than in taking the machine's memory."""
    with tempfile.TemporaryDirectory() as tmp:
        rss = Path(tmp) / "rss"
        command = [sys.executable, "-c", _MEASURE, str(rss), str(address_space), sys.executable, "-m", "ndlld", *map(str, args)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})
        return Ran(done.returncode, done.stdout, done.stderr, int(rss.read_text()))


# A record no other refers to but the page's passage about it: deleted after a release, so that
# the site has its 410 page (gone/id/<GONE>.html).
GONE = "cdnlao-newsletter"


@pytest.fixture(scope="session")
def released_and_deleted(tmp_path_factory) -> Path:
    """The real data released as 0.1.0, then built again without one record (:data:`GONE`)."""
    data = Path(shutil.copytree(DATA, tmp_path_factory.mktemp("released") / "data"))
    out = data.parent / "dist"
    build(data, out, release=True)
    (data / "publications" / f"{GONE}.yaml").unlink()
    passages = data / "sources" / "ndl-links.yaml"  # where in the page each record's statements are
    passages.write_text(passages.read_text(encoding="utf-8").replace(f", {GONE},", ","), encoding="utf-8")
    build(data, out)
    return out


@pytest.fixture(scope="session")
def served(real_dist: Path):
    """A real `ndlld serve` process on a free loopback port, stopped by its pid."""
    port = free_port()
    command = [sys.executable, "-m", "ndlld", "serve", "--out", str(real_dist), "--data", str(DATA), "--port", str(port)]
    with server_process(command, "/", port) as (url, _process):
        yield url


def program(name: str, package: str) -> str:
    """The path of a server the tests run for real (a Debian package): missing, the module
    is skipped, or fails under CI=1, where .ci/run installs it."""
    found = shutil.which(name) or f"/usr/sbin/{name}"
    if not Path(found).exists():
        if os.environ.get("CI"):
            raise RuntimeError(f"{name} is not installed: .ci/run installs it (apt-get install {package})")
        pytest.skip(f"{name} is not installed here (CI installs it)", allow_module_level=True)
    return found


NGINX_MAIN = """
user root;
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log off;
    default_type application/octet-stream;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/site.conf;
}}
"""


@contextlib.contextmanager
def nginx_serving(dist: Path, tmp: Path, changes: dict[str, str] | None = None):
    """Real nginx serving *dist* with the site configuration `ndlld build` wrote there (each
    key of *changes* in it replaced by its value), on a free loopback port; yields its URL,
    and stops it by its pid."""
    nginx = program("nginx", "nginx")
    port = free_port()
    site = (dist / "server" / "nginx.conf").read_text(encoding="utf-8")
    assert "listen 80;" in site and "root /var/www/ndlld;" in site
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};").replace("root /var/www/ndlld;", f"root {dist};")
    for old, new in (changes or {}).items():
        assert old in site, old
        site = site.replace(old, new)
    (tmp / "site.conf").write_text(site, encoding="utf-8")
    (tmp / "nginx.conf").write_text(NGINX_MAIN.format(tmp=tmp), encoding="utf-8")
    check = subprocess.run([nginx, "-t", "-p", str(tmp), "-c", str(tmp / "nginx.conf")], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen([nginx, "-p", str(tmp), "-c", str(tmp / "nginx.conf")], stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    log = tmp / "error.log"
    try:
        wait_until_up(url + "/", process, lambda: log.read_text() if log.exists() else "nginx did not start")
        yield url
    finally:
        os.kill(process.pid, signal.SIGQUIT)  # nginx's graceful stop
        process.wait(timeout=15)


@contextlib.contextmanager
def apache_serving(dist: Path):
    """Real Apache (Debian's apache2) serving a copy of *dist* with the .htaccess `ndlld build`
    wrote there (tests/httpd.conf), on a free loopback port; yields its URL and the copy, and
    stops it by its pid.

    A copy, in a directory of its own that every user may read: started by root, Apache
    serves as www-data, which may not enter pytest's private temporary directories."""
    import tempfile

    apache = program("apache2", "apache2")
    tmp = Path(tempfile.mkdtemp(prefix="ndlld-apache-"))
    try:
        os.chmod(tmp, 0o755)
        root = Path(shutil.copytree(dist, tmp / "dist", symlinks=True))
        port = free_port()
        user = "User www-data\nGroup www-data" if os.geteuid() == 0 else ""
        config = (TESTS / "httpd.conf").read_text(encoding="utf-8")
        config = config.format(tmp=tmp, port=port, user=user, modules="/usr/lib/apache2/modules", root=root)
        (tmp / "httpd.conf").write_text(config, encoding="utf-8")
        command = [apache, "-f", str(tmp / "httpd.conf"), "-DFOREGROUND"]
        check = subprocess.run([*command[:3], "-t"], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        url = f"http://127.0.0.1:{port}"
        log = tmp / "error.log"
        try:
            wait_until_up(url + "/", process, lambda: log.read_text() if log.exists() else process.stderr.read().decode())
            yield url, root
        finally:
            os.kill(process.pid, signal.SIGTERM)  # the parent stops its children, then itself
            process.wait(timeout=30)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def site_server(kind: str, dist: Path, tmp: Path):
    """*dist* served over HTTP by ``serve`` (``ndlld serve`` as a process), ``nginx`` or
    ``apache``; yields its URL."""
    if kind == "serve":
        port = free_port()
        command = [sys.executable, "-m", "ndlld", "serve", "--out", str(dist), "--port", str(port)]
        with server_process(command, "/", port) as (url, _process):
            yield url
    elif kind == "nginx":
        with nginx_serving(dist, tmp) as url:
            yield url
    else:
        with apache_serving(dist) as (url, _copy):
            yield url


def http_get(url: str, accept: str | None = None):
    """GET *url* (with *accept* as its Accept header): the status, the headers and the body, whatever the status."""
    request = urllib.request.Request(url, headers={"Accept": accept} if accept is not None else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def http_fetch(url: str, method: str = "GET", headers: dict | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request, no redirect followed, no decoding: the status, the headers and the body as sent."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


OXIGRAPH = Path(sys.executable).parent / "oxigraph"
OXIGRAPH_PROBE = "/query?query=ASK%7B%7D"


class PrivateStore:
    """A plain TCP listener on loopback standing in for a private store on the same host:
    it never answers; a test asks whether anyone tried to connect."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.base = f"http://127.0.0.1:{self.socket.getsockname()[1]}/"

    def reached(self) -> bool:
        """Whether a connection is waiting to be accepted (one that came is never accepted)."""
        return bool(select.select([self.socket], [], [], 0.3)[0])

    def spell(self, query: str) -> str:
        return query.replace("BASE_IRI", self.base).replace("STORE_IRI", self.base + "sparql")


@pytest.fixture
def private_store():
    store = PrivateStore()
    yield store
    store.socket.close()


@pytest.fixture(scope="session")
def oxigraph():
    """A real Oxigraph server (`oxigraph serve`, from the PyPI package) on a free
    loopback port, in memory, stopped by its pid. Yields its base URL."""
    port = free_port()
    with server_process([str(OXIGRAPH), "serve", "--bind", f"127.0.0.1:{port}"], OXIGRAPH_PROBE, port, clean_exit=False) as (url, _process):
        yield url


class FaultyStore:
    """A loopback HTTP server that answers each request from a script of
    (status, body) pairs, then the last one forever, and records the requests.
    It stands in for a store that fails: 500s, 503s, refusals."""

    def __init__(self, script: list[tuple[int, str]]):
        import http.server
        import threading

        self.script, self.requests = list(script), []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                owner.requests.append((self.command, self.path, dict(self.headers), body))
                status, text = owner.script.pop(0) if len(owner.script) > 1 else owner.script[0]
                payload = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def faulty_store():
    stores = []

    def make(*script: tuple[int, str]) -> FaultyStore:
        stores.append(FaultyStore(list(script)))
        return stores[-1]

    yield make
    for store in stores:
        store.close()
