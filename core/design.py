"""One design-matrix builder, with R's ``model.matrix`` rules, for every model of the package.

:func:`build_design` turns covariate columns into the numeric matrix a regression sees: the
propensity models (:mod:`core.propensity`, :mod:`core.matching`) and the Cox model
(:func:`core.survival.cox`) all use it, so they agree on what a covariate becomes.

R's rules (treatment contrasts, no intercept column):

* numeric and boolean columns enter as they are (booleans as 0/1); infinite values are refused;
* categorical columns (``object``, ``string`` or ``category`` dtype) become one 0/1 column per
  level except the reference level, named ``<column><level>`` (``chemo_regimenGEM``);
* level order: the categories of a pandas Categorical, otherwise sorted (Python's order, which
  is R's in the C locale; R 4.2 in C.UTF-8 sorted ">3" before "1": pass a Categorical to fix
  an order). With ``drop_unused_levels=True`` (R's ``glm``, whose model frame drops unused
  levels) levels absent from the analysed rows are ignored and the reference is the first
  level present; with ``False`` (as :func:`core.survival.cox` has always done) the reference is
  the first declared level even when absent, and absent non-reference levels get no column
  (R would give them an all-zero column and an ``NA`` coefficient).

What happens to missing values is the caller's choice (``missing``): kept as NaN in the
matrix, refused, or the rows dropped (complete cases, as MatchIt requires).

Two optional repairs make small subgroups estimable (both reported in :class:`Design`):

* ``drop_constant=True``: a covariate missing in every analysed row, or constant (a single
  level) in the analysed rows, is left out of the model (:class:`DroppedCovariate`). Rows that
  were incomplete only because of a covariate left out this way are analysed: the result is
  the model without that covariate.
* ``min_level_count=m`` (needs the treatment arm of every row): the *pooling rule*. A level of
  a categorical covariate with fewer than ``m`` patients in either arm is rare. All rare
  levels of a covariate are pooled into one level named :data:`POOLED_LEVEL` ("other"),
  placed last. If that pooled level has fewer than ``m`` patients in either arm itself, the
  rare levels join the most common remaining level instead (largest number of patients, the
  first in level order on a tie). If only one level is left, the covariate is constant:
  left out with ``drop_constant=True`` (reason ``"one level after pooling"``), an error
  otherwise. Numeric covariates, including 0/1 flags, are never pooled. Each pooling is a
  :class:`PooledLevels` record.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"age": [60, 70, 65, 50, 55, 62],
...                    "regimen": ["FOLFIRINOX", "GEM", "FOLFIRINOX", "GEM_NABPAC", "GEM_NABPAC", "FOLFIRINOX"]})
>>> d = build_design(df, ["age", "regimen"])
>>> d.matrix.columns.tolist()
['age', 'regimenGEM', 'regimenGEM_NABPAC']
>>> d.columns["regimen"]
('regimenGEM', 'regimenGEM_NABPAC')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "POOLED_LEVEL",
    "MIN_LEVEL_COUNT",
    "Design",
    "DroppedCovariate",
    "PooledLevels",
    "build_design",
    "is_categorical",
    "factor_codes",
]

#: Name of the level rare levels are pooled into (``"other (pooled)"`` if a covariate already
#: has a level of that name).
POOLED_LEVEL = "other"
#: Suggested ``min_level_count`` for the pooling rule: a level with fewer than this many
#: patients in either arm is pooled (see the module docstring).
MIN_LEVEL_COUNT = 5

Missing = Literal["propagate", "raise", "drop"]
DropReason = Literal["all missing", "constant", "one level after pooling"]


# ---------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DroppedCovariate:
    """A covariate left out of the model (``drop_constant=True``).

    Attributes
    ----------
    covariate : str
        Column name.
    reason : {"all missing", "constant", "one level after pooling"}
        Missing in every analysed row; a single value (or level) in the analysed rows; a single
        level left after the pooling rule.
    value : object
        The single value or level it takes (None when all missing).
    n : int
        Analysed rows in which it is observed (0 when all missing).
    """

    covariate: str
    reason: DropReason
    value: object = None
    n: int = 0

    def describe(self, label: str | None = None) -> str:
        """One plain sentence (``label`` replaces the column name).

        Examples
        --------
        >>> DroppedCovariate("chemo_regimen", "constant", "FOLFIRINOX", 47).describe("Regimen")
        'Regimen left out of the propensity model: FOLFIRINOX for all 47 patients.'
        """
        name = label or self.covariate
        if self.reason == "all missing":
            return f"{name} left out of the propensity model: not recorded for any patient."
        if self.reason == "constant":
            return f"{name} left out of the propensity model: {self.value} for all {self.n} patients."
        return f"{name} left out of the propensity model: only one group left after pooling rare categories."


@dataclass(frozen=True)
class PooledLevels:
    """Rare levels of one categorical covariate pooled by the pooling rule.

    Attributes
    ----------
    covariate : str
        Column name.
    levels : tuple
        The rare levels, in level order.
    into : object
        :data:`POOLED_LEVEL` (a new level) or the existing level they joined.
    n_treated, n_control : tuple of int
        Patients per arm in each rare level (same order as ``levels``).
    min_count : int
        The rule's threshold (fewer than ``min_count`` in either arm = rare).
    """

    covariate: str
    levels: tuple[object, ...]
    into: object
    n_treated: tuple[int, ...]
    n_control: tuple[int, ...]
    min_count: int

    def describe(self, label: str | None = None, arms: tuple[str, str] = ("treated", "control")) -> str:
        """One plain sentence (``label`` replaces the column name, ``arms`` names the arms).

        Examples
        --------
        >>> PooledLevels("chemo_regimen", ("GEM", "OTHER"), "FOLFIRINOX", (1, 0), (0, 2), 5).describe(
        ...     "Regimen", ("operated", "chemotherapy only"))
        'Regimen: GEM (1 operated, 0 chemotherapy only), OTHER (0 operated, 2 chemotherapy only) counted with FOLFIRINOX (fewer than 5 patients in an arm).'
        """
        name = label or self.covariate
        parts = ", ".join(
            f"{lev} ({t} {arms[0]}, {c} {arms[1]})"
            for lev, t, c in zip(self.levels, self.n_treated, self.n_control, strict=True)
        )
        verb = "pooled as" if self.into in (POOLED_LEVEL, _POOLED_ALT) else "counted with"
        target = f"'{self.into}'" if verb == "pooled as" else str(self.into)
        return f"{name}: {parts} {verb} {target} (fewer than {self.min_count} patients in an arm)."


@dataclass(frozen=True, eq=False)
class Design:
    """A model matrix and what was done to build it.

    Attributes
    ----------
    matrix : pd.DataFrame
        Design columns (no intercept), one row per analysed row, index labels of the data.
    columns : Mapping[str, tuple of str]
        Design columns of each covariate in the model (read-only).
    levels : Mapping[str, tuple]
        Levels of each categorical covariate in the model, reference first (after pooling).
    covariates : tuple of str
        Covariates in the model (the requested ones minus ``dropped``), in the given order.
    dropped : tuple of DroppedCovariate
    pooled : tuple of PooledLevels
    rows : np.ndarray
        Positions (0-based, into the data) of the analysed rows.
    """

    matrix: pd.DataFrame
    columns: Mapping[str, tuple[str, ...]]
    levels: Mapping[str, tuple[object, ...]]
    covariates: tuple[str, ...]
    dropped: tuple[DroppedCovariate, ...]
    pooled: tuple[PooledLevels, ...]
    rows: np.ndarray

    @property
    def names(self) -> list[str]:
        """Design column names, in matrix order."""
        return [str(c) for c in self.matrix.columns]


_POOLED_ALT = f"{POOLED_LEVEL} (pooled)"


# ---------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------


def is_categorical(s: pd.Series) -> bool:
    """True for columns that enter a model as treatment contrasts (object, string, category).

    Examples
    --------
    >>> import pandas as pd
    >>> is_categorical(pd.Series(["a", "b"])), is_categorical(pd.Series([1.0, 2.0]))
    (True, False)
    """
    return (
        isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)
    )


@dataclass(frozen=True)
class _Encoded:
    values: np.ndarray  # float values (numeric) or level codes, -1 = missing (categorical)
    levels: list | None  # None for numeric


def factor_codes(s: pd.Series, drop_unused: bool = True) -> tuple[np.ndarray, list]:
    """Level codes (-1 = missing) and levels of a categorical column, in R's factor order.

    Examples
    --------
    >>> import pandas as pd
    >>> codes, levels = factor_codes(pd.Series(["b", None, "a", "b"]))
    >>> codes.tolist(), levels
    ([1, -1, 0, 1], ['a', 'b'])
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy().astype(np.int64)
        levels = list(s.cat.categories)
        if not drop_unused:
            return codes, levels
        return _drop_absent(codes, levels)
    try:
        codes, uniques = pd.factorize(s, sort=True)
    except TypeError as exc:
        raise ValueError(f"Covariate {s.name!r} mixes value types ({exc}); convert it to one type.") from exc
    return codes.astype(np.int64), list(uniques)


def _drop_absent(codes: np.ndarray, levels: list) -> tuple[np.ndarray, list]:
    present = np.bincount(codes[codes >= 0], minlength=len(levels)) > 0
    if present.all():
        return codes, levels
    remap = np.cumsum(present) - 1
    new = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
    return new, [lev for lev, k in zip(levels, present, strict=True) if k]


def _encode(data: pd.DataFrame, name: str, drop_unused: bool) -> _Encoded:
    if name not in data.columns:
        raise ValueError(f"Covariate {name!r} is not a column of the data.")
    s = data[name]
    if is_categorical(s):
        codes, levels = factor_codes(s, drop_unused)
        return _Encoded(codes, levels)
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        col = s.to_numpy(dtype=float, na_value=np.nan)
        if np.isinf(col).any():
            raise ValueError(
                f"Covariate {name!r} has infinite values (e.g. the log of 0); fix or drop those values first."
            )
        return _Encoded(col, None)
    raise ValueError(
        f"Covariate {name!r} has dtype {s.dtype}, which cannot enter a model; "
        "use a numeric, boolean or categorical column."
    )


def _missing(e: _Encoded) -> np.ndarray:
    return e.values < 0 if e.levels is not None else np.isnan(e.values)


# ---------------------------------------------------------------------------------------
# Pooling rule
# ---------------------------------------------------------------------------------------


def _pool(
    name: str, codes: np.ndarray, levels: list, arm: np.ndarray, m: int
) -> tuple[np.ndarray, list, PooledLevels | None]:
    """Apply the pooling rule to complete ``codes`` (levels all present) of one covariate."""
    k = len(levels)
    nt = np.bincount(codes[arm], minlength=k)
    nc = np.bincount(codes[~arm], minlength=k)
    rare = np.minimum(nt, nc) < m
    if not rare.any() or k < 2:
        return codes, levels, None
    rare_idx = np.flatnonzero(rare)
    keep_idx = np.flatnonzero(~rare)
    record_args = (
        name,
        tuple(levels[i] for i in rare_idx),
        tuple(int(nt[i]) for i in rare_idx),
        tuple(int(nc[i]) for i in rare_idx),
        m,
    )
    pooled_t, pooled_c = int(nt[rare].sum()), int(nc[rare].sum())
    if min(pooled_t, pooled_c) >= m or keep_idx.size == 0:
        label = _POOLED_ALT if POOLED_LEVEL in levels else POOLED_LEVEL
        new_levels = [levels[i] for i in keep_idx] + [label]
        remap = np.empty(k, dtype=np.int64)
        remap[keep_idx] = np.arange(keep_idx.size)
        remap[rare_idx] = keep_idx.size
        into: object = label
    else:  # the pooled level would be rare too: the rare levels join the most common level
        total = nt + nc
        target = int(keep_idx[np.argmax(total[keep_idx])])  # argmax: first on a tie
        new_levels = [levels[i] for i in keep_idx]
        remap = np.empty(k, dtype=np.int64)
        remap[keep_idx] = np.arange(keep_idx.size)
        remap[rare_idx] = int(np.flatnonzero(keep_idx == target)[0])
        into = levels[target]
    rec = PooledLevels(record_args[0], record_args[1], into, record_args[2], record_args[3], m)
    return remap[codes], new_levels, rec


# ---------------------------------------------------------------------------------------
# Builder
# ---------------------------------------------------------------------------------------


def build_design(
    data: pd.DataFrame,
    covariates: Sequence[str],
    *,
    missing: Missing = "propagate",
    drop_unused_levels: bool = True,
    rows: np.ndarray | None = None,
    arm: np.ndarray | None = None,
    drop_constant: bool = False,
    min_level_count: int | None = None,
    on_constant: Literal["keep", "raise"] = "keep",
) -> Design:
    """Model matrix of ``covariates`` with R's rules (see the module docstring).

    Parameters
    ----------
    data : pd.DataFrame
        One row per patient.
    covariates : sequence of str
        Column names, in model order.
    missing : {"propagate", "raise", "drop"}, default "propagate"
        Missing covariate values: kept as NaN in the matrix, refused (``ValueError``), or the
        row left out (complete cases; :attr:`Design.rows` says which rows remain).
    drop_unused_levels : bool, default True
        Re-derive the levels from the analysed rows (R's ``glm``); False keeps the declared
        first level as reference (see the module docstring).
    rows : np.ndarray of bool, optional
        Rows eligible before looking at the covariates (e.g. treatment and exact-matching
        columns observed); default all.
    arm : np.ndarray of bool, optional
        Treatment arm of every row of ``data`` (True = treated); needed for
        ``min_level_count``.
    drop_constant : bool, default False
        Leave out covariates that are missing in every analysed row or constant in them.
    min_level_count : int, optional
        The pooling rule's threshold (:data:`MIN_LEVEL_COUNT` is the suggested value); None
        for no pooling. Needs ``missing="drop"`` or complete data.
    on_constant : {"keep", "raise"}, default "keep"
        What to do with a covariate constant in the analysed rows that is not dropped:
        keep it (the model's fitter will refuse it) or raise ``ValueError`` here.

    Returns
    -------
    Design

    Raises
    ------
    ValueError
        A covariate that is not a column, has an unusable dtype, infinite values, missing
        values with ``missing="raise"``, or (``on_constant="raise"``) a single value;
        a covariate missing for every eligible row without ``drop_constant``; no rows left.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"age": [60, 70, 65, 50, 55, 62, 58, 61],
    ...                    "regimen": ["FOLFIRINOX", "GEM", "FOLFIRINOX", "GEM_NABPAC",
    ...                                "GEM_NABPAC", "FOLFIRINOX", "GEM_NABPAC", "FOLFIRINOX"],
    ...                    "centre": ["A"] * 8})
    >>> arm = np.array([1, 0, 1, 0, 1, 0, 1, 0], dtype=bool)
    >>> d = build_design(df, ["age", "regimen", "centre"], missing="drop", arm=arm,
    ...                  drop_constant=True, min_level_count=2)
    >>> d.matrix.columns.tolist()   # centre is constant; GEM (0 treated, 1 control) and
    ['age', 'regimenother']
    >>> d.pooled[0].levels, d.pooled[0].into, d.dropped[0].covariate   # GEM_NABPAC (2, 1) pooled
    (('GEM', 'GEM_NABPAC'), 'other', 'centre')
    """
    if missing not in ("propagate", "raise", "drop"):
        raise ValueError(f"`missing` must be 'propagate', 'raise' or 'drop' (got {missing!r}).")
    if isinstance(covariates, str):
        covariates = [covariates]
    covariates = tuple(covariates)
    n = len(data)
    eligible = np.ones(n, dtype=bool) if rows is None else np.asarray(rows, dtype=bool)
    if eligible.shape != (n,):
        raise ValueError("`rows` must have one value per row of the data.")
    if min_level_count is not None:
        if isinstance(min_level_count, bool) or not isinstance(min_level_count, (int, np.integer)) or min_level_count < 1:
            raise ValueError(f"`min_level_count` must be a whole number >= 1 or None (got {min_level_count!r}).")
        if arm is None:
            raise ValueError("The pooling rule (`min_level_count`) needs the treatment arm of every row (`arm`).")
    if arm is not None:
        arm = np.asarray(arm, dtype=bool)
        if arm.shape != (n,):
            raise ValueError("`arm` must have one value per row of the data.")

    encoded = {c: _encode(data, c, drop_unused_levels) for c in covariates}
    dropped: list[DroppedCovariate] = []
    miss = {c: _missing(e) for c, e in encoded.items()}
    if missing == "raise":
        for c in covariates:
            k = int(miss[c][eligible].sum())
            if k:
                raise ValueError(f"Covariate {c!r} has {k} missing value(s); drop or impute them first.")
    kept = list(covariates)
    for c in covariates:
        if eligible.any() and miss[c][eligible].all():
            if not drop_constant:
                raise ValueError(f"Covariate {c!r} is missing for every patient in the selection; remove it.")
            dropped.append(DroppedCovariate(c, "all missing"))
            kept.remove(c)

    def complete_rows(cols: list[str]) -> np.ndarray:
        ok = eligible.copy()
        if missing == "drop":
            for c in cols:
                ok &= ~miss[c]
        return ok

    use = complete_rows(kept)
    if drop_constant and use.any():
        constant = [c for c in kept if _n_distinct(encoded[c], use & ~miss[c]) <= 1]
        for c in constant:
            kept.remove(c)
        if constant and missing == "drop":
            use = complete_rows(kept)  # rows incomplete only in a dropped covariate come back
        for c in constant:
            e = encoded[c]
            obs = use & ~miss[c]
            v = e.values[obs][0]
            value = e.levels[int(v)] if e.levels is not None else _plain(v)
            dropped.append(DroppedCovariate(c, "constant", value, int(obs.sum())))
    positions = np.flatnonzero(use)
    index = data.index[positions] if positions.size != n else data.index

    cols: dict[str, np.ndarray] = {}
    blocks: dict[str, tuple[str, ...]] = {}
    level_map: dict[str, tuple[object, ...]] = {}
    pooled: list[PooledLevels] = []
    final: list[str] = []
    for c in kept:
        e = encoded[c]
        v = e.values if positions.size == n else e.values[positions]
        if e.levels is None:
            if on_constant == "raise" and _n_distinct(e, use) <= 1:
                raise ValueError(_single_value_message(c, None))
            cols[c] = v
            blocks[c] = (c,)
            final.append(c)
            continue
        codes, levels = v, list(e.levels)
        if drop_unused_levels:
            codes, levels = _drop_absent(codes, levels)
        if min_level_count is not None:
            a = arm if positions.size == n else arm[positions]  # type: ignore[index]
            ok = codes >= 0
            pooled_codes, levels_p, rec = _pool(c, codes[ok], levels, a[ok], int(min_level_count))
            if rec is not None:
                codes = codes.copy()
                codes[ok] = pooled_codes
                levels = levels_p
                pooled.append(rec)
                if len(levels) < 2:
                    if drop_constant:
                        dropped.append(DroppedCovariate(c, "one level after pooling", levels[0], int(ok.sum())))
                        continue
                    raise ValueError(
                        f"Covariate {c!r} has a single level left after pooling rare levels; remove it from the "
                        "covariates."
                    )
        present_levels = np.unique(codes[codes >= 0])
        if on_constant == "raise" and present_levels.size < 2:
            raise ValueError(_single_value_message(c, [levels[int(i)] for i in present_levels]))
        names: list[str] = []
        miss_c = codes < 0
        for k in range(1, len(levels)):
            ind = codes == k
            if not drop_unused_levels and not ind.any():
                continue  # declared but absent level: no column (R: all-zero column, NA coefficient)
            col = ind.astype(float)
            if miss_c.any():
                col[miss_c] = np.nan
            cols[f"{c}{levels[k]}"] = col
            names.append(f"{c}{levels[k]}")
        blocks[c] = tuple(names)
        level_map[c] = tuple(levels)
        final.append(c)
    return Design(
        matrix=pd.DataFrame(cols, index=index),
        columns=MappingProxyType(blocks),
        levels=MappingProxyType(level_map),
        covariates=tuple(final),
        dropped=tuple(dropped),
        pooled=tuple(pooled),
        rows=positions,
    )


def _single_value_message(c: str, levels: list | None) -> str:
    what = "" if levels is None else f" ({', '.join(map(str, levels))})"
    return (f"Covariate {c!r} takes a single value in the selection{what}: it is constant and cannot be "
            "estimated; remove it from the covariates.")


def _n_distinct(e: _Encoded, rows: np.ndarray) -> int:
    v = e.values[rows]
    if e.levels is not None:
        v = v[v >= 0]
    else:
        v = v[~np.isnan(v)]
    if v.size == 0:
        return 0
    return 1 if np.all(v == v[0]) else 2


def _plain(v: object) -> object:
    """A float that is a whole number as int (for messages)."""
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return int(v)
    return v.item() if isinstance(v, np.generic) else v
