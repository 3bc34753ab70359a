"""Season-pass data: integrity against the published counts, the loader, and every bad input."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import data
from helpers.data import (
    aggregate_binomial,
    data_path,
    expand_binomial,
    load_season_pass,
    published_season_pass_counts,
    tidy_season_pass,
    validate_counts,
)


@pytest.fixture(scope="module")
def contacts() -> pd.DataFrame:
    return load_season_pass()


@pytest.fixture
def raw() -> pd.DataFrame:
    return pd.read_csv(data.DATA_DIR / "season_pass.csv", dtype=str)


# --- integrity --------------------------------------------------------------------------------


def test_checksum_matches_registry():
    assert data.sha256(data.DATA_DIR / "season_pass.csv") == data.REGISTRY["season_pass.csv"]


def test_every_shipped_file_is_registered(root):
    shipped = {p.name for p in (root / "data").iterdir() if p.is_file() and p.suffix != ".md"}
    assert shipped == set(data.REGISTRY)


def test_shipped_file_is_rebuilt_byte_for_byte_from_published_counts(tmp_path):
    rebuilt = data.write_season_pass_csv(tmp_path / "season_pass.csv")
    assert data.sha256(rebuilt) == data.REGISTRY["season_pass.csv"]


def test_raw_file_has_the_original_columns_and_values(raw):
    assert list(raw.columns) == ["Channel", "Promo", "Pass"]
    assert set(raw["Channel"]) == {"Mail", "Park", "Email"}
    assert set(raw["Promo"]) == {"Bundle", "NoBundle"}
    assert set(raw["Pass"]) == {"YesPass", "NoPass"}


def test_row_count(contacts):
    assert len(contacts) == 3156


def test_six_cells_equal_published_counts(contacts):
    counts = aggregate_binomial(contacts, by=["promo", "channel"], outcome="bought_pass")
    published = (
        published_season_pass_counts().sort_values(["promo", "channel"]).reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(counts, published)


def test_published_totals(contacts):
    by_promo = aggregate_binomial(contacts, by=["promo"], outcome="bought_pass").set_index("promo")
    assert by_promo.loc["NoBundle", ["bought", "n"]].tolist() == [670, 1482]
    assert by_promo.loc["Bundle", ["bought", "n"]].tolist() == [919, 1674]
    assert contacts["bought_pass"].sum() == 1589


def test_hand_calculated_log_odds(contacts):
    by_promo = aggregate_binomial(contacts, by=["promo"], outcome="bought_pass").set_index("promo")
    odds = by_promo["bought"] / (by_promo["n"] - by_promo["bought"])
    assert np.log(odds["NoBundle"]) == pytest.approx(-0.1922, abs=5e-5)
    assert np.log(odds["Bundle"] / odds["NoBundle"]) == pytest.approx(0.3888, abs=5e-5)
    assert odds["Bundle"] / odds["NoBundle"] == pytest.approx(1.475, abs=5e-4)


def test_source_business_questions(contacts):
    share = contacts.groupby("channel", observed=True)["bought_pass"].mean()
    assert share.idxmin() == "Email" and share["Email"] == pytest.approx(0.10, abs=0.01)
    assert share.idxmax() == "Park" and share["Park"] == pytest.approx(0.77, abs=0.01)
    buyers = contacts[contacts["bought_pass"] == 1]
    bundle_share = (buyers["promo"] == "Bundle").groupby(buyers["channel"], observed=True).mean()
    assert bundle_share.round(2).to_dict() == {"Mail": 0.40, "Park": 0.69, "Email": 0.58}


# --- the tidy frame ---------------------------------------------------------------------------


def test_tidy_columns_and_dtypes(contacts):
    assert list(contacts.columns) == ["channel", "promo", "bought_pass"]
    assert contacts["bought_pass"].dtype == np.int64
    assert set(contacts["bought_pass"]) == {0, 1}


def test_reference_levels_come_first(contacts):
    assert contacts["promo"].cat.ordered and contacts["channel"].cat.ordered
    assert list(contacts["promo"].cat.categories) == ["NoBundle", "Bundle"]
    assert list(contacts["channel"].cat.categories) == ["Mail", "Park", "Email"]


# --- bad inputs -------------------------------------------------------------------------------


def test_unknown_file_name():
    with pytest.raises(ValueError, match="unknown data file 'nope.csv'"):
        data_path("nope.csv")


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        load_season_pass(data_dir=tmp_path)


def test_checksum_mismatch(tmp_path):
    shutil.copy(data.DATA_DIR / "season_pass.csv", tmp_path / "season_pass.csv")
    with open(tmp_path / "season_pass.csv", "a") as handle:
        handle.write("Mail,Bundle,YesPass\n")
    with pytest.raises(ValueError, match="checksum mismatch"):
        load_season_pass(data_dir=tmp_path)


def test_empty_data(raw):
    with pytest.raises(ValueError, match="empty"):
        tidy_season_pass(raw.iloc[:0])


def test_missing_column(raw):
    with pytest.raises(ValueError, match="missing column.*'Pass'"):
        tidy_season_pass(raw.drop(columns="Pass"))


def test_misspelled_column_names_the_likely_culprit(raw):
    with pytest.raises(ValueError, match=r"'Channel' \(found 'Chanel': misspelled\?\)"):
        tidy_season_pass(raw.rename(columns={"Channel": "Chanel"}))


def test_unknown_level(raw):
    raw.loc[5, "Channel"] = "Emial"
    with pytest.raises(ValueError, match=r"'Channel' has unknown level\(s\) \['Emial'\]"):
        tidy_season_pass(raw)


def test_missing_value(raw):
    raw.loc[3, "Promo"] = None
    with pytest.raises(ValueError, match="'Promo' has 1 missing value"):
        tidy_season_pass(raw)


def test_aggregate_rejects_non_binary_outcome():
    with pytest.raises(ValueError, match="'y' must be 0/1"):
        aggregate_binomial(pd.DataFrame({"g": ["a", "b"], "y": [1, 2]}), by=["g"], outcome="y")


def test_aggregate_rejects_missing_column():
    with pytest.raises(ValueError, match="missing column.*'grp'"):
        aggregate_binomial(pd.DataFrame({"g": ["a"], "y": [1]}), by=["grp"], outcome="y")


def test_aggregate_rejects_empty():
    with pytest.raises(ValueError, match="empty"):
        aggregate_binomial(pd.DataFrame({"g": [], "y": []}), by=["g"], outcome="y")


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        (pd.DataFrame({"bought": [5], "n": [3]}), "'bought' exceeds 'n' in rows \\[0\\]"),
        (pd.DataFrame({"bought": [-1], "n": [3]}), "'bought' has negative counts"),
        (pd.DataFrame({"bought": [1], "n": [-3]}), "'n' has negative counts"),
        (
            pd.DataFrame({"bought": [1.5], "n": [3]}),
            r"column 'bought' must hold whole numbers of contacts, but rows \[0\] do not \(1.5\)",
        ),
        (pd.DataFrame({"bought": [1], "n": [3.5]}), "column 'n' must hold whole numbers"),
        (pd.DataFrame({"bought": [1], "trials": [3]}), "missing column.*'n'"),
        (
            pd.DataFrame({"bought": [1.0, None], "n": [3, 3]}),
            r"column 'bought' has missing values in rows \[1\]",
        ),
        (pd.DataFrame({"bought": [True], "n": [3]}), "column 'bought' must hold numeric counts"),
        (pd.DataFrame({"bought": [1 + 0j], "n": [3]}), "column 'bought' must hold numeric counts"),
        (
            pd.DataFrame({"bought": [9] * 8, "n": [3] * 8}),
            r"'bought' exceeds 'n' in rows \[0, 1, 2, 3, 4\] and 3 more: successes cannot outnumber",
        ),
        (pd.DataFrame({"bought": [], "n": []}), "empty"),
    ],
)
def test_invalid_counts(counts, message):
    with pytest.raises(ValueError, match=message):
        validate_counts(counts)
    with pytest.raises(ValueError, match=message):
        expand_binomial(counts)


def test_duplicated_column_is_named(raw):
    doubled = pd.concat([raw, raw[["Promo"]]], axis=1)
    with pytest.raises(ValueError, match=r"column\(s\) \['Promo'\] appear more than once"):
        tidy_season_pass(doubled)


def test_aggregate_refuses_missing_grouping_values(contacts):
    gaps = contacts.copy()
    gaps.loc[:4, "channel"] = np.nan
    with pytest.raises(ValueError, match=r"grouping column 'channel' has 5 missing value\(s\)"):
        aggregate_binomial(gaps)


def test_aggregate_accepts_a_single_column_name(contacts):
    pd.testing.assert_frame_equal(
        aggregate_binomial(contacts, by="promo"), aggregate_binomial(contacts, by=["promo"])
    )
    with pytest.raises(ValueError, match=r"missing column\(s\) 'promotion'"):
        aggregate_binomial(contacts, by="promotion")


def test_unused_level_gives_zero_counts_without_warnings(contacts):
    phone = contacts.assign(channel=contacts["channel"].cat.add_categories("Phone"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        counts = aggregate_binomial(phone, by=["channel"])
        rows = expand_binomial(counts)
    assert counts.set_index("channel").loc["Phone"].tolist() == [0, 0]
    assert len(rows) == 3156 and list(rows["channel"].cat.categories)[-1] == "Phone"


def test_expand_refuses_to_overwrite_a_column():
    with pytest.raises(ValueError, match=r"outcome column 'promo' already exists"):
        expand_binomial(published_season_pass_counts(), outcome="promo")


def test_expand_ignores_a_repeated_index():
    counts = published_season_pass_counts()
    repeated = counts.set_index(pd.Index([0, 0, 1, 1, 2, 2]))
    pd.testing.assert_frame_equal(expand_binomial(repeated), expand_binomial(counts))


def test_expand_refuses_a_huge_table_before_allocating():
    with pytest.raises(
        ValueError,
        match=r"10,000,000,000 rows .* roughly 149 GiB; the limit is "
        r"max_rows=100,000,000",
    ):
        expand_binomial(pd.DataFrame({"bought": [1], "n": [10**10]}))
    assert len(expand_binomial(pd.DataFrame({"bought": [1], "n": [3]}), max_rows=3)) == 3
    with pytest.raises(ValueError, match=r"max_rows=2\b"):
        expand_binomial(pd.DataFrame({"bought": [1], "n": [3]}), max_rows=2)


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        (
            pd.DataFrame({"bought": ["1"], "n": [3]}),
            r"'bought' must hold numeric counts, got dtype",
        ),
        (pd.DataFrame({"bought": [1], "n": [np.inf]}), r"'n' has infinite counts in rows \[0\]"),
        (pd.DataFrame({"bought": [1, 2], "n": [3, 1]}, index=[7, 8]), r"exceeds 'n' in rows \[8\]"),
    ],
)
def test_more_invalid_counts(counts, message):
    with pytest.raises(ValueError, match=message):
        expand_binomial(counts)


# --- properties -------------------------------------------------------------------------------

cells = st.lists(
    st.tuples(st.integers(0, 40), st.integers(0, 40)).map(lambda t: (min(t), max(t))),
    min_size=1,
    max_size=6,
).filter(lambda c: sum(n for _, n in c) > 0)


@settings(max_examples=60, deadline=None)
@given(cells)
def test_aggregate_inverts_expand(cell_counts):
    counts = pd.DataFrame(
        {
            "g": pd.Categorical([f"g{i}" for i in range(len(cell_counts))]),
            "bought": [k for k, _ in cell_counts],
            "n": [n for _, n in cell_counts],
        }
    )
    rows = expand_binomial(counts)
    assert len(rows) == counts["n"].sum()
    assert rows["bought_pass"].sum() == counts["bought"].sum()
    back = aggregate_binomial(rows, by=["g"], outcome="bought_pass")
    pd.testing.assert_frame_equal(back, counts)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("abc"), st.sampled_from("xy"), st.integers(0, 1)), min_size=1
    )
)
def test_aggregation_preserves_totals(rows):
    frame = pd.DataFrame(rows, columns=["g", "h", "y"])
    counts = aggregate_binomial(frame, by=["g", "h"], outcome="y")
    assert counts["n"].sum() == len(frame)
    assert counts["bought"].sum() == frame["y"].sum()
    assert (counts["bought"] <= counts["n"]).all()
