"""The models the book fits, for the benchmark.

One entry per model structure the chapters fit. The elasticity and media-panel models are the
chapters' own: :func:`chapter_namespace` runs the chapter's cells tagged ``model-definition``
(its data, formulas, priors and model objects; no fitting) and the benchmark fits the model objects
they define, so data, formula and priors cannot drift from the book. The season-pass, partial
pooling and own-data models are rebuilt here (one-line formulas with unit-scale priors; the
own-data model on a larger simulated data set than its page); ``tests/tools/test_bench.py`` checks
that every formula here still appears in its chapter.

The sampler settings are those the record in ``tools/benchmarks/results`` was measured with. Since
then the elasticity and media chapters start every chain from its own jittered point (no
``init="adapt_diag"``) and fit the correlated elasticity model at ``target_accept=0.99`` with
1,000 draws. Change the settings here together with a new record (``make bench``), never alone.
Building a chapter's model object (formulae's design matrices; the PyMC graph of an LKJ model)
happens when its :class:`Spec` is made, before the benchmark's clock starts; Bambi builds the PyMC
model, and everything compiles and samples, inside ``fit``.

Each builder returns a :class:`Spec`: a function that fits the model (given extra ``pm.sample``
keywords) with a chosen NUTS implementation and returns its DataTree, and the variables whose ESS
counts.

Example
-------
>>> spec = MODELS["season_baseline"]()
>>> idata = spec.fit(sampler="nutpie")          # doctest: +SKIP
"""

from __future__ import annotations

import ast
import contextlib
import functools
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bambi as bmb
import pandas as pd
import pymc as pm

from helpers.data import aggregate_binomial, load_season_pass
from helpers.lkj import correlated_effects_model
from helpers.sampling import SAMPLER, sample_kwargs
from helpers.sampling import fit as fit_bambi
from helpers.simulate import simulate_grouped_binomial, simulate_reaction_times

BOOK = Path(__file__).resolve().parents[2] / "book"
#: The tag of the chapter cells that define a benchmarked model: its data, formula, priors and
#: model object, and nothing else (no fitting, no plots). myst-nb acts on ``remove-*``,
#: ``hide-*`` and a few other tags; this one only adds a CSS class, so the page looks the same.
MODEL_TAG = "model-definition"


@functools.cache
def chapter_namespace(chapter: str) -> dict[str, Any]:
    """What ``book/<chapter>.md`` defines for its models: the names its cells tagged
    ``model-definition`` define, run in order in a fresh namespace after the imports of its
    first (setup) cell. The setup cell's other statements (``configure()``) are not run, and
    anything the tagged cells print is dropped. Cached: every caller gets the same objects.

    Raises
    ------
    ValueError
        If the chapter has no cell tagged ``model-definition``.

    Example
    -------
    >>> sorted(name for name in chapter_namespace("media_panel") if name.endswith("_formula"))
    ['cre_formula', 'uncorrected_formula']
    """
    import jupytext  # here, not at the top: the benchmark's worker times its imports

    cells = [
        cell for cell in jupytext.read(BOOK / f"{chapter}.md").cells if cell.cell_type == "code"
    ]
    tagged = [
        number
        for number, cell in enumerate(cells, start=1)
        if MODEL_TAG in cell.metadata.get("tags", [])
    ]
    if not tagged:
        raise ValueError(
            f"chapter {chapter!r}: book/{chapter}.md has no code cell tagged {MODEL_TAG!r}"
        )
    setup = ast.parse(cells[0].source)
    imports = ast.Module(
        [node for node in setup.body if isinstance(node, ast.Import | ast.ImportFrom)],
        type_ignores=[],
    )
    namespace: dict[str, Any] = {"__name__": f"book_{chapter}"}
    exec(compile(imports, f"<book/{chapter}.md, imports of code cell 1>", "exec"), namespace)
    with contextlib.redirect_stdout(io.StringIO()):
        for number in tagged:  # tracebacks name the cell: "code cell 3" is the third
            source = cells[number - 1].source
            exec(compile(source, f"<book/{chapter}.md, code cell {number}>", "exec"), namespace)
    return namespace


def elasticity_sales() -> pd.DataFrame:
    """The elasticity chapter's ``sales``, log price and income centred as the chapter centres
    them (log price on its mean over the rows, income on its mean over the regions): a copy.

    Example
    -------
    >>> sales = elasticity_sales()
    >>> bool(abs(sales.groupby("region")["income_c"].first().mean()) < 1e-12)
    True
    """
    return chapter_namespace("elasticities")["sales"].copy()


@dataclass(frozen=True)
class Spec:
    """A model ready to fit: ``fit(sampler=SAMPLER, **sample_overrides) -> DataTree``.

    ``sampler`` is PyMC's ``nuts_sampler`` ("pymc", "nutpie", "numpyro"); the overrides replace
    the book's defaults from :func:`helpers.sampling.sample_kwargs`.
    """

    chapter: str
    formula: str
    fit: Callable[..., Any]
    var_names: list[str] | None = None
    #: The chapter's name for the model object fitted (see :func:`chapter_namespace`), or None
    #: for a model rebuilt here.
    source: str | None = None


def _bambi(
    chapter: str, formula: str, data, settings: dict, var_names=None, **model_kwargs
) -> Spec:
    def fit(sampler: str = SAMPLER, **overrides):
        model = bmb.Model(formula, data, **model_kwargs)
        return fit_bambi(model, **{**settings, **overrides, "nuts_sampler": sampler})

    return Spec(chapter, formula, fit, var_names)


def _pymc(
    chapter: str,
    formula: str,
    build: Callable[[], pm.Model],
    settings: dict,
    var_names: list[str],
    per_sampler: dict[str, dict] | None = None,
    source: str | None = None,
) -> Spec:
    """``per_sampler``: settings for one backend only, on top of ``settings``."""

    def fit(sampler: str = SAMPLER, **overrides):
        extra = (per_sampler or {}).get(sampler, {})
        with build():
            return pm.sample(
                **sample_kwargs(**{**settings, **extra, **overrides, "nuts_sampler": sampler})
            )

    return Spec(chapter, formula, fit, var_names, source)


def _chapter_bambi(chapter: str, name: str, settings: dict) -> Spec:
    """The Bambi model the chapter calls ``name``, fitted with the record's ``settings``."""
    model = chapter_namespace(chapter)[name]

    def fit(sampler: str = SAMPLER, **overrides):
        return fit_bambi(model, **{**settings, **overrides, "nuts_sampler": sampler})

    return Spec(chapter, model.formula.main, fit, None, name)


def _season_counts():
    return aggregate_binomial(load_season_pass(), by=["promo", "channel"], outcome="bought_pass")


def _normal(scale: float) -> bmb.Prior:
    return bmb.Prior("Normal", mu=0, sigma=scale)


def _group(sd_prior: bmb.Prior) -> bmb.Prior:
    return bmb.Prior("Normal", mu=0, sigma=sd_prior)


def season_baseline() -> Spec:
    """Logistic regression on the six season-pass cells (chapter logistic_regression)."""
    return _bambi(
        "logistic_regression",
        "p(bought, n) ~ 1 + promo",
        _season_counts(),
        {},
        family="binomial",
        priors={"Intercept": _normal(1), "promo": _normal(1)},
    )


def season_bernoulli() -> Spec:
    """The same model on the 3,156 contacts, one row each (chapter logistic_regression)."""
    return _bambi(
        "logistic_regression",
        "bought_pass ~ 1 + promo",
        load_season_pass(),
        {},
        family="bernoulli",
        priors={"Intercept": _normal(1), "promo": _normal(1)},
    )


def season_interaction() -> Spec:
    """Bundle x channel interaction (chapter interactions)."""
    priors = {name: _normal(1) for name in ("Intercept", "promo", "channel", "promo:channel")}
    return _bambi(
        "interactions",
        "p(bought, n) ~ promo * channel",
        _season_counts(),
        {},
        family="binomial",
        priors=priors,
    )


def season_varying() -> Spec:
    """Independent varying intercepts and bundle slopes by channel (chapter varying_slopes)."""
    half_normal = bmb.Prior("HalfNormal", sigma=1)
    return _bambi(
        "varying_slopes",
        "p(bought, n) ~ 0 + (1 + promo | channel)",
        _season_counts(),
        {"target_accept": 0.95},
        family="binomial",
        priors={"1|channel": _group(half_normal), "promo|channel": _group(half_normal)},
    )


def season_lkj() -> Spec:
    """Correlated varying effects with an LKJ(1) prior, in PyMC (chapter correlated_effects)."""
    formula = "p(bought, n) ~ 0 + (1 + promo | channel)"
    counts = _season_counts()
    return _pymc(
        "correlated_effects",
        formula,
        lambda: correlated_effects_model(formula, counts, family="binomial", eta=1.0, sd_scale=1.0),
        {"target_accept": 0.95},
        ["sd_channel", "cor_channel", "r_channel"],
    )


def partial_pooling() -> Spec:
    """Varying intercepts for 40 simulated stores (chapter partial_pooling)."""
    data = simulate_grouped_binomial(
        n_groups=40, min_size=5, max_size=500, mu=-0.5, sigma=0.5, seed=1
    ).data
    return _bambi(
        "partial_pooling",
        "p(bought, n) ~ 1 + (1 | store)",
        data,
        {},
        family="binomial",
        priors={"Intercept": _normal(1.5), "1|store": _group(bmb.Prior("HalfNormal", sigma=1))},
    )


def elasticity_no_pooling() -> Spec:
    """One price elasticity per region, no pooling (chapter elasticities)."""
    return _chapter_bambi("elasticities", "no_pooling", {"init": "adapt_diag"})


def elasticity_multilevel() -> Spec:
    """Varying intercepts and elasticities by region, income as a predictor (chapter
    elasticities)."""
    return _chapter_bambi(
        "elasticities", "multilevel", {"target_accept": 0.95, "init": "adapt_diag"}
    )


def elasticity_correlated() -> Spec:
    """The multilevel model with correlated region effects (LKJ(2)), in PyMC (chapter
    elasticities)."""
    namespace = chapter_namespace("elasticities")
    return _pymc(
        "elasticities",
        namespace["multilevel_formula"],
        lambda: namespace["correlated"],
        {"target_accept": 0.95, "init": "adapt_diag", "draws": 2000},
        ["b", "sd_region", "cor_region", "r_region", "sigma"],
        source="correlated",
    )


def media_uncorrected() -> Spec:
    """Random media slopes by market, no Mundlak terms (chapter media_panel)."""
    return _chapter_bambi(
        "media_panel", "uncorrected", {"draws": 2000, "target_accept": 0.95, "init": "adapt_diag"}
    )


def media_mundlak() -> Spec:
    """The same with the market means of spend added (Mundlak correction; chapter media_panel)."""
    return _chapter_bambi(
        "media_panel", "cre", {"draws": 2000, "target_accept": 0.95, "init": "adapt_diag"}
    )


def own_data_crossed() -> Spec:
    """The "Your own data" model on 5,000 rows: 500 subjects x 10 days, 30 crossed stimulus sets.

    Two grouping terms, three group-level effects (a correlated subject intercept and slope, a
    stimulus intercept), the helper's default (data-scaled) priors; the page itself fits 180 rows.
    nutpie runs its 4 chains on both cores (``cores=2``) and keeps 1,500 draws per chain: with
    1,000, the smallest bulk ESS fell below the gate's 400 (346 in a trial run). NumPyro keeps the
    book's defaults (one core: its chains run one after another).
    """
    formula = "reaction ~ 1 + days + (1 + days | subject) + (1 | stimulus)"
    data = simulate_reaction_times(n_subjects=500, n_days=10, n_stimuli=30, seed=3).data
    return _pymc(
        "own_data",
        formula,
        lambda: correlated_effects_model(formula, data),
        {"target_accept": 0.95},
        ["b", "sd_subject", "cor_subject", "sd_stimulus", "sigma"],
        per_sampler={"nutpie": {"cores": 2, "draws": 1500}},
    )


#: Every benchmarked model, in the book's order.
MODELS: dict[str, Callable[[], Spec]] = {
    "season_baseline": season_baseline,
    "season_bernoulli": season_bernoulli,
    "season_interaction": season_interaction,
    "season_varying": season_varying,
    "season_lkj": season_lkj,
    "partial_pooling": partial_pooling,
    "elasticity_no_pooling": elasticity_no_pooling,
    "elasticity_multilevel": elasticity_multilevel,
    "elasticity_correlated": elasticity_correlated,
    "media_uncorrected": media_uncorrected,
    "media_mundlak": media_mundlak,
    "own_data_crossed": own_data_crossed,
}
