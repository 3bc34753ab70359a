"""Sphinx extension for the book's website: notebook downloads and the learners' edition.

**Notebook downloads.** After an HTML build, every executed chapter that can run outside the
repository is written to ``_notebooks/<chapter>.ipynb`` with its outputs, next to
``_notebooks/book_files.zip`` (the learners' helpers and the data), and each chapter page links to
both, so a reader can open it in Jupyter or upload it to Colab. The markdown is rendered for
plain Jupyter: glued numbers written in from the executed run, substitutions filled in,
admonitions and exercises as quoted blocks, cross-references as text or links to the sibling
notebooks, citations as "Author (Year)". The notebook's short first cell makes it run anywhere:
in the book's environment it does nothing; elsewhere it installs the tested packages with pip and
unpacks ``book_files.zip``. Pages whose front matter says ``notebook_download: false`` (they read
the repository's own files) are not offered.

**Buttons from one setting.** ``repository: url:`` in ``_config.yml`` is the only switch: when
it names the book's repository, every page gets the repository, issues, edit and launch (Binder,
opening the chapters in JupyterLab) buttons; when it is empty, none of them.

**Learners' edition.** sphinx-exercise's own ``hide_solutions`` drops ``solution`` directives but
not gated ones (``solution-start`` / ``solution-end``), which the book uses so that solutions can
hold executed code; with it, the build fails on the orphaned end marker. With
``learners_edition: true`` (set by ``make learners``) this extension instead removes the merged
solution nodes after sphinx-exercise has gathered each gated solution into one node, and leaves
the solutions out of the downloadable notebooks (the exercises stay).

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

import copy
import html
import re
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jupytext
import nbformat
from docutils import nodes
from jupyter_cache import get_cache
from myst_nb.core.variables import format_plain_text
from packaging.requirements import Requirement
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx_exercise.nodes import solution_node

ROOT: Path = Path(__file__).resolve().parent.parent
#: Folder of the site that holds the downloadable notebooks.
NOTEBOOKS: str = "_notebooks"
#: The pinned packages a chapter needs at run time (the rest of requirements.txt builds the book).
RUNTIME: tuple[str, ...] = (
    "bambi",
    "pymc",
    "pytensor",
    "nutpie",
    "numpyro",
    "jax",
    "jaxlib",
    "formulae",
    "arviz",
    "arviz-base",
    "arviz-stats",
    "arviz-plots",
    "numpy",
    "scipy",
    "pandas",
    "xarray",
    "numba",
    "llvmlite",
    "matplotlib",
    "seaborn",
    "pyarrow",
    "duckdb",
    "watermark",
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


#: A gated solution's opening and closing markers, as they appear in a markdown cell.
SOLUTION_MARKER = re.compile(
    r"^```\{solution-(?P<kind>start|end)\}[ \t]*(?P<label>\S*)[ \t]*\n(?::[\w-]+:.*\n)*```[ \t]*$",
    re.MULTILINE,
)


def _source(cell) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def split_solutions(cells: list, keep: bool) -> list:
    """The cells with each gated solution kept (markers replaced) or left out (``keep=False``).

    A solution's markers often share a markdown cell with the exercise before it and the text
    after it, so the markers are cut out of the text and the rest of the cell is kept (the
    solution's own text becomes a cell of its own). With ``keep=True`` the opening marker becomes
    a "**Solution**" line and every cell of the solution is marked with its label in
    ``metadata["solution"]``, for :func:`fold_solutions`.
    """
    kept, inside = [], None  # inside: the label of the solution being read, or None

    def add(cell, text: str, label: str | None) -> None:
        text = re.sub(r"\n{3,}", "\n\n", text).strip()
        if not text:
            return
        new = nbformat.from_dict(
            {**cell, "source": text, "metadata": dict(cell.get("metadata", {}))}
        )
        if label is not None:
            new["metadata"]["solution"] = label
        kept.append(new)

    for cell in cells:
        if cell["cell_type"] != "markdown":
            if keep or inside is None:
                if inside is not None:
                    cell = nbformat.from_dict(
                        {**cell, "metadata": {**cell.get("metadata", {}), "solution": inside}}
                    )
                kept.append(cell)
            continue
        source, position = _source(cell), 0
        for marker in SOLUTION_MARKER.finditer(source):
            if keep or inside is None:
                add(cell, source[position : marker.start()], inside)
            if keep and marker["kind"] == "start":
                add(cell, f"**Solution {{solution}}`{marker['label']}`**", None)
            inside = marker["label"] if marker["kind"] == "start" else None
            position = marker.end()
        if keep or inside is None:
            add(cell, source[position:], inside)
    return kept


#: The first line of a folded solution's code cell: Colab shows it as the title of a collapsed
#: form (``cellView: form``); JupyterLab and Notebook fold the cell by its metadata instead.
SOLUTION_CODE_TITLE = (
    "# @title Solution code (JupyterLab: click the dots to open it, then its output's; Colab: "
    "double-click)"
)


def fold_solutions(cells: list) -> list:
    """Fold every cell :func:`split_solutions` marked as part of a solution, so that a learner
    sees the answer only by opening it: code cells collapsed (input and output) in JupyterLab and
    Notebook 7 (``jupyter.source_hidden`` / ``outputs_hidden``) and a collapsed form in Colab;
    markdown as an HTML ``<details>`` block, which every notebook renderer folds.

    Example
    -------
    >>> cells = [nbformat.v4.new_markdown_cell("Because.", metadata={"solution": "ex-1"}),
    ...          nbformat.v4.new_code_cell("answer = 42", metadata={"solution": "ex-1"})]
    >>> text, code = fold_solutions(cells)
    >>> print(text.source)
    <details>
    <summary>Solution text (click to show)</summary>
    <BLANKLINE>
    Because.
    <BLANKLINE>
    </details>
    >>> code.metadata["jupyter"], code.metadata["cellView"], code.source.splitlines()[1]
    ({'source_hidden': True, 'outputs_hidden': True}, 'form', 'answer = 42')
    """
    for cell in cells:
        if cell.get("metadata", {}).pop("solution", None) is None:
            continue
        if cell["cell_type"] == "markdown":
            cell["source"] = (
                "<details>\n<summary>Solution text (click to show)</summary>\n\n"
                f"{_source(cell)}\n\n</details>"
            )
        else:
            cell["metadata"]["jupyter"] = {"source_hidden": True, "outputs_hidden": True}
            cell["metadata"]["cellView"] = "form"
            cell["source"] = f"{SOLUTION_CODE_TITLE}\n{_source(cell)}"
    return cells


def without_solutions(cells: list) -> list:
    """The cells outside every ``solution-start`` ... ``solution-end`` pair."""
    return split_solutions(cells, keep=False)


@dataclass
class Context:
    """What the markdown of one downloaded notebook refers to, from the build.

    ``glued``: the glued values (their ``text/plain``) of the executed chapter;
    ``substitutions``: its front matter's ``myst: substitutions:``; ``titles``: page titles by
    page name; ``offered``: the pages downloadable as notebooks; ``labels``: cross-reference
    targets (section titles) by label; ``citations``: "Author (Year)" parts by BibTeX key;
    ``chapter``: the chapter's number ("7", or "" for unnumbered pages) and ``exercises`` its
    exercises' numbers by label ("7.1", ...), as the website numbers them.
    """

    glued: dict[str, str] = field(default_factory=dict)
    substitutions: dict[str, Any] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    offered: set[str] = field(default_factory=set)
    labels: dict[str, str] = field(default_factory=dict)
    citations: dict[str, tuple[str, str]] = field(default_factory=dict)
    exercises: dict[str, str] = field(default_factory=dict)
    chapter: str = ""


ROLE = re.compile(r"\{(?P<role>[a-z]+(?::[a-z]+)?)\}`(?P<text>[^`]*)`")
SUBSTITUTION = re.compile(r"\{\{\s*(?P<name>\w+)\s*\}\}")
DIRECTIVE_OPEN = re.compile(r"^(?P<fence>:{3,})\{(?P<name>[\w-]+)\}[ \t]*(?P<argument>.*)$")
OPTION = re.compile(r"^:[\w-]+:")
TARGET = re.compile(r"^\([\w-]+\)=[ \t]*$")
#: Directives shown as a quoted block with a bold title in plain Jupyter.
QUOTED = {
    "admonition": None,
    "note": "Note",
    "warning": "Warning",
    "important": "Important",
    "tip": "Tip",
    "exercise": "Exercise",
}


def render_role(role: str, text: str, context: Context) -> str:
    """One MyST role as the plain markdown a reader sees in Jupyter or Colab.

    Example
    -------
    >>> context = Context(glued={"share": "0.4567"}, titles={"log_odds": "Log-odds"},
    ...                   offered={"log_odds"}, citations={"gelman": ("Gelman and Hill", "2007")})
    >>> render_role("glue:text", "share:.1%", context), render_role("doc", "log_odds", context)
    ('45.7%', '[Log-odds](log_odds.ipynb)')
    >>> render_role("cite:t", "gelman", context), render_role("term", "ESS <Effective>", context)
    ('Gelman and Hill (2007)', 'ESS')
    """
    explicit = re.fullmatch(r"(?P<title>.*?)\s*<(?P<target>[^<>]+)>", text, re.DOTALL)
    title, target = (explicit["title"], explicit["target"]) if explicit else (None, text)
    if role == "glue:text":
        name, _, spec = target.rpartition(":") if ":" in target else (target, "", "")
        if name not in context.glued:
            raise KeyError(f"glue:text refers to {name!r}, which the chapter does not glue")
        return format_plain_text(context.glued[name], spec or "s")
    if role == "doc":
        page = target.rsplit("/", 1)[-1]
        label = title or context.titles.get(page, page)
        return f"[{label}]({page}.ipynb)" if page in context.offered else f"*{label}*"
    if role == "ref":
        if target in context.exercises:
            return title or f"Exercise {context.exercises[target]}"
        return title or context.labels.get(target, target)
    if role == "solution":
        return f"to Exercise {context.exercises[target]}" if target in context.exercises else ""
    if role in ("cite:t", "cite:p"):
        parts = [context.citations.get(key.strip(), (key.strip(), "")) for key in target.split(",")]
        if role == "cite:t":
            return "; ".join(f"{who} ({year})" for who, year in parts)
        return "(" + "; ".join(f"{who} {year}".strip() for who, year in parts) + ")"
    if role in ("term", "abbr"):
        return title or target
    raise ValueError(f"no plain-markdown rendering for the role {{{role}}}`{text}`")


def render_markdown(source: str, context: Context) -> str:
    r"""A markdown cell's MyST as plain markdown: roles and substitutions filled in, admonitions
    and exercises as quoted blocks, label targets removed.

    Example
    -------
    >>> text = ":::{admonition} Overview\n:class: tip\n\n**Teaching:** {{ teaching }} min\n:::"
    >>> print(render_markdown(text, Context(substitutions={"teaching": 30})))
    > **Overview**
    >
    > **Teaching:** 30 min
    """
    lines, open_fences = [], []  # (quote depth or None for a block's end, text)
    heading = None  # index of the bold title of a block whose options are still being read
    for line in source.splitlines():
        opening = DIRECTIVE_OPEN.match(line)
        if opening:
            name, argument = opening["name"], opening["argument"].strip()
            if name not in QUOTED:
                raise ValueError(f"no plain-markdown rendering for the directive {{{name}}}")
            open_fences.append(opening["fence"])
            title = "Exercise" if name == "exercise" else argument or QUOTED[name]
            heading = len(lines)
            lines += [(len(open_fences), f"**{title}**"), (len(open_fences), "")]
            continue
        if heading is not None and OPTION.match(line):
            label = re.match(r"^:label:\s*(\S+)", line)
            if label and lines[heading][1] == "**Exercise**" and label[1] in context.exercises:
                lines[heading] = (lines[heading][0], f"**Exercise {context.exercises[label[1]]}**")
            continue
        heading = None
        if open_fences and line.strip() == open_fences[-1]:
            open_fences.pop()
            lines.append((None, ""))
        elif not TARGET.match(line):
            lines.append((len(open_fences), line))
    rendered = []
    for depth, line in lines:
        if depth is None:  # a closed block: a blank line ends the quote
            rendered.append("")
            continue
        line = ("> " * depth + line).rstrip() if depth else line
        if not (rendered and line == rendered[-1] and not line.strip("> ")):  # one blank line
            rendered.append(line)
    text = "\n".join(_table_code(line) for line in rendered)
    text = ROLE.sub(lambda m: render_role(m["role"], m["text"], context), text)
    text = SUBSTITUTION.sub(lambda m: str(context.substitutions.get(m["name"], m[0])), text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _table_code(line: str) -> str:
    r"""A table row's code spans that hold an escaped pipe (``\|``) as HTML ``<code>``.

    MyST and GitHub read ``\|`` inside a table's code span as a pipe; some notebook renderers
    (nbconvert's, for one) show the backslash. ``&#124;`` in HTML reads the same everywhere.

    Example
    -------
    >>> print(_table_code(r"| lme4 | `(1 + x \| g)` |"))
    | lme4 | <code>(1 + x &#124; g)</code> |
    """
    if not line.lstrip().startswith("|") or "\\|" not in line:
        return line
    return re.sub(
        r"`([^`]*\\\|[^`]*)`",
        lambda m: "<code>" + html.escape(m[1]).replace("\\|", "&#124;") + "</code>",
        line,
    )


def exercise_numbers(cells: list, chapter: str = "") -> dict[str, str]:
    """Each exercise label of a chapter and its number as the website shows it ("7.1", "7.2",
    ... in chapter 7; "1", "2", ... on an unnumbered page)."""
    text = "\n".join(_source(c) for c in cells if c["cell_type"] == "markdown")
    labels = re.findall(r"^:{3,}\{exercise\}.*\n(?::[\w-]+:.*\n)*?:label:\s*(\S+)", text, re.M)
    return {label: f"{chapter}.{n}" if chapter else str(n) for n, label in enumerate(labels, 1)}


def glued_values(cells: list) -> dict[str, str]:
    """The ``text/plain`` of every value a chapter glued (myst-nb's ``scrapbook`` outputs)."""
    glued = {}
    for cell in cells:
        for output in cell.get("outputs", []):
            record = output.get("metadata", {}).get("scrapbook")
            if record:
                prefix = record.get("mime_prefix", "")
                glued[record["name"]] = output["data"][f"{prefix}text/plain"]
    return glued


def without_hidden_outputs(cell):
    """A code cell without the outputs the site hides: glue records (the numbers are in the
    text already) and, in a cell tagged ``remove-stderr``, what it wrote to stderr."""
    if cell["cell_type"] == "code":
        no_stderr = "remove-stderr" in cell.get("metadata", {}).get("tags", [])
        cell["outputs"] = [
            o
            for o in cell.get("outputs", [])
            if not o.get("metadata", {}).get("scrapbook", {}).get("mime_prefix")
            and not (no_stderr and o.get("output_type") == "stream" and o.get("name") == "stderr")
        ]
    return cell


#: Notebook metadata of the MyST source that only the build reads.
BUILD_METADATA: tuple[str, ...] = ("jupytext", "myst", "mystnb", "notebook_download")


def is_machinery(cell) -> bool:
    """True for a build-machinery cell (tagged ``remove-cell``: glue calls, claim asserts),
    which the site hides and no downloaded notebook carries.

    Example
    -------
    >>> is_machinery(nbformat.v4.new_code_cell("glue('x', 1)", metadata={"tags": ["remove-cell"]}))
    True
    """
    return cell["cell_type"] == "code" and "remove-cell" in cell.get("metadata", {}).get("tags", [])


def for_download(notebook: nbformat.NotebookNode, context: Context, solutions: bool) -> None:
    """Turn an executed chapter into a notebook that reads well outside the book (in place):
    the build's machinery cells left out (the numbers they glued are written into the text),
    solutions folded (``solutions=True``) or left out.

    ``context`` holds what the whole book shares (titles, labels, citations) and the chapter's
    number; the chapter's own glued values, substitutions and exercises are read from it here.
    """
    context = replace(
        context,
        glued=glued_values(notebook.cells),
        substitutions=notebook.metadata.get("myst", {}).get("substitutions", {}),
        exercises=exercise_numbers(notebook.cells, context.chapter),
    )
    cells = split_solutions([c for c in notebook.cells if not is_machinery(c)], keep=solutions)
    for cell in cells:
        if cell["cell_type"] == "markdown":
            cell["source"] = render_markdown(_source(cell), context)
        else:
            without_hidden_outputs(cell)
    notebook.cells = fold_solutions(
        [c for c in cells if c["cell_type"] != "markdown" or c["source"]]
    )
    # The source's pairing with book/<chapter>.md (jupytext) and its MyST settings mean nothing
    # outside the book: with them, a Jupyter that has jupytext refuses to open the notebook.
    for key in BUILD_METADATA:
        notebook.metadata.pop(key, None)


def citations(bibfiles: list[Path]) -> dict[str, tuple[str, str]]:
    """ "Author", "Author and Author" or "Author et al." and the year of every BibTeX entry."""
    from pybtex.database import parse_file

    found = {}
    for bibfile in bibfiles:
        for key, entry in parse_file(str(bibfile)).entries.items():
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            names = [" ".join(p.last_names).replace("{", "").replace("}", "") for p in people]
            who = (
                names[0]
                if len(names) == 1
                else " and ".join(names)
                if len(names) == 2
                else f"{names[0]} et al."
                if names
                else entry.fields.get("title", key)
            )
            found[key] = (who, entry.fields.get("year", ""))
    return found


BOOK_FILES = "book_files.zip"
#: Build code, not needed to run a chapter: left out of the download.


#: Benchmark records a chapter reads (the big-data chapter's cost curves), at the same path
#: relative to helpers/ as in the repository.
RECORDS: tuple[Path, ...] = tuple(
    ROOT / "tools" / "benchmarks" / "results" / name for name in ("scale.csv", "scale_machine.json")
)


def book_files(target: Path) -> Path:
    """Write the zip a downloaded notebook unpacks: the learners' helpers, the data and the
    benchmark records a chapter reads."""
    paths = [p for p in sorted((ROOT / "helpers").glob("*.py"))]
    paths += [p for p in sorted((ROOT / "data").iterdir()) if p.is_file()]
    paths += [*RECORDS, ROOT / "requirements.txt"]
    return write_zip(target, {path.relative_to(ROOT).as_posix(): path for path in paths})


def write_zip(target: Path, members: dict[str, Path]) -> Path:
    """Write ``members`` (name in the zip: file) into the zip ``target``, with a fixed date so
    that the same files give the same bytes."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in members.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            archive.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return target


def pinned_versions(requirements: Path) -> dict[str, str]:
    """``{name: version}`` for every ``name==version`` line of a requirements file.

    Example
    -------
    >>> pinned_versions(ROOT / "requirements.txt")["bambi"]
    '0.21.0'
    """
    pins = {}
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            requirement = Requirement(line)
            pins[requirement.name] = next(iter(requirement.specifier)).version
    return pins


def setup_cell_source(requirements: Path = ROOT / "requirements.txt", base_url: str = "") -> str:
    """The first cell of every downloaded notebook (a no-op where ``helpers`` imports).

    Elsewhere it installs the pinned run-time packages and unpacks ``book_files.zip`` (the
    helpers and the data), which it finds next to the notebook or, on a published site
    (``base_url``), downloads from beside it.

    Example
    -------
    >>> source = setup_cell_source()
    >>> source.startswith(SETUP_MARKER) and '"bambi==0.21.0"' in source
    True
    """
    pins = pinned_versions(requirements)
    packages = ",\n    ".join(
        ", ".join(f'"{name}=={pins[name]}"' for name in RUNTIME[i : i + 4] if name in pins)
        for i in range(0, len(RUNTIME), 4)
    )
    url = f"{base_url.rstrip('/')}/{NOTEBOOKS}/{BOOK_FILES}" if base_url else ""
    return f'''{SETUP_MARKER}
# (plain Jupyter, Colab). In the book's environment `helpers` imports and nothing happens.
# Elsewhere this installs the tested packages (a few minutes) and unpacks {BOOK_FILES} (the
# book's helpers and data), from next to this notebook, where the website offers it.
import importlib.util, pathlib, subprocess, sys, zipfile

PINS = [
    {packages},
]
if importlib.util.find_spec("helpers") is None:
    files, url = pathlib.Path("{BOOK_FILES}"), "{url}"
    if not files.is_file() and url:
        import urllib.request
        urllib.request.urlretrieve(url, files)
    if not files.is_file():
        raise FileNotFoundError(
            "{BOOK_FILES} is missing: download it from the page you took this notebook from "
            "and put it in " + str(pathlib.Path.cwd()) + " (Colab: Files panel, Upload), then "
            "run this cell again.")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *PINS], check=True)
    zipfile.ZipFile(files).extractall(".")
    importlib.invalidate_caches()
    stale = []
    for pin in PINS:
        name, version = pin.split("==")
        module = sys.modules.get(name.replace("-", "_"))
        if module is not None and getattr(module, "__version__", version) != version:
            stale.append(pin)
    if stale:
        print("Restart the kernel (Colab: Runtime > Restart session) and run this notebook "
              "again: these were imported before the install:", ", ".join(stale))'''


def _front_matter(source: Path) -> str:
    return source.read_text().split("\n---", 1)[0]


def _is_myst_notebook(source: Path) -> bool:
    """True for MyST markdown pages that are notebooks (their front matter names a kernel)."""
    return "kernelspec:" in _front_matter(source)


def offered_as_notebook(source: Path) -> bool:
    """True for notebook pages that run outside the repository: not those whose front matter
    says ``notebook_download: false`` (pages that read the repository's own files)."""
    return (
        source.suffix == ".md"
        and _is_myst_notebook(source)
        and not re.search(r"^notebook_download:\s*false\s*$", _front_matter(source), re.M)
    )


class NotebookLink(SphinxTransform):
    """Put a "download this chapter as a notebook" line under each chapter's title."""

    default_priority = 900

    def apply(self, **kwargs: Any) -> None:
        docname = self.env.docname
        if not offered_as_notebook(Path(self.env.doc2path(docname))):
            return
        base = "../" * docname.count("/") + f"{NOTEBOOKS}/"
        link = (
            f'<p class="notebook-download"><a href="{base}{Path(docname).name}.ipynb" download>'
            f"Download this chapter as a notebook</a> (.ipynb, with outputs) and "
            f'<a href="{base}{BOOK_FILES}" download>{BOOK_FILES}</a> (the book\'s helpers and '
            f"data) into one folder, then open the notebook in Jupyter or upload both to "
            f"Colab: its first cell installs what it needs.</p>"
        )
        for section in self.document.findall(nodes.section):
            title = next(iter(section.findall(nodes.title)), None)
            if title is not None:
                title.parent.insert(
                    title.parent.index(title) + 1, nodes.raw("", link, format="html")
                )
            break


def executed_notebook(
    source: Path, cache_path: Path, fallback: Path
) -> nbformat.NotebookNode | None:
    """The chapter with its outputs: from the execution cache that served the build, else the
    notebook myst-nb wrote while executing it (pages executed on every build), else None."""
    notebook = jupytext.read(source)
    try:
        _, merged = get_cache(cache_path).merge_match_into_notebook(notebook)
        return merged
    except KeyError:
        return nbformat.read(fallback, as_version=4) if fallback.is_file() else None


def build_context(app: Sphinx) -> Context:
    """Titles, labels and citations of the whole book, for rendering any chapter's markdown."""
    env, offered = app.env, set()
    titles = {
        name.rsplit("/", 1)[-1]: env.titles[name].astext()
        for name in env.found_docs
        if name in env.titles
    }
    for docname in env.found_docs:
        if offered_as_notebook(Path(env.doc2path(docname))):
            offered.add(docname.rsplit("/", 1)[-1])
    labels = {label: title for label, (_, _, title) in env.get_domain("std").labels.items()}
    bibfiles = [Path(app.srcdir) / f for f in getattr(app.config, "bibtex_bibfiles", [])]
    return Context(titles=titles, offered=offered, labels=labels, citations=citations(bibfiles))


#: Subfolder of ``_notebooks`` with the learners' edition of every notebook (no solutions), and
#: the zip an instructor hands out: those notebooks and ``book_files.zip`` in one folder.
LEARNERS = "learners"
LEARNERS_ZIP = "learners.zip"


def write_notebooks(app: Sphinx, exception: Exception | None) -> None:
    """Write every executed chapter that runs elsewhere, rendered for plain Jupyter and with the
    setup cell first, into ``<site>/_notebooks`` (solutions folded; left out in the learners'
    edition) and ``<site>/_notebooks/learners`` (solutions left out), with the helpers and data
    beside them and ``learners.zip`` for handing out."""
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / NOTEBOOKS
    (target / LEARNERS).mkdir(parents=True, exist_ok=True)
    book_files(target / BOOK_FILES)
    cache_path = Path(app.config.nb_execution_cache_path)
    executed = Path(app.outdir).parent / "jupyter_execute"
    setup_source = setup_cell_source(base_url=app.config.html_baseurl or "")
    context = build_context(app)
    learners = []
    for docname in sorted(app.env.found_docs):
        source = Path(app.env.doc2path(docname))
        if not offered_as_notebook(source):
            continue
        executed_nb = executed_notebook(source, cache_path, executed / f"{docname}.ipynb")
        if executed_nb is None:
            raise RuntimeError(f"no executed notebook found for {docname}")
        number = app.env.toc_secnumbers.get(docname, {}).get("")
        chapter = ".".join(map(str, number)) if number else ""
        editions = [
            (target / f"{source.stem}.ipynb", not app.config.learners_edition),
            (target / LEARNERS / f"{source.stem}.ipynb", False),
        ]
        for path, solutions in editions:
            notebook = copy.deepcopy(executed_nb)
            for_download(notebook, replace(context, chapter=chapter), solutions=solutions)
            notebook.cells.insert(0, nbformat.v4.new_code_cell(setup_source))
            notebook.cells[0].metadata["tags"] = ["setup"]
            # Folded in JupyterLab (its first line says what it is): it is not a lesson.
            notebook.cells[0].metadata["jupyter"] = {"source_hidden": True}
            nbformat.validate(notebook)
            nbformat.write(notebook, path)
        learners.append(editions[1][0])
    write_zip(
        target / LEARNERS_ZIP,
        {f"bmm-notebooks/{path.name}": path for path in [*learners, target / BOOK_FILES]},
    )


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("learners_edition", False, "env")
    app.connect("config-inited", _set_buttons)
    app.add_transform(RemoveSolutions)
    app.add_transform(NotebookLink)
    app.connect("build-finished", write_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
