"""The execution cache is dropped when what the chapters import changes (helpers, data, pins).

jupyter-cache keys executed notebooks on their code cells only; the Makefile's `cache-check`
(run by `make html`, `make book`, `make learners`) clears it when helpers/, data/,
requirements.txt or the big-data chapter's record (tools/benchmarks/results/scale.csv) change,
and keeps it when build code changes (the Sphinx extension in website/,
tools/, pyproject.toml's settings). Tested on a copy of those files in a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    for name in ("Makefile", "requirements.txt", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    for folder in ("helpers", "data", "website", "tools"):
        shutil.copytree(
            ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    return tmp_path


def _cache_check(project: Path) -> str:
    result = subprocess.run(
        ["make", "--no-print-directory", "cache-check"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def _fill_cache(project: Path) -> Path:
    cache = project / "_build" / ".jupyter_cache"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "executed.txt").write_text("outputs")
    return cache


@pytest.mark.parametrize(
    "change",
    [
        "helpers/glue.py",
        "data/season_pass.csv",
        "requirements.txt",
        "tools/benchmarks/results/scale.csv",  # the big-data chapter plots it
    ],
)
def test_a_change_to_what_chapters_import_clears_the_cache(project, change):
    _cache_check(project)  # first run: records the key
    cache = _fill_cache(project)
    assert "clearing" not in _cache_check(project) and cache.exists()  # nothing changed: kept
    with open(project / change, "a") as handle:
        handle.write("\n# changed\n")
    assert "clearing the execution cache" in _cache_check(project)
    assert not cache.exists()


@pytest.mark.parametrize(
    "change",
    [
        "website/site_extension.py",
        "tools/workshop.py",
        "tools/benchmarks/models.py",
        "pyproject.toml",
        "Makefile",
    ],
)
def test_a_change_to_build_code_keeps_the_cache(project, change):
    _cache_check(project)
    cache = _fill_cache(project)
    with open(project / change, "a") as handle:
        handle.write("\n# changed\n")
    assert "clearing" not in _cache_check(project)
    assert cache.exists() and (cache / "executed.txt").read_text() == "outputs"


def test_a_new_helper_module_clears_the_cache(project):
    _cache_check(project)
    cache = _fill_cache(project)
    (project / "helpers" / "extra.py").write_text("X = 1\n")
    _cache_check(project)
    assert not cache.exists()


def test_two_builds_at_once_take_turns_on_the_cache(project, tmp_path_factory):
    """Two `make html` started together: the second waits for the first (and says so), so they
    never write the shared execution cache at the same time. A stand-in for jupyter-book records
    when each build ran and fails if another was running."""
    if shutil.which("flock") is None:
        pytest.skip("flock (util-linux) is not installed: builds are not serialized here")
    bin_dir = tmp_path_factory.mktemp("bin")
    log = bin_dir / "log"
    fake = bin_dir / "jupyter-book"
    fake.write_text(f"""#!/usr/bin/env bash
set -e
[ -e {bin_dir}/running ] && {{ echo overlap >> {log}; exit 1; }}
touch {bin_dir}/running; echo "start $TMPDIR" >> {log}; sleep 2
mkdir -p _build/.jupyter_cache; echo ok > _build/.jupyter_cache/executed.txt
rm {bin_dir}/running; echo end >> {log}
""")
    fake.chmod(0o755)
    run = ["make", "--no-print-directory", "html", f"BIN={bin_dir}"]
    first = subprocess.Popen(run, cwd=project, stdout=subprocess.PIPE, text=True)
    second = subprocess.Popen(run, cwd=project, stdout=subprocess.PIPE, text=True)
    outputs = [first.communicate(timeout=60)[0], second.communicate(timeout=60)[0]]
    assert first.returncode == 0 and second.returncode == 0, outputs
    assert log.read_text().split("\n")[:-1:2] == [f"start {project}/_build/tmp"] * 2
    assert "overlap" not in log.read_text()
    assert sum("waiting for it to finish" in out for out in outputs) == 1
    assert (project / "_build" / ".jupyter_cache" / "executed.txt").read_text() == "ok\n"


@pytest.mark.slow
def test_a_moved_checkout_makes_its_own_virtual_environment(tmp_path):
    """A copied or moved checkout must not run the original's helpers: `make install` sees that
    .venv was made in another folder and makes it again (here with an empty requirements file)."""
    import sys

    first = tmp_path / "first"
    first.mkdir()
    shutil.copy(ROOT / "Makefile", first / "Makefile")
    (first / "requirements.txt").write_text("# nothing to install\n")
    (first / "pyproject.toml").write_text("")
    python = f"PYTHON={sys._base_executable}"
    made = subprocess.run(
        ["make", "--no-print-directory", "install", python],
        cwd=first,
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    assert (first / ".venv" / ".installed").read_text().strip() == str(first)
    moved = tmp_path / "moved"
    shutil.move(first, moved)
    again = subprocess.run(
        ["make", "--no-print-directory", "install", python],
        cwd=moved,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stderr
    assert f".venv was made in {first}, not here: making it again for {moved}" in again.stdout
    assert str(first) not in (moved / ".venv" / "bin" / "pip").read_text()
    assert (moved / ".venv" / ".installed").read_text().strip() == str(moved)
    unchanged = subprocess.run(
        ["make", "--no-print-directory", "install", python],
        cwd=moved,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Nothing to be done" in unchanged.stdout


@pytest.mark.slow
def test_two_real_builds_at_once_both_end_well_and_keep_the_cache(built_site, tmp_path):
    """The user's case: `make html` twice at the same time in one checkout (warm cache, after
    the strict build). The second waits for the first; both sites are complete; the execution
    cache still holds every chapter."""
    from conftest import OFFLINE, chapter_files
    from jupyter_cache import get_cache

    env = {**os.environ, "PYTHONPATH": str(OFFLINE)}
    builds = [
        subprocess.Popen(
            ["make", "--no-print-directory", "html", f"BUILD_ROOT={tmp_path / name}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name in ("a", "b")
    ]
    outputs = [build.communicate(timeout=1800)[0] for build in builds]
    assert [build.returncode for build in builds] == [0, 0], [out[-3000:] for out in outputs]
    assert sum("waiting for it to finish" in out for out in outputs) == 1
    for name in ("a", "b"):
        assert (tmp_path / name / "_build" / "html" / "book" / "own_data.html").is_file()
    cached = {
        Path(record.uri).name
        for record in get_cache(ROOT / "_build" / ".jupyter_cache").list_cache_records()
    }
    assert {path.name for path in chapter_files()} <= cached
