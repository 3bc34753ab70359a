"""Downloadable notebooks: a setup cell that is a no-op here and self-sufficient elsewhere."""

from __future__ import annotations

import copy
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import jupytext
import nbformat
import pytest
from conftest import ROOT, chapter_files

from site_extension import (
    BOOK_FILES,
    LEARNERS,
    LEARNERS_ZIP,
    NOTEBOOKS,
    RECORDS,
    SETUP_MARKER,
    SOLUTION_CODE_TITLE,
    Context,
    book_files,
    exercise_numbers,
    for_download,
    render_markdown,
    setup_cell_source,
    without_solutions,
)

CHAPTERS = chapter_files()


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_setup_cell_does_nothing_where_helpers_import(tmp_path, monkeypatch):
    """In the book's environment the first cell runs, installs nothing and unpacks nothing."""
    monkeypatch.chdir(tmp_path)
    exec(setup_cell_source(), {})
    assert list(tmp_path.iterdir()) == []


def test_setup_cell_says_what_to_do_when_the_book_files_are_missing(tmp_path):
    """Outside the repository, without book_files.zip beside it: a message, not a traceback."""
    script = tmp_path / "cell.py"
    script.write_text(setup_cell_source())
    python = sys._base_executable  # the Python .venv was made from: no `helpers` installed
    result = subprocess.run(
        [python, "-I", str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"]},
    )
    assert result.returncode != 0
    assert f"FileNotFoundError: {BOOK_FILES} is missing" in result.stderr
    assert str(tmp_path) in result.stderr and "Colab" in result.stderr


def test_book_files_hold_the_learners_helpers_and_the_data_not_the_build_code(tmp_path):
    with zipfile.ZipFile(book_files(tmp_path / BOOK_FILES)) as archive:
        names = set(archive.namelist())
        for path in [*(ROOT / "helpers").glob("*.py"), *(ROOT / "data").iterdir(), *RECORDS]:
            name = path.relative_to(ROOT).as_posix()
            assert archive.read(name) == path.read_bytes(), name
    records = {path.relative_to(ROOT).as_posix() for path in RECORDS}
    # Records, not the build code.
    assert records == {
        "tools/benchmarks/results/scale.csv",
        "tools/benchmarks/results/scale_machine.json",
    }
    assert all(
        name.startswith(("helpers/", "data/")) or name in records or name == "requirements.txt"
        for name in names
    )
    assert _sha(book_files(tmp_path / "again.zip")) == _sha(tmp_path / BOOK_FILES)  # reproducible


def test_learners_notebooks_leave_out_every_solution_but_keep_every_exercise():
    for path in CHAPTERS:
        notebook = jupytext.read(path)
        kept = without_solutions(notebook.cells)
        text = "\n".join(c.source for c in kept)
        assert "solution-start" not in text and "solution-end" not in text
        assert len(kept) < len(notebook.cells), path.name
        labels = exercise_numbers(notebook.cells)
        assert labels and exercise_numbers(kept) == labels, f"{path.name}: an exercise went"
        assert "## Versions" in text, f"{path.name}: the text after the last solution went"


def test_markdown_renders_as_plain_jupyter_markdown():
    cells = [
        nbformat.v4.new_markdown_cell(source)
        for source in (
            "(sec-odds)=\n# Odds\n\n:::{exercise}\n:label: ex-a\n\nPredict {glue:text}`p:.2f`.\n:::",
            "```{solution-start} ex-a\n:class: dropdown\n```",
            "It is {glue:text}`p:.1%`.\n\n```{solution-end}\n```\n\nSee {ref}`ex-a`, "
            "{doc}`log_odds`, {doc}`performance` and {cite:p}`key1,key2`.\n\n:::{note}\nMind it.\n:::",
        )
    ]
    cells[0].metadata["x"] = 1
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={"myst": {}})
    notebook.cells.insert(
        1,
        nbformat.v4.new_code_cell(
            "glue('p', 0.25)",
            metadata={"tags": ["remove-cell"]},  # build machinery
            outputs=[
                nbformat.v4.new_output(
                    "display_data",
                    data={"application/papermill.record/text/plain": "0.25"},
                    metadata={
                        "scrapbook": {"name": "p", "mime_prefix": "application/papermill.record/"}
                    },
                )
            ],
        ),
    )
    learners = copy.deepcopy(notebook)
    context = Context(
        titles={"log_odds": "Log-odds", "performance": "Performance"},
        offered={"log_odds"},
        citations={"key1": ("Gelman and Hill", "2007"), "key2": ("Bürkner", "2017")},
        chapter="2",
    )
    for_download(notebook, context, solutions=True)
    texts = [c.source for c in notebook.cells if c.cell_type == "markdown"]
    assert texts[0] == "# Odds\n\n> **Exercise 2.1**\n>\n> Predict 0.25."
    assert all(c.cell_type == "markdown" for c in notebook.cells)  # the glue cell is gone
    assert "myst" not in notebook.metadata
    assert texts[1] == "**Solution to Exercise 2.1**"
    assert texts[2] == (  # the solution's own text, folded, in a cell of its own
        "<details>\n<summary>Solution text (click to show)</summary>\n\nIt is 25.0%.\n\n</details>"
    )
    assert texts[3] == (
        "See Exercise 2.1, [Log-odds](log_odds.ipynb), *Performance* "
        "and (Gelman and Hill 2007; Bürkner 2017).\n\n> **Note**\n>\n> Mind it."
    )
    for_download(learners, context, solutions=False)
    texts = [c.source for c in learners.cells if c.cell_type == "markdown"]
    assert texts[0] == "# Odds\n\n> **Exercise 2.1**\n>\n> Predict 0.25."
    assert len(texts) == 2 and texts[1].startswith("See Exercise 2.1")


def test_a_role_the_renderer_does_not_know_fails_the_build():
    with pytest.raises(ValueError, match="numref"):
        render_markdown("See {numref}`fig-1`.", Context())
    with pytest.raises(KeyError, match="'missing'"):
        render_markdown("{glue:text}`missing:.2f`", Context())


@pytest.mark.slow
@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_chapter_page_offers_its_notebook_with_outputs(built_site, path):
    page = (built_site / path.relative_to(ROOT).with_suffix(".html")).read_text()
    for name in (f"{path.stem}.ipynb", BOOK_FILES):
        assert f'href="../{NOTEBOOKS}/{name}"' in page, f"{path.stem}: no link to {name}"
        assert (built_site / NOTEBOOKS / name).is_file()
    notebook = nbformat.read(built_site / NOTEBOOKS / f"{path.stem}.ipynb", as_version=4)
    nbformat.validate(notebook)
    assert notebook.cells[0].source.startswith(SETUP_MARKER)
    assert len(notebook.cells[0].source) < 3000, "the setup cell should be short and readable"
    outputs = sum(len(c.get("outputs", [])) for c in notebook.cells if c.cell_type == "code")
    assert outputs >= 3, f"{path.stem}: the notebook has no outputs"
    assert any("**Solution to Exercise " in c.source for c in notebook.cells)
    # Every solution is folded: its code collapsed (JupyterLab, Notebook 7, Colab's form), its
    # text in a closed <details>; no code outside a solution is.
    folded = [c for c in notebook.cells if c.source.startswith(SOLUTION_CODE_TITLE)]
    assert folded, f"{path.stem}: no folded solution code"
    assert notebook.cells[0].metadata["jupyter"] == {"source_hidden": True}  # the setup cell
    for cell in notebook.cells[1:]:
        hidden = cell.metadata.get("jupyter", {})
        assert bool(hidden) == (cell in folded), cell.source[:200]
        if cell in folded:
            assert hidden == {"source_hidden": True, "outputs_hidden": True}
            assert cell.metadata["cellView"] == "form"
    assert any(
        c.source.startswith("<details>") for c in notebook.cells if c.cell_type == "markdown"
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", CHAPTERS[:2], ids=[p.stem for p in CHAPTERS[:2]])
def test_learners_notebooks_have_no_solutions(learners_site, path):
    notebook = nbformat.read(learners_site / NOTEBOOKS / f"{path.stem}.ipynb", as_version=4)
    assert not any("**Solution" in c.source for c in notebook.cells)
    assert notebook.cells[0].source.startswith(SETUP_MARKER)


@pytest.mark.slow
def test_the_full_site_publishes_the_learners_notebooks_and_their_zip(built_site):
    """The instructor's hand-out: every chapter's learners' notebook and book_files.zip in
    learners.zip, linked from the workshop page."""
    folder = built_site / NOTEBOOKS / LEARNERS
    offered = sorted(p.name for p in (built_site / NOTEBOOKS).glob("*.ipynb"))
    assert sorted(p.name for p in folder.glob("*.ipynb")) == offered
    with zipfile.ZipFile(built_site / NOTEBOOKS / LEARNERS_ZIP) as archive:
        names = sorted(archive.namelist())
    assert names == sorted(f"bmm-notebooks/{n}" for n in [*offered, BOOK_FILES])
    for name in offered:
        notebook = nbformat.read(folder / name, as_version=4)
        assert not any("**Solution" in c.source for c in notebook.cells), name
    page = (built_site / "book" / "workshop.html").read_text()
    assert f'href="../{NOTEBOOKS}/{LEARNERS_ZIP}"' in page


def test_one_repository_setting_drives_every_button():
    from site_extension import BUTTONS, buttons_from_repository

    config = __import__("yaml").safe_load((ROOT / "_config.yml").read_text())
    assert "url" in config["repository"], "_config.yml: repository: url: is the one setting"
    assert not any(key in config.get("html", {}) for key in BUTTONS), "buttons set by hand"
    on = buttons_from_repository(
        {
            "repository_url": "https://github.com/me/book/",
            "launch_buttons": {"notebook_interface": "classic"},
        }
    )
    assert all(on[button] for button in BUTTONS)
    assert on["launch_buttons"] == {
        "notebook_interface": "jupyterlab",
        "binderhub_url": "https://mybinder.org",
    }
    off = buttons_from_repository(
        {
            "repository_url": "",
            "launch_buttons": {
                "binderhub_url": "https://mybinder.org",
                "colab_url": "https://colab.research.google.com",
            },
        }
    )
    assert not any(off[button] for button in BUTTONS) and off["launch_buttons"] == {}


@pytest.mark.slow
def test_unpublished_book_shows_no_repository_buttons(built_site):
    page = (built_site / "book" / "log_odds.html").read_text()
    assert "executablebooks/jupyter-book" not in page
    assert "mybinder.org" not in page


@pytest.mark.slow
def test_setting_the_repository_url_turns_every_button_on(tmp_path, built_site):
    """A build whose only change is `repository: url:` shows repository, issues and launch links."""
    import yaml
    from conftest import make

    url = "https://github.com/example-org/bayes-multilevel-book"
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["repository"]["url"] = url
    # local_extensions paths are read relative to the config file: name the folder absolutely.
    config["sphinx"]["local_extensions"] = {"site_extension": str(ROOT / "website")}
    config_path = tmp_path / "config.yml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    result = make("html", f"CONFIG={config_path}", f"BUILD_ROOT={tmp_path}")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    page = (tmp_path / "_build" / "html" / "book" / "log_odds.html").read_text()
    assert f'href="{url}"' in page, "no repository button"
    assert f"{url}/issues" in page, "no issues button"
    assert "mybinder.org/v2/gh/example-org/bayes-multilevel-book/main" in page, "no Binder launch"


#: The downloaded chapters the clean-environment test runs, in one folder as a reader would: the
#: first installs and unpacks, the second finds everything there and fits models (NumPyro, JAX),
#: the third is a multilevel chapter from the learners' edition (no solutions, no build checks).
CLEAN_RUN = ("log_odds", "logistic_regression", f"{LEARNERS}/partial_pooling")


@pytest.mark.slow
def test_downloaded_chapters_run_top_to_bottom_in_a_clean_jupyter(built_site, tmp_path):
    """As a reader would: a new virtual environment outside the repository with only Jupyter's
    kernel machinery, the notebooks and book_files.zip in an empty folder, every cell executed
    with nbclient. The setup cell really installs the pins (from pip's cache where it has them)."""
    import shutil

    venv, folder = tmp_path / "venv", tmp_path / "reader"
    folder.mkdir()
    for name in (*(f"{chapter}.ipynb" for chapter in CLEAN_RUN), BOOK_FILES):
        shutil.copy(built_site / NOTEBOOKS / name, folder / Path(name).name)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "PYTENSOR", "JAX", "VIRTUAL_ENV", "MPL"))
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    python = str(venv / "bin" / "python")
    subprocess.run([sys._base_executable, "-m", "venv", str(venv)], check=True, env=env)
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "ipykernel", "nbclient"], check=True, env=env
    )
    for chapter in (Path(c).name for c in CLEAN_RUN):
        runner = (
            "import nbformat; from nbclient import NotebookClient\n"
            f"nb = nbformat.read('{chapter}.ipynb', as_version=4)\n"
            "NotebookClient(nb, timeout=600, kernel_name='python3', allow_errors=True).execute()\n"
            f"nbformat.write(nb, 'executed_{chapter}.ipynb')\n"
        )
        result = subprocess.run(
            [python, "-I", "-c", runner],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        assert result.returncode == 0, result.stderr[-4000:]
        executed = nbformat.read(folder / f"executed_{chapter}.ipynb", as_version=4)
        code = [c for c in executed.cells if c.cell_type == "code"]
        errors = [
            (i, o.ename, o.evalue)
            for i, c in enumerate(code)
            for o in c.outputs
            if o.output_type == "error"
        ]
        assert not errors, f"{chapter}: {errors}"
        assert all(c.get("execution_count") for c in code), f"{chapter}: a cell did not run"
    assert (folder / "helpers" / "data.py").is_file() and not (
        folder / "helpers" / "site.py"
    ).exists()
    myst_nb = subprocess.run([python, "-c", "import myst_nb"], env=env, capture_output=True)
    assert myst_nb.returncode != 0, (
        "the clean environment has myst-nb: glue is not tested without it"
    )


@pytest.mark.slow
@pytest.mark.parametrize("edition", ["full", "learners"])
def test_downloaded_notebooks_read_as_plain_markdown(built_site, learners_site, edition):
    """No MyST left that plain Jupyter or Colab would show raw; numbers where the site has them."""
    site = built_site if edition == "full" else learners_site
    offered = sorted(p.stem for p in (site / NOTEBOOKS).glob("*.ipynb"))
    assert offered == sorted(p.stem for p in [*CHAPTERS, ROOT / "book" / "own_data.md"])
    for name in offered:
        notebook = nbformat.read(site / NOTEBOOKS / f"{name}.ipynb", as_version=4)
        markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
        # No pairing with a MyST file that is not there (a Jupyter with jupytext would refuse it).
        assert not {"jupytext", "myst"} & set(notebook.metadata), name
        for cell in notebook.cells[1:]:  # the build's machinery never reaches a learner
            if cell.cell_type == "code":
                assert "assert " not in cell.source and "glue(" not in cell.source, (
                    f"{edition} {name}: build machinery in a code cell:\n{cell.source[:300]}"
                )
        for raw in ("}`", "{{", ":::", "```{", ":label:", ":class:", "solution-", "\\|"):
            assert raw not in markdown, f"{edition} {name}: raw MyST {raw!r} left in the markdown"
        assert "**Teaching:** " in markdown and "> **Exercise " in markdown, name
        assert ("**Solution to Exercise " in markdown) == (edition == "full"), name
    page = (site / "book" / "performance.html").read_text()
    assert not (site / NOTEBOOKS / "performance.ipynb").exists() and NOTEBOOKS not in page
