"""The one error hierarchy of ndlld.

Every error carries a human message and, where it has one, the file and line
it is about, so that the CLI can print ``data/organizations/ifla.yaml:12: ...``
and a librarian knows where to look. Library code raises these; only the CLI
prints them.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

# What must not reach a terminal as is: line breaks and other control characters
# (a message is one line), the bidirectional controls that reorder a line, and the lone
# surrogates that stand for the bytes of a file name that is not UTF-8 (os.fsdecode).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(text: str) -> str:
    """*text* with line breaks, control and bidirectional characters written as escapes (``\\n``, ``\\u202e``)."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class NdlldError(Exception):
    """Base of every error ndlld reports to its user (exit code 2)."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None, hint: tuple[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        # (an option, advice that names it): library code is shared by commands, and only
        # those that have the option may suggest it.
        self.hint = hint

    def text_for(self, options: Collection[str]) -> str:
        """What a command with *options* prints: the message, and the hint if the command has its option."""
        if self.hint is None or self.hint[0] not in options:
            return str(self)
        return f"{self} ({self.hint[1]})"

    @property
    def location(self) -> str | None:
        if self.path is None:
            return None
        return f"{self.path}:{self.line}" if self.line else self.path

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


def short_line(message: str) -> str:
    """*message* as one printable line of at most about 300 characters: a value of a
    megabyte quoted in full helps no one."""
    message = printable(message)
    return f"{message[:240]} … {message[-50:]}" if len(message) > 300 else message


class SourceError(NdlldError):
    """A source record is wrong: YAML syntax, unknown key, bad date, duplicate id, ...

    It is one short line, whatever the record held (a key with a line break in it, a
    value of a megabyte).
    """

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None):
        super().__init__(short_line(message), path=path, line=line)

    def __str__(self) -> str:
        return printable(super().__str__())


class SourceErrors(NdlldError):
    """Several source errors found in one pass, reported together."""

    def __init__(self, errors: list[SourceError]):
        self.errors = sorted(errors, key=lambda e: (e.path or "", e.line or 0, e.message))
        super().__init__(f"{len(self.errors)} error(s) in the source records")

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


class ConformanceError(NdlldError):
    """The graph violates the SHACL shapes, so nothing was published (exit code 1).

    It carries the whole report (an :class:`ndlld.checks.Report`).
    """

    exit_code = 1

    def __init__(self, report):
        super().__init__(report.summary())
        self.report = report

    def __str__(self) -> str:
        return self.report.text()


class ConfigError(NdlldError):
    """The project itself is broken: a missing directory, context or dataset file."""


class ShapesError(NdlldError):
    """shapes/ cannot be loaded or is not valid SHACL."""


class AddressError(NdlldError):
    """``ndlld serve`` cannot listen where it was asked: the port is taken, or the address is
    not this machine's (exit code 3, so that a script can tell it from bad input)."""

    exit_code = 3


class QueryError(NdlldError):
    """A query could not be run: malformed, or the endpoint failed."""


class LimitError(NdlldError):
    """A request to ``ndlld serve`` went past one of its limits (time, workers, memory); it carries the HTTP status to answer."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class ParameterError(NdlldError):
    """A --param value that does not fit the query's parameter."""


class HarvestError(NdlldError):
    """An input that cannot be harvested: unreachable, truncated, corrupt, or not of its type,
    or past a limit. One short line, whatever a stranger's server or file put in it."""

    def __init__(self, message: str, *, hint: tuple[str, str] | None = None, status: int | None = None):
        super().__init__(short_line(message), hint=hint)
        self.status = status  # the HTTP status that refused it, if one did


class PublishError(NdlldError):
    """Writing the output failed; what was published before is left as it was."""
