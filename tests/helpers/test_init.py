"""The package as a whole: importing it changes nothing global, :func:`helpers.configure` sets the
book up, its declared dependencies are what it imports, it holds no build code, and every module
has its test file here."""

from __future__ import annotations

import ast
import functools
import json
import os
import pkgutil
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from conftest import ROOT

from helpers import sampling

HELPERS = ROOT / "helpers"
#: Exceptions whose handler makes the imports in a ``try`` optional.
IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError"}


def catches_import_error(handler: ast.ExceptHandler) -> bool:
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(name, ast.Name) and name.id in IMPORT_ERRORS for name in names)


def import_statements(path: Path) -> list[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement in a file, at any depth (function bodies too), and whether it is
    optional: inside the body of a ``try`` that catches ImportError."""
    tree = ast.parse(path.read_text(), filename=str(path))
    optional: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(map(catches_import_error, node.handlers)):
            optional.update(id(inner) for statement in node.body for inner in ast.walk(statement))
    return [
        (node, id(node) in optional)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
    ]


def top_level_names(node: ast.Import | ast.ImportFrom, package: str = "helpers") -> set[str]:
    """The top-level module names a statement imports (a relative import: ``package``)."""
    if isinstance(node, ast.ImportFrom):
        return {package if node.level else node.module.split(".")[0]}
    return {alias.name.split(".")[0] for alias in node.names}


def helper_files() -> list[Path]:
    return sorted(HELPERS.rglob("*.py"))


def third_party(name: str) -> bool:
    return name not in sys.stdlib_module_names and name != "helpers"


def imported_by_helpers() -> tuple[set[str], set[str]]:
    """Third-party top-level modules the helpers import: (required, optional)."""
    required, optional = set(), set()
    for path in helper_files():
        for node, is_optional in import_statements(path):
            names = {name for name in top_level_names(node) if third_party(name)}
            (optional if is_optional else required).update(names)
    return required, optional - required


def normalize(distribution: str) -> str:
    """A distribution's name as PEP 503 compares them (``Myst_NB`` -> ``myst-nb``)."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


@functools.cache
def installed_distributions() -> dict[str, list[str]]:
    return metadata.packages_distributions()  # scans every installed package: once


def distribution(module: str) -> str:
    """The distribution that installs a top-level module (its own name if none is installed)."""
    return normalize(installed_distributions().get(module, [module])[0])


def declared_dependencies() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {
        normalize(re.match(r"[A-Za-z0-9._-]+", dependency).group())
        for dependency in project["dependencies"]
    }


# --- importing changes nothing; configure() does ------------------------------------------------

#: Run in a fresh Python: import what the helpers import (their own effects on import, such as
#: PyMC setting its logger to INFO, are not the helpers'), take a snapshot of the global state,
#: import every helpers module, take another, call helpers.configure(), take a third.
FRESH_PROCESS = r"""
import importlib, json, logging, pkgutil, sys, warnings

import arviz as az
import matplotlib as mpl
import pandas as pd
import pytensor

for statement in json.loads(sys.argv[1]):
    exec(statement, {})


def snapshot():
    return {
        "pytensor.config.linker": pytensor.config.linker,
        "pytensor.config.blas__ldflags": pytensor.config.blas__ldflags,
        "logger levels": {name: logging.getLogger(name).level
                          for name in ("pymc", "bambi", "pymc.sampling", "pymc.stats")},
        "pandas display.float_format": repr(pd.get_option("display.float_format")),
        "pandas display.precision": pd.get_option("display.precision"),
        "pandas options": pd.describe_option("", _print_desc=False),
        "matplotlib rcParams": {key: repr(value) for key, value in mpl.rcParams.items()},
        "arviz rcParams": {key: repr(value) for key, value in az.rcParams.items()},
        "warnings.filters": [repr(entry) for entry in warnings.filters],
    }


before = snapshot()
import helpers

modules = [f"helpers.{info.name}" for info in pkgutil.iter_modules(helpers.__path__)]
for name in modules:
    importlib.import_module(name)
imported = snapshot()
helpers.configure()
print(json.dumps({"file": helpers.__file__, "modules": modules, "before": before,
                  "imported": imported, "configured": snapshot()}))
"""


def fresh_python(code: str, *args: str, pytensor_flags: str = "") -> str:
    """Run ``code`` in a new interpreter on this worktree's helpers; return its last stdout line.

    ``PYTENSOR_FLAGS`` keeps the caller's compile directory but names no linker and no BLAS
    flags, unless ``pytensor_flags`` adds them.
    """
    kept = [
        flag
        for flag in os.environ.get("PYTENSOR_FLAGS", "").split(",")
        if flag and not flag.strip().startswith(("linker", "blas__ldflags"))
    ]
    env = {
        **os.environ,
        "PYTENSOR_FLAGS": ",".join(kept + [pytensor_flags]).strip(","),
        "PYTHONPATH": str(ROOT),
        "MPLBACKEND": "agg",
    }
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def fresh_state() -> dict:
    statements = sorted(
        {
            ast.unparse(node)
            for path in helper_files()
            for node, optional in import_statements(path)
            if not optional and "helpers" not in top_level_names(node)
        }
    )
    state = json.loads(fresh_python(FRESH_PROCESS, json.dumps(statements)))
    assert Path(state["file"]) == HELPERS / "__init__.py", "the subprocess imported other helpers"
    return state


def changed(first: dict, second: dict) -> dict[str, object]:
    """What differs between two snapshots, per entry (for dicts: the keys that differ)."""
    differences = {}
    for key, value in first.items():
        if isinstance(value, dict) and value != second[key]:
            differences[key] = sorted(
                name
                for name in value.keys() | second[key].keys()
                if value.get(name) != second[key].get(name)
            )
        elif value != second[key]:
            differences[key] = (value, second[key])
    return differences


def test_importing_every_module_changes_nothing_global(fresh_state):
    modules = {f"helpers.{info.name}" for info in pkgutil.iter_modules([str(HELPERS)])}
    assert set(fresh_state["modules"]) == modules
    assert changed(fresh_state["before"], fresh_state["imported"]) == {}


def test_configure_sets_the_book_up(fresh_state):
    state, before = fresh_state["configured"], fresh_state["before"]
    assert state["pytensor.config.linker"] == sampling.LINKER == "cvm"
    assert state["pytensor.config.blas__ldflags"] == ""
    assert state["logger levels"]["pymc"] == state["logger levels"]["bambi"] == 30  # WARNING
    assert state["arviz rcParams"]["stats.ci_prob"] == repr(sampling.CI_PROB) == "0.89"
    assert state["matplotlib rcParams"]["figure.dpi"] == "110.0"
    # Figures and samplers only: tables show numbers as the code rounds them.
    assert state["pandas options"] == before["pandas options"]
    assert state["pandas display.float_format"] == "None"


def test_configure_keeps_a_linker_and_blas_flags_named_in_pytensor_flags():
    code = (
        "import json, helpers, pytensor; helpers.configure(); "
        "print(json.dumps([pytensor.config.linker, pytensor.config.blas__ldflags]))"
    )
    linker, ldflags = json.loads(fresh_python(code, pytensor_flags="linker=py,blas__ldflags=-lx"))
    assert (linker, ldflags) == ("py", "-lx")


# --- what the package needs and contains ---------------------------------------------------------


def test_declared_dependencies_are_exactly_what_the_helpers_import():
    """pyproject.toml's [project].dependencies against every import in helpers/ (function
    bodies too): an undeclared import, or a declared package nothing imports, fails."""
    required, optional = imported_by_helpers()
    declared = declared_dependencies()
    imported = {distribution(module) for module in required}
    assert imported == declared, (
        f"imported, not declared: {sorted(imported - declared)}; "
        f"declared, not imported: {sorted(declared - imported)}"
    )
    # Optional: imported inside `try: ... except ImportError`, so never required.
    assert optional == {"myst_nb", "IPython"}
    assert not {distribution(module) for module in optional} & declared


def test_helpers_hold_no_build_code():
    """The learners' package imports nothing from the website's build or the tools."""
    build = {"website", "tools"} | {path.stem for path in (ROOT / "website").glob("*.py")}
    for path in helper_files():
        for node, _ in import_statements(path):
            assert not top_level_names(node) & build, (
                f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}"
            )


def test_the_website_does_not_import_the_helpers():
    """A chapter's downloaded setup cell mentions helpers in a string; no build code imports it."""
    for path in sorted((ROOT / "website").rglob("*.py")):
        for node, _ in import_statements(path):
            assert "helpers" not in top_level_names(node, package="website"), (
                f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}"
            )


def test_every_module_has_its_test_file():
    """tests/helpers mirrors helpers/: test_X.py for helpers/X.py (test_init.py for the package
    itself), and nothing else."""
    expected = {f"test_{info.name}.py" for info in pkgutil.iter_modules([str(HELPERS)])}
    expected.add("test_init.py")
    present = {path.name for path in (ROOT / "tests" / "helpers").glob("test_*.py")}
    assert not expected - present, f"modules without a test file: {sorted(expected - present)}"
    assert not present - expected, f"test files without a module: {sorted(present - expected)}"
