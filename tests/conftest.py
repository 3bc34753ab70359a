"""Shared fixtures: the repository root and the book's table of contents."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent

# Not a test module: tests/offline is put on PYTHONPATH by the build fixtures below.
collect_ignore = ["offline"]


def pytest_configure(config) -> None:
    """The book's one configuration call, as every chapter's setup cell makes it (quiet samplers,
    PyTensor's linker, figure style): importing the helpers changes nothing by itself.

    Tests run as the build does, with ``BOOK_BUILD=1`` (unless already set): fits in the test
    process and in the scripts and kernels it starts draw no progress bar
    (:func:`helpers.sampling.progressbar_default`), so test logs are not flooded with them."""
    os.environ.setdefault("BOOK_BUILD", "1")
    import helpers

    helpers.configure()


def toc_files() -> list[Path]:
    """Every source file listed in _toc.yml (root first), as paths."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    names = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            names.append(chapter["file"])
            names.extend(section["file"] for section in chapter.get("sections", []))
    return [ROOT / f"{name}.md" for name in names]


def appendix_files() -> list[Path]:
    """The pages of the Appendix part (workshop guide, translation table, glossary, ...)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [
        ROOT / f"{chapter['file']}.md"
        for part in toc.get("parts", [])
        if part["caption"] == "Appendix"
        for chapter in part.get("chapters", [])
    ]


def chapter_files() -> list[Path]:
    """The teaching chapters: toc files outside the Appendix that are MyST notebooks."""
    appendix = set(appendix_files())
    return [
        path
        for path in toc_files()
        if path not in appendix and "kernelspec:" in path.read_text().split("\n---", 1)[0]
    ]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def make(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run a Makefile target from the repository root, capturing its output."""
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


#: On PYTHONPATH during the strict build: refuses every non-loopback connection, in the build
#: and in every chapter's kernel, so the book is proven to run offline.
OFFLINE = ROOT / "tests" / "offline"


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """Run the book's own strict build (`make html`) into a temporary folder, network blocked.

    The execution cache (_build/.jupyter_cache) is shared with `make book`; each notebook it
    executes runs in a fresh kernel, and any cell error, stderr output or Sphinx warning fails.
    """
    out = tmp_path_factory.mktemp("site")
    before = set(os.listdir(tempfile.gettempdir()))
    result = make("html", f"BUILD_ROOT={out}", env={"PYTHONPATH": str(OFFLINE)})
    if result.returncode != 0:
        pytest.fail(f"strict build failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}")
    TEMP_LEFT_BY_BUILD.update(set(os.listdir(tempfile.gettempdir())) - before)
    return out / "_build" / "html"


#: What the strict build left in the system's temp folder (filled by ``built_site``).
TEMP_LEFT_BY_BUILD: set[str] = set()


@pytest.fixture(scope="session")
def learners_site(tmp_path_factory, built_site) -> Path:
    """The learners' edition (`make learners`), built after the full one (shared cache)."""
    out = tmp_path_factory.mktemp("learners")
    result = make("learners", f"BUILD_ROOT={out}", env={"PYTHONPATH": str(OFFLINE)})
    if result.returncode != 0:
        pytest.fail(f"learners' build failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}")
    return out / "_build" / "learners" / "_build" / "html"
