"""Rebuild ontology/languages.tsv, the language codes the records may use, from the
ISO 639-2 table of Debian's iso-codes package (/usr/share/iso-codes/json/iso_639-2.json).

A BCP 47 tag starts with the ISO 639-1 code of a language that has one (en, ja), never its
three-letter ISO 639-2 code (eng, jpn): the file lists each two-letter code with its English
name, and each three-letter code that must not be used with the two-letter one to use instead.

Run: .venv/bin/python scripts/regen_languages.py   -- then review `git diff ontology/languages.tsv`.
"""

from __future__ import annotations

import json
from pathlib import Path

SOURCE = Path("/usr/share/iso-codes/json/iso_639-2.json")
TARGET = Path(__file__).resolve().parent.parent / "ontology" / "languages.tsv"
HEADER = """\
# The language codes a record's text may be tagged with (BCP 47's primary language subtag),
# made by scripts/regen_languages.py from ISO 639-2 as Debian's iso-codes package gives it.
# code<TAB>English name<TAB>the code to use instead (for an ISO 639-2 code of a language with an ISO 639-1 code)
"""


def main() -> None:
    entries = json.loads(SOURCE.read_text(encoding="utf-8"))["639-2"]
    rows: dict[str, tuple[str, str]] = {}
    for entry in entries:
        two = entry.get("alpha_2")
        if not two:
            continue
        name = entry["name"].split(";")[0].strip()
        rows[two] = (name, "")
        for three in {entry["alpha_3"], entry.get("bibliographic", entry["alpha_3"])}:
            rows[three] = (name, two)
    lines = [f"{code}\t{name}\t{instead}".rstrip("\t") for code, (name, instead) in sorted(rows.items())]
    TARGET.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
