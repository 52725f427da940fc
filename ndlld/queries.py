"""The query library: the named SPARQL queries of queries/, and their parameters.

Each ``queries/<name>.rq`` starts with a header of comments::

    # title: Organizations the NDL belongs to
    # description: Each membership of the NDL, with its category and start.
    # columns: organization, name, category, since
    # param: year xsd:gYear 1980 -- organizations founded before this year

A parameter is a variable of the query, given a default in a ``VALUES``
block of the query itself (``VALUES ?year { "1980"^^xsd:gYear }``). A value
from the command line replaces the default inside that block as an RDF term
written by pyoxigraph (quotes, ``>`` and ``}`` escaped as N-Triples escapes
them), and the query is parsed again before it runs: the value can only ever
be one term, never more query text.

A parameter named ``limit`` or ``offset`` sets the number of the query's
``LIMIT`` or ``OFFSET`` clause instead, written on a line of its own
(``LIMIT 1000``): SPARQL has no variable there. Its value must be a whole
number, 0 or more, and replaces only that number.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from pyoxigraph import DefaultGraph, Literal, NamedNode, Store

from ndlld.errors import ConfigError, ParameterError, QueryError
from ndlld.namespaces import XSD
from ndlld.store import SERVICE_KEYWORD, malformed

_HEADER = re.compile(r"^#\s*(title|description|columns|param):\s*(.*)$")
_CONTINUATION = re.compile(r"^#\s{2,}(\S.*)$")
_PARAM = re.compile(r"^(\w+)\s+(iri|xsd:\w+)\s+(\S+)\s+--\s+(.+)$")
_IRI_FORBIDDEN = re.compile(r'[\s<>"{}|\\^`]')
_CLAUSES = {"limit": "LIMIT", "offset": "OFFSET"}  # parameters that set a clause, not a VALUES block


@dataclass(frozen=True)
class Parameter:
    """A variable of a query that a user may set: ``year xsd:gYear 1980 -- …``."""

    name: str
    type: str  # "iri" or an xsd: datatype
    default: str
    description: str


@dataclass
class Query:
    """One named query: its text and what its header says about it."""

    name: str
    path: Path
    text: str
    title: str = ""
    description: str = ""
    columns: list[str] = field(default_factory=list)
    parameters: dict[str, Parameter] = field(default_factory=dict)

    def bind(self, values: dict[str, str], base: str) -> str:
        """The query text with each parameter bound: to its value in *values*, else its default.

        Defaults are bound the same way, so that a record id default (``consal``)
        resolves against this dataset's base IRI.
        """
        text = self.text
        unknown = sorted(set(values) - set(self.parameters))
        if unknown:
            known = ", ".join(self.parameters) or "none"
            raise ParameterError(f"query '{self.name}' has no parameter '{unknown[0]}' (its parameters: {known})")
        values = {**{name: p.default for name, p in self.parameters.items()}, **values}
        for name, raw in values.items():
            if name in _CLAUSES:
                text = self._bind_clause(name, raw, text)
                continue
            term = _term(self.parameters[name], raw, base)
            pattern = re.compile(r"(VALUES\s+\?" + re.escape(name) + r"\s*\{)[^{}]*(\})", re.IGNORECASE)
            text, count = pattern.subn(partial(_values_block, term), text, count=1)
            if count != 1:
                raise ConfigError(f"query '{self.name}' declares '{name}' but has no 'VALUES ?{name} {{ … }}' block", path=self.path)
        check_syntax(text, self.path)  # parsed again: each value must have stayed one term
        return text

    def _bind_clause(self, name: str, raw: str, text: str) -> str:
        """*text* with the number of its one ``LIMIT``/``OFFSET`` line set to *raw*."""
        keyword = _CLAUSES[name]
        if not re.fullmatch(r"\d+", raw.strip()):
            raise ParameterError(f"'{name}' must be a whole number, 0 or more; got {raw!r}")
        pattern = re.compile(r"^(\s*" + keyword + r"\s+)\d+(\s*)$", re.IGNORECASE | re.MULTILINE)
        text, count = pattern.subn(lambda m: f"{m.group(1)}{int(raw)}{m.group(2)}", text)
        if count != 1:
            raise ConfigError(f"query '{self.name}' declares '{name}' but has no line '{keyword} n' (or more than one)", path=self.path)
        return text


def _term(parameter: Parameter, raw: str, base: str) -> str:
    """*raw* as an RDF term in SPARQL syntax, or a ParameterError saying what was expected."""
    if parameter.type == "iri":
        iri = raw if _is_absolute(raw) else base + "id/" + raw
        if _IRI_FORBIDDEN.search(iri):
            raise ParameterError(f"'{parameter.name}' must be a record id such as ifla, or an IRI; got {raw!r}")
        return str(NamedNode(iri))
    datatype = parameter.type.removeprefix("xsd:")
    if datatype == "integer" and not re.fullmatch(r"[+-]?\d+", raw):
        raise ParameterError(f"'{parameter.name}' must be a whole number; got {raw!r}")
    if datatype == "gYear" and not re.fullmatch(r"\d{4}", raw):
        raise ParameterError(f"'{parameter.name}' must be a year such as 1980; got {raw!r}")
    if datatype == "string":
        return str(Literal(raw))
    return str(Literal(raw, datatype=NamedNode(str(XSD) + datatype)))


def _is_absolute(raw: str) -> bool:
    """Whether a parameter's value is an IRI (it has a scheme) rather than a record id."""
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", raw) is not None


def _values_block(term: str, block: re.Match[str]) -> str:
    """A ``VALUES ?name { … }`` block that holds *term* alone."""
    return f"{block.group(1)} {term} {block.group(2)}"


def read_query(path: Path) -> Query:
    """A query file and its header."""
    text = path.read_text(encoding="utf-8")
    query = Query(name=path.stem, path=path, text=text)
    last = None
    for line in text.splitlines():
        match = _HEADER.match(line)
        if match:
            key, value = match.groups()
            if key == "param":
                parameter = _PARAM.match(value.strip())
                if not parameter:
                    raise ConfigError(f"a param line reads 'param: NAME TYPE DEFAULT -- description', not {value!r}", path=path)
                name, type_, default, description = parameter.groups()
                query.parameters[name] = Parameter(name, type_, default, description)
            elif key == "columns":
                query.columns = [c.strip() for c in value.split(",") if c.strip()]
            else:
                setattr(query, key, value.strip())
            last = key
        elif last in ("title", "description") and (continued := _CONTINUATION.match(line)):
            setattr(query, last, getattr(query, last) + " " + continued.group(1).strip())
        elif not line.startswith("#"):
            break
    return query


def load_queries(directory: Path) -> dict[str, Query]:
    """Every ``*.rq`` of *directory*, by name."""
    return {path.stem: read_query(path) for path in sorted(Path(directory).glob("*.rq"))}


def find_query(spec: str, directory: Path) -> Query:
    """A query by name (``memberships``), by file path, or ``-`` for standard input."""
    import sys

    if spec == "-":
        return Query(name="stdin", path=Path("<stdin>"), text=sys.stdin.read())
    library = load_queries(directory)
    if spec in library:
        return library[spec]
    path = Path(spec)
    if path.is_file():
        return read_query(path)
    import difflib

    close = difflib.get_close_matches(spec, list(library), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else "; 'ndlld queries' lists them"
    raise ConfigError(f"no query named '{spec}' and no such file{hint}")


def check_syntax(text: str, source: Path | None = None) -> None:
    """Raise a QueryError naming line and column when *text* is not SPARQL 1.1.

    The query is parsed, never run: pyoxigraph parses it first, then refuses the
    contradictory dataset asked for here (a ValueError) before it evaluates
    anything, a SERVICE call included (tests/test_server.py checks that no request goes out).
    """
    try:
        Store().query(text, use_default_graph_as_union=True, default_graph=DefaultGraph())
    except SyntaxError as err:
        raise malformed(err, source) from None
    except ValueError:
        return
    raise AssertionError("pyoxigraph ran a query it was only asked to parse")  # pragma: no cover


# -- what a stranger's query may not do ---------------------------------------------
# pyoxigraph parses by recursion: a query nested some thousands deep overflows
# the stack of the process parsing it, which dies.
MAX_NESTING = 100
# Where brackets do not count (strings, IRIs, comments, an escaped character such
# as the quote of the name ex:a\'b), then the brackets and runs of '!' (not '!=').
_NESTING = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""|'
    r"'''(?:[^'\\]|\\.|'(?!''))*'''|"
    r'"(?:[^"\\\n\r]|\\.)*"|'
    r"'(?:[^'\\\n\r]|\\.)*'|"
    r'<[^<>"{}|^`\\\x00-\x20]*>|#[^\n\r]*|\\.|'
    r"(?P<open>[({\[])|(?P<close>[)}\]])|(?P<negations>!(?:\s*!)*)(?!=)",
    re.DOTALL,
)
SERVICE_REFUSED = "this endpoint queries only its own dataset: SERVICE (federated query) is not allowed"


def check_nesting(text: str, limit: int = MAX_NESTING) -> None:
    """Raise a QueryError when *text* nests brackets, or chains ``!``, deeper than *limit*:
    refused in one line before pyoxigraph's parser would take the worker down."""
    depth = 0
    for match in _NESTING.finditer(text):
        if match["open"]:
            depth += 1
        elif match["close"]:
            depth = max(depth - 1, 0)
        if depth + (match["negations"] or "").count("!") > limit:
            line = text.count("\n", 0, match.start()) + 1
            raise QueryError(f"query nested too deeply: more than {limit} levels of brackets at line {line}")


def _absent_word(text: str) -> str:
    """Seven letters that *text* does not hold in any case, as long as 'service'."""
    lowered = text.lower()
    for n in itertools.count():
        word = "".join("qxzjvkwy"[int(digit)] for digit in f"{n:07o}")
        if word not in lowered:
            return word
    raise AssertionError  # pragma: no cover - itertools.count() does not end


def refuse_outbound(text: str) -> None:
    """Raise a QueryError when *text* would have pyoxigraph make a request elsewhere:
    a SERVICE clause, in any form (SILENT, a variable, nested anywhere).

    Whether a 'service' in the text is the keyword is left to pyoxigraph's own parser:
    each is changed into a word the text does not hold, and the query parsed again. In a
    string, an IRI, a comment or a name the other word parses as well; only the keyword
    does not. Nothing is run. FROM, GRAPH, DESCRIBE and the protocol's dataset
    parameters name graphs of the store and fetch nothing (tests/test_server.py).
    """
    if not SERVICE_KEYWORD.search(text):
        return
    check_syntax(text)  # malformed: say so rather than blame SERVICE
    try:
        check_syntax(SERVICE_KEYWORD.sub(_absent_word(text), text))
    except QueryError:
        raise QueryError(SERVICE_REFUSED) from None


def run_query(query: Query, params: dict[str, str], target, base: str):
    """Run *query* with *params* against *target* (an EmbeddedStore or a RemoteEndpoint).

    The query is parsed here first, so a malformed one gets the same message
    whichever the target.
    """
    text = query.bind(params, base)
    check_syntax(text, query.path)
    for name, raw in params.items():
        if query.parameters[name].type == "iri":
            _check_described(target, name, raw, _term(query.parameters[name], raw, base))
    return target.query(text)


def _check_described(target, name: str, raw: str, term: str) -> None:
    """A ParameterError when the resource *raw* names is nowhere in the dataset: the query
    would answer nothing, and the reason is a mistyped id, not the data."""
    if bool(target.query(f"ASK {{ {{ {term} ?p ?o }} UNION {{ ?s ?p {term} }} }}")):
        return
    what = f"the IRI {term}" if _is_absolute(raw) else f"the id '{raw}'"
    raise ParameterError(f"no record has {what} (--param {name}={raw}); the ids are those of the records, such as ifla")


def check_parameters(query: Query, params: dict[str, str], base: str) -> None:
    """Raise a ParameterError when *params* do not fit *query*: before anything is built for it."""
    query.bind(params, base)
