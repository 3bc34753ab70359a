"""Sphinx extension for the book's website: notebook downloads and the learners' edition.

**Notebook downloads.** After an HTML build, every executed chapter is written to
``_notebooks/<chapter>.ipynb`` with its outputs, and each chapter page links to it, so a reader
can open it in Jupyter or upload it to Colab. The notebook's first cell makes it run anywhere:
in the book's environment it does nothing; elsewhere it installs the tested packages with pip and
unpacks the book's ``helpers`` package and ``data`` folder, which the cell carries inside itself
(nothing is fetched but the pip packages).

**Buttons from one setting.** ``repository: url:`` in ``_config.yml`` is the only switch: when
it names the book's repository, every page gets the repository, issues, edit and launch (Binder,
opening the chapters in JupyterLab) buttons; when it is empty, none of them.

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

import jupytext
import nbformat
from docutils import nodes
from jupyter_cache import get_cache
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx_exercise.nodes import solution_node

from helpers.check import parse_requirements

ROOT: Path = Path(__file__).resolve().parent.parent
#: Folder of the site that holds the downloadable notebooks.
NOTEBOOKS: str = "_notebooks"
#: The pinned packages a chapter needs at run time (the rest of requirements.txt builds the book).
RUNTIME: tuple[str, ...] = (
    "bambi", "pymc", "pytensor", "nutpie", "numpyro", "jax", "jaxlib", "formulae", "arviz", "arviz-base", "arviz-stats",
    "arviz-plots", "numpy", "scipy", "pandas", "xarray", "numba", "llvmlite", "matplotlib",
    "seaborn", "watermark",
)
SETUP_MARKER = "# Setup for running this notebook outside the book's repository"
#: What Jupyter Book fills in when ``repository: url:`` is not set.
JUPYTER_BOOK_DEFAULT_REPOSITORY = "https://github.com/executablebooks/jupyter-book"
#: Theme options switched on or off together with the repository URL.
BUTTONS = ("use_repository_button", "use_issues_button", "use_edit_page_button")


def buttons_from_repository(options: dict[str, Any]) -> dict[str, Any]:
    """Theme options with every repository and launch button on if a repository is set, else off.

    Example
    -------
    >>> on = buttons_from_repository({"repository_url": "https://github.com/me/book"})
    >>> on["use_repository_button"], on["launch_buttons"]["binderhub_url"]
    (True, 'https://mybinder.org')
    >>> off = buttons_from_repository({"repository_url": JUPYTER_BOOK_DEFAULT_REPOSITORY})
    >>> off["use_issues_button"], "binderhub_url" in off["launch_buttons"]
    (False, False)
    """
    url = (options.get("repository_url") or "").rstrip("/")
    enabled = bool(url) and url != JUPYTER_BOOK_DEFAULT_REPOSITORY
    updated = {**options, **{button: enabled for button in BUTTONS}}
    launch = dict(options.get("launch_buttons") or {})
    if enabled:  # Jupyter Book fills in empty URLs and the classic interface: override those
        launch["binderhub_url"] = launch.get("binderhub_url") or "https://mybinder.org"
        launch["notebook_interface"] = "jupyterlab"  # opens the MyST chapters as notebooks
    else:
        updated["repository_url"] = ""
        for key in ("binderhub_url", "jupyterhub_url", "colab_url", "thebe"):
            launch.pop(key, None)
    updated["launch_buttons"] = launch
    return updated


def _set_buttons(app: Sphinx, config) -> None:
    config.html_theme_options = buttons_from_repository(dict(config.html_theme_options or {}))


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


def _is_myst_notebook(source: Path) -> bool:
    """True for MyST markdown pages that are notebooks (their front matter names a kernel)."""
    return "kernelspec:" in source.read_text().split("\n---", 1)[0]


class NotebookLink(SphinxTransform):
    """Put a "download this chapter as a notebook" line under each chapter's title."""

    default_priority = 900

    def apply(self, **kwargs: Any) -> None:
        docname = self.env.docname
        source = Path(self.env.doc2path(docname))
        if source.suffix != ".md" or not _is_myst_notebook(source):
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


def executed_notebook(source: Path, cache_path: Path, fallback: Path) -> nbformat.NotebookNode | None:
    """The chapter with its outputs: from the execution cache that served the build, else the
    notebook myst-nb wrote while executing it (pages executed on every build), else None."""
    notebook = jupytext.read(source)
    try:
        _, merged = get_cache(cache_path).merge_match_into_notebook(notebook)
        return merged
    except KeyError:
        return nbformat.read(fallback, as_version=4) if fallback.is_file() else None


def write_notebooks(app: Sphinx, exception: Exception | None) -> None:
    """Write every executed MyST page, setup cell first, into ``<site>/_notebooks``."""
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / NOTEBOOKS
    target.mkdir(exist_ok=True)
    cache_path = Path(app.config.nb_execution_cache_path)
    executed = Path(app.outdir).parent / "jupyter_execute"
    setup_source = setup_cell_source()
    for docname in sorted(app.env.found_docs):
        source = Path(app.env.doc2path(docname))
        if source.suffix != ".md" or not _is_myst_notebook(source):
            continue
        notebook = executed_notebook(source, cache_path, executed / f"{docname}.ipynb")
        if notebook is None:
            raise RuntimeError(f"no executed notebook found for {docname}")
        if app.config.learners_edition:
            notebook.cells = without_solutions(notebook.cells)
        notebook.cells.insert(0, nbformat.v4.new_code_cell(setup_source))
        notebook.cells[0].metadata["tags"] = ["setup"]
        nbformat.validate(notebook)
        nbformat.write(notebook, target / f"{source.stem}.ipynb")


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("learners_edition", False, "env")
    app.connect("config-inited", _set_buttons)
    app.add_transform(RemoveSolutions)
    app.add_transform(NotebookLink)
    app.connect("build-finished", write_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
