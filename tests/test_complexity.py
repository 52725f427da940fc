"""The complexity gate of CI (.ci/complexity): it passes on the tree as it is, and fails,
naming the function or module, on every kind of code that would go past the ceiling."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

GATE = ROOT / ".ci" / "complexity"


def gate(package: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(GATE), str(package)], capture_output=True, text=True, timeout=120)


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A copy of ndlld/ to spoil."""
    copy = tmp_path / "ndlld"
    shutil.copytree(ROOT / "ndlld", copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def branches(count: int, indent: str = "    ") -> str:
    """The body of a function with *count* decisions: a complexity of count + 1."""
    return "".join(f"{indent}if x == {i}:\n{indent}    return {i}\n" for i in range(count)) + f"{indent}return -1\n"


def test_the_tree_is_within_bounds():
    result = gate(ROOT / "ndlld")
    assert result.returncode == 0, result.stderr
    assert "within bounds" in result.stdout


# Every place a function can be: at the top of a module (of the package or of a subpackage),
# a method, a static method, a function inside a function, an async function.
SPOILERS = {
    "function": ("rdf.py", "def too_complex(x):\n" + branches(15), "too_complex"),
    "in a subpackage": ("site/svg.py", "def too_complex(x):\n" + branches(15), "too_complex"),
    "method": ("rdf.py", "class Spoiled:\n    def too_complex(self, x):\n" + branches(15, " " * 8), "Spoiled.too_complex"),
    "static method": (
        "rdf.py",
        "class Spoiled:\n    @staticmethod\n    def too_complex(x):\n" + branches(15, " " * 8),
        "Spoiled.too_complex",
    ),
    "closure": ("rdf.py", "def outer():\n    def too_complex(x):\n" + branches(15, " " * 8) + "    return too_complex\n", "too_complex"),
    "async function": ("rdf.py", "async def too_complex(x):\n" + branches(15), "too_complex"),
}


@pytest.mark.parametrize("kind", SPOILERS)
def test_a_function_above_15_fails_naming_it(package: Path, kind: str):
    module, code, name = SPOILERS[kind]
    path = package / module
    before = path.read_text(encoding="utf-8") + "\n\n"
    path.write_text(before + code, encoding="utf-8")
    line = (before + code[: code.index("def too_complex")]).count("\n") + 1
    result = gate(package)
    assert result.returncode == 1
    assert f"ndlld/{module}:{line}: {name} has a cyclomatic complexity of 16, above 15" in result.stderr


def test_a_function_of_15_passes(package: Path):
    path = package / "rdf.py"
    path.write_text(path.read_text(encoding="utf-8") + "\n\ndef just_so(x):\n" + branches(14), encoding="utf-8")
    assert gate(package).returncode == 0


def test_a_module_below_grade_a_fails_though_each_function_is_simple(package: Path):
    # Many functions, each within the ceiling: the module as a whole is hard to maintain.
    code = "\n\n".join(f"def part_{n}(x, y):\n" + branches(12).replace("return", "return x * y +") for n in range(40))
    (package / "sprawl.py").write_text(code + "\n", encoding="utf-8")
    result = gate(package)
    assert result.returncode == 1
    assert "ndlld/sprawl.py: maintainability index" in result.stderr and "below A" in result.stderr
    assert "cyclomatic" not in result.stderr


def test_a_module_that_does_not_parse_is_named_in_one_line(package: Path):
    (package / "broken.py").write_text("def broken(:\n    pass\n", encoding="utf-8")
    result = gate(package)
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["ndlld/broken.py:1: not Python that radon can read (invalid syntax)"]
