"""Number formatting shared by pages, tables and reports.

Examples
--------
>>> fmt_p(0.0004), fmt_p(0.0312), fmt_p(float("nan"))
('<0.001', '0.031', '—')
>>> fmt_ci(0.7, 0.52, 0.94)
'0.70 (0.52–0.94)'
"""

from __future__ import annotations

import math

DASH = "—"


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt_p(p: float | None) -> str:
    """P-value with three decimals, ``<0.001`` below that, a dash when missing."""
    if _missing(p):
        return DASH
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def fmt_num(x: float | None, digits: int = 1) -> str:
    """A number with fixed decimals, a dash when missing.

    Examples
    --------
    >>> fmt_num(12.345), fmt_num(None)
    ('12.3', '—')
    """
    return DASH if _missing(x) else f"{x:.{digits}f}"


def fmt_ci(est: float | None, lower: float | None, upper: float | None, digits: int = 2) -> str:
    """Estimate with its interval; ``NR`` for a limit that was not reached."""
    if _missing(est):
        return "not reached" if digits == 1 else DASH
    lo = "NR" if _missing(lower) else f"{lower:.{digits}f}"
    hi = "NR" if _missing(upper) else f"{upper:.{digits}f}"
    return f"{est:.{digits}f} ({lo}–{hi})"


def fmt_months(median: float | None, lower: float | None, upper: float | None) -> str:
    """A median survival in months with its interval.

    Examples
    --------
    >>> fmt_months(18.8, 7.9, float("nan"))
    '18.8 months (7.9–NR)'
    >>> fmt_months(float("nan"), 10.0, float("nan"))
    'not reached'
    """
    if _missing(median):
        return "not reached"
    return f"{fmt_ci(median, lower, upper, digits=1)}".replace(" (", " months (", 1)


def fmt_pct(x: float | None, digits: int = 0) -> str:
    """A proportion as a percentage.

    Examples
    --------
    >>> fmt_pct(0.6222)
    '62%'
    """
    return DASH if _missing(x) else f"{100 * x:.{digits}f}%"


def fmt_interval(lower: float | None, upper: float | None, digits: int = 2) -> str:
    """An interval alone; ``NR`` for a limit that was not reached.

    Examples
    --------
    >>> fmt_interval(0.5, float("nan"), 1)
    '0.5–NR'
    """
    lo = "NR" if _missing(lower) else f"{lower:.{digits}f}"
    hi = "NR" if _missing(upper) else f"{upper:.{digits}f}"
    return f"{lo}–{hi}"


def fmt_median(median: float | None) -> str:
    """A median survival for a headline figure: ``18.8 mo`` or ``not reached``.

    Examples
    --------
    >>> fmt_median(18.84), fmt_median(float("nan"))
    ('18.8 mo', 'not reached')
    """
    return "not reached" if _missing(median) else f"{median:.1f} mo"


def fmt_p_eq(p: float | None) -> str:
    """A p-value with its relation sign, for running text.

    Examples
    --------
    >>> fmt_p_eq(0.0001), fmt_p_eq(0.04)
    ('< 0.001', '= 0.040')
    """
    text = fmt_p(p)
    return "< 0.001" if text.startswith("<") else f"= {text}"
