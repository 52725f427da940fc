"""Rebuild tests/golden/ from tests/records/good after an intended change of the dumps.

Run: .venv/bin/python scripts/regen_golden.py   -- then review `git diff tests/golden`.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ndlld.build import build
from ndlld.dumps import DATASET_FILES

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "dist"
        build(ROOT / "tests" / "records" / "good", out)
        for name in DATASET_FILES.values():
            shutil.copyfile(out / name, ROOT / "tests" / "golden" / name)
            print(f"wrote tests/golden/{name}")


if __name__ == "__main__":
    main()
