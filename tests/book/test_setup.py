"""`make check` (the learners' setup check) and `make lab` (chapters open as notebooks): the
user's path, through make. The check's own steps are tested in tests/helpers/test_check.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tools.browser import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_make_check_passes_within_a_minute():
    start = time.perf_counter()
    result = subprocess.run(
        ["make", "--no-print-directory", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
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
    flags = (
        f"--no-browser --ip=127.0.0.1 --port={port} "
        f"--IdentityProvider.token={token} --ServerApp.port_retries=0"
    )
    settings_path = ROOT / ".venv/share/jupyter/lab/settings/overrides.json"
    settings_path.parent.mkdir(parents=True, exist_ok=True)
    saved = settings_path.read_text() if settings_path.is_file() else None
    settings_path.write_text(
        json.dumps({"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}})
    )  # a user's own setting, which `make lab` must keep
    server = subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"LAB_FLAGS={flags}"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = (
        f"http://127.0.0.1:{port}/api/contents/book/log_odds.md"
        f"?type=notebook&content=1&token={token}"
    )
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
