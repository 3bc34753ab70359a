"""`make check` (the learners' setup check) and `make lab` (chapters open as notebooks)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from importlib import metadata
from pathlib import Path

import pytest

from tools.browser import free_port
from helpers import check
from helpers.check import CheckFailed, check_python, check_versions, main, parse_requirements

ROOT = Path(__file__).resolve().parents[2]


def test_old_python_fails_with_a_fix():
    with pytest.raises(CheckFailed, match="Python 3.11.4 is too old") as info:
        check_python((3, 11, 4))
    assert "pyenv install 3.12" in info.value.fix
    assert check_python((3, 13, 0)) == "Python 3.13.0"


def test_requirements_are_parsed_like_pip_reads_them():
    lines = ["# pins", "bambi==0.21.0  # model formulas", "-e .", "numpy==2.5.5", "", "-r x"]
    assert parse_requirements(lines) == {"bambi": "0.21.0", "numpy": "2.5.5"}


def test_version_mismatch_and_missing_package_are_named(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("bambi==0.21.0\nnumpy==1.0.0\nnot-a-package==1.0\n")

    def installed(name: str) -> str:
        if name == "not-a-package":
            raise metadata.PackageNotFoundError(name)
        return {"bambi": "0.21.0", "numpy": "2.5.5"}[name]

    with pytest.raises(CheckFailed, match=r"2 package\(s\).*numpy 2.5.5 \(pinned 1.0.0\)"
                                          r".*not-a-package missing") as info:
        check_versions(requirements, installed=installed)
    assert "make install" in info.value.fix


def test_the_installed_stack_matches_the_pins():
    assert "pinned packages at their tested versions" in check_versions()


def test_main_stops_at_the_first_failure_and_prints_the_fix(capsys):
    def broken() -> str:
        raise CheckFailed("data file missing", "restore it")

    ran = []
    assert main({"first": lambda: "fine", "second": broken,
                 "third": lambda: ran.append(1) or "x"}) == 1
    out = capsys.readouterr().out
    assert "ok    first" in out and "FAIL  second" in out
    assert out.rstrip().endswith("FAIL: data file missing\nFix: restore it")
    assert not ran
    assert main({"only": lambda: "fine"}) == 0
    assert capsys.readouterr().out.rstrip().endswith("PASS: your setup is ready for the book.")


def test_an_unexpected_error_ends_in_a_fail_line_not_a_traceback(monkeypatch, capsys):
    """Regression (issue 17): an error other than CheckFailed printed a raw traceback.

    Fault injection: the first step of the real runner raises an error of its own."""
    def broken() -> str:
        raise RuntimeError("could not compile\n  line 2 of the compiler's output")

    monkeypatch.setitem(check.CHECKS, "python", broken)
    assert main() == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0] == ("FAIL  python    unexpected RuntimeError: could not compile "
                                   "line 2 of the compiler's output")
    assert "ok " not in out  # stops at the first failure, as for its own failures
    assert out.rstrip().endswith(
        "FAIL: unexpected RuntimeError: could not compile line 2 of the compiler's output\n"
        "Fix: run 'make install' again; if it still fails, bring this message to the instructor")
    assert "Traceback" not in out


@pytest.mark.slow
def test_make_check_passes_within_a_minute():
    start = time.perf_counter()
    result = subprocess.run(["make", "--no-print-directory", "check"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - start
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("PASS: your setup is ready for the book.")
    for name in ("python", "versions", "data", "sampling"):
        assert f"ok    {name}" in result.stdout
    assert seconds < 60, f"make check took {seconds:.0f} s"


@pytest.mark.slow
def test_make_lab_serves_the_chapters_as_notebooks():
    """JupyterLab started by `make lab` (as root too: CI runs as root) opens a MyST chapter as a
    notebook with code cells, and keeps the user's own lab settings."""
    port, token = free_port(), "book-test"
    flags = (f"--no-browser --ip=127.0.0.1 --port={port} "
             f"--IdentityProvider.token={token} --ServerApp.port_retries=0")
    settings_path = ROOT / ".venv/share/jupyter/lab/settings/overrides.json"
    settings_path.parent.mkdir(parents=True, exist_ok=True)
    saved = settings_path.read_text() if settings_path.is_file() else None
    settings_path.write_text(json.dumps({"@jupyterlab/apputils-extension:themes": {
        "theme": "JupyterLab Dark"}}))  # a user's own setting, which `make lab` must keep
    server = subprocess.Popen(["make", "--no-print-directory", "lab", f"LAB_FLAGS={flags}"],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    url = (f"http://127.0.0.1:{port}/api/contents/book/log_odds.md"
           f"?type=notebook&content=1&token={token}")
    try:
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    model = json.load(response)
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    raise
                time.sleep(1)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    assert model["type"] == "notebook"
    cells = model["content"]["cells"]
    assert sum(cell["cell_type"] == "code" for cell in cells) > 5
    settings = json.loads(settings_path.read_text())
    viewers = settings["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers["markdown"] == "Jupytext Notebook"
    assert settings["@jupyterlab/apputils-extension:themes"] == {"theme": "JupyterLab Dark"}
    if saved is None:
        settings_path.unlink()
    else:
        settings_path.write_text(saved)
