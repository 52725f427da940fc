"""What an id may be: the name of a resource's page, its files and its IRI.

An id is parts of a-z, 0-9, '-', '_' and '.', each starting and ending with a letter
or digit, joined by '/', then maybe '#' and a fragment of the same. So no server has
to escape a character of it, no file system's case folding or Unicode normalization
can make two ids one file, and no part leads out of id/ (docs/security.md).
"""

from __future__ import annotations

import re

BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")  # RFC 3987 §4.1
IRI_FORBIDDEN = re.compile(r'[\s<>"{}|\\^`]|' + BIDI_CONTROLS.pattern)  # RFC 3987 §2.2
_ID_PART = "[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?"
ID_RULE = re.compile(f"{_ID_PART}(?:/{_ID_PART})*(?:#{_ID_PART})?")
_ID_CHARACTERS = "a-z, 0-9, '-', '_' and '.'"
MAX_ID_PART = 200  # bytes of an id between slashes: it names files (ifla.html, ifla.jsonld), at most 255 bytes on most systems
MAX_ID = 1000  # bytes of a whole id: its files' paths stay far below the 4,096 of Linux, its IRI below a server's request line
# The files a resource's page is written as (ndlld.site): an id 'a.ttl' would be the Turtle of 'a'.
PAGE_SUFFIXES = (".html", ".ttl", ".nt", ".jsonld", ".rdf", ".nq")
# The languages a page is written in besides the default: 'x.ja.html' is the Japanese page of 'x',
# so an id 'x.ja' would have its page taken for it (ndlld.conneg.LANGUAGES).
LANGUAGE_SUFFIXES = (".ja",)


def id_problem(written: str) -> str | None:
    """Why *written* cannot be the id of a resource of the dataset (:data:`ID_RULE`), in
    words a librarian can act on; None if it can."""
    if not ID_RULE.fullmatch(written):
        return _character_problem(written) or _shape_problem(written)
    document = written.partition("#")[0]
    if max(map(len, document.split("/"))) > MAX_ID_PART:  # ASCII: a character is a byte
        return f"the id '{written}' is too long to name its files: at most {MAX_ID_PART} bytes between slashes"
    if len(written) > MAX_ID:
        return f"the id '{written}' is too long to name its files: at most {MAX_ID} bytes in all"
    if document.endswith(PAGE_SUFFIXES):
        suffix = "." + document.rpartition(".")[2]
        return f"the id '{written}' ends in '{suffix}', as the files of a page do: its page would be taken for another's; use '-' instead of '.'"
    if document.endswith(LANGUAGE_SUFFIXES):
        suffix = "." + document.rpartition(".")[2]
        return f"the id '{written}' ends in '{suffix}', as the page of another in that language does; use '-' instead of '.'"
    return None


def _character_problem(written: str) -> str | None:
    """What is wrong with the characters of *written*, if anything."""
    if BIDI_CONTROLS.search(written):
        return not_an_iri(written)
    if not written.isascii():
        return f"the id '{written}' is not ASCII: an id is made of {_ID_CHARACTERS}; a name in any script goes in 'name'"
    document, _, fragment = written.partition("#")
    other = re.search(r"[^A-Za-z0-9._/-]", document) or re.search(r"[^A-Za-z0-9._-]", fragment)
    if other:
        character = "a space" if other.group() == " " else f"'{other.group()}'"
        return f"the id '{written}' holds {character}: an id is made of {_ID_CHARACTERS}, with '/' between parts and one '#'"
    if written != written.lower():
        hint = f": did you mean '{written.lower()}'?" if not id_problem(written.lower()) else ""
        return f"the id '{written}' has capital letters; ids are lowercase{hint}"
    return None


def not_an_iri(value: str) -> str:
    return f"'{value}' is not a valid id or IRI (spaces, bidirectional controls and <>\"{{}}|\\^` are not allowed)"


def suggested_id(iri: str) -> str:
    """An id for the resource known elsewhere as *iri*: its last part, made to fit :data:`ID_RULE`."""
    last = next((part for part in reversed(re.split(r"[/?#:]", iri)) if part), "")
    return re.sub(r"[^a-z0-9]+", "-", last.lower()).strip("-") or "its-name"


def _shape_problem(written: str) -> str:
    """What is wrong with the parts of *written*, made of the right characters."""
    document, hash_, fragment = written.partition("#")
    if document.startswith("/"):
        return f"the id '{written}' starts with '/': ids are relative to the dataset's base; leave out the first '/'"
    parts = document.split("/")
    if any(part in (".", "..") for part in parts):
        return f"the id '{written}' has a '.' or '..' part: an id names a page under id/, and no part of it may lead elsewhere"
    if "" in parts or (hash_ and not fragment):
        return f"the id '{written}' has an empty part (before or after a '/', or after '#')"
    bad = next(part for part in [*parts, fragment] if part and not re.fullmatch(_ID_PART, part))
    return f"each part of the id '{written}' starts and ends with a letter or digit, and '{bad}' does not"
