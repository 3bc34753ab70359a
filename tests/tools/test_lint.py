"""tools/lint.py: ruff on the chapters' code cells, written back without touching the prose."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT

from tools import lint

CHAPTER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
title: A chapter
---

# A chapter

Prose with `code = {'a':1}` in it, and a long line of prose that ruff must never see or wrap, however long it gets.

```{code-cell} ipython3
:tags: [remove-cell]

x = {'a':1}
```

```{code-cell} ipython3
import numpy as np
y=np.arange( 3 )
y
```
"""


def test_fix_reformats_code_cells_and_leaves_everything_else(tmp_path):
    chapter = tmp_path / "chapter.md"
    chapter.write_text(CHAPTER)
    notebook = lint.to_notebook(chapter, tmp_path)
    config = ["--config", str(ROOT / "pyproject.toml")]
    subprocess.run([sys.executable, "-m", "ruff", "format", *config, str(notebook)], check=True)
    assert lint.write_back(chapter, notebook)
    text = chapter.read_text()
    formatted = 'x = {"a": 1}', "import numpy as np\n\ny = np.arange(3)"
    assert all(code in text for code in formatted)
    # The prose, the front matter and the cell options are as they were.
    assert (
        text.replace(formatted[0], "x = {'a':1}").replace(
            formatted[1], "import numpy as np\ny=np.arange( 3 )"
        )
        == CHAPTER
    )
    assert not lint.write_back(chapter, notebook)  # nothing left to change


def test_check_fails_on_a_finding_in_a_code_cell(tmp_path):
    chapter = tmp_path / "chapter.md"
    chapter.write_text(CHAPTER.replace("import numpy as np", "import os\nimport numpy as np"))
    notebook = lint.to_notebook(chapter, tmp_path)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--config",
            str(ROOT / "pyproject.toml"),
            str(notebook),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1 and "F401" in result.stdout  # `os` imported but unused


def test_every_chapter_round_trips_unchanged(tmp_path):
    for chapter in lint.chapters():
        copy = tmp_path / chapter.name
        copy.write_text(chapter.read_text())
        assert not lint.write_back(copy, lint.to_notebook(copy, tmp_path)), chapter.name
