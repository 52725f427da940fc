"""Query results written out: an aligned table for people, or a standard format.

SELECT and ASK: ``table`` (columns aligned by display width, so Japanese and
other wide characters line up), ``csv`` and ``tsv`` (SPARQL 1.1 Query Results
CSV and TSV Formats) and ``json`` (SPARQL 1.1 Query Results JSON Format).
CONSTRUCT and DESCRIBE: ``turtle``, ``jsonld`` and ``nt``, written by the same
deterministic writers as the dumps.
"""

from __future__ import annotations

import unicodedata

from pyoxigraph import BlankNode, Literal, NamedNode, QueryBoolean, QueryResultsFormat, QuerySolutions

from ndlld.context import Context
from ndlld.dumps import jsonld, ntriples, turtle
from ndlld.errors import NdlldError
from ndlld.rdf import results_serialized

SOLUTION_FORMATS = {"table": None, "csv": QueryResultsFormat.CSV, "tsv": QueryResultsFormat.TSV, "json": QueryResultsFormat.JSON}
GRAPH_FORMATS = ("turtle", "jsonld", "nt")


def render(result, output_format: str | None, context: Context) -> bytes:
    """*result* (solutions, a boolean, or triples) in *output_format* (None: the default for its kind)."""
    if isinstance(result, (QuerySolutions, QueryBoolean)):
        output_format = output_format or "table"
        if output_format not in SOLUTION_FORMATS:
            raise NdlldError(f"a SELECT or ASK result is written as {', '.join(SOLUTION_FORMATS)}, not {output_format}")
        results_format = SOLUTION_FORMATS[output_format]
        if results_format is None:  # the table
            return table(result).encode("utf-8")
        return results_serialized(result, results_format)
    output_format = output_format or "turtle"
    if output_format not in GRAPH_FORMATS:
        raise NdlldError(f"a CONSTRUCT or DESCRIBE result is written as {', '.join(GRAPH_FORMATS)}, not {output_format}")
    triples = list(result)
    if output_format == "turtle":
        return turtle(triples)
    if output_format == "nt":
        return ntriples(triples)
    return jsonld(triples, context)


def table(result) -> str:
    """An aligned text table; an ASK result is 'true' or 'false'."""
    if isinstance(result, QueryBoolean):
        return ("true" if bool(result) else "false") + "\n"
    names = [variable.value for variable in result.variables]
    rows = [[_cell(solution[name]) for name in names] for solution in result]
    widths = [max([width(name)] + [width(row[i]) for row in rows]) for i, name in enumerate(names)]
    lines = [_line(names, widths), "  ".join("-" * w for w in widths)]
    lines += [_line(row, widths) for row in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _cell(term) -> str:
    if term is None:
        return ""
    if isinstance(term, (NamedNode, Literal)):
        return term.value
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    return str(term)


def _line(cells: list[str], widths: list[int]) -> str:
    return "  ".join(cell + " " * (w - width(cell)) for cell, w in zip(cells, widths))


def width(text: str) -> int:
    """Columns *text* takes in a terminal: wide (East Asian) characters two, combining marks none."""
    columns = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        columns += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return columns
