"""Source records: the YAML files in data/, read with the line of every value.

A record is one YAML file. It is read into plain Python values (dicts, lists,
strings, numbers) together with a table of line numbers keyed by the path to
each value, so that every later stage can say *where* a fact came from.

YAML's own implicit typing is narrowed on purpose: an unquoted ``2003-10-01``
stays the text the librarian wrote (the graph stage checks it as a date), and
duplicate keys, which YAML parsers silently collapse, are errors.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ndlld.errors import ConfigError, SourceError, SourceErrors

try:  # libyaml's composer is several times faster than the pure-Python one
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml is in every PyYAML wheel
    # Either loader is a base for _Composer; mypy takes the first import's type for the name.
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

_STR, _PLAIN = "tag:yaml.org,2002:str", "!ndlld-plain"  # _PLAIN: a plain scalar whose type _scalar finds
_IMPLICIT = yaml.resolver.Resolver.yaml_implicit_resolvers  # first character -> [(tag, pattern)], as SafeLoader types


class _Composer(_Loader):
    """libyaml's composer, leaving the type of a plain scalar for :func:`_scalar`.

    The loader asks its resolver for the tag of every node, and PyYAML's resolver
    is generic Python (much of the time of composing a record); most values are
    text, and only those whose first character could start a number, a boolean or
    null are matched against YAML's patterns, as the resolver would.
    """

    def resolve(self, kind, value, implicit):
        if kind is yaml.ScalarNode:
            return _PLAIN if implicit[0] else _STR
        return self.DEFAULT_SEQUENCE_TAG if kind is yaml.SequenceNode else self.DEFAULT_MAPPING_TAG


def _implicit_tag(value: str) -> str:
    """The tag YAML 1.1 (PyYAML's SafeLoader) gives a plain scalar."""
    for tag, pattern in _IMPLICIT.get(value[:1], ()):  # '' for an empty value: null
        if pattern.match(value):
            return tag
    return _STR


DATASET_FILE = "dataset.yaml"
# A record file is named either way YAML files are: an editor's or a colleague's habit
# must not make a record vanish from the dataset without a word.
RECORD_SUFFIXES = (".yaml", ".yml")

# Limits far beyond any real record, so that a broken or hostile file is
# refused with a message rather than exhausting memory or the stack.
MAX_FILE_BYTES = 1_000_000  # a record file is at most 1 MB (the largest in data/ is 2 kB)
MAX_DEPTH = 100  # mappings and lists nested at most 100 deep (records use about 5)

# Where a value sits inside a record: keys and list indexes from the top.
Pointer = tuple[str | int, ...]


@dataclass
class Record:
    """One source file: its data and the line of every value in it."""

    path: Path
    data: Any
    lines: dict[Pointer, int] = field(default_factory=dict)

    def line(self, pointer: Pointer) -> int:
        """The line of the value at *pointer*, or of its nearest enclosing value."""
        while pointer not in self.lines and pointer:
            pointer = pointer[:-1]
        return self.lines.get(pointer, 1)


@dataclass
class Sources:
    """Everything read from a data directory."""

    base: str
    dataset: Record
    records: list[Record]
    # What the files that could not be read said: the graph stage reports it with what it
    # finds in the others, so that one broken file does not hide the rest's problems.
    unread: list[SourceError] = field(default_factory=list)


def _scalar(node: yaml.ScalarNode) -> Any:
    if node.style:  # quoted: always text
        return node.value
    tag = _implicit_tag(node.value) if node.tag == _PLAIN else node.tag
    if tag == _STR:
        return node.value
    if tag == "tag:yaml.org,2002:int":
        try:
            return int(node.value.replace("_", ""), 0)
        except ValueError:
            return node.value
    if tag == "tag:yaml.org,2002:bool":
        return node.value.lower() in {"true", "yes", "on", "y"}
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:float":
        text = node.value.replace("_", "").lower()
        text = {".inf": "inf", "+.inf": "inf", "-.inf": "-inf", ".nan": "nan"}.get(text, text)
        try:
            return float(text)
        except ValueError:  # 1:30.5 (YAML 1.1 base 60), or a !!float tag on text
            return node.value
    return node.value  # str, and timestamps kept as written


def _convert(node: yaml.Node, pointer: Pointer, record: Record, errors: list[SourceError], seen: set[int] | None = None) -> Any:
    if isinstance(node, yaml.ScalarNode):
        record.lines[pointer] = node.start_mark.line + 1
        return _scalar(node)
    # A mapping or list met twice is a YAML alias (*name) of it: refused, since
    # aliases of aliases multiply (a few lines can stand for billions of values)
    # and an alias inside its own anchor never ends. (*seen* is None when the
    # text has no '*', so no alias.)
    if seen is not None:
        if id(node) in seen:
            error = SourceError(
                "a YAML alias (*name) of a mapping or list; write the value out", path=record.path, line=record.line(pointer)
            )
            if not errors or str(errors[-1]) != str(error):  # once per line; the node's own mark is its anchor's
                errors.append(error)
            return None
        seen.add(id(node))
    record.lines[pointer] = node.start_mark.line + 1
    if len(pointer) >= MAX_DEPTH:
        raise SourceError(f"nested more than {MAX_DEPTH} levels deep", path=record.path, line=node.start_mark.line + 1)
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, pointer + (i,), record, errors, seen) for i, item in enumerate(node.value)]
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            errors.append(SourceError("a key must be a plain name", path=record.path, line=line))
            continue
        key = key_node.value
        if key in result:
            first = record.lines[pointer + (key,)]
            errors.append(SourceError(f"duplicate key '{key}' (first given on line {first})", path=record.path, line=line))
            continue
        record.lines[pointer + (key,)] = line
        result[key] = _convert(value_node, pointer + (key,), record, errors, seen)
        record.lines[pointer + (key,)] = line  # the key's line, not its value's
    return result


def _decode(path: Path, raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise SourceError("the file is not UTF-8 text; save it as UTF-8", path=path, line=line) from None
    return text.removeprefix("\ufeff")


def read_record(path: Path) -> Record:
    """Read one YAML file into a :class:`Record`, or raise :class:`SourceError`."""
    text = _decode(path, _read_bytes(path))
    node = _compose(path, text)
    if node is None:
        raise SourceError("the file is empty", path=path, line=1)
    if ">" in text:  # a folded block scalar may have joined lines of Japanese with spaces
        _unfold_wide(node, text.splitlines())
    record = Record(path=path, data=None)
    errors: list[SourceError] = []
    record.data = _convert(node, (), record, errors, set() if "*" in text else None)
    if errors:
        raise SourceErrors(errors)
    if not isinstance(record.data, dict):
        raise SourceError("a record must be a mapping of keys to values", path=path, line=1)
    return record


def _unfold_wide(root: yaml.Node, lines: list[str]) -> None:
    """Take back the spaces YAML put between lines of a folded scalar (``>``) where the
    characters on both sides are wide (Japanese, Chinese): written without spaces, such
    text gains none from being wrapped. This is CSS Text 3's rule for line breaks
    (https://www.w3.org/TR/css-text-3/#line-break-transform): a break between two East
    Asian wide, fullwidth or halfwidth characters, Hangul aside, is removed."""
    seen: set[int] = set()
    todo = [root]
    while todo:
        node = todo.pop()
        if id(node) in seen:  # an alias: the same node again
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            if node.style == ">":
                node.value = _joined(node.value, lines[node.start_mark.line + 1 : node.end_mark.line + 1])
        elif isinstance(node, yaml.SequenceNode):
            todo.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            todo.extend(value for _, value in node.value)


def _joined(value: str, lines: list[str]) -> str:
    """*value*, folded from *lines*, with each fold between two wide characters undone.
    A fold is the single space YAML put where one line of the text ended and the next
    began; the lines are found in the value in order, and the first not found ends it."""
    out: list[str] = []
    cursor = 0
    for line in lines:
        content = line.strip()
        at = value.find(content, cursor) if content else -1
        if at < 0:
            if content:
                break
            continue
        gap = value[cursor:at]
        if cursor and gap == " " and _wide(value[cursor - 1]) and _wide(value[at]):
            gap = ""
        out += [gap, content]
        cursor = at + len(content)
    return "".join(out) + value[cursor:]


def _wide(character: str) -> bool:
    return unicodedata.east_asian_width(character) in ("W", "F", "H") and not _HANGUL.match(character)


_HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7ff\uffa0-\uffdc]")


def _read_bytes(path: Path) -> bytes:
    """The bytes of a record file that can be one: a regular file, named in UTF-8, of at most :data:`MAX_FILE_BYTES`."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:  # os.fsdecode's escapes of bytes that are not UTF-8: no report, key or message could carry them
        raise SourceError("the name of the file or of a directory above it is not UTF-8 text; rename it", path=path) from None
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):  # a directory, a named pipe, a device: reading could block
            raise SourceError("cannot read the file: it is not a regular file", path=path)
        if info.st_size > MAX_FILE_BYTES:
            raise SourceError(
                f"the file is larger than {MAX_FILE_BYTES // 1_000_000} MB, the most a record may be; split it into several files",
                path=path,
                line=1,
            )
        return path.read_bytes()
    except OSError as err:
        raise SourceError(f"cannot read the file: {err.strerror}", path=path) from None


def _compose(path: Path, text: str) -> yaml.Node | None:
    """The YAML node tree of *text*, or a :class:`SourceError` at the line YAML found a problem."""
    try:
        return yaml.compose(text, Loader=_Composer)
    except yaml.MarkedYAMLError as err:
        raise _syntax_error(path, text, err) from None
    except yaml.reader.ReaderError as err:  # a character YAML forbids: it has an offset, not a line
        before = text.encode("utf-8")[: err.position].count(b"\n") if _Loader is not yaml.SafeLoader else text[: err.position].count("\n")
        code = err.character if isinstance(err.character, int) else ord(err.character)
        raise SourceError(f"YAML syntax: the character U+{code:04X} is not allowed in YAML text", path=path, line=before + 1) from None
    except yaml.YAMLError as err:
        raise SourceError(f"YAML syntax: {err}", path=path) from None
    except RecursionError:  # the pure-Python composer, without libyaml's nesting limit
        raise SourceError(f"nested more than {MAX_DEPTH} levels deep", path=path, line=1) from None


def _syntax_error(path: Path, text: str, err: yaml.MarkedYAMLError) -> SourceError:
    """YAML's own complaint, worded for the person editing the file."""
    mark = err.problem_mark or err.context_mark
    problem = err.problem or "not valid YAML"
    if "maximum nesting depth" in problem:  # libyaml's own limit (1,000), past ours
        return SourceError(f"nested more than {MAX_DEPTH} levels deep", path=path, line=mark.line + 1 if mark else None)
    if err.context and problem.startswith("but "):  # "expected a single document …, but found another document"
        problem = f"{err.context}, {problem}"
    if err.context_mark and "end of stream" in problem:
        # "end of stream" is where it was noticed; where it began is the useful place.
        mark, problem = err.context_mark, f"{err.context} that never ends"
    line = mark.line + 1 if mark else None
    lines = text.splitlines()
    return SourceError(
        f"YAML syntax: {problem}{_advice(problem, lines[line - 1] if line and line <= len(lines) else '')}", path=path, line=line
    )


def _advice(problem: str, line: str) -> str:
    """What to do about YAML's *problem* on *line*, for the two mistakes editors make most."""
    if "\t" in line:
        return " (a tab: indent with spaces)"
    if problem.startswith("mapping values are not allowed"):  # 'name: Note: this' read as a key inside a value
        example = _quoted(line) or 'name: "Note: this"'
        return f"; a value with ': ' in it must be in quotes: quote the value ({example})"
    return ""


def _quoted(line: str) -> str | None:
    """*line* (``key: text: more``) with its value in double quotes, or None if it is not that simple."""
    key, colon, value = line.strip().removeprefix("- ").partition(": ")
    if not colon or not re.fullmatch(r"[\w@-]+", key) or not value or value[0] in "'\"[{|>&*!#":
        return None
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{key}: "{escaped}"'


def load_sources(data_dir: str | Path) -> Sources:
    """Read ``dataset.yaml`` and every other record file (``*.yaml``, ``*.yml``) below *data_dir*.

    All files are read before anything is reported, so one run lists every
    broken file, not only the first: the problems of the files that cannot be
    read are kept in :attr:`Sources.unread`, for :func:`ndlld.graph.build_graph`
    to report with those of the others. Without a readable dataset.yaml (it
    gives the base of every IRI) the read errors of every file are raised at once.
    """
    errors: list[SourceError] = []
    records: list[Record] = []
    paths = record_paths(data_dir)
    for path in paths:
        try:
            records.append(read_record(path))
        except SourceErrors as err:
            errors.extend(err.errors)
        except SourceError as err:
            errors.append(err)
    if not records or records[0].path != paths[0]:  # dataset.yaml itself could not be read
        raise SourceErrors(errors)
    dataset, records = records[0], records[1:]
    try:
        base, node = _base(dataset), _dataset_node(dataset)
    except SourceError as err:
        raise SourceErrors([err, *errors]) from None
    return Sources(base=base, dataset=node, records=records, unread=errors)


def record_paths(data_dir: str | Path) -> list[Path]:
    """dataset.yaml, then every other record file below *data_dir* in path order."""
    return [Path(path) for path, _ in record_files(data_dir)]


def record_files(data_dir: str | Path) -> list[tuple[str, os.stat_result | None]]:
    """What :func:`record_paths` gives, as text, each with what ``os.stat`` says of it (None
    if it cannot say).

    The files ``Path.rglob`` finds for each of :data:`RECORD_SUFFIXES`, in the order ``sorted`` gives them (by
    path component), but found with ``os.scandir`` and stated from their directory,
    not by walking their whole path again: an edit reads the facts of every file. Each
    directory's entries are sorted by name and a directory's files follow it: the order by
    path component, without sorting every path.
    """
    data_dir = Path(data_dir)
    dataset_path = data_dir / DATASET_FILE
    if not dataset_path.is_file():
        raise _no_dataset(data_dir)
    top = str(data_dir)
    prefix = "" if top == "." else top if top.endswith("/") else top + "/"  # as Path joins: '.' vanishes
    found: list[tuple[str, os.stat_result | None]] = []
    try:
        fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    except PermissionError:
        fd = None
    if fd is not None:
        try:
            _walk(prefix, fd, found)
        finally:
            os.close(fd)
    dataset = str(dataset_path)
    stated = next((info for path, info in found if path == dataset), None)
    return [(dataset, stated), *(entry for entry in found if entry[0] != dataset)]


def _no_dataset(data_dir: str | Path) -> ConfigError:
    """What to say of a directory without dataset.yaml: the file is found by that name only."""
    if (Path(data_dir) / "dataset.yml").is_file():
        return ConfigError(f"{Path(data_dir) / 'dataset.yml'}: the dataset file is read as {DATASET_FILE}; rename it")
    return ConfigError(f"no {DATASET_FILE} in {data_dir}: is this an ndlld data directory?")


def _walk(prefix: str, fd: int, found: list[tuple[str, os.stat_result | None]]) -> None:
    """Add the record files (:data:`RECORD_SUFFIXES`) of the open directory *fd* (and below) to *found*. As
    ``Path.rglob``: any kind of entry whose name matches, symbolic links to directories
    not followed, directories it may not list passed by."""
    try:
        with os.scandir(fd) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except PermissionError:
        return
    for entry in entries:
        name = entry.name
        if name.endswith(RECORD_SUFFIXES):
            try:
                info = entry.stat()
            except OSError:
                info = None
            found.append((prefix + name, info))
        try:
            is_dir = entry.is_dir() and not entry.is_symlink()
        except OSError:
            is_dir = False
        if is_dir:
            try:
                inner = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            except PermissionError:
                continue
            try:
                _walk(prefix + name + "/", inner, found)
            finally:
                os.close(inner)


def read_dataset(data_dir: str | Path) -> tuple[str, Record]:
    """The base IRI and the dataset's own record, from *data_dir*/dataset.yaml."""
    dataset = read_record(Path(data_dir) / DATASET_FILE)
    return _base(dataset), _dataset_node(dataset)


def read_base(data_dir: str | Path) -> str:
    """The base IRI set in *data_dir*/dataset.yaml, without reading the other records."""
    path = Path(data_dir) / DATASET_FILE
    if not path.is_file():
        raise _no_dataset(data_dir)
    return _base(read_record(path))


# What a version may be: it names its release's directory, releases/VERSION/ (SemVer's
# characters), and none of the names that directory keeps for itself.
_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+_-]*")
MAX_VERSION = 64
RESERVED_VERSIONS = ("latest", "changes.json", "feed.trig")  # releases/latest, the feed and the stream


def version_problem(version: str) -> str | None:
    """Why *version* cannot name a release (``releases/VERSION/``), or None if it can."""
    if len(version) > MAX_VERSION:
        return f"'version' has more than {MAX_VERSION} characters; use a version number such as 1.2.0"
    if not _VERSION.fullmatch(version) or ".." in version or version.endswith("."):
        return (
            f"'version' names the release's directory: a letter or digit, then letters, digits, '.', '+', '_' "
            f"or '-', such as 1.2.0 (no '..', no '.' at the end), not '{version}'"
        )
    if version.lower() in RESERVED_VERSIONS:
        return f"'version' cannot be '{version}': releases/{version.lower()} is kept for the list of releases; use a version number such as 1.2.0"
    return None


# An http(s) IRI of a host name (the server configuration names it), ending in '/'.
_BASE = re.compile(r"^https?://[\w.-]+(:\d{1,5})?/([^\s?#]*/)?$")


def base_problem(base: object) -> str | None:
    """Why *base* cannot be the base of a dataset's IRIs, or None if it can."""
    if not isinstance(base, str) or not _BASE.match(base) or not _valid_iri(base):
        return "'base' must be an http(s) IRI ending in '/', e.g. https://example.org/ (a host name; no spaces, '?' or '#')"
    return None


def _base(dataset: Record) -> str:
    base = dataset.data.get("base")
    problem = base_problem(base)
    if problem:
        raise SourceError(problem, path=dataset.path, line=dataset.line(("base",)))
    assert isinstance(base, str)  # base_problem says so
    return base


def _valid_iri(text: str) -> bool:
    from pyoxigraph import NamedNode

    try:
        NamedNode(text)
    except ValueError:
        return False
    return True


def _dataset_node(dataset: Record) -> Record:
    """The ``dataset:`` part of dataset.yaml, as a record of its own."""
    unknown = set(dataset.data) - {"base", "dataset"}
    if unknown:
        key = sorted(unknown)[0]
        raise SourceError(
            f"unknown key '{key}' in {DATASET_FILE} (expected 'base' and 'dataset')",
            path=dataset.path,
            line=dataset.line((key,)),
        )
    if not isinstance(dataset.data.get("dataset"), dict):
        raise SourceError("'dataset' must describe the dataset", path=dataset.path, line=1)
    versions = dataset.data["dataset"].get("version")
    for i, version in enumerate(versions if isinstance(versions, list) else [versions]):
        problem = version_problem(str(version)) if isinstance(version, (str, int)) and not isinstance(version, bool) else None
        if problem:
            pointer = ("dataset", "version", i) if isinstance(versions, list) else ("dataset", "version")
            raise SourceError(problem, path=dataset.path, line=dataset.line(pointer))
    lines = {pointer[1:]: line for pointer, line in dataset.lines.items() if pointer[:1] == ("dataset",)}
    return Record(path=dataset.path, data=dataset.data["dataset"], lines=lines)


def pointed_items(value: Any, at: Pointer) -> list[tuple[Any, Pointer]]:
    """A value or each item of a list, with its pointer."""
    if isinstance(value, list):
        return [(item, at + (i,)) for i, item in enumerate(value)]
    return [(value, at)]
