"""Downloadable notebooks: a setup cell that is a no-op here and self-sufficient elsewhere."""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess

import jupytext
import nbformat
import pytest

from conftest import ROOT, chapter_files
from helpers.site import NOTEBOOKS, SETUP_MARKER, setup_cell_source, without_solutions

CHAPTERS = chapter_files()


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_setup_cell_does_nothing_where_helpers_import(monkeypatch):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    exec(setup_cell_source(), {})  # noqa: S102
    assert not calls


def test_setup_cell_installs_the_pins_and_unpacks_helpers_and_data(monkeypatch, tmp_path):
    """Outside the repository: pip gets the pinned run-time stack, the bundle the book's files."""
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda args, **kwargs: calls.append(args))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    monkeypatch.chdir(tmp_path)
    exec(setup_cell_source(), {})  # noqa: S102
    (pip,) = calls
    assert pip[1:5] == ["-m", "pip", "install", "--quiet"]
    assert {"bambi==0.21.0", "pymc==6.4.0", "arviz==1.3.0"} <= set(pip)
    assert not any(p.startswith(("jupyter-book", "pytest", "sphinx")) for p in pip)
    for path in [*(ROOT / "helpers").glob("*.py"), *(ROOT / "data").iterdir()]:
        copy = tmp_path / path.relative_to(ROOT)
        assert copy.is_file() and _sha(copy) == _sha(path), path.name


def test_learners_notebooks_leave_out_every_solution_cell():
    for path in CHAPTERS:
        notebook = jupytext.read(path)
        kept = without_solutions(notebook.cells)
        text = "\n".join(c.source for c in kept)
        assert "solution-start" not in text and "solution-end" not in text
        assert len(kept) < len(notebook.cells), path.name


@pytest.mark.slow
@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_chapter_page_offers_its_notebook_with_outputs(built_site, path):
    page = (built_site / path.relative_to(ROOT).with_suffix(".html")).read_text()
    href = f"../{NOTEBOOKS}/{path.stem}.ipynb"
    assert f'href="{href}"' in page, f"{path.stem}: no download link"
    notebook = nbformat.read(built_site / NOTEBOOKS / f"{path.stem}.ipynb", as_version=4)
    nbformat.validate(notebook)
    assert notebook.cells[0].source.startswith(SETUP_MARKER)
    outputs = sum(len(c.get("outputs", [])) for c in notebook.cells if c.cell_type == "code")
    assert outputs >= 3, f"{path.stem}: the notebook has no outputs"
    assert any("solution-start" in c.source for c in notebook.cells)


@pytest.mark.slow
@pytest.mark.parametrize("path", CHAPTERS[:2], ids=[p.stem for p in CHAPTERS[:2]])
def test_learners_notebooks_have_no_solutions(learners_site, path):
    notebook = nbformat.read(learners_site / NOTEBOOKS / f"{path.stem}.ipynb", as_version=4)
    assert not any("solution-start" in c.source for c in notebook.cells)
    assert notebook.cells[0].source.startswith(SETUP_MARKER)


def test_one_repository_setting_drives_every_button():
    from helpers.site import BUTTONS, buttons_from_repository

    config = __import__("yaml").safe_load((ROOT / "_config.yml").read_text())
    assert "url" in config["repository"], "_config.yml: repository: url: is the one setting"
    assert not any(key in config.get("html", {}) for key in BUTTONS), "buttons set by hand"
    on = buttons_from_repository({"repository_url": "https://github.com/me/book/",
                                  "launch_buttons": {"notebook_interface": "classic"}})
    assert all(on[button] for button in BUTTONS)
    assert on["launch_buttons"] == {"notebook_interface": "jupyterlab",
                                    "binderhub_url": "https://mybinder.org"}
    off = buttons_from_repository({"repository_url": "", "launch_buttons": {
        "binderhub_url": "https://mybinder.org", "colab_url": "https://colab.research.google.com"}})
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
    config_path = tmp_path / "config.yml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    result = make("html", f"CONFIG={config_path}", f"BUILD_ROOT={tmp_path}")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    page = (tmp_path / "_build" / "html" / "book" / "log_odds.html").read_text()
    assert f'href="{url}"' in page, "no repository button"
    assert f"{url}/issues" in page, "no issues button"
    assert "mybinder.org/v2/gh/example-org/bayes-multilevel-book/main" in page, "no Binder launch"
