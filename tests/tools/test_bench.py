"""The benchmark: its models are (or match) the chapters', its driver summarizes right, its record
is whole.

The committed record (tools/benchmarks/results/) is checked for what the book's choices rest on:
NumPyro fastest cold for every chapter model with the same draws in every run, through the gate;
the season-pass models under 10 s cold; the own-data model through the gate under 60 s warm.
The other targets (3 s warm, the whole-book times) are reported, met or not, by the Performance
page, not asserted here. No test times anything itself.
"""

from __future__ import annotations

import ast
import re
import subprocess

import jupytext
import numpy as np
import pandas as pd
import pymc as pm
import pytest
from conftest import ROOT

from tools.benchmarks import bench, models
from tools.benchmarks.models import MODEL_TAG, MODELS, chapter_namespace, elasticity_sales

RESULTS = ROOT / "tools" / "benchmarks" / "results"
REQUIRED = [
    "season_baseline",
    "season_interaction",
    "season_varying",
    "season_lkj",
    "elasticity_no_pooling",
    "elasticity_multilevel",
    "elasticity_correlated",
]
#: The "Your own data" model at 5,000 rows (tools/benchmarks/models.py): the 60 s target of
#: issue 15.
LARGE = "own_data_crossed"
BOOK_BACKEND = bench.book_backend()
#: The benchmarked models that are the chapters' own model objects (tools/benchmarks/models.py).
FROM_CHAPTERS = [
    "elasticity_no_pooling",
    "elasticity_multilevel",
    "elasticity_correlated",
    "media_uncorrected",
    "media_mundlak",
]


def chapter_code(chapter: str) -> str:
    """The chapter's text with adjacent string literals joined, as Python would join them."""
    text = (ROOT / "book" / f"{chapter}.md").read_text()
    return re.sub(r'"\s*\n\s*f?"', "", text)


@pytest.mark.parametrize("name", [name for name in MODELS if name not in FROM_CHAPTERS])
def test_every_model_rebuilt_here_is_fitted_in_its_chapter(name):
    spec = MODELS[name]()
    assert spec.source is None
    code = chapter_code(spec.chapter)
    assert spec.formula in code, f"{name}: {spec.formula!r} is not in book/{spec.chapter}.md"


@pytest.mark.parametrize("name", FROM_CHAPTERS)
def test_chapter_models_are_the_chapters_own_objects(name, monkeypatch):
    """By construction: the benchmark fits the very model object the chapter's tagged cells
    define (data, formula, priors), with the record's sampler settings."""
    spec = MODELS[name]()
    chapter = chapter_namespace(spec.chapter)
    fitted = []
    monkeypatch.setattr(models, "fit_bambi", lambda model, **kwargs: fitted.append((model, kwargs)))
    monkeypatch.setattr(
        pm, "sample", lambda **kwargs: fitted.append((pm.modelcontext(None), kwargs))
    )
    spec.fit(sampler="nutpie", draws=7)
    [(model, kwargs)] = fitted
    assert model is chapter[spec.source]
    assert kwargs["nuts_sampler"] == "nutpie" and kwargs["draws"] == 7
    formula = getattr(getattr(model, "formula", None), "main", None)
    assert spec.formula == (formula or chapter["multilevel_formula"])


@pytest.mark.parametrize("chapter", ["elasticities", "media_panel"])
def test_model_definition_cells_define_and_do_not_fit_or_draw(chapter):
    cells = [
        cell
        for cell in jupytext.read(ROOT / "book" / f"{chapter}.md").cells
        if MODEL_TAG in cell.metadata.get("tags", [])
    ]
    assert cells
    for cell in cells:
        called = {
            node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            for node in ast.walk(ast.parse(cell.source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name)
        }
        assert not called & {"fit", "sample", "compute_log_likelihood", "subplots", "show"}, (
            chapter,
            cell.source[:60],
        )
    # myst-nb hides or removes cells by tags starting so; this one only adds a CSS class.
    assert not MODEL_TAG.startswith(("remove", "hide"))


def test_a_chapter_without_model_definitions_is_refused_by_name():
    with pytest.raises(ValueError, match="chapter 'log_odds'.*model-definition"):
        chapter_namespace("log_odds")


def test_benchmark_and_tests_centre_the_elasticity_data_as_the_chapter_does():
    """Log price on its mean over the rows, income on its mean over the nine regions (a typical
    region, not the observation-weighted mean)."""
    sales = elasticity_sales()
    assert sales is not chapter_namespace("elasticities")["sales"]  # a copy
    assert abs(sales["log_price_c"].mean()) < 1e-12
    by_region = sales.groupby("region")["income_c"].first()
    assert len(by_region) == 9 and abs(by_region.mean()) < 1e-12
    np.testing.assert_allclose(
        sales["median_income"] - sales["income_c"], chapter_namespace("elasticities")["mean_income"]
    )


def fake_runs() -> pd.DataFrame:
    rows = []
    for cache, times in [("cold", [9.0, 5.0, 7.0]), ("warm", [2.0, 1.0, 3.0])]:
        for rep, seconds in enumerate(times):
            rows.append(
                {
                    "model": "m",
                    "backend": "numpyro",
                    "cache": cache,
                    "rep": rep,
                    "import_s": 1.0,
                    "time_to_posterior_s": seconds,
                    "sampling_s": 0.5,
                    "min_ess_bulk": 1000.0 + rep,
                    "min_ess_tail": 900.0,
                    "ess_bulk_per_s": 2000.0,
                    "divergences": 0,
                    "max_r_hat": 1.0,
                }
            )
    return pd.DataFrame(rows)


def test_summary_reports_minimum_and_median_per_cell():
    summary = bench.summarize(fake_runs()).set_index("cache")
    assert summary.loc["cold", "time_to_posterior_s_min"] == 5.0
    assert summary.loc["cold", "time_to_posterior_s_median"] == 7.0
    assert summary.loc["warm", "time_to_posterior_s_median"] == 2.0
    assert (summary["runs"] == 3).all()


def test_markdown_table_has_a_row_per_model_and_backend_and_names_the_machine():
    info = {"cores": "2", "cpu": "test cpu", "python": "3.12.1", "pymc": "6.4.0"}
    table = bench.markdown_table(bench.summarize(fake_runs()), info, reps=3)
    assert "2 cores (test cpu)" in table and "pymc 6.4.0" in table
    assert "| m | numpyro | 5.0 (7.0) | 1.0 (2.0) | 0.5 (0.5) |" in table


def test_cache_env_puts_every_compile_cache_in_one_folder(tmp_path):
    env = bench.cache_env(tmp_path, "cvm")
    assert env["PYTENSOR_FLAGS"] == f"base_compiledir={tmp_path / 'pytensor'},linker=cvm"
    assert env["NUMBA_CACHE_DIR"].startswith(str(tmp_path))
    assert env["JAX_COMPILATION_CACHE_DIR"].startswith(str(tmp_path))


def test_unknown_model_is_refused_by_name(capsys):
    with pytest.raises(SystemExit):
        bench.main(["--models", "no_such_model"])
    assert "no_such_model" in capsys.readouterr().err


def test_driver_writes_the_record_and_appends_to_it(tmp_path, monkeypatch):
    calls = []

    def fake_worker(model, backend, cache_dir):
        calls.append((model, backend, cache_dir.name))
        return {metric: 1.0 for metric in bench.METRICS}

    monkeypatch.setattr(bench, "run_worker", fake_worker)
    monkeypatch.setattr(bench, "machine", lambda: {"cores": "2", "cpu": "x", "python": "3.12"})
    bench.drive(["season_lkj"], ["pymc-cvm"], reps=2, out=tmp_path)
    # rep 0's cold run fills the cache the warm runs reuse; later cold runs get empty caches
    warm, cold = "warm-pymc-cvm-season_lkj", "cold-pymc-cvm-season_lkj-1"
    assert [c[2] for c in calls] == [warm, warm, cold, warm]
    bench.drive(["season_baseline"], ["pymc-cvm"], reps=2, out=tmp_path, append=True)
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert list(dict.fromkeys(runs["model"])) == ["season_baseline", "season_lkj"]  # book order
    assert len(runs) == 8
    assert (tmp_path / "summary.md").read_text().count("| pymc-cvm |") == 2


@pytest.mark.slow
def test_worker_measures_a_fit_in_a_fresh_process(tmp_path):
    result = bench.run_worker("season_baseline", "numpyro", tmp_path)
    assert set(bench.METRICS) <= set(result)
    assert result["min_ess_bulk"] >= 400 and result["divergences"] == 0
    assert result["max_r_hat"] <= 1.01
    assert 0 < result["sampling_s"] <= result["time_to_posterior_s"]


# The committed record -------------------------------------------------------------------------


def load_summary() -> pd.DataFrame:
    return pd.read_csv(RESULTS / "summary.csv").set_index(["model", "backend", "cache"])


def test_record_covers_every_required_model_backend_and_cache_state():
    summary = load_summary()
    for model in REQUIRED:
        for backend in bench.BACKENDS:
            for cache in ("cold", "warm"):
                assert (model, backend, cache) in summary.index, (model, backend, cache)
                assert summary.loc[(model, backend, cache), "runs"] >= 3
    runs = pd.read_csv(RESULTS / "runs.csv")
    assert len(runs) == summary["runs"].sum()
    assert (RESULTS / "summary.md").read_text().count("\n| ") >= len(REQUIRED) * len(bench.BACKENDS)


def test_record_backs_the_choice_of_the_book_backend():
    """The reasons helpers/sampling.py gives: fastest cold for every chapter model, same draws
    every run. (The large own-data model, measured on two backends only, is not a chapter's.)

    Of the targets, only "season-pass models under 10 s cold" is asserted (the fast models); the
    3 s warm target is reported, met or not, by the Performance page.
    """
    summary = load_summary()
    cold = summary.xs("cold", level="cache")["time_to_posterior_s_median"].unstack("backend")
    cold = cold.loc[[model for model in cold.index if model != LARGE]]
    assert (cold.idxmin(axis=1) == BOOK_BACKEND).all()
    for model in ["season_baseline", "season_interaction", "season_varying"]:
        assert cold.loc[model, BOOK_BACKEND] < 10
    runs = pd.read_csv(RESULTS / "runs.csv")
    fingerprints = runs[runs["backend"] == BOOK_BACKEND].groupby("model")["min_ess_bulk"].nunique()
    assert (fingerprints == 1).all(), "the book backend gave different draws in different runs"


def test_book_backend_passes_the_convergence_gate_in_the_record():
    book = load_summary().xs(BOOK_BACKEND, level="backend")
    assert (book["min_ess_bulk_min"] >= 400).all() and (book["min_ess_tail_min"] >= 400).all()
    assert (book["max_r_hat_median"] <= 1.01).all() and (book["divergences_min"] == 0).all()


def test_large_model_record_passes_the_gate_with_the_book_backend_under_60_s_warm():
    large = load_summary().loc[LARGE]
    book = large.xs(BOOK_BACKEND, level="backend")
    assert book.loc["warm", "time_to_posterior_s_median"] < 60
    assert (book["min_ess_bulk_min"] >= 400).all() and (book["min_ess_tail_min"] >= 400).all()
    assert (book["max_r_hat_median"] <= 1.01).all() and (book["divergences_min"] == 0).all()


def test_make_keeps_compile_caches_under_build_and_clean_removes_them():
    show = subprocess.run(
        [
            "make",
            "-s",
            "--no-print-directory",
            "--eval",
            "show-caches: ; @echo $$PYTENSOR_FLAGS; echo $$JAX_COMPILATION_CACHE_DIR",
            "show-caches",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    ).stdout.split()
    build = str(ROOT / "_build")
    assert show[0].startswith(f"base_compiledir={build}/") and show[1].startswith(f"{build}/")
    clean = subprocess.run(
        ["make", "-n", "clean"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "rm -rf _build" in clean
