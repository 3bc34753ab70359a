"""The grouped-data simulator and the shrinkage plot: validation, reproducibility, truth."""

from __future__ import annotations

import dataclasses

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from scipy import special

from helpers.plotting import plot_shrinkage
from helpers.simulate import (
    CHANNELS,
    CONTACT_CHANNELS,
    CONTACT_PROMOS,
    ContactsParams,
    ElasticityParams,
    PanelParams,
    simulate_contacts,
    simulate_correlated_stores,
    simulate_elasticities,
    simulate_grouped_binomial,
    simulate_panel,
    simulate_reaction_times,
)


def test_same_seed_same_data_different_seed_different_data():
    a = simulate_grouped_binomial(seed=7)
    b = simulate_grouped_binomial(seed=7)
    c = simulate_grouped_binomial(seed=8)
    assert a.data.equals(b.data) and a.truth.equals(b.truth)
    assert not a.data.equals(c.data)


def test_shapes_sizes_and_truth():
    sim = simulate_grouped_binomial(n_groups=40, min_size=5, max_size=500, seed=1)
    assert len(sim.data) == len(sim.truth) == 40
    assert sim.data["n"].between(5, 500).all()
    assert (sim.data["bought"] <= sim.data["n"]).all() and (sim.data["bought"] >= 0).all()
    assert np.allclose(sim.truth["p"], special.expit(sim.truth["log_odds"]))
    assert sim.data["store"].cat.ordered
    assert list(sim.data["store"]) == list(sim.truth["store"])


def test_truth_follows_the_population():
    sim = simulate_grouped_binomial(n_groups=4000, mu=-0.5, sigma=0.5, seed=2)
    assert sim.truth["log_odds"].mean() == pytest.approx(-0.5, abs=0.03)
    assert sim.truth["log_odds"].std() == pytest.approx(0.5, abs=0.03)


def test_outcomes_follow_the_truth():
    sim = simulate_grouped_binomial(n_groups=3, sizes=[200_000] * 3, seed=3)
    share = sim.data["bought"] / sim.data["n"]
    assert np.allclose(share, sim.truth["p"], atol=0.005)


def test_sizes_are_log_uniform():
    sim = simulate_grouped_binomial(n_groups=4000, min_size=5, max_size=500, seed=4)
    log_n = np.log(sim.data["n"])
    assert np.median(log_n) == pytest.approx((np.log(5) + np.log(500)) / 2, abs=0.1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_groups": 0}, "n_groups"),
        ({"n_groups": 2.5}, "n_groups"),
        ({"min_size": 0}, "min_size"),
        ({"min_size": 10, "max_size": 5}, "max_size"),
        ({"sigma": -1.0}, "sigma"),
        ({"sigma": float("nan")}, "sigma"),
        ({"mu": float("inf")}, "mu"),
        ({"n_groups": 3, "sizes": [10, 20]}, "sizes"),
        ({"n_groups": 2, "sizes": [10, 0]}, "sizes"),
    ],
)
def test_bad_parameters_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        simulate_grouped_binomial(**kwargs)


def test_shrinkage_plot_labels_and_points():
    ax = plot_shrinkage([0.1, 0.5, 0.9], [0.3, 0.5, 0.6], [5, 50, 500], 0.5, truth=[0.2, 0.5, 0.7])
    assert ax.get_xlabel() == "no pooling: take rate"
    assert ax.get_ylabel() == "partial pooling: take rate"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "population mean (typical group)" in labels and "true value (line: error)" in labels
    # One error line per group, from the partial-pooling estimate to the truth.
    segments = ax.collections[-2].get_segments()
    assert [tuple(seg[:, 1]) for seg in segments] == [(0.3, 0.2), (0.5, 0.5), (0.6, 0.7)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([0.1, 0.2], [0.1], [1, 2], 0.1), "one value per group"),
        (([0.1, 0.2], [0.1, 0.2], [1, 0], 0.1), "positive"),
    ],
)
def test_shrinkage_plot_rejects_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        plot_shrinkage(*args)


def test_shrinkage_plot_rejects_misshapen_truth():
    with pytest.raises(ValueError, match="truth"):
        plot_shrinkage([0.1, 0.2], [0.1, 0.2], [1, 2], 0.1, truth=[0.1])


# --- price elasticities -----------------------------------------------------------------------


def test_elasticity_simulation_is_reproducible():
    a, b = simulate_elasticities(seed=3), simulate_elasticities(seed=3)
    assert a.data.equals(b.data) and a.truth.equals(b.truth)
    assert not a.data.equals(simulate_elasticities(seed=4).data)


def test_elasticity_data_shape_and_logs():
    sim = simulate_elasticities(seed=42)
    assert len(sim.truth) == 9 and sim.data["region"].nunique() == 9
    assert (sim.truth["stores"] >= 2).all()
    per_store = sim.data.groupby("store").size()
    assert (per_store >= 2).all()
    assert np.allclose(np.log(sim.data["price"]), sim.data["log_price"])
    assert np.allclose(np.log(sim.data["quantity"]), sim.data["log_quantity"])
    assert (sim.data["price"] > 0).all()
    assert sim.truth["observations"].sum() == len(sim.data)


def test_true_elasticities_follow_the_income_line():
    """Each region's elasticity lies within 4 region sds of -0.1 - 0.6 x income."""
    for seed in range(5):
        sim = simulate_elasticities(seed=seed)
        p = sim.params
        line = p.slope_base + p.slope_income * sim.truth["median_income"]
        assert (np.abs(sim.truth["elasticity"] - line) < 4 * p.region_sd).all()
        intercept_line = p.intercept_base + p.intercept_income * sim.truth["median_income"]
        assert (np.abs(sim.truth["intercept"] - intercept_line) < 4 * p.region_sd).all()
        assert (sim.truth["median_income"] > p.income_shift).all()


def test_noise_sd_is_recovered_by_least_squares():
    sim = simulate_elasticities(seed=42)
    residuals = []
    for _region, rows in sim.data.groupby("region", observed=True):
        slope, intercept = np.polyfit(rows["log_price"], rows["log_quantity"], 1)
        residuals.append(rows["log_quantity"] - intercept - slope * rows["log_price"])
    assert np.std(np.concatenate(residuals)) == pytest.approx(0.3, abs=0.02)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n_regions", 0),
        ("noise_sd", -0.3),
        ("noise_sd", 0.0),
        ("price_sd", float("nan")),
        ("stores_mu", 0),
        ("min_steps", 0),
        ("slope_income", float("inf")),
        ("region_sd", "0.02"),
    ],
)
def test_bad_elasticity_parameters_are_named(field, value):
    with pytest.raises(ValueError, match=field):
        ElasticityParams(**{field: value})


def test_correlated_stores_follow_their_parameters():
    sim = simulate_correlated_stores(n_stores=4000, contacts=5, corr=-0.6, seed=3)
    rho = np.corrcoef(sim.truth["intercept"], sim.truth["slope"])[0, 1]
    assert rho == pytest.approx(-0.6, abs=0.03)
    assert sim.truth["slope"].std() == pytest.approx(0.5, abs=0.02)
    assert list(sim.data["promo"].cat.categories) == ["NoBundle", "Bundle"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_stores": 1}, "n_stores"),
        ({"contacts": 0}, "contacts"),
        ({"corr": 1.0}, "corr"),
        ({"sd": (0.5, 0.0)}, "sd"),
        ({"mean": (0.0,)}, "mean"),
    ],
)
def test_bad_correlated_store_parameters_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        simulate_correlated_stores(**kwargs)


# --- multi-market media panel -------------------------------------------------------------------


def test_panel_simulation_is_reproducible():
    a, b = simulate_panel(seed=3), simulate_panel(seed=3)
    assert a.data.equals(b.data) and a.truth.equals(b.truth)
    assert not a.data.equals(simulate_panel(seed=4).data)


def test_panel_shape_columns_and_units():
    p = PanelParams(n_markets=7, n_weeks=30)
    sim = simulate_panel(p, seed=1)
    assert sim.data.shape == (7 * 30, 9)
    assert sim.data["market"].cat.ordered and sim.data["market"].nunique() == 7
    assert (sim.data.groupby("market", observed=True).size() == 30).all()
    assert (sim.data[list(CHANNELS)] > 0).all().all()
    assert np.allclose(sim.data["trend"], sim.data["week"] / 52)
    for c in CHANNELS:  # the markets table's means are the data's
        means = sim.data.groupby("market", observed=True)[c].mean()
        assert np.allclose(means.to_numpy(), sim.truth[f"mean_{c}"])


def test_panel_kpi_is_the_sum_of_its_parts():
    """Subtracting every true component leaves Normal noise with the stated sd."""
    sim = simulate_panel(PanelParams(n_markets=30, n_weeks=52), seed=5)
    p, d = sim.params, sim.data
    m = sim.truth.set_index("market")
    explained = (
        d["market"].map(m["baseline"]).astype(float)
        + p.trend * d["trend"]
        + p.season * d["season"]
        + p.brand_effect * d["brand"]
    )
    for c in CHANNELS:
        explained += d["market"].map(m[f"slope_{c}"]).astype(float) * d[c]
    residual = d["kpi"] - explained
    assert residual.std() == pytest.approx(p.noise_sd, rel=0.05)
    assert abs(residual.mean()) < 4 * p.noise_sd / np.sqrt(len(d))
    # The brand metric is standardized AR(1).
    assert d["brand"].std() == pytest.approx(1, abs=0.1)


def test_panel_truth_follows_the_parameters():
    """Over many markets: slopes scatter around the effects, spend levels around their means,
    and baselines move with log spend level by the confounding coefficients."""
    p = PanelParams(n_markets=3000, n_weeks=4)
    sim = simulate_panel(p, seed=2)
    m = sim.truth
    for i, c in enumerate(CHANNELS):
        assert m[f"slope_{c}"].mean() == pytest.approx(p.effects[i], abs=0.02)
        assert m[f"slope_{c}"].std() == pytest.approx(p.slope_sds[i], rel=0.1)
        assert m[f"mean_{c}"].mean() == pytest.approx(p.spend_means[i], rel=0.05)
    z = np.column_stack([np.log(m[f"mean_{c}"]) for c in CHANNELS])
    X = np.column_stack([np.ones(len(m)), (z - z.mean(axis=0)) / p.spend_between])
    coef = np.linalg.lstsq(X, m["baseline"], rcond=None)[0]
    # Weekly noise in the 4-week means attenuates the slopes a little.
    assert coef[1:] == pytest.approx(p.confounding, abs=0.4)
    assert coef[3] < -3


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n_markets", 0),
        ("n_weeks", 1),
        ("effects", (1.0, 2.0)),
        ("slope_sds", (0.1, -0.1, 0.1)),
        ("spend_means", (5.0, 0.0, 4.0)),
        ("confounding", (0.0, float("nan"), 0.0)),
        ("spend_within", -0.1),
        ("noise_sd", 0.0),
        ("trend", float("inf")),
        ("brand_ar", 1.0),
        ("baseline_sd", "1"),
    ],
)
def test_bad_panel_parameters_are_named(field, value):
    with pytest.raises(ValueError, match=field):
        PanelParams(**{field: value})


# --- simulate_reaction_times ----------------------------------------------------------------------


def test_reaction_times_shape_crossing_and_truth():
    sim = simulate_reaction_times(n_subjects=40, n_days=10, n_stimuli=8, seed=3)
    data = sim.data
    assert len(data) == 400 and list(data.columns) == ["subject", "stimulus", "days", "reaction"]
    assert (
        data.groupby("subject", observed=True)["days"].apply(sorted).map(list)
        == [list(map(float, range(10)))] * 40
    ).all()
    # crossed: subjects meet several stimulus sets, and sets several subjects
    assert data.groupby("subject", observed=True)["stimulus"].nunique().min() > 1
    assert data.groupby("stimulus", observed=True)["subject"].nunique().min() > 1
    # the truth generated the data: residuals around the subjects' lines and stimulus offsets
    merged = data.merge(sim.truth, on="subject").merge(sim.stimulus_truth, on="stimulus")
    residual = (
        merged["reaction"]
        - merged["intercept"]
        - merged["slope"] * merged["days"]
        - merged["offset"]
    )
    assert abs(residual.std() - sim.params.sigma) < 0.15 * sim.params.sigma


def test_reaction_times_scales_multiply_the_units():
    base = simulate_reaction_times(n_subjects=5, seed=4)
    scaled = simulate_reaction_times(n_subjects=5, seed=4, y_scale=1e3, x_scale=24.0)
    np.testing.assert_allclose(scaled.data["reaction"], 1e3 * base.data["reaction"])
    np.testing.assert_allclose(scaled.data["days"], 24 * base.data["days"])
    assert scaled.params.slope == pytest.approx(base.params.slope * 1e3 / 24)
    np.testing.assert_allclose(scaled.truth["slope"], base.truth["slope"] * 1e3 / 24)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_subjects": 1}, "n_subjects must be a whole number >= 2"),
        ({"n_days": 1.5}, "n_days must be a whole number"),
        ({"n_stimuli": 0}, "n_stimuli"),
        ({"sd_slope": 0.0}, "sd_slope must be a finite number > 0"),
        ({"y_scale": float("inf")}, "y_scale"),
        ({"corr": 1.0}, "corr must be a finite number > -1 and < 1"),
        ({"sd_intercept": 1e200}, "sd_intercept must be .* and < 1e\\+150"),
        ({"intercept": float("nan")}, "intercept must be a finite number"),
    ],
)
def test_reaction_times_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        simulate_reaction_times(**kwargs)


# --- nonsense parameters and oversized requests (issue 17) ----------------------------------------


def elasticities(**fields):
    return simulate_elasticities(ElasticityParams(**fields))


def panel(**fields):
    return simulate_panel(PanelParams(**fields))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        # Gamma draws of 0 (all-NaN rows) or inf: checked after drawing, naming mean and sd
        (lambda: elasticities(price_mean=1e-320), "price_mean=1e-320 with price_sd"),
        (lambda: elasticities(price_sd=100.0), "price_sd=100.0 give a Gamma"),
        (lambda: elasticities(income_mean=1e-8), "income_mean=1e-08 with income_sd"),
        (lambda: elasticities(income_mean=1e200, income_sd=1e-200), "income_mean=1e\\+200"),
        # exp(log quantity) overflows
        (lambda: elasticities(noise_sd=1e3), "log quantity could reach.*because of noise_sd"),
        (lambda: elasticities(intercept_base=1e8), "because of intercept_base"),
        # numpy's negative binomial cannot draw it, or draws only 0: refused by the parameters
        (lambda: ElasticityParams(stores_alpha=1e-40), "stores_alpha=1e-40 is too small"),
        (lambda: ElasticityParams(steps_alpha=1e20), "steps_alpha=1e\\+20 is so large"),
        # spend underflows to 0, against the documented spend > 0
        (lambda: panel(spend_within=1000), "spend > 0.*because of spend_within"),
        (lambda: panel(spend_between=40.0), "because of spend_between"),
        (lambda: panel(spend_means=(1e-320, 4.0, 4.0)), "because of spend_means"),
        # a log-sd whose square overflows
        (lambda: PanelParams(spend_within=1e200), "spend_within must be .*< 1e\\+150"),
        # the KPI overflows
        (lambda: panel(baseline=1.7e308, season=1e308), "KPI could reach.*because of baseline"),
        (lambda: panel(effects=(1e300, 1.0, 1.0)), "KPI could reach.*because of effects"),
        (lambda: simulate_grouped_binomial(sigma=1e308), "log-odds.*because of sigma"),
        (lambda: simulate_grouped_binomial(max_size=10**30), "max_size must be.*<= 1e\\+18"),
        # an sd whose square (a variance) overflows
        (lambda: simulate_correlated_stores(sd=(1e300, 0.5)), "sd must be .*< 1e\\+150"),
        (lambda: simulate_correlated_stores(mean=(1e300, 1e300)), "log-odds.*because of mean"),
        (lambda: simulate_correlated_stores(contacts=2**63), "contacts must be.*<= 1e\\+18"),
    ],
)
def test_nonsense_parameters_are_refused_naming_the_field(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_nonsense_reaction_time_scales_are_refused():
    with pytest.raises(ValueError, match="because of x_scale"):
        simulate_reaction_times(x_scale=1e-320)
    with pytest.raises(ValueError, match=r"reaction time could reach.*because of \w+ x y_scale"):
        simulate_reaction_times(y_scale=1e307)


def test_parameters_at_the_edge_of_the_checks_give_finite_output():
    """What the checks let through still gives finite output with its documented properties."""
    panel = simulate_panel(PanelParams(n_markets=200, spend_within=29.0, spend_between=0.6), seed=1)
    spend = panel.data[list(CHANNELS)].to_numpy()
    assert (spend > 0).all() and np.isfinite(panel.data["kpi"]).all()
    sim = simulate_elasticities(ElasticityParams(price_sd=1.0, noise_sd=3.0), seed=1)
    assert (sim.data["price"] > 0).all() and (sim.data["quantity"] > 0).all()
    assert np.isfinite(sim.data.select_dtypes("number").to_numpy()).all()


@pytest.mark.parametrize(
    ("make", "request_text"),
    [
        (lambda: simulate_grouped_binomial(n_groups=10**9), "n_groups=1,000,000,000"),
        (lambda: simulate_correlated_stores(n_stores=10**9), "n_stores=1,000,000,000"),
        (lambda: PanelParams(n_markets=10**9), "n_markets=1,000,000,000 x n_weeks=26"),
        (lambda: ElasticityParams(n_regions=10**6), "n_regions=1,000,000"),
    ],
)
def test_oversized_requests_are_refused_before_allocating(make, request_text):
    """Refused with the memory the request would need, and without allocating it."""
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(
            ValueError,
            match=f"{request_text}.* GB; the simulators make at most MAX_ROWS = 10,000,000 rows",
        ):
            make()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000


def test_oversized_reaction_time_requests_are_refused():
    from helpers.simulate import MAX_ROWS

    with pytest.raises(
        ValueError,
        match=r"n_subjects=1,000,000,000 x n_days=10 asks for "
        r"10,000,000,000 rows x 4 columns, about 320.0 GB",
    ):
        simulate_reaction_times(n_subjects=10**9)
    simulate_reaction_times(n_subjects=MAX_ROWS // 10**6, n_days=2)  # small requests still run


def test_elasticity_draws_beyond_max_rows_are_refused():
    """The store and step counts are random: a widely spread draw is checked before its rows are
    made (seed 26 draws 151,404 stores of at least 200 steps each)."""
    params = ElasticityParams(stores_mu=5000, stores_alpha=1e-3, min_steps=200)
    with pytest.raises(ValueError, match="seed 26's draw of 151,404 stores.*raise stores_alpha"):
        simulate_elasticities(params, seed=26)


# --- one result design for every simulator --------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: simulate_grouped_binomial(n_groups=3, seed=1),
        lambda: simulate_correlated_stores(n_stores=3, contacts=10, seed=1),
        lambda: simulate_elasticities(ElasticityParams(n_regions=2), seed=1),
        lambda: simulate_panel(PanelParams(n_markets=2, n_weeks=3), seed=1),
        lambda: simulate_reaction_times(n_subjects=2, n_days=2, n_stimuli=2, seed=1),
        lambda: simulate_contacts(n_rows=100, n_stores=3, seed=1),
    ],
)
def test_every_result_is_a_sim_with_data_truth_and_params(make):
    """``<Thing>Sim`` with ``data`` (rows), ``truth`` (a table per group) and ``params`` (a frozen
    dataclass of the population parameters), whatever the simulator."""
    sim = make()
    assert type(sim).__name__.endswith("Sim")
    assert isinstance(sim.data, pd.DataFrame) and isinstance(sim.truth, pd.DataFrame)
    assert dataclasses.is_dataclass(sim.params) and type(sim.params).__name__.endswith("Params")
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(sim.params, dataclasses.fields(sim.params)[0].name, 0)


def test_params_hold_the_population_values():
    assert simulate_grouped_binomial(mu=-1.0, sigma=0.2).params.sigma == 0.2
    stores = simulate_correlated_stores(n_stores=3, corr=0.3, mean=[0.1, 0.2])
    assert stores.params.corr == 0.3 and stores.params.mean == (0.1, 0.2)
    reactions = simulate_reaction_times(n_subjects=2, y_scale=10.0, x_scale=2.0)
    assert reactions.params.slope == pytest.approx(10.0 * 10 / 2)
    assert list(reactions.stimulus_truth.columns) == ["stimulus", "offset"]
    assert list(reactions.truth.columns) == ["subject", "intercept", "slope"]


# --- contacts: one row per contact, in memory or streamed to Parquet ------------------------------


def test_contacts_in_memory_and_on_disk_are_the_same_rows(tmp_path, monkeypatch):
    """The rows do not depend on where they go, nor on the chunk size's split into files."""
    import helpers.simulate as simulate

    monkeypatch.setattr(simulate, "CHUNK_ROWS", 700)
    memory = simulate_contacts(n_rows=2_000, n_stores=15, seed=4)
    disk = simulate_contacts(n_rows=2_000, n_stores=15, seed=4, folder=tmp_path / "c")
    assert disk.data == tmp_path / "c"
    files = sorted(disk.data.glob("part-*.parquet"))
    assert [f.name for f in files] == [
        "part-00000.parquet",
        "part-00001.parquet",
        "part-00002.parquet",
    ]
    read = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    pd.testing.assert_frame_equal(read, memory.data)
    pd.testing.assert_frame_equal(disk.truth, memory.truth)
    # Writing again replaces the files (no stale part left from a larger run).
    simulate_contacts(n_rows=500, n_stores=15, seed=4, folder=tmp_path / "c")
    assert len(list((tmp_path / "c").glob("part-*.parquet"))) == 1


def test_contacts_columns_levels_and_counts():
    sim = simulate_contacts(n_rows=5_000, n_stores=40, seed=2)
    data = sim.data
    assert list(data.columns) == ["store", "channel", "promo", "bought"]
    assert list(data["channel"].cat.categories) == list(CONTACT_CHANNELS)
    assert list(data["promo"].cat.categories) == list(CONTACT_PROMOS)
    assert data["channel"].cat.ordered and data["promo"].cat.ordered
    assert set(data["bought"].unique()) <= {0, 1}
    assert data["store"].between(1, 40).all()
    counts = data["store"].value_counts().reindex(sim.truth["store"], fill_value=0)
    assert (counts.to_numpy() == sim.truth["n"].to_numpy()).all()


def test_contacts_follow_the_truth():
    """Shares of channel and bundle, store effects from the population, and purchase rates
    from the true log-odds (pooled over stores, per channel and promo)."""
    params = ContactsParams()
    sim = simulate_contacts(n_rows=400_000, n_stores=2_000, seed=3)
    data, truth = sim.data, sim.truth
    shares = data["channel"].value_counts(normalize=True).reindex(list(CONTACT_CHANNELS))
    assert np.allclose(shares, params.channel_share, atol=0.01)
    assert (data["promo"] == "Bundle").mean() == pytest.approx(params.bundle_share, abs=0.01)
    assert truth["intercept"].mean() == pytest.approx(params.mean[0], abs=0.05)
    assert truth["slope"].std() == pytest.approx(params.sd[1], rel=0.1)
    assert np.corrcoef(truth["intercept"], truth["slope"])[0, 1] == pytest.approx(
        params.corr, abs=0.06
    )
    # Expected purchases per row from the truth, summed by channel: close to what was bought.
    effects = truth.set_index("store")
    shift = dict(zip(CONTACT_CHANNELS, params.channel))
    bundle = (data["promo"] == "Bundle").to_numpy()
    log_odds = (
        effects.loc[data["store"], "intercept"].to_numpy()
        + bundle * effects.loc[data["store"], "slope"].to_numpy()
        + data["channel"].map(shift).to_numpy(dtype=float)
    )
    expected = pd.Series(special.expit(log_odds)).groupby(data["channel"].to_numpy()).sum()
    bought = data.groupby("channel", observed=True)["bought"].sum()
    for channel in CONTACT_CHANNELS:
        assert bought[channel] == pytest.approx(expected[channel], rel=0.02)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_rows": 0}, "n_rows"),
        ({"n_stores": 2.5}, "n_stores"),
        ({"n_rows": 20_000_000}, "folder="),
        ({"params": ContactsParams(sd=(0.5, -1.0))}, "sd"),
        ({"params": ContactsParams(corr=1.0)}, "corr"),
        ({"params": ContactsParams(channel_share=(0.5, 0.5, 0.5))}, "channel_share"),
        ({"params": ContactsParams(channel_share=(1.0, 0.0, 0.0))}, "channel_share"),
        ({"params": ContactsParams(bundle_share=1.0)}, "bundle_share"),
        ({"params": ContactsParams(channel=(0.0, float("nan"), 0.0))}, "channel"),
        ({"params": ContactsParams(size_sd=-1.0)}, "size_sd"),
    ],
)
def test_bad_contact_parameters_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        simulate_contacts(**{"n_rows": 100, "n_stores": 5, **kwargs})
