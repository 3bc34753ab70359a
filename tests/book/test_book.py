"""The book: chapter structure, the strict build (which executes every chapter), the built pages."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import jupytext
import pytest
from conftest import ROOT, appendix_files, chapter_files, make, toc_files

from site_extension import is_machinery, offered_as_notebook
from tools.workshop import front_matter as read_front_matter

CHAPTERS = chapter_files()
IDS = [path.stem for path in CHAPTERS]
#: The pages a learner gets as notebooks (the chapters and "Your own data").
NOTEBOOK_PAGES = [p for p in toc_files() if offered_as_notebook(p)]


def front_matter(path: Path) -> dict:
    meta = read_front_matter(path)
    assert meta, f"{path.name}: no front matter"
    return meta


# --- structure (fast) -------------------------------------------------------------------------


def test_toc_lists_existing_files_and_at_least_one_chapter():
    for path in toc_files():
        assert path.is_file(), f"_toc.yml lists {path.relative_to(ROOT)}, which does not exist"
    assert CHAPTERS, "no executable chapter in _toc.yml"


def test_no_stray_chapter_outside_the_toc():
    listed = set(toc_files())
    stray = [p.name for p in (ROOT / "book").glob("*.md") if p not in listed]
    assert not stray, f"chapters not in _toc.yml (they would never be built or tested): {stray}"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_chapter_front_matter(path):
    meta = front_matter(path)
    minutes = meta.get("myst", {}).get("substitutions", {})
    for key in ("teaching", "exercises"):
        assert isinstance(minutes.get(key), int) and minutes[key] > 0, f"{path.name}: {key} minutes"
    heading = re.search(r"^# (.+)$", path.read_text(), flags=re.M)
    assert meta.get("title") and heading and heading.group(1).strip() == meta["title"]
    assert meta["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_chapter_template(path):
    text = path.read_text()
    overview = re.search(r":::\{admonition\} Overview\n(.*?)\n:::", text, flags=re.S)
    assert overview, f"{path.name}: no Overview box"
    for part in ("{{ teaching }}", "{{ exercises }}", "**Questions**", "**Objectives**"):
        assert part in overview.group(1), f"{path.name}: Overview box lacks {part}"
    assert ":::{admonition} Key points" in text, f"{path.name}: no Key points box"
    labels = re.findall(r":::\{exercise\}\n:label: ([\w-]+)", text)
    assert len(labels) >= 2, f"{path.name}: fewer than two exercises"
    for label in labels:
        assert f"```{{solution-start}} {label}\n" in text, (
            f"{path.name}: exercise {label} has no solution"
        )
    assert text.count("{solution-start}") == text.count("{solution-end}")
    assert "%watermark" in text, f"{path.name}: no versions watermark"
    assert (
        text.index(":::{admonition} Key points")
        < text.index("## Exercises")
        < text.index("%watermark")
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_every_fit_passes_the_gate(path):
    code = "\n".join(c.source for c in jupytext.read(path).cells if c.cell_type == "code")
    fits = len(re.findall(r"\bfit\(|pm\.sample\(", code))
    gates = len(re.findall(r"check_convergence\(", code))
    assert gates >= fits, f"{path.name}: {fits} fit(s) but {gates} convergence check(s)"


#: Every chapter backs its qualitative claims (directions, comparisons, covers/misses, passes/fails)
#: with asserts in hidden cells below them, so a new draw or version that changes the story fails
#: the build instead of the reader.
MIN_CLAIM_CHECKS = 5


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_every_chapter_checks_its_claims(path):
    hidden = [
        c
        for c in jupytext.read(path).cells
        if c.cell_type == "code" and "remove-cell" in c.metadata.get("tags", [])
    ]
    asserts = sum(len(re.findall(r"^\s*assert\b", c.source, flags=re.M)) for c in hidden)
    assert asserts >= MIN_CLAIM_CHECKS, (
        f"{path.name}: {asserts} claim check(s) in hidden cells, need >= {MIN_CLAIM_CHECKS}"
    )


def _names(source: str) -> tuple[set[str], set[str]]:
    """The names a cell's code binds and the names it reads (magics skipped)."""
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("%"))
    bound, read = set(), set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, ast.Store | ast.Del) else read).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
    return bound, read


@pytest.mark.parametrize("path", NOTEBOOK_PAGES, ids=[p.stem for p in NOTEBOOK_PAGES])
def test_teaching_code_and_build_machinery_live_in_separate_cells(path):
    """Every ``glue`` call and every claim ``assert`` sits in a hidden machinery cell, so a
    learner's notebook (which leaves those cells out) has neither; and no teaching cell reads a
    name that only a machinery cell bound, nor (outside the solutions) one that only a solution
    bound, so both editions of the notebook still run top to bottom."""
    only_in_machinery: set[str] = set()
    only_in_solutions: set[str] = set()
    in_solution = False
    for cell in jupytext.read(path).cells:
        if cell.cell_type == "markdown":
            for marker in re.findall(r"^```\{solution-(start|end)\}", cell.source, re.M):
                in_solution = marker == "start"
            continue
        bound, read = _names(cell.source)
        if is_machinery(cell):
            only_in_machinery |= bound
            continue
        assert not re.search(r"\bassert |\bglue\(", cell.source), (
            f"{path.name}: a teaching cell holds a glue call or an assert:\n{cell.source[:400]}"
        )
        needed = (read - bound) & only_in_machinery
        assert not needed, (
            f"{path.name}: teaching code needs {sorted(needed)}, bound in a hidden cell"
        )
        only_in_machinery -= bound
        if in_solution:  # the learners' edition leaves solutions out
            only_in_solutions |= bound
            continue
        needed = (read - bound) & only_in_solutions
        assert not needed, f"{path.name}: teaching code needs {sorted(needed)}, bound in a solution"
        only_in_solutions -= bound


@pytest.mark.parametrize("path", NOTEBOOK_PAGES, ids=[p.stem for p in NOTEBOOK_PAGES])
def test_a_cell_that_makes_a_figure_shows_it(path):
    """A figure begun in one cell and drawn in the next shows empty axes (the first cell's
    output) and then nothing."""
    for cell in jupytext.read(path).cells:
        if cell.cell_type == "code" and not is_machinery(cell):
            if re.search(r"plt\.(subplots|figure)\(", cell.source):
                assert "plt.show()" in cell.source, f"{path.name}:\n{cell.source[:300]}"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_chains_start_dispersed(path):
    """r_hat compares chains; it means little when every chain starts at the same point."""
    code = "\n".join(c.source for c in jupytext.read(path).cells if c.cell_type == "code")
    for start_at_one_point in (
        'init="adapt_diag"',
        "init='adapt_diag'",
        '"jitter": False',
        "jitter=False",
        'init="advi',
        "initvals=",
    ):
        assert start_at_one_point not in code, f"{path.name}: {start_at_one_point}"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_one_interval_width(path):
    """89% intervals book-wide: no 94% (ArviZ 0.x's default) or 95% quantile pairs in the code
    unless a comment on the same line says why."""
    for cell in jupytext.read(path).cells:
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            if re.search(r"0\.0?3\b.*0\.97|0\.025.*0\.975|hdi_prob|ci_prob=0\.9", line):
                assert "#" in line, f"{path.name}: {line} (say why in a comment)"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_chapter_opens_as_a_notebook(path):
    notebook = jupytext.read(path)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    assert sum(cell.cell_type == "code" for cell in notebook.cells) >= 3


# --- the strict build (slow: executes every chapter) ------------------------------------------


@pytest.mark.slow
def test_strict_build_passes(built_site):
    assert (built_site / "index.html").is_file()
    assert (built_site / "search.html").is_file()


@pytest.mark.slow
def test_the_build_leaves_the_system_temp_folder_as_it_was(built_site):
    """Kernels and PyTensor's JAX linker write temporary files; the build keeps them under
    _build/tmp (`make clean` removes them), not in the system's temp folder."""
    from conftest import TEMP_LEFT_BY_BUILD

    assert not TEMP_LEFT_BY_BUILD, sorted(TEMP_LEFT_BY_BUILD)[:10]


@pytest.mark.slow
def test_site_works_offline(built_site):
    """MathJax is served from the site itself: formulas render without a network."""
    assert (built_site / "_static" / "mathjax" / "tex-chtml.js").is_file()
    for page in built_site.rglob("*.html"):
        scripts = re.findall(r'<script[^>]+src="([^"]+)"', page.read_text())
        remote = [src for src in scripts if src.startswith(("http:", "https:", "//"))]
        assert not remote, f"{page.name} loads scripts from the network: {remote}"


@pytest.mark.slow
@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_built_chapter_page(built_site, path):
    page = built_site / path.relative_to(ROOT).with_suffix(".html")
    html = page.read_text()
    text = re.sub(r"<[^>]+>", " ", html)
    for bad in ("Traceback", "{glue", "{{", "Error:", "Warning:"):
        assert bad not in text, f"{page.name} shows {bad!r}"
    unrendered = re.search(r"\{(glue|ref|doc|numref|eq|term)(:\w+)?\}", text)
    assert not unrendered, f"{page.name} shows an unrendered role: {unrendered.group(0)}"
    assert 'class="output stderr"' not in html and "output traceback" not in html
    if "plt.show()" in path.read_text():
        images = re.findall(r'<img[^>]+src="([^"]+\.png)"', html)
        assert images, f"{page.name}: the chapter plots but the page shows no figure"
        for src in images:
            assert (page.parent / src).resolve().is_file(), f"{page.name}: missing image {src}"
    assert html.count('class="solution') >= 2, f"{page.name}: solutions not rendered"


@pytest.mark.slow
@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_learners_edition_has_the_exercises_but_no_solutions(learners_site, built_site, path):
    relative = path.relative_to(ROOT).with_suffix(".html")
    learners = (learners_site / relative).read_text()
    full = (built_site / relative).read_text()
    assert 'class="solution' not in learners, f"{relative}: a solution is shown"
    assert learners.count('class="exercise') == full.count('class="exercise') >= 2
    assert "learners&#39; edition" in learners


@pytest.mark.slow
def test_appendix_pages(built_site):
    pages = {
        p.stem: (built_site / p.relative_to(ROOT).with_suffix(".html")).read_text()
        for p in appendix_files()
    }
    assert set(pages) == {
        "workshop",
        "translation",
        "own_data",
        "glossary",
        "performance",
        "status",
        "references",
    }
    text = {name: re.sub(r"<[^>]+>", " ", html) for name, html in pages.items()}
    for day in ("Half day", "Full day", "Two days"):
        assert day in text["workshop"]
    assert text["workshop"].count("Instructor notes") >= 1
    for path in CHAPTERS:  # every chapter is scheduled, has notes, and shows in the status table
        title = front_matter(path)["title"]
        assert title.split(":")[0] in text["workshop"]
        assert path.stem in pages["status"], f"{path.stem} missing from the execution status"
    for term in (
        "Partial pooling",
        "Shrinkage",
        "Non-centered parameterization",
        "LKJ prior",
        "Mundlak correction",
        "Log-odds",
    ):
        assert term in text["glossary"], term
    assert pages["translation"].count("tab-set") >= 7
    for name in ("model_priors", "sample_new_groups", "HalfStudentT", "(1 | stimulus)"):
        assert name in text["own_data"], name
    for backend in ("pymc-default", "pymc-cvm", "nutpie", "numpyro"):  # the benchmark table
        assert (
            f"<td><p>{backend}</p></td>" in pages["performance"] or backend in text["performance"]
        )
    assert "cores" in text["performance"] and "Targets" in text["performance"]
    for source in ("Chapman", "Herther", "Orduz", "Mundlak", "Lewandowski"):
        assert source in text["references"], source


@pytest.mark.slow
def test_search_index_knows_shrinkage(built_site):
    index = (built_site / "searchindex.js").read_text()
    assert '"shrinkag' in index or "shrinkag" in index


# --- the Makefile's Python check --------------------------------------------------------------


def test_make_refuses_without_python_312(tmp_path):
    result = make("install", "PYTHON=", f"VENV={tmp_path}/venv")
    assert result.returncode != 0
    assert "Python 3.12 or newer is needed" in result.stderr
    assert "found:" in result.stderr


def test_make_finds_python_312_or_newer(tmp_path):
    result = make("-n", "install", f"VENV={tmp_path}/venv")
    assert result.returncode == 0, result.stderr
    python = re.search(r"^(\S+) -m venv", result.stdout, flags=re.M).group(1)
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version_info >= (3, 12))"],
        capture_output=True,
        text=True,
    )
    assert version.stdout.strip() == "True"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_code_fits_the_page(path):
    """Code lines longer than 80 characters are cut off on the built page."""
    for cell in jupytext.read(path).cells:
        if cell.cell_type == "code":
            for line in cell.source.splitlines():
                assert len(line) <= 80, f"{path.name}: {len(line)} characters: {line}"
