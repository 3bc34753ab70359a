"""Data registry, loaders and binomial aggregation for the book's data sets.

Every file in ``data/`` is listed in :data:`REGISTRY` with its SHA-256 checksum.
Loaders go through :func:`data_path`, which refuses a missing or altered file,
so a chapter never silently runs on the wrong data.

Example
-------
>>> from helpers.data import load_season_pass, aggregate_binomial
>>> contacts = load_season_pass()
>>> len(contacts)
3156
>>> counts = aggregate_binomial(contacts, by=["promo", "channel"], outcome="bought_pass")
>>> int(counts["bought"].sum()), int(counts["n"].sum())
(1589, 3156)
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

#: Folder holding the shipped data files (``data/`` at the top of the repository).
DATA_DIR: Path = Path(__file__).resolve().parent.parent / "data"

#: File name -> SHA-256 of its bytes. Update with :func:`sha256` when a file changes on purpose.
REGISTRY: dict[str, str] = {
    "season_pass.csv": "b38ad88a09e9101bbd23f4572bde37ffe60a11bab5449a2974814d78acc023b0",
}

#: Levels of the season-pass data, reference level first (the source's reference levels).
PROMO_LEVELS: tuple[str, ...] = ("NoBundle", "Bundle")
CHANNEL_LEVELS: tuple[str, ...] = ("Mail", "Park", "Email")
PASS_LEVELS: tuple[str, ...] = ("NoPass", "YesPass")

#: Most rows :func:`expand_binomial` creates before refusing (about 3 GiB with two key columns).
MAX_EXPANDED_ROWS: int = 10**8

#: Raw column name -> tidy column name.
SEASON_PASS_COLUMNS: dict[str, str] = {"Channel": "channel", "Promo": "promo", "Pass": "pass"}


def published_season_pass_counts() -> pd.DataFrame:
    """Return the published season-pass counts (Chapman & Feit, ch. 9).

    One row per promo x channel cell with the number of contacts who bought
    a pass (``bought``) and the number of contacts (``n``). These six rows
    determine the 3,156-row data set up to row order.

    Example
    -------
    >>> counts = published_season_pass_counts()
    >>> counts.loc[counts["channel"] == "Park", "n"].tolist()
    [333, 862]
    """
    rows = [
        ("NoBundle", "Mail", 359, 637),
        ("NoBundle", "Park", 284, 333),
        ("NoBundle", "Email", 27, 512),
        ("Bundle", "Mail", 242, 691),
        ("Bundle", "Park", 639, 862),
        ("Bundle", "Email", 38, 121),
    ]
    counts = pd.DataFrame(rows, columns=["promo", "channel", "bought", "n"])
    counts["promo"] = pd.Categorical(counts["promo"], categories=PROMO_LEVELS, ordered=True)
    counts["channel"] = pd.Categorical(counts["channel"], categories=CHANNEL_LEVELS, ordered=True)
    return counts


def sha256(path: str | Path) -> str:
    """Return the hex SHA-256 digest of a file's bytes.

    Example
    -------
    >>> len(sha256(DATA_DIR / "season_pass.csv"))
    64
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def data_path(name: str, data_dir: str | Path | None = None) -> Path:
    """Return the path of a registered data file after checking it exists and is unaltered.

    Raises
    ------
    ValueError
        If ``name`` is not in :data:`REGISTRY`, the file is missing, or its
        SHA-256 differs from the registered one.

    Example
    -------
    >>> data_path("season_pass.csv").name
    'season_pass.csv'
    """
    if name not in REGISTRY:
        raise ValueError(f"unknown data file {name!r}; registered files: {sorted(REGISTRY)}")
    folder = Path(data_dir) if data_dir is not None else DATA_DIR
    path = folder / name
    if not path.is_file():
        raise ValueError(
            f"data file {name!r} not found at {path}; the book ships it in data/ "
            "(check out the full repository or pass data_dir=)"
        )
    found = sha256(path)
    if found != REGISTRY[name]:
        raise ValueError(
            f"checksum mismatch for {path}: expected SHA-256 {REGISTRY[name]}, found {found}. "
            "The file was altered; restore it with `git checkout data/` "
            "(or update helpers.data.REGISTRY if the change is deliberate)."
        )
    return path


def _require_columns(frame: pd.DataFrame, required: Sequence[str], what: str) -> None:
    """Raise a ValueError naming each missing (with its closest match) or duplicated column."""
    missing = [col for col in required if col not in frame.columns]
    if not missing:
        names = frame.columns.tolist()
        duplicated = sorted({str(col) for col in required if names.count(col) > 1})
        if duplicated:
            raise ValueError(
                f"{what}: column(s) {duplicated} appear more than once; "
                "rename or drop the extra copies so each name is unique"
            )
        return
    hints = []
    for col in missing:
        close = difflib.get_close_matches(col, [str(c) for c in frame.columns], n=1, cutoff=0.6)
        hints.append(f"{col!r}" + (f" (found {close[0]!r}: misspelled?)" if close else ""))
    raise ValueError(
        f"{what}: missing column(s) {', '.join(hints)}; columns present: {list(frame.columns)}"
    )


def _require_levels(values: pd.Series, levels: Sequence[str], column: str) -> None:
    """Raise a ValueError naming unknown (or missing) values in a categorical column."""
    if values.isna().any():
        raise ValueError(f"column {column!r} has {int(values.isna().sum())} missing value(s)")
    unknown = sorted(set(values.astype(str)) - set(levels))
    if unknown:
        raise ValueError(
            f"column {column!r} has unknown level(s) {unknown}; expected only {list(levels)}"
        )


def tidy_season_pass(raw: pd.DataFrame) -> pd.DataFrame:
    """Validate the raw season-pass frame and return the tidy version.

    The raw frame has columns ``Channel``, ``Promo`` and ``Pass`` with the
    source's values. The tidy frame has ``channel`` and ``promo`` as *ordered*
    categoricals with the source's reference level first (Mail; NoBundle) and
    ``bought_pass`` as 0/1 integers. Ordered categoricals matter: Bambi codes an
    unordered categorical in alphabetical order, which would make Bundle and
    Email the reference levels.

    Raises
    ------
    ValueError
        On an empty frame, a missing, misspelled or duplicated column, a missing
        value or an unknown level.

    Example
    -------
    >>> raw = pd.DataFrame({"Channel": ["Park"], "Promo": ["Bundle"], "Pass": ["YesPass"]})
    >>> tidy_season_pass(raw).to_dict("records")
    [{'channel': 'Park', 'promo': 'Bundle', 'bought_pass': 1}]
    """
    if len(raw) == 0:
        raise ValueError("season-pass data is empty: expected one row per customer contact")
    _require_columns(raw, list(SEASON_PASS_COLUMNS), "season-pass data")
    _require_levels(raw["Channel"], CHANNEL_LEVELS, "Channel")
    _require_levels(raw["Promo"], PROMO_LEVELS, "Promo")
    _require_levels(raw["Pass"], PASS_LEVELS, "Pass")
    return pd.DataFrame(
        {
            "channel": pd.Categorical(raw["Channel"], categories=CHANNEL_LEVELS, ordered=True),
            "promo": pd.Categorical(raw["Promo"], categories=PROMO_LEVELS, ordered=True),
            "bought_pass": (raw["Pass"] == "YesPass").astype("int64").to_numpy(),
        }
    )


def load_season_pass(data_dir: str | Path | None = None) -> pd.DataFrame:
    """Load the 3,156 season-pass contacts as a tidy frame (see :func:`tidy_season_pass`).

    The file's checksum is verified first (:func:`data_path`).

    Example
    -------
    >>> contacts = load_season_pass()
    >>> list(contacts.columns)
    ['channel', 'promo', 'bought_pass']
    >>> list(contacts["promo"].cat.categories)
    ['NoBundle', 'Bundle']
    """
    path = data_path("season_pass.csv", data_dir)
    return tidy_season_pass(pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""]))


def _rows(index: pd.Index) -> str:
    """The first five row labels of ``index``, and how many more there are."""
    rows = index.tolist()
    return f"{rows[:5]}" + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")


def validate_counts(counts: pd.DataFrame, successes: str = "bought", trials: str = "n") -> None:
    """Check a binomial count table: columns present, whole numbers, 0 <= successes <= trials.

    The one check of binomial counts: :func:`expand_binomial` and the binomial models of
    :mod:`helpers.lkj` call it too.

    Raises
    ------
    ValueError
        Naming the column and the offending rows (the first five, and how many more).

    Example
    -------
    >>> validate_counts(pd.DataFrame({"bought": [3], "n": [5]}))
    >>> validate_counts(pd.DataFrame({"bought": [3], "n": ["5"]}))
    Traceback (most recent call last):
    ...
    ValueError: column 'n' must hold numeric counts, got dtype str; convert it with pd.to_numeric
    >>> validate_counts(pd.DataFrame({"bought": [1, 1.5], "n": [2, 2]}))
    Traceback (most recent call last):
    ...
    ValueError: column 'bought' must hold whole numbers of contacts, but rows [1] do not (1.5)
    """
    if len(counts) == 0:
        raise ValueError("count table is empty")
    _require_columns(counts, [successes, trials], "count table")
    for col in (successes, trials):
        values = counts[col]
        if values.isna().any():
            raise ValueError(
                f"column {col!r} has missing values in rows {_rows(counts.index[values.isna()])}"
            )
        if values.dtype.kind not in "iuf":  # not bool or complex either
            raise ValueError(
                f"column {col!r} must hold numeric counts, got dtype {values.dtype}; "
                "convert it with pd.to_numeric"
            )
        numbers = values.to_numpy(dtype=float)
        infinite = ~np.isfinite(numbers)
        if infinite.any():
            raise ValueError(
                f"column {col!r} has infinite counts in rows {_rows(counts.index[infinite])}"
            )
        fractional = np.mod(numbers, 1) != 0
        if fractional.any():
            raise ValueError(
                f"column {col!r} must hold whole numbers of contacts, but rows "
                f"{_rows(counts.index[fractional])} do not ({numbers[fractional][0]:g})"
            )
        negative = numbers < 0
        if negative.any():
            raise ValueError(
                f"column {col!r} has negative counts in rows {_rows(counts.index[negative])}"
            )
    too_many = (counts[successes] > counts[trials]).to_numpy()
    if too_many.any():
        raise ValueError(
            f"{successes!r} exceeds {trials!r} in rows {_rows(counts.index[too_many])}: "
            "successes cannot outnumber trials"
        )


def aggregate_binomial(
    frame: pd.DataFrame,
    by: str | Sequence[str] = ("promo", "channel"),
    outcome: str = "bought_pass",
    successes: str = "bought",
    trials: str = "n",
) -> pd.DataFrame:
    """Collapse 0/1 rows into binomial counts: one row per combination of ``by``.

    ``by`` is a column name or a list of them. Categorical ``by`` columns keep
    their level order (and so their reference level); every combination of
    levels appears, unused levels included, with zero counts if unobserved.
    The inverse is :func:`expand_binomial`.

    Raises
    ------
    ValueError
        On an empty frame, a missing or duplicated column, a missing value in a
        ``by`` column (pandas would silently drop those rows), or an outcome
        that is not 0/1.

    Example
    -------
    >>> rows = pd.DataFrame({"g": ["a", "a", "b"], "y": [1, 0, 1]})
    >>> aggregate_binomial(rows, by="g", outcome="y").to_dict("records")
    [{'g': 'a', 'bought': 1, 'n': 2}, {'g': 'b', 'bought': 1, 'n': 1}]
    """
    by = [by] if isinstance(by, str) else list(by)
    if not by:
        raise ValueError("by is empty: name at least one column to group by")
    if len(frame) == 0:
        raise ValueError("cannot aggregate an empty frame")
    _require_columns(frame, [*by, outcome], "aggregate_binomial")
    for col in by:
        n_missing = int(frame[col].isna().sum())
        if n_missing:
            raise ValueError(
                f"grouping column {col!r} has {n_missing} missing value(s); aggregating would "
                "silently drop those rows. Drop them or give them a level of their own first."
            )
    bad = sorted(set(pd.unique(frame[outcome])) - {0, 1})
    if bad:
        raise ValueError(f"outcome column {outcome!r} must be 0/1; found values {bad[:5]}")
    grouped = frame.groupby(by, observed=False, sort=True)[outcome]
    counts = grouped.agg(**{successes: "sum", trials: "count"}).reset_index()
    counts[[successes, trials]] = counts[[successes, trials]].astype("int64")
    return counts


def expand_binomial(
    counts: pd.DataFrame,
    successes: str = "bought",
    trials: str = "n",
    outcome: str = "bought_pass",
    max_rows: int = MAX_EXPANDED_ROWS,
) -> pd.DataFrame:
    """Expand a binomial count table into one 0/1 row per trial (inverse of :func:`aggregate_binomial`).

    Within each cell the successes come first. Columns other than ``successes``
    and ``trials`` are repeated on every row, keeping their dtype. The index of
    ``counts`` is ignored (it may repeat); the result has a fresh 0..n-1 index.

    Raises
    ------
    ValueError
        If the count table is invalid (see :func:`validate_counts`), ``outcome``
        would overwrite one of its other columns, or the result would have more
        than ``max_rows`` rows (checked before any memory is allocated).

    Example
    -------
    >>> expand_binomial(pd.DataFrame({"g": ["a"], "bought": [1], "n": [2]})).to_dict("records")
    [{'g': 'a', 'bought_pass': 1}, {'g': 'a', 'bought_pass': 0}]
    >>> expand_binomial(pd.DataFrame({"bought": [1], "n": [10**10]}))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: expanding would create 10,000,000,000 rows (the sum of 'n'), roughly 149 GiB; ...
    """
    validate_counts(counts, successes, trials)
    keys = counts.drop(columns=[successes, trials])
    if outcome in keys.columns:
        raise ValueError(
            f"outcome column {outcome!r} already exists in the count table and would be "
            "overwritten; pass another outcome= name"
        )
    total = float(counts[trials].to_numpy(dtype=float).sum())
    if total > max_rows:
        # int64 outcome and row positions, about 8 bytes per key column
        gib = total * 8 * (2 + keys.shape[1]) / 2**30
        raise ValueError(
            f"expanding would create {total:,.0f} rows (the sum of {trials!r}), roughly "
            f"{gib:,.0f} GiB; the limit is max_rows={max_rows:,}. Fit the counts directly with a "
            f"binomial likelihood (e.g. 'p({successes}, {trials}) ~ ...' in Bambi) instead, "
            "or raise max_rows if you have the memory."
        )
    n = counts[trials].to_numpy(dtype="int64")
    k = counts[successes].to_numpy(dtype="int64")
    rows = keys.iloc[np.repeat(np.arange(len(keys)), n)].reset_index(drop=True)
    rows[outcome] = np.concatenate(
        [
            np.r_[np.ones(ki, dtype="int64"), np.zeros(ni - ki, dtype="int64")]
            for ki, ni in zip(k, n)
        ]
    )
    return rows


def write_season_pass_csv(path: str | Path) -> Path:
    """Rebuild ``season_pass.csv`` from the published counts (how the shipped file was made).

    Rows are in the order of :func:`published_season_pass_counts`, buyers first in each cell.

    Example
    -------
    >>> import tempfile, os
    >>> out = write_season_pass_csv(os.path.join(tempfile.mkdtemp(), "season_pass.csv"))
    >>> sha256(out) == REGISTRY["season_pass.csv"]
    True
    """
    rows = expand_binomial(published_season_pass_counts())
    raw = pd.DataFrame(
        {
            "Channel": rows["channel"].astype(str),
            "Promo": rows["promo"].astype(str),
            "Pass": np.where(rows["bought_pass"] == 1, "YesPass", "NoPass"),
        }
    )
    path = Path(path)
    raw.to_csv(path, index=False, lineterminator="\n")
    return path
