"""Models Bambi cannot express: correlated varying effects with an LKJ prior.

brms and lme4 read ``(1 + x | g)`` as group-level intercepts and slopes *with* a correlation;
Bambi 0.21 fits them independently. :func:`correlated_effects_model` builds the correlated
version as a PyMC model from the same formula string, with the design matrices made by
formulae (Bambi's formula engine), so a formula means the same columns in both. Several
grouping terms are allowed: crossed ``(1 + x | g) + (1 | h)``, nested ``(1 | a/b)`` and
uncorrelated ``(1 + x || g)``.

Default priors follow Bambi's rules, so they are on the data's own scale (see
:func:`model_priors`); print them before fitting. :func:`predict` gives expected values or
posterior predictive draws for new rows of existing or new groups.

Formulas are code: Bambi (through formulae) evaluates the names and calls in a formula as Python,
so a formula can call anything reachable from where it is evaluated. The helpers therefore read a
formula themselves and refuse, before formulae evaluates anything, whatever is not a column name,
a number, an operator or one of the :data:`TRANSFORMS` (see :func:`parse_formula`).

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> df = pd.DataFrame({"g": np.repeat(list("abcd"), 5), "x": rng.normal(size=20)})
>>> df["y"] = 100 + 10 * df["x"] + rng.normal(size=20)
>>> model = correlated_effects_model("y ~ 1 + x + (1 + x | g)", df)
>>> model.coords["effect"], model.coords["g"]
(('Intercept', 'x'), ('a', 'b', 'c', 'd'))
>>> print(model_priors("y ~ 1 + x + (1 + x | g)", df).table().loc["Intercept", "prior"])
Normal(98.23, 21.83)
"""

from __future__ import annotations

import keyword
import numbers
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr
from formulae import design_matrices
from scipy import special

from helpers.data import validate_counts

#: Families the helper supports, and the response each expects.
FAMILIES: dict[str, str] = {
    "gaussian": "a numeric response",
    "bernoulli": "a 0/1 response",
    "binomial": "p(successes, trials)",
}

#: Bambi's multiplier for the default prior scales (``bambi.priors.scaler.PriorScaler.STD``).
PRIOR_SCALE: float = 2.5

#: The only functions a formula may call: formulae's own ``C``, ``I``, ``center``, ``scale`` and
#: ``standardize``, and numpy's ``log`` and ``exp`` (given to formulae by the helpers).
TRANSFORMS: tuple[str, ...] = ("C", "I", "center", "exp", "log", "scale", "standardize")
_TRANSFORM_FUNCTIONS: dict[str, object] = {"exp": np.exp, "log": np.log}

#: Range of the LKJ shape ``eta``: outside it the log density loses accuracy (above about 1e12)
#: or cannot be computed (below about 1e-16). LKJ(1) is uniform over correlation matrices; a large
#: eta pins the correlations at 0, as an uncorrelated term ``(1 + x || g)`` does.
ETA_RANGE: tuple[float, float] = (1e-8, 1e8)

#: Explicit prior scales are in conflict with a gaussian response when its mean lies more than
#: this many prior sds from the intercept's prior mean ...
CONFLICT_SDS: float = 4.0
#: ... or when its sd is more than this many times the scale of sigma's HalfNormal prior.
CONFLICT_SPREAD: float = 10.0


class PriorDataConflictWarning(UserWarning):
    """Explicit prior scales leave the response's location or spread far out of the priors' reach.

    Issued by :func:`model_priors` and :func:`correlated_effects_model`; the fit would then be
    pulled far from the data while the convergence checks still pass.
    """


_GROUP_TERM = re.compile(r"\(([^()|]*)(\|\|?)([^()|]*)\)")
_PROPORTION = re.compile(r"^p\(\s*(\w+)\s*,\s*(\w+)\s*\)$")
_GROUP = re.compile(r"\w+(\s*[:/]\s*\w+)*")
# One token of the right-hand side: a number (not glued to a name or a dot), a name, an operator.
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?![\w.])
  | (?P<name>[^\W\d]\w*)
  | (?P<op>\*\*|\|\||[-+*/:()|])
""",
    re.VERBOSE,
)
_ALLOWED = (
    "formulas are evaluated as code (by formulae, as in Bambi), so the helpers accept only column "
    "names, numbers, the operators + - * / : ** | and parentheses, and the transforms "
    + ", ".join(TRANSFORMS)
    + ": add a computed column to the data instead"
)


@dataclass(frozen=True)
class GroupTerm:
    """One grouping term ``(effects | group)``; ``group`` is a column or ``a:b`` (an interaction)."""

    effects: str
    group: str
    correlated: bool = True


@dataclass(frozen=True)
class ParsedFormula:
    """The parts of ``response ~ common + (effects | group) + ...``."""

    response: str
    trials: str | None
    common: str
    terms: tuple[GroupTerm, ...]


def parse_formula(formula: str) -> ParsedFormula:
    """Split an lme4-style formula into response, common part and grouping terms.

    ``(1 + x | g)`` gives correlated effects, ``(1 + x || g)`` uncorrelated ones, ``(1 | a/b)``
    expands (as in lme4 and brms) to ``(1 | a) + (1 | a:b)``, and ``a:b`` groups by the
    combinations of two columns.

    Formulas are code: Bambi and formulae evaluate a formula's names and calls as Python, so a
    formula from an untrusted source could run anything (``os.system(...)`` included). This
    function reads the formula without evaluating it and accepts on the right-hand side only
    names (column names, checked against the data later), numbers, the operators ``+ - * / : **``,
    ``|``, ``||`` and parentheses, and calls of the :data:`TRANSFORMS` (``C``, ``I``, ``center``,
    ``exp``, ``log``, ``scale``, ``standardize``); the response is a column name or
    ``p(successes, trials)``.

    Raises
    ------
    ValueError
        For anything the helper cannot fit faithfully, saying what to write instead: no ``~``,
        unbalanced parentheses, no grouping term, a grouping factor that is not column names
        joined by ``:`` or ``/``, the same grouping factor in two terms, a malformed
        ``p(successes, trials)`` response, or anything beyond the allowed names, numbers,
        operators and transforms: attribute access (``a.b``), strings, other functions, names
        with ``__``, Python keywords, braces.

    Example
    -------
    >>> parse_formula("p(bought, n) ~ 0 + (1 + promo | channel)")  # doctest: +NORMALIZE_WHITESPACE
    ParsedFormula(response='bought', trials='n', common='0',
                  terms=(GroupTerm(effects='1 + promo', group='channel', correlated=True),))
    >>> [t.group for t in parse_formula("y ~ x + (1 | a/b)").terms]
    ['a', 'a:b']
    """
    if not isinstance(formula, str):
        raise ValueError(f"formula must be a string like 'y ~ x + (1 + x | g)', got {formula!r}")
    if formula.count("~") != 1:
        raise ValueError(f"formula needs exactly one '~': {formula!r}")
    _check_parentheses(formula)
    lhs, rhs = (part.strip() for part in formula.split("~"))
    found = _GROUP_TERM.findall(rhs)
    if "|" in _GROUP_TERM.sub("", rhs):
        raise ValueError(
            f"could not read a grouping term of {formula!r}: write (effects | group) with group "
            "column names joined by ':' (interaction) or '/' (nesting); brms's gr(), mm() and "
            "cs() and transformed effects such as log(x) are not supported"
        )
    if not found:
        raise ValueError(
            f"no grouping term '(effects | group)' in {formula!r}: for a model without group-level "
            "effects use Bambi (bmb.Model)"
        )
    terms: list[GroupTerm] = []
    for effects, bar, group in found:
        effects, group = effects.strip(), re.sub(r"\s+", "", group)
        if not _GROUP.fullmatch(group):
            raise ValueError(
                f"grouping factor '{group}' must be column names joined by ':' (interaction) or "
                "'/' (nesting), e.g. (1 | store) or (1 | region/store)"
            )
        if not effects:
            raise ValueError(f"the grouping term ({effects}{bar}{group}) names no effects")
        if ":" in group and "/" in group:
            raise ValueError(f"grouping factor '{group}' mixes ':' and '/': write the terms out")
        parts = group.split("/")
        for depth in range(1, len(parts) + 1):
            terms.append(GroupTerm(effects, ":".join(parts[:depth]), bar == "|"))
    groups = [term.group for term in terms]
    repeated = sorted({g for g in groups if groups.count(g) > 1})
    if repeated:
        raise ValueError(
            f"grouping factor(s) {repeated} appear in more than one term of {formula!r}: put their "
            "effects in one term, e.g. (1 + x | g) (correlated) or (1 + x || g) (uncorrelated)"
        )
    _tokens(rhs, formula)  # refuses anything but names, numbers, operators and TRANSFORMS
    common = _GROUP_TERM.sub("", rhs).strip()
    common = re.sub(r"^\+|\+$", "", re.sub(r"(\+\s*)+\+", "+", common).strip()).strip() or "1"
    proportion = _PROPORTION.match(lhs)
    if lhs.startswith("p(") and not proportion:
        raise ValueError(f"binomial response must read p(successes, trials), got {lhs!r}")
    if proportion:
        return ParsedFormula(proportion.group(1), proportion.group(2), common, tuple(terms))
    if not re.fullmatch(r"\w+", lhs):
        raise ValueError(
            f"response must be a column name or p(successes, trials), got {lhs!r}: add a "
            "transformed column to the data (e.g. data['log_y'] = np.log(data['y']))"
        )
    return ParsedFormula(lhs, None, common, tuple(terms))


def _check_parentheses(formula: str) -> None:
    """Raise ``ValueError`` unless every '(' of ``formula`` is closed by a later ')'."""
    depth = 0
    for position, char in enumerate(formula):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            raise ValueError(
                f"unbalanced parentheses in {formula!r}: the ')' after {formula[:position]!r} "
                "closes nothing; remove it or add the matching '('"
            )
    if depth:
        raise ValueError(
            f"unbalanced parentheses in {formula!r}: {depth} '(' never closed; add the matching ')'"
        )


def _tokens(text: str, formula: str) -> list[tuple[str, str]]:
    """``(kind, token)`` pairs of a right-hand side; kind is number, name, call or op.

    A ``call`` is a name followed by '(' and must be one of :data:`TRANSFORMS`. Raises
    ``ValueError`` for anything else (see :func:`parse_formula`), naming it.
    """
    found: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            rest = text[position : position + 30]
            char = rest[0]
            if char == "." and found and found[-1][0] in ("name", "op"):
                what = f"attribute access ('{found[-1][1]}{rest.split()[0]}')"
            elif char in "'\"`":
                what = f"a string or quoted name ({rest!r})"
            else:
                what = f"{char!r} (at {rest!r})"
            raise ValueError(f"{what} is not allowed in formula {formula!r}: {_ALLOWED}")
        position = match.end()
        kind = match.lastgroup
        token = match.group(kind)
        if kind == "space":
            continue
        if kind == "name" and ("__" in token or keyword.iskeyword(token)):
            raise ValueError(
                f"the name {token!r} is not allowed in formula {formula!r} (names with '__' and "
                f"Python keywords are refused): {_ALLOWED}"
            )
        if token == "(" and found and found[-1][0] == "name":
            name = found[-1][1]
            if name not in TRANSFORMS:
                raise ValueError(f"unknown function {name}() in formula {formula!r}: {_ALLOWED}")
            found[-1] = ("call", name)
        elif token == "(" and found and (found[-1][1] == ")" or found[-1][0] == "number"):
            raise ValueError(
                f"only the transforms can be called, but formula {formula!r} calls "
                f"'{found[-1][1]}(': {_ALLOWED}"
            )
        found.append((kind, token))
    return found


def _formula_columns(parsed: ParsedFormula) -> list[str]:
    """The column names of the common part and the group-level effects, in order."""
    parts = [parsed.common] + [term.effects for term in parsed.terms]
    names = [token for part in parts for kind, token in _tokens(part, part) if kind == "name"]
    return list(dict.fromkeys(names))


def _design(response: str, terms: str, data: pd.DataFrame):
    """formulae's common-effects design of ``response ~ terms`` (None if it has no columns)."""
    try:
        common = design_matrices(
            f"{response} ~ {terms}", data, extra_namespace=_TRANSFORM_FUNCTIONS
        ).common
    except Exception as error:  # formulae raises several types for unknown names
        raise ValueError(f"cannot build the design of '{terms}': {error}") from error
    if common is None:
        return None
    if len(common.as_dataframe()) != len(data):
        raise ValueError(
            f"{len(data) - len(common.as_dataframe())} row(s) have missing values in '{terms}': "
            "drop or fill them"
        )
    return common


def _group_keys(data: pd.DataFrame, group: str) -> pd.Series:
    """The level of ``group`` (a column or ``a:b``) in each row, as strings for ``a:b``."""
    columns = group.split(":")
    if len(columns) == 1:
        return data[group]
    return data[columns].astype(str).agg(":".join, axis=1)


def _check_one_type(data: pd.DataFrame, columns: list[str], role: str) -> None:
    """Raise ``ValueError`` naming the first of ``columns`` whose values mix types (numbers and
    strings, say): they cannot be sorted into levels, and '1' and 1 would print alike."""
    for column in columns:
        if data[column].dtype != object:
            continue
        kinds = sorted(
            {
                "number"
                if issubclass(kind, numbers.Number) and not issubclass(kind, (bool, np.bool_))
                else kind.__name__
                for kind in pd.unique(data[column].dropna().map(type))
            }
        )
        if len(kinds) > 1:
            raise ValueError(
                f"{role} column {column!r} mixes values of types {kinds}: make them one type "
                f"first, e.g. data[{column!r}] = data[{column!r}].astype(str)"
            )


def _response(data: pd.DataFrame, column: str, role: str, kinds: str = "iuf") -> np.ndarray:
    """The values of ``column``, checked to be numbers (numpy kinds ``kinds``) and finite."""
    values = data[column].to_numpy()
    if values.dtype.kind not in kinds:
        raise ValueError(
            f"{role} {column!r} must be numeric, got dtype {data[column].dtype}: convert it, e.g. "
            f"data[{column!r}] = pd.to_numeric(data[{column!r}])"
        )
    infinite = ~np.isfinite(values.astype(float))
    if infinite.any():
        raise ValueError(
            f"{role} {column!r} is infinite in row(s) "
            f"{data.index[infinite][:5].tolist()}: drop or fix them"
        )
    return values


def _levels(keys: pd.Series) -> list:
    """Levels in Bambi's order: a categorical's own order, otherwise sorted."""
    if isinstance(keys.dtype, pd.CategoricalDtype):
        return [level for level in keys.cat.categories if (keys == level).any()]
    return sorted(pd.unique(keys))


def _check_not_constant(frame: pd.DataFrame, labels: list[str]) -> None:
    constant = [label for label in labels if frame[label].std() == 0]
    if constant:
        raise ValueError(f"column(s) {constant} of the design are constant: no slope to estimate")


@dataclass
class _TermDesign:
    term: GroupTerm
    design: object  # formulae CommonEffectsMatrix
    effects: pd.DataFrame
    levels: list
    index: np.ndarray
    effect_dim: str

    @property
    def group(self) -> str:
        return self.term.group


@dataclass
class _Design:
    parsed: ParsedFormula
    family: str
    y: np.ndarray
    trials: np.ndarray | None
    common_design: object | None
    common: pd.DataFrame | None
    terms: list[_TermDesign] = field(default_factory=list)


def _build_design(formula: str, data: pd.DataFrame, family: str) -> _Design:
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {sorted(FAMILIES)}, got {family!r}")
    parsed = parse_formula(formula)
    if (family == "binomial") != (parsed.trials is not None):
        raise ValueError(
            f"family {family!r} expects {FAMILIES[family]}; the formula's response is "
            f"{formula.split('~')[0].strip()!r}"
        )
    group_columns = list(
        dict.fromkeys(col for term in parsed.terms for col in term.group.split(":"))
    )
    predictors = _formula_columns(parsed)
    needed = list(
        dict.fromkeys(
            [parsed.response] + ([parsed.trials] if parsed.trials else []) + group_columns
        )
    )
    missing = [col for col in dict.fromkeys(needed + predictors) if col not in data.columns]
    if missing:
        raise ValueError(
            f"column(s) {missing} not in the data (check the spelling, or add them); the data's "
            f"columns: {list(data.columns)}"
        )
    if data[needed].isna().any().any():
        bad = [col for col in needed if data[col].isna().any()]
        raise ValueError(f"missing values in {bad}: drop or fill them first")
    _check_one_type(data, group_columns, "grouping")
    _check_one_type(data, [col for col in predictors if col not in group_columns], "predictor")
    trials = None
    if family == "gaussian":
        y = _response(data, parsed.response, "gaussian response")
    elif family == "bernoulli":
        y = data[parsed.response].to_numpy()
        if not np.isin(y, [0, 1]).all():
            raise ValueError(f"bernoulli response {parsed.response!r} must be 0/1")
    else:
        validate_counts(data, parsed.response, parsed.trials)
        y, trials = data[parsed.response].to_numpy(), data[parsed.trials].to_numpy()

    common_design = None
    if parsed.common.strip() != "0":
        common_design = _design(parsed.response, parsed.common, data)
    common = None if common_design is None else common_design.as_dataframe()
    several = len(parsed.terms) > 1
    design = _Design(parsed, family, y, trials, common_design, common)
    for term in parsed.terms:
        effects_design = _design(parsed.response, term.effects, data)
        if effects_design is None:
            raise ValueError(f"the grouping term on '{term.group}' has no effects")
        keys = _group_keys(data, term.group)
        levels = _levels(keys)
        if len(levels) < 2:
            raise ValueError(f"grouping factor {term.group!r} has fewer than two levels")
        # Positions in the observed levels (pd.Categorical would warn about unused categories).
        index = pd.Index(levels).get_indexer(keys)
        effect_dim = f"effect_{term.group}" if several else "effect"
        design.terms.append(
            _TermDesign(
                term, effects_design, effects_design.as_dataframe(), levels, index, effect_dim
            )
        )
    return design


@dataclass(frozen=True)
class Priors:
    """The priors of a :func:`correlated_effects_model`, one entry per parameter.

    Attributes
    ----------
    intercept
        ``(mu, sigma)`` of the Normal prior on the intercept of the *centred* design (as in Bambi
        and brms), or None when the common part has no intercept or is not centred.
    common
        Normal ``(mu, sigma)`` per common coefficient (the intercept too when not centred).
    centred
        Whether the common predictors are centred (data-scaled defaults with an intercept).
    group_sd
        HalfNormal scale of each group-level sd: ``{group: {effect: scale}}``.
    eta
        LKJ shape of every correlated term's correlation matrix.
    correlated
        ``{group: True}`` for terms with an LKJ correlation.
    sigma
        ``("HalfStudentT", nu, scale)`` or ``("HalfNormal", scale)`` for the gaussian residual
        sd; None for the other families.
    """

    intercept: tuple[float, float] | None
    common: dict[str, tuple[float, float]]
    centred: bool
    group_sd: dict[str, dict[str, float]]
    eta: float
    correlated: dict[str, bool]
    sigma: tuple | None

    def table(self) -> pd.DataFrame:
        """One row per parameter (brms's names) with its prior, as text."""
        rows = []
        if self.intercept is not None:
            rows.append(
                (
                    "Intercept",
                    f"Normal({_num(self.intercept[0])}, {_num(self.intercept[1])})",
                    "at the predictors' means",
                )
            )
        for name, (mu, sigma) in self.common.items():
            rows.append((f"b[{name}]", f"Normal({_num(mu)}, {_num(sigma)})", "common effect"))
        for group, scales in self.group_sd.items():
            for effect, scale in scales.items():
                rows.append(
                    (
                        f"sd_{group}[{effect}]",
                        f"HalfNormal({_num(scale)})",
                        f"{effect} sd across {group}",
                    )
                )
            if self.correlated[group]:
                rows.append((f"cor_{group}", f"LKJ({_num(self.eta)})", f"{group} correlations"))
        if self.sigma is not None:
            args = ", ".join(_num(value) for value in self.sigma[1:])
            rows.append(("sigma", f"{self.sigma[0]}({args})", "residual sd"))
        return pd.DataFrame(rows, columns=["parameter", "prior", "meaning"]).set_index("parameter")

    def __str__(self) -> str:
        return self.table().to_string()


def _num(value: float) -> str:
    return f"{value:.4g}"


def _check_scale(name: str, value: float | None) -> None:
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not np.isfinite(value)
        or not value > 0
    ):
        raise ValueError(f"{name} must be a finite positive number, got {value!r}")


def _priors(
    design: _Design,
    eta: float,
    sd_scale: float | None,
    common_scale: float | None,
    sigma_scale: float | None,
) -> Priors:
    for name, value in {
        "eta": eta,
        "sd_scale": sd_scale,
        "common_scale": common_scale,
        "sigma_scale": sigma_scale,
    }.items():
        _check_scale(name, value)
    if not ETA_RANGE[0] <= eta <= ETA_RANGE[1]:
        raise ValueError(
            f"eta must lie between {ETA_RANGE[0]:g} and {ETA_RANGE[1]:g}, got {eta!r}: outside "
            "that range the LKJ log density is inaccurate or cannot be computed (eta = 1 is "
            "uniform; for correlations of 0 use an uncorrelated term, (1 + x || g))"
        )
    gaussian = design.family == "gaussian"
    # Bambi's PriorScaler: the response's mean and sd for gaussian models, 0 and 1 otherwise.
    y_mean, y_sd = (float(np.mean(design.y)), float(np.std(design.y))) if gaussian else (0.0, 1.0)
    if gaussian and y_sd == 0:
        raise ValueError(f"response {design.parsed.response!r} is constant: nothing to model")
    common = design.common
    has_intercept = common is not None and "Intercept" in common.columns
    slopes = [] if common is None else [c for c in common.columns if c != "Intercept"]
    common_priors: dict[str, tuple[float, float]] = {}
    if common_scale is not None:
        common_priors = (
            {name: (0.0, float(common_scale)) for name in common.columns}
            if common is not None
            else {}
        )
    elif common is not None:
        _check_not_constant(common, slopes)
        for term_name, columns in _common_columns(design).items():
            for name in columns:
                if gaussian:
                    sigma = PRIOR_SCALE * y_sd / float(np.std(common[name]))
                elif _is_categorical(design.common_design, term_name):
                    sigma = 1.0
                else:
                    sigma = 1.0 / float(np.std(common[name]))
                common_priors[name] = (0.0, sigma)
    # Bambi's intercept scale: 2.5 sd(y), widened by the slopes' prior sds times the predictors'
    # means; the same scale for the sd of group-level intercepts.
    slope_sigmas = (
        np.array([common_priors[c][1] for c in slopes])
        if common_scale is None and slopes
        else np.zeros(0)
    )
    x_means = common[slopes].mean().to_numpy() if slope_sigmas.size else np.zeros(0)
    intercept_sigma = float(
        np.sqrt((PRIOR_SCALE * y_sd) ** 2 + np.sum(slope_sigmas**2 * x_means**2))
    )
    intercept = None
    centred = common_scale is None and has_intercept
    if centred:
        mu, sigma = (y_mean, intercept_sigma) if gaussian else (0.0, 1.5)
        intercept = (mu, sigma)
    group_sd: dict[str, dict[str, float]] = {}
    for term in design.terms:
        scales = {}
        for name in term.effects.columns:
            if sd_scale is not None:
                scales[name] = float(sd_scale)
            elif name == "Intercept":
                scales[name] = intercept_sigma
            else:
                _check_not_constant(term.effects, [name])
                scales[name] = PRIOR_SCALE * y_sd / float(np.std(term.effects[name]))
        group_sd[term.group] = scales
    correlated = {t.group: t.term.correlated and t.effects.shape[1] > 1 for t in design.terms}
    sigma_prior = None
    if gaussian:
        sigma_prior = (
            ("HalfNormal", float(sigma_scale))
            if sigma_scale is not None
            else ("HalfStudentT", 4.0, y_sd)
        )
    priors = Priors(
        intercept, common_priors, centred, group_sd, float(eta), correlated, sigma_prior
    )
    _warn_prior_conflict(design, priors, sd_scale)
    return priors


def _warn_prior_conflict(design: _Design, priors: Priors, sd_scale: float | None) -> None:
    """Warn (:class:`PriorDataConflictWarning`) when explicit prior scales cannot reach a gaussian
    response: its mean more than :data:`CONFLICT_SDS` prior sds from the intercept's prior mean,
    or its sd more than :data:`CONFLICT_SPREAD` times the scale of sigma's HalfNormal prior.

    Defaults are data-scaled and never warn; the logit families have no response scale to miss.
    """
    if design.family != "gaussian":
        return
    response = design.parsed.response
    y_mean, y_sd = float(np.mean(design.y)), float(np.std(design.y))
    location = None  # (prior mean, prior sd, what the prior is on, the argument that set it)
    common_intercept = design.common is not None and "Intercept" in design.common.columns
    if common_intercept and not priors.centred:
        mu, sd = priors.common["Intercept"]
        location = (
            mu,
            sd,
            f"the intercept's prior b[Intercept] ~ Normal({_num(mu)}, {_num(sd)})",
            "common_scale",
        )
    elif not common_intercept and sd_scale is not None:
        # No common intercept: the group-level intercepts (mean 0) must carry the response's mean.
        for term in design.terms:
            if "Intercept" in term.effects.columns:
                sd = priors.group_sd[term.group]["Intercept"]
                location = (
                    0.0,
                    sd,
                    f"the prior of the group-level intercepts r_{term.group} "
                    f"(mean 0, sd_{term.group}[Intercept] ~ HalfNormal({_num(sd)}))",
                    "sd_scale",
                )
                break
    if location is not None:
        mu, sd, prior, argument = location
        distance = abs(y_mean - mu) / sd
        if distance > CONFLICT_SDS:
            warnings.warn(
                f"prior-data conflict: the response {response!r} has mean {y_mean:.4g}, "
                f"{distance:.3g} prior sds from {prior}, set by {argument}; the fit will be "
                f"pulled toward {_num(mu)} and can be far off while the convergence checks pass. "
                f"Leave {argument} unset for Bambi's data-scaled default priors, or standardize "
                "the response first",
                PriorDataConflictWarning,
                stacklevel=4,
            )
    if priors.sigma is not None and priors.sigma[0] == "HalfNormal":
        ratio = y_sd / priors.sigma[1]
        if ratio > CONFLICT_SPREAD:
            warnings.warn(
                f"prior-data conflict: the response {response!r} has sd {y_sd:.4g}, {ratio:.3g} "
                f"times the scale of sigma's prior HalfNormal({_num(priors.sigma[1])}), set by "
                "sigma_scale; the fit will squeeze the residual sd. Leave sigma_scale unset for "
                "Bambi's data-scaled default (HalfStudentT(4, sd(y))), or standardize the "
                "response first",
                PriorDataConflictWarning,
                stacklevel=4,
            )


def _common_columns(design: _Design) -> dict[str, list[str]]:
    """Common design columns per formula term, the intercept left out."""
    frame = design.common
    out: dict[str, list[str]] = {}
    for term_name, where in design.common_design.slices.items():
        if term_name != "Intercept":
            out[term_name] = list(frame.columns[where])
    return out


def _is_categorical(common_design, term_name: str) -> bool:
    term = common_design.terms[term_name]
    kinds = [getattr(c, "kind", None) for c in getattr(term, "components", [])]
    return bool(kinds) and all(kind == "categoric" for kind in kinds)


def model_priors(
    formula: str,
    data: pd.DataFrame,
    family: str = "gaussian",
    *,
    eta: float = 1.0,
    sd_scale: float | None = None,
    common_scale: float | None = None,
    sigma_scale: float | None = None,
) -> Priors:
    """The priors :func:`correlated_effects_model` uses with the same arguments.

    Defaults (no scale given) are Bambi 0.21's default priors (``bambi.priors.scaler``), computed
    from the data, with ``s_y`` the response's sd (1 for the logit families):

    - common predictors centred, intercept of the centred design ~ Normal(mean(y), s), with
      ``s = sqrt((2.5 s_y)^2 + sum_j sigma_j^2 mean(x_j)^2)`` (Normal(0, 1.5) for logit families);
    - each common coefficient ~ Normal(0, 2.5 s_y / sd(x_j)); for logit families Normal(0, 1) for
      categorical columns and Normal(0, 1 / sd(x_j)) for numeric ones;
    - sd of group-level intercepts ~ HalfNormal(s), of a group-level slope on ``x`` ~
      HalfNormal(2.5 s_y / sd(x));
    - LKJ(``eta``) on each correlated term's correlation matrix;
    - residual sd (gaussian) ~ HalfStudentT(4, s_y).

    Explicit scales replace a whole class: ``common_scale`` puts Normal(0, common_scale) on every
    common coefficient, the intercept included, in the uncentred design; ``sd_scale`` puts
    HalfNormal(sd_scale) on every group-level sd; ``sigma_scale`` puts HalfNormal(sigma_scale) on
    the residual sd. All three at 1 give the unit-scale priors the chapters teach with: they
    suit standardized responses and log-odds, not data in their own units.

    Raises
    ------
    ValueError
        As :func:`correlated_effects_model`, and for a non-positive or non-finite scale, an
        ``eta`` outside :data:`ETA_RANGE`, or a constant predictor or response.

    Warns
    -----
    PriorDataConflictWarning
        When explicit scales leave a gaussian response out of reach: its mean more than
        :data:`CONFLICT_SDS` prior sds from the intercept's prior mean (``common_scale``, or
        ``sd_scale`` for the group-level intercepts of a model without a common intercept), or
        its sd more than :data:`CONFLICT_SPREAD` times ``sigma_scale``. The defaults never warn.

    Example
    -------
    >>> from helpers.data import aggregate_binomial, load_season_pass
    >>> counts = aggregate_binomial(load_season_pass())
    >>> priors = model_priors("p(bought, n) ~ 1 + promo + (1 + promo | channel)", counts,
    ...                       family="binomial")
    >>> priors.table()["prior"].tolist()[:3]
    ['Normal(0, 1.5)', 'Normal(0, 1)', 'HalfNormal(2.55)']
    """
    design = _build_design(formula, data, family)
    return _priors(design, eta, sd_scale, common_scale, sigma_scale)


def correlated_effects_model(
    formula: str,
    data: pd.DataFrame,
    family: str = "gaussian",
    *,
    eta: float = 1.0,
    sd_scale: float | None = None,
    common_scale: float | None = None,
    sigma_scale: float | None = None,
    centered: Sequence[str] = (),
) -> pm.Model:
    """Build a PyMC model with correlated group-level effects from an lme4-style formula.

    ``y ~ common + (effects | group) + ...``: each grouping term with two or more effects gets
    an LKJ prior on their correlation, by default in the non-centered form (each group's effects
    are ``L @ z`` with ``L`` the Cholesky factor of their covariance and ``z`` standard normal);
    terms with one effect, and ``||`` terms, get independent sds (``sd * z``). Terms named in
    ``centered`` are sampled in the centred form instead (see below).

    Priors: see :func:`model_priors` (Bambi's data-scaled defaults unless scales are given);
    print ``model_priors(...)`` with the same arguments to see them.

    Variables, named as in brms's output:

    - ``b`` (dims ``common``): common coefficients on the data's scale; with centred predictors
      it is computed from ``Intercept`` (the centred design's intercept) and ``beta`` (dims
      ``slope``), which are what the sampler draws;
    - ``sd_<group>`` (dims ``effect``): group-level sds;
    - ``cor_<group>`` (dims ``effect, effect_bis``): their correlation matrix (correlated terms);
    - ``r_<group>`` (dims ``<group>, effect``): each group's effects;
    - ``z_<group>``, ``chol_<group>``: the non-centered offsets and the Cholesky factor;
    - ``coef_<group>`` (centred terms that take a mean, see ``centered``): each group's own
      effects, ``b`` plus ``r_<group>`` for the columns the term shares with the common part
      (lme4's ``coef()``); a centred term that takes none draws ``r_<group>`` around 0;
    - ``sigma`` (gaussian only); the observed variable is named after the response.

    With several grouping terms the effect dims are ``effect_<group>`` (and
    ``effect_<group>_bis``) so that each term has its own.

    Parameters
    ----------
    formula
        E.g. ``"y ~ 1 + x + (1 + x | g)"``, ``"y ~ x + (1 + x | g) + (1 | h)"``,
        ``"y ~ x + (1 | a/b)"``, ``"y ~ x + (1 + x || g)"`` or
        ``"p(bought, n) ~ 0 + (1 + promo | channel)"``.
    data
        The data frame; categorical columns are coded as Bambi codes them (treatment coding,
        reference = first level).
    family
        ``"gaussian"``, ``"bernoulli"`` or ``"binomial"`` (with ``p(successes, trials)``).
    eta, sd_scale, common_scale, sigma_scale
        Prior settings, see :func:`model_priors`.
    centered
        Grouping factors whose effects are sampled in the centred form, for groups with plenty
        of data each (the non-centered default suits groups with little; see the
        partial-pooling chapter). The sampler draws each group's own effects ``coef_<group>``
        around the population mean: the common coefficients ``b`` of the columns the term
        shares with the common part (same name and values, such as ``Intercept``), 0 for the
        others (hierarchical centring). Each common column is the mean of the first centred
        term that has it, in formula order. The model is the same as the non-centered one;
        only what the sampler moves in changes, and ``r_<group>`` still holds the deviations.
        Group-level predictors (a column that varies between groups only, such as a region's
        income) stay in the common part: the groups are centred on ``b`` of the shared columns,
        not on that regression line. With centred predictors (the default priors) the sampler
        draws the centred design's ``Intercept``; when a predictor of a shared slope has a mean
        far from 0, ``Intercept`` and that slope then lie on a narrow ridge: centre the predictor
        (or code a binary one -1/2, +1/2).

    Raises
    ------
    ValueError
        For an unsupported or unsafe formula (see :func:`parse_formula`: formulas are code, so
        only column names, numbers, operators and :data:`TRANSFORMS` are accepted), an unknown
        family, a family and response that do not match, a column of the formula missing from
        the data, missing values, a non-numeric or infinite response, binomial counts that are
        not whole numbers or exceed the trials, a grouping or predictor column mixing value
        types, a grouping factor with fewer than two levels, a bad prior setting, or a name in
        ``centered`` that is not a grouping factor of the formula.

    Warns
    -----
    PriorDataConflictWarning
        When explicit prior scales are far from the data (see :func:`model_priors`).

    Example
    -------
    >>> from helpers.data import aggregate_binomial, load_season_pass
    >>> counts = aggregate_binomial(load_season_pass())
    >>> model = correlated_effects_model(
    ...     "p(bought, n) ~ 0 + (1 + promo | channel)", counts, family="binomial")
    >>> sorted(model.named_vars)
    ['bought', 'chol_channel', 'cor_channel', 'r_channel', 'sd_channel', 'z_channel']
    """
    design = _build_design(formula, data, family)
    priors = _priors(design, eta, sd_scale, common_scale, sigma_scale)
    if isinstance(centered, str):
        centered = (centered,)
    unknown = sorted(set(centered) - {term.group for term in design.terms})
    if unknown:
        raise ValueError(
            f"centered names {unknown}, not grouping factors of {formula!r}: "
            f"choose from {[term.group for term in design.terms]}"
        )
    coords: dict[str, tuple] = {"obs": tuple(range(len(data)))}
    for term in design.terms:
        coords[term.group] = tuple(str(level) for level in term.levels)
        coords[term.effect_dim] = tuple(term.effects.columns)
        if priors.correlated[term.group]:
            coords[f"{term.effect_dim}_bis"] = tuple(term.effects.columns)
    common = design.common
    if common is not None:
        coords["common"] = tuple(common.columns)
        if priors.centred and common.shape[1] > 1:
            coords["slope"] = tuple(common.columns[1:])
    with pm.Model(coords=coords) as model:
        linear, b, absorbed = 0.0, None, set()
        # Centred terms draw their effects around b, so b comes first; otherwise the group terms
        # come first (the order of the variables, and so of the sampler's draws, before centred
        # terms existed).
        common_first = common is not None and bool(centered)
        if common_first:
            linear, b = _common_effects(common, priors)
        for term in design.terms:
            mean = None
            if term.group in centered and b is not None:
                mean, shared = _group_mean(term, common, b, absorbed)
                absorbed |= shared
            linear = linear + _group_effects(term, priors, term.group in centered, mean)
        if common is not None and not common_first:
            linear = linear + _common_effects(common, priors)[0]
        y, trials = design.y, design.trials
        if family == "gaussian":
            if priors.sigma[0] == "HalfNormal":
                sigma = pm.HalfNormal("sigma", priors.sigma[1])
            else:
                sigma = pm.HalfStudentT("sigma", nu=priors.sigma[1], sigma=priors.sigma[2])
            pm.Normal(design.parsed.response, linear, sigma, observed=y, dims="obs")
        elif family == "bernoulli":
            pm.Bernoulli(design.parsed.response, logit_p=linear, observed=y, dims="obs")
        else:
            pm.Binomial(design.parsed.response, n=trials, logit_p=linear, observed=y, dims="obs")
    return model


def _group_mean(term: _TermDesign, common: pd.DataFrame, b, absorbed: set[str]):
    """The population mean of a centred term's effects: ``b`` of the common columns the term
    shares (same name, same values), 0 for the others and for columns an earlier centred term
    already took. Returns the mean (a tensor) and the names of the columns it takes."""
    shared = {
        name
        for name in term.effects.columns
        if name in common.columns
        and name not in absorbed
        and np.allclose(term.effects[name].to_numpy(), common[name].to_numpy())
    }
    if not shared:
        return None, shared
    position = {name: i for i, name in enumerate(common.columns)}
    parts = [b[position[name]] if name in shared else 0.0 for name in term.effects.columns]
    return pm.math.stack(parts), shared


def _group_effects(term: _TermDesign, priors: Priors, centered: bool, mean=None):
    """Register one grouping term's variables; return its part of the linear predictor.

    ``mean`` (centred terms only): the population mean of the group's effects. The sampler then
    draws each group's own effects ``coef_<group>`` around it (hierarchical centring) and
    ``r_<group>`` is their deviation from it, as in the other forms.
    """
    g, dim = term.group, term.effect_dim
    scales = np.array(list(priors.group_sd[g].values()))
    k = len(scales)
    if priors.correlated[g]:
        packed = pm.LKJCholeskyCov(
            f"chol_{g}",
            n=k,
            eta=priors.eta,
            sd_dist=pm.HalfNormal.dist(scales, shape=k),
            compute_corr=False,
        )
        chol = pm.math.expand_packed_triangular(k, packed, lower=True)
        # Products written as elementwise sums: no BLAS call, so no BLAS warning or C build.
        cov = (chol[:, None, :] * chol[None, :, :]).sum(axis=-1)
        stds = pm.math.sqrt((chol**2).sum(axis=-1))
        pm.Deterministic(f"sd_{g}", stds, dims=dim)
        pm.Deterministic(
            f"cor_{g}", cov / (stds[:, None] * stds[None, :]), dims=(dim, f"{dim}_bis")
        )
        if centered and mean is not None:
            coef = pm.MvNormal(f"coef_{g}", mu=mean, chol=chol, dims=(g, dim))
            r = pm.Deterministic(f"r_{g}", coef - mean[None, :], dims=(g, dim))
        elif centered:
            r = pm.MvNormal(f"r_{g}", mu=np.zeros(k), chol=chol, dims=(g, dim))
        else:
            z = pm.Normal(f"z_{g}", 0.0, 1.0, dims=(g, dim))
            # r[j] = L @ z[j] for each group j, computed without a transpose (r_{g} is stored as
            # computed; a transposed view came back scrambled from the compiled function).
            r = pm.Deterministic(
                f"r_{g}", (z[:, None, :] * chol[None, :, :]).sum(axis=-1), dims=(g, dim)
            )
    else:
        sd = pm.HalfNormal(f"sd_{g}", scales, dims=dim)
        if centered and mean is not None:
            coef = pm.Normal(f"coef_{g}", mean[None, :], sd[None, :], dims=(g, dim))
            r = pm.Deterministic(f"r_{g}", coef - mean[None, :], dims=(g, dim))
        elif centered:
            r = pm.Normal(f"r_{g}", 0.0, sd[None, :], dims=(g, dim))
        else:
            z = pm.Normal(f"z_{g}", 0.0, 1.0, dims=(g, dim))
            r = pm.Deterministic(f"r_{g}", z * sd[None, :], dims=(g, dim))
    return (r[term.index] * term.effects.to_numpy()).sum(axis=1)


def _common_effects(common: pd.DataFrame, priors: Priors):
    """Register the common coefficients; return their part of the linear predictor and ``b``."""
    if not priors.centred:
        mu = np.array([priors.common[c][0] for c in common.columns])
        sigma = np.array([priors.common[c][1] for c in common.columns])
        b = pm.Normal("b", mu, sigma, dims="common")
        return (common.to_numpy() * b[None, :]).sum(axis=1), b
    if common.columns[0] != "Intercept":
        raise ValueError("the intercept must be the first common column")  # formulae's order
    slopes = list(common.columns[1:])
    intercept = pm.Normal("Intercept", *priors.intercept)
    if not slopes:
        b = pm.Deterministic("b", intercept[None], dims="common")
        return intercept, b
    x = common[slopes].to_numpy()
    x_mean = x.mean(axis=0)
    beta = pm.Normal("beta", 0.0, np.array([priors.common[c][1] for c in slopes]), dims="slope")
    b0 = intercept - (beta * x_mean).sum()
    b = pm.Deterministic("b", pm.math.concatenate([b0[None], beta]), dims="common")
    return intercept + ((x - x_mean) * beta[None, :]).sum(axis=1), b


def predict(
    idata,
    formula: str,
    data: pd.DataFrame,
    new_data: pd.DataFrame | None = None,
    *,
    family: str = "gaussian",
    kind: str = "mean",
    sample_new_groups: bool = False,
    random_seed: int | None = None,
) -> xr.DataArray:
    """Predictions of a fitted :func:`correlated_effects_model`: expected values or posterior
    predictive draws, for groups in the data and for new groups.

    ``kind="mean"`` is Bambi's ``kind="response_params"`` (brms's ``posterior_epred``) and
    ``kind="response"`` Bambi's and brms's posterior predictive draws. A *new* group's effects are
    drawn, per posterior draw, from Normal(0, covariance) of the fitted sds and correlations:
    brms's ``sample_new_levels="gaussian"``. (Bambi and brms by default instead give a new group
    the draws of a randomly chosen existing group; lme4 sets its effects to zero.)

    Parameters
    ----------
    idata
        The fit's DataTree (its ``posterior`` group is used).
    formula, data, family
        The formula, training data and family the model was built with (the same data frame:
        group levels are matched to the posterior's, and a mismatch is an error).
    new_data
        Rows to predict (default: the training data). Group levels seen in training use their
        fitted effects; other levels are *new groups*.
    kind
        ``"mean"``: the expected value (``mu`` for gaussian, probability ``p`` for the logit
        families); ``"response"``: posterior predictive draws (binomial needs the trials column).
    sample_new_groups
        Draw each new group's effects from the fitted population, per posterior draw
        (Normal(0, covariance) from the sds and LKJ correlation, or independent sds); when
        False (the default) a new level is an error.
    random_seed
        Seed for new-group effects and predictive draws.

    Returns
    -------
    xarray.DataArray
        Dims ``(chain, draw, obs)``, one ``obs`` per row of ``new_data`` in order; named ``mu``,
        ``p`` or after the response.

    Raises
    ------
    ValueError
        An unknown ``kind``, a formula or training data :func:`correlated_effects_model` would
        refuse, a column of the formula missing from ``new_data``, an unknown level of a common
        categorical predictor, or a new group level without ``sample_new_groups=True``.

    Example
    -------
    >>> import numpy as np, pandas as pd, pymc as pm
    >>> from helpers.sampling import sample_kwargs
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"g": np.repeat(list("abcd"), 5), "x": rng.normal(size=20)})
    >>> df["y"] = 100 + 10 * df["x"] + rng.normal(size=20)
    >>> with correlated_effects_model("y ~ 1 + x + (1 | g)", df):  # doctest: +SKIP
    ...     idata = pm.sample(**sample_kwargs())
    >>> new = pd.DataFrame({"g": ["a", "new"], "x": [0.0, 1.0]})
    >>> predict(idata, "y ~ 1 + x + (1 | g)", df, new, sample_new_groups=True)  # doctest: +SKIP
    """
    if kind not in ("mean", "response"):
        raise ValueError(f"kind must be 'mean' or 'response', got {kind!r}")
    design = _build_design(formula, data, family)
    new_data = data if new_data is None else new_data
    columns = _formula_columns(design.parsed) + [
        col for term in design.parsed.terms for col in term.group.split(":")
    ]
    missing = [col for col in dict.fromkeys(columns) if col not in new_data.columns]
    if missing:
        raise ValueError(
            f"column(s) {missing} not in new_data; its columns: {list(new_data.columns)}"
        )
    posterior = idata["posterior"]
    rng = np.random.default_rng(random_seed)
    n_chain, n_draw = posterior.sizes["chain"], posterior.sizes["draw"]
    linear = np.zeros((n_chain, n_draw, len(new_data)))
    if design.common is not None:
        x = _new_matrix(design.common_design, new_data, design.parsed.common)
        linear += np.einsum("cdk,nk->cdn", posterior["b"].to_numpy(), x)
    for term in design.terms:
        linear += _new_group_part(term, posterior, new_data, sample_new_groups, rng)
    response = design.parsed.response
    if family == "gaussian":
        mean, name = linear, "mu"
    else:
        mean, name = special.expit(linear), "p"
    if kind == "response":
        name = response
        if family == "gaussian":
            sigma = posterior["sigma"].to_numpy()[..., None]
            mean = rng.normal(mean, sigma)
        elif family == "bernoulli":
            mean = rng.binomial(1, mean)
        else:
            if design.parsed.trials not in new_data.columns:
                raise ValueError(f"column {design.parsed.trials!r} (trials) not in new_data")
            mean = rng.binomial(new_data[design.parsed.trials].to_numpy(), mean)
    return xr.DataArray(
        mean,
        dims=("chain", "draw", "obs"),
        name=name,
        coords={
            "chain": posterior["chain"].to_numpy(),
            "draw": posterior["draw"].to_numpy(),
            "obs": np.arange(len(new_data)),
        },
    )


def _new_matrix(design, new_data: pd.DataFrame, terms: str) -> np.ndarray:
    try:
        frame = design.evaluate_new_data(new_data).as_dataframe()
    except Exception as error:  # formulae: unknown level (ValueError), missing column (KeyError...)
        raise ValueError(f"cannot evaluate '{terms}' on new_data: {error}") from error
    if len(frame) != len(new_data):
        raise ValueError(f"missing values in new_data for '{terms}': drop or fill them")
    return frame.to_numpy()


def _new_group_part(
    term: _TermDesign,
    posterior,
    new_data: pd.DataFrame,
    sample_new_groups: bool,
    rng: np.random.Generator,
) -> np.ndarray:
    """One grouping term's part of the linear predictor, shape (chain, draw, row)."""
    g = term.group
    columns = g.split(":")
    missing = [c for c in columns if c not in new_data.columns]
    if missing:
        raise ValueError(f"column(s) {missing} (grouping factor {g!r}) not in new_data")
    z = _new_matrix(term.design, new_data, term.term.effects)
    keys = _group_keys(new_data, g).astype(object).to_numpy()
    known = {str(level): i for i, level in enumerate(term.levels)}
    keys = np.array([str(key) for key in keys], dtype=object)
    new_levels = sorted(set(keys) - set(known))
    if new_levels and not sample_new_groups:
        raise ValueError(
            f"level(s) {new_levels[:5]} of {g!r} were not in the training data: pass "
            "sample_new_groups=True to draw their effects from the fitted population"
        )
    fitted = [str(level) for level in posterior[f"r_{g}"].coords[g].to_numpy()]
    if fitted != [str(level) for level in term.levels]:
        raise ValueError(
            f"the levels of {g!r} in `data` differ from those the model was fitted with: pass "
            "the same data frame you fitted (new rows go in `new_data`)"
        )
    r = posterior[f"r_{g}"].transpose("chain", "draw", g, term.effect_dim).to_numpy()
    if new_levels:
        n_chain, n_draw, _, k = r.shape
        sd = posterior[f"sd_{g}"].transpose("chain", "draw", term.effect_dim).to_numpy()
        white = rng.standard_normal((n_chain, n_draw, len(new_levels), k))
        if f"cor_{g}" in posterior:
            cor = (
                posterior[f"cor_{g}"]
                .transpose("chain", "draw", term.effect_dim, f"{term.effect_dim}_bis")
                .to_numpy()
            )
            cov = sd[..., :, None] * cor * sd[..., None, :]
            chol = np.linalg.cholesky(cov + 1e-12 * np.eye(k))
            drawn = np.einsum("cdij,cdnj->cdni", chol, white)
        else:
            drawn = white * sd[..., None, :]
        r = np.concatenate([r, drawn], axis=2)
        known |= {level: len(term.levels) + i for i, level in enumerate(new_levels)}
    index = np.array([known[key] for key in keys], dtype=int)
    return np.einsum("cdnk,nk->cdn", r[:, :, index, :], z)
