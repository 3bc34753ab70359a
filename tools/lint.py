"""Lint and format-check the project's Python with ruff: the code, the tests and the chapters.

``make lint`` (run by ``make test``) checks; ``make format`` applies ruff's fixes and formatting.
Python files are passed to ruff as they are. The chapters are MyST markdown notebooks, which ruff
cannot read: their code cells are written to temporary ``.ipynb`` files (jupytext), which ruff
lints cell by cell like any notebook (an expression at the end of a cell is its output, imports
may come in later cells), and with ``--fix`` the reformatted cells are written back into the
markdown in place, so prose, front matter and cell options are never touched.

Usage::

    python tools/lint.py          # check (exit status 1 on any finding)
    python tools/lint.py --fix    # fix what ruff can fix and reformat

Example
-------
>>> text = "```{code-cell} ipython3\\n:tags: [remove-cell]\\n\\nx = 1\\n```\\n"
>>> [text[start:end] for start, end in code_blocks(text)]
['x = 1\\n']
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parent.parent
#: Python sources checked as they are.
PYTHON = ["helpers", "tests", "tools", "website"]
#: Code lines in chapters: longer ones are cut off on the built page (tests/book/test_book.py).
CHAPTER_LINE_LENGTH = 80
#: A code cell: the fence, option lines (``:tags: ...``) and an optional blank line, the code.
CODE_CELL = re.compile(
    r"^```\{code-cell\}[^\n]*\n((?::[^\n]*\n)*\n?)(?P<code>.*?)^```", re.DOTALL | re.MULTILINE
)


def chapters() -> list[Path]:
    """The book's MyST notebooks (markdown files with code cells)."""
    return [
        path
        for path in sorted((ROOT / "book").glob("*.md"))
        if "```{code-cell}" in path.read_text()
    ]


def code_blocks(text: str) -> list[tuple[int, int]]:
    """Start and end offsets of every code cell's code in a MyST notebook's text."""
    return [match.span("code") for match in CODE_CELL.finditer(text)]


def to_notebook(chapter: Path, folder: Path) -> Path:
    """Write the chapter's code cells to ``folder/<chapter>.ipynb`` (markdown cells left out)."""
    notebook = jupytext.read(chapter)
    notebook.cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    path = folder / f"{chapter.stem}.ipynb"
    nbformat.write(notebook, path)
    return path


def write_back(chapter: Path, notebook: Path) -> bool:
    """Put the (reformatted) code of ``notebook`` back into ``chapter``; True when it changed."""
    text = chapter.read_text()
    blocks = code_blocks(text)
    cells = nbformat.read(notebook, as_version=4).cells
    if len(blocks) != len(cells):
        raise ValueError(
            f"{chapter.name}: {len(blocks)} code cells in the markdown, "
            f"{len(cells)} in the notebook"
        )
    pieces, last = [], 0
    for (start, end), cell in zip(blocks, cells, strict=True):
        code = cell.source.rstrip("\n") + "\n" if cell.source.strip() else ""
        pieces += [text[last:start], code]
        last = end
    new = "".join(pieces) + text[last:]
    if new != text:
        chapter.write_text(new)
    return new != text


def ruff(*args: str) -> int:
    """Run ruff with the project's settings (pyproject.toml) and return its exit status."""
    command = [sys.executable, "-m", "ruff", *args]
    return subprocess.run(command, cwd=ROOT, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fix", action="store_true", help="apply fixes and formatting")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        notebooks = {chapter: to_notebook(chapter, Path(folder)) for chapter in chapters()}
        config = ["--config", str(ROOT / "pyproject.toml")]
        runs = [
            (config, PYTHON),
            (
                [*config, "--line-length", str(CHAPTER_LINE_LENGTH)],
                [str(path) for path in notebooks.values()],
            ),
        ]
        status = 0
        for options, targets in runs:
            if args.fix:
                status |= ruff("check", *options, "--fix", *targets)
                status |= ruff("format", *options, *targets)
            else:
                status |= ruff("check", *options, *targets)
                status |= ruff("format", *options, "--check", *targets)
        if args.fix:
            for chapter, notebook in notebooks.items():
                if write_back(chapter, notebook):
                    print(f"reformatted {chapter.relative_to(ROOT)}")
            return status
    if status:
        print("ruff found problems: `make format` fixes most of them.", file=sys.stderr)
    return 1 if status else 0


if __name__ == "__main__":
    sys.exit(main())
