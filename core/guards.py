"""The small-numbers rule shared by every estimate: too few patients or events -> no confident number.

Examples
--------
>>> unreliable_reason(6, 2)
'only 6 patients (fewer than 10) and only 2 events (fewer than 5)'
>>> unreliable_reason(40, 30)
''
"""

from __future__ import annotations

#: Below these an estimate is marked unreliable (domain.md §5.5).
MIN_PATIENTS = 10
MIN_EVENTS = 5


def unreliable_reason(n: int, events: int) -> str:
    """Why an estimate from ``n`` patients and ``events`` events is unreliable ('' when it is not)."""
    reasons = []
    if n < MIN_PATIENTS:
        reasons.append(f"only {n} patients (fewer than {MIN_PATIENTS})")
    if events < MIN_EVENTS:
        reasons.append(f"only {events} events (fewer than {MIN_EVENTS})")
    return " and ".join(reasons)
