"""Sphinx extension for the book's website: notebook downloads and the learners' edition.

**Notebook downloads.** After an HTML build, every executed chapter is written to
``_notebooks/<chapter>.ipynb`` with its outputs, and each chapter page links to it, so a reader
can open it in Jupyter or upload it to Colab. The notebook's first cell makes it run anywhere:
in the book's environment it does nothing; elsewhere it installs the tested packages with pip and
unpacks the book's ``helpers`` package and ``data`` folder, which the cell carries inside itself
(nothing is fetched but the pip packages).

**Learners' edition.** sphinx-exercise's own ``hide_solutions`` drops ``solution`` directives but
not gated ones (``solution-start`` / ``solution-end``), which the book uses so that solutions can
hold executed code; with it, the build fails on the orphaned end marker. With
``learners_edition: true`` (set by ``make learners``) this extension instead removes the merged
solution nodes after sphinx-exercise has gathered each gated solution into one node, and leaves
the solution cells out of the downloadable notebooks.

Example
-------
>>> RemoveSolutions.default_priority > 10  # runs after sphinx-exercise's merge (priority 10)
True
>>> cells = [{"cell_type": "markdown", "source": "```{solution-start} ex-1\\n```"},
...          {"cell_type": "code", "source": "answer = 42"},
...          {"cell_type": "markdown", "source": "```{solution-end}\\n```"},
...          {"cell_type": "code", "source": "x = 1"}]
>>> [c["source"] for c in without_solutions(cells)]
['x = 1']
"""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path
from typing import Any

import nbformat
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx_exercise.nodes import solution_node

from helpers.check import parse_requirements

ROOT: Path = Path(__file__).resolve().parent.parent
#: Folder of the site that holds the downloadable notebooks.
NOTEBOOKS: str = "_notebooks"
#: The pinned packages a chapter needs at run time (the rest of requirements.txt builds the book).
RUNTIME: tuple[str, ...] = (
    "bambi", "pymc", "pytensor", "nutpie", "formulae", "arviz", "arviz-base", "arviz-stats",
    "arviz-plots", "numpy", "scipy", "pandas", "xarray", "numba", "llvmlite", "matplotlib",
    "seaborn", "watermark",
)
SETUP_MARKER = "# Setup for running this notebook outside the book's repository"


class RemoveSolutions(SphinxTransform):
    """Remove every (merged) solution from the document when ``learners_edition`` is set."""

    default_priority = 20

    def apply(self, **kwargs: Any) -> None:
        if not self.config.learners_edition:
            return
        for node in list(self.document.findall(solution_node)):
            node.parent.remove(node)


def without_solutions(cells: list) -> list:
    """The cells outside every ``solution-start`` ... ``solution-end`` pair."""
    kept, inside = [], False
    for cell in cells:
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        if cell["cell_type"] == "markdown" and "{solution-start}" in source:
            inside = True
        elif cell["cell_type"] == "markdown" and "{solution-end}" in source:
            inside = False
        elif not inside:
            kept.append(cell)
    return kept


def bundle() -> str:
    """The ``helpers`` package and the ``data`` folder as a base64-encoded zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted((ROOT / "helpers").glob("*.py")) + sorted((ROOT / "data").iterdir()):
            if path.is_file():
                archive.write(path, path.relative_to(ROOT).as_posix())
    return base64.b64encode(buffer.getvalue()).decode()


def setup_cell_source(requirements: Path = ROOT / "requirements.txt") -> str:
    """The first cell of every downloaded notebook (a no-op where ``helpers`` imports).

    Example
    -------
    >>> source = setup_cell_source()
    >>> source.startswith(SETUP_MARKER) and "bambi==0.21.0" in source
    True
    """
    pins = parse_requirements(requirements.read_text().splitlines())
    packages = ", ".join(f'"{name}=={pins[name]}"' for name in RUNTIME if name in pins)
    return f'''{SETUP_MARKER}
# (Colab, another folder). In the book's environment `helpers` imports and nothing happens;
# elsewhere this installs the tested packages and unpacks the book's helpers and data here.
import importlib.util

if importlib.util.find_spec("helpers") is None:
    import base64, io, subprocess, sys, zipfile

    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", {packages}],
                   check=True)
    BUNDLE = "{bundle()}"
    zipfile.ZipFile(io.BytesIO(base64.b64decode(BUNDLE))).extractall(".")
    importlib.invalidate_caches()'''


class NotebookLink(SphinxTransform):
    """Put a "download this chapter as a notebook" line under each chapter's title."""

    default_priority = 900

    def apply(self, **kwargs: Any) -> None:
        docname = self.env.docname
        source = Path(self.env.doc2path(docname))
        if source.suffix != ".md" or "kernelspec:" not in source.read_text().split("\n---", 1)[0]:
            return
        depth = docname.count("/")
        href = "../" * depth + f"{NOTEBOOKS}/{Path(docname).name}.ipynb"
        html = (f'<p class="notebook-download"><a href="{href}" download>'
                f"Download this chapter as a notebook (.ipynb, with outputs)</a>: open it in "
                f"Jupyter or upload it to Colab; its first cell installs what it needs.</p>")
        for section in self.document.findall(nodes.section):
            title = next(iter(section.findall(nodes.title)), None)
            if title is not None:
                title.parent.insert(title.parent.index(title) + 1,
                                    nodes.raw("", html, format="html"))
            break


def write_notebooks(app: Sphinx, exception: Exception | None) -> None:
    """Copy every executed chapter, with a setup cell first, into ``<site>/_notebooks``."""
    if exception is not None or app.builder.format != "html":
        return
    executed = Path(app.outdir).parent / "jupyter_execute"
    target = Path(app.outdir) / NOTEBOOKS
    target.mkdir(exist_ok=True)
    setup_source = setup_cell_source()
    for path in sorted(executed.rglob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        if app.config.learners_edition:
            notebook.cells = without_solutions(notebook.cells)
        notebook.cells.insert(0, nbformat.v4.new_code_cell(setup_source))
        notebook.cells[0].metadata["tags"] = ["setup"]
        nbformat.validate(notebook)
        nbformat.write(notebook, target / path.name)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("learners_edition", False, "env")
    app.add_transform(RemoveSolutions)
    app.add_transform(NotebookLink)
    app.connect("build-finished", write_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
