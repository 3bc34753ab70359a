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


class Lab:
    """JupyterLab started by a make target (as root too: CI runs as root), on a free port."""

    def __init__(self, target: str, *args: str) -> None:
        self.port, self.token = free_port(), "book-test"
        flags = (
            f"--no-browser --ip=127.0.0.1 --port={self.port} "
            f"--IdentityProvider.token={self.token} --ServerApp.port_retries=0"
        )
        self.server = subprocess.Popen(
            ["make", "--no-print-directory", target, *args, f"LAB_FLAGS={flags}"],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}{'&' if '?' in path else '?'}token={self.token}"

    def get(self, path: str, timeout: float = 600) -> dict:
        """A JSON answer of the server's REST API, waiting for the server to start."""
        deadline = time.time() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.url(path), timeout=5) as response:
                    return json.load(response)
            except OSError:
                if time.time() > deadline or self.server.poll() is not None:
                    raise
                time.sleep(1)

    def stop(self) -> str:
        """Stop the server; return what make printed."""
        if self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
        output, _ = self.server.communicate(timeout=60)
        return output


@pytest.mark.slow
def test_make_author_serves_the_sources_as_notebooks():
    """`make author` opens a MyST chapter as a notebook with code cells, renders MyST in the
    lab (jupyterlab-myst installed) and keeps the user's own lab settings."""
    settings_path = ROOT / ".venv/share/jupyter/lab/settings/overrides.json"
    settings_path.parent.mkdir(parents=True, exist_ok=True)
    saved = settings_path.read_text() if settings_path.is_file() else None
    settings_path.write_text(
        json.dumps({"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}})
    )  # a user's own setting, which `make author` must keep
    lab = Lab("author")
    try:
        model = lab.get("api/contents/book/log_odds.md?type=notebook&content=1")
        extensions = lab.get("lab/api/extensions")
    finally:
        lab.stop()
    assert model["type"] == "notebook"
    cells = model["content"]["cells"]
    assert sum(cell["cell_type"] == "code" for cell in cells) > 5
    assert any(e["name"] == "jupyterlab-myst" and e["enabled"] for e in extensions)
    settings = json.loads(settings_path.read_text())
    viewers = settings["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers["markdown"] == "Jupytext Notebook"
    assert settings["@jupyterlab/apputils-extension:themes"] == {"theme": "JupyterLab Dark"}
    if saved is None:
        settings_path.unlink()
    else:
        settings_path.write_text(saved)


#: What a learner sees of a notebook in JupyterLab: its rendered text, the folded solution
#: cells, the unopened <details> of solution text, and any raw MyST or glue left over.
LAB_REPORT = """(() => {
  const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
  if (!nb) return null;
  const text = nb.textContent;
  return {
    cells: nb.querySelectorAll('.jp-Cell').length,
    rendered: nb.querySelectorAll('.jp-MarkdownCell.jp-mod-rendered').length,
    folded: nb.querySelectorAll('.jp-Cell .jp-InputPlaceholder').length,
    closed_details: [...nb.querySelectorAll('details')].filter(d => !d.open).length,
    raw: (text.match(/\\{(glue|doc|ref|cite|term)[:a-z]*\\}`|:::\\{|```\\{/) || [null])[0],
    glue: /glue\\(/.test(text),
    has_numbers: text.includes('3,156'),
  };
})()"""


@pytest.mark.slow
def test_make_lab_opens_the_rendered_notebooks_and_keeps_a_learners_edits(built_site, tmp_path):
    """`make lab` copies the built notebooks into the learner's folder and opens them in a real
    JupyterLab: in headless Chromium the markdown is rendered with the numbers in it, no MyST or
    glue shows, and the solutions are folded (a screenshot is saved for a reader to look at).
    A second `make lab` keeps a notebook the learner edited."""
    from tools.browser import Chromium, find_chromium

    build_root = built_site.parent.parent
    work = tmp_path / "notebooks"
    args = (f"BUILD_ROOT={build_root}", f"LAB_DIR={work}")
    lab = Lab("lab", *args)
    chromium = Chromium(find_chromium(), width=1400, height=1000)
    try:
        listing = lab.get("api/contents/?content=1", timeout=300)
        names = {item["name"] for item in listing["content"]}
        chromium.goto(lab.url("lab/tree/log_odds.ipynb"), settle=1)
        report = chromium.wait_for(
            f"(() => {{ const r = {LAB_REPORT}; return r && r.rendered > 10 && r.folded >= 3 && r.closed_details >= 2 ? r : null; }})()",
            timeout=90,
        )
        chromium.screenshot(ROOT / "_build" / "screenshots" / "lab_log_odds.png")
    finally:
        chromium.close()
        lab.stop()
    assert {"log_odds.ipynb", "partial_pooling.ipynb", "big_data.ipynb"} <= names
    assert report, "the notebook did not render in JupyterLab"
    assert report["raw"] is None and not report["glue"], report
    assert report["has_numbers"], "the numbers are not written into the text"
    # the setup cell and at least two solutions' code folded, solution texts closed
    assert report["folded"] >= 3 and report["closed_details"] >= 2, report

    edited = work / "log_odds.ipynb"
    edited.write_text(edited.read_text().replace("3,156", "3,156 (my note)"))
    (work / "interactions.ipynb").unlink()
    lab = Lab("lab", *args)
    try:
        lab.get("api/contents/", timeout=300)
    finally:
        output = lab.stop()
    assert "(my note)" in edited.read_text(), "make lab overwrote the learner's edits"
    assert (work / "interactions.ipynb").is_file(), "make lab did not restore a missing notebook"
    assert "Kept your edited" not in output  # the book did not change: nothing to ask about
