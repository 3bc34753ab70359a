"""Shared fixtures: the repository root and the book's table of contents."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def toc_files() -> list[Path]:
    """Every source file listed in _toc.yml (root first), as paths."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    names = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            names.append(chapter["file"])
            names.extend(section["file"] for section in chapter.get("sections", []))
    return [ROOT / f"{name}.md" for name in names]


def chapter_files() -> list[Path]:
    """The executable chapters: toc files that are MyST notebooks (they declare a kernelspec)."""
    return [path for path in toc_files() if "kernelspec:" in path.read_text().split("\n---", 1)[0]]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
