"""tools/lab.py: the learner's working folder is filled from the build, and edits survive."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.lab import MANIFEST, fill


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_copies_new_notebooks_and_updates_untouched_ones(tmp_path):
    built, work = tmp_path / "built", tmp_path / "work"
    write(built / "a.ipynb", "v1")
    write(built / "b.ipynb", "v1")
    assert fill(built, work) == {"a.ipynb": "new", "b.ipynb": "new"}
    assert fill(built, work) == {"a.ipynb": "up to date", "b.ipynb": "up to date"}
    write(built / "a.ipynb", "v2")
    assert fill(built, work)["a.ipynb"] == "updated"
    assert (work / "a.ipynb").read_text() == "v2" and (work / MANIFEST).is_file()


def test_an_edited_notebook_is_replaced_only_when_the_learner_says_yes(tmp_path):
    built, work = tmp_path / "built", tmp_path / "work"
    write(built / "a.ipynb", "v1")
    fill(built, work)
    write(work / "a.ipynb", "my edits")
    asked = []
    # The book did not change: the learner's notebook stays, and nobody is asked.
    assert fill(built, work, ask=asked.append) == {"a.ipynb": "yours"} and not asked
    write(built / "a.ipynb", "v2")
    assert fill(built, work, ask=lambda name: False) == {"a.ipynb": "kept (edited)"}
    assert (work / "a.ipynb").read_text() == "my edits"
    assert fill(built, work, ask=lambda name: True) == {"a.ipynb": "updated"}
    assert (work / "a.ipynb").read_text() == "v2"


def test_no_built_notebooks_is_named(tmp_path):
    with pytest.raises(ValueError, match="make book"):
        fill(tmp_path / "missing", tmp_path / "work")
