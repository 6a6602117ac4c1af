"""The small-numbers rules shared by every estimate: too few patients or events -> no confident number.

Two rules, each defined once here:

* **Comparisons between arms** (the headline hazard ratio, every subgroup of the forest plot,
  every immortal-time method): each arm needs at least :data:`MIN_PATIENTS_PER_ARM` patients
  and :data:`MIN_EVENTS_PER_ARM` events. Below that there is no hazard ratio and no p-value;
  the counts per arm and the curves are still shown. Counting per arm matters: 2 operated
  patients beside 40 controls make 42 "patients", but no comparison.
* **One group on its own** (a Kaplan-Meier curve, a median): fewer than :data:`MIN_PATIENTS`
  patients or :data:`MIN_EVENTS` events flags the estimate as unreliable.

Examples
--------
>>> comparison_reason(ArmCounts(2, 40, 1, 30))
'only 2 operated patients and 1 death among them (at least 5 patients and 3 deaths in each arm are needed)'
>>> comparison_reason(ArmCounts(20, 21, 12, 15))
''
>>> unreliable_reason(6, 2)
'only 6 patients (fewer than 10) and only 2 events (fewer than 5)'
"""

from __future__ import annotations

from dataclasses import dataclass

#: A comparison between arms needs at least this many patients in EACH arm ...
MIN_PATIENTS_PER_ARM = 5
#: ... and at least this many events in EACH arm.
MIN_EVENTS_PER_ARM = 3
#: One group on its own (a curve, a median): below these it is flagged unreliable (domain notes §5.5).
MIN_PATIENTS = 10
MIN_EVENTS = 5

#: The comparison rule in one sentence (shown under tables and in the methods text).
COMPARISON_RULE = (f"A hazard ratio is shown only when each arm has at least {MIN_PATIENTS_PER_ARM} patients and "
                   f"{MIN_EVENTS_PER_ARM} events; otherwise the counts per arm and the curves are shown without it.")


@dataclass(frozen=True)
class ArmCounts:
    """Patients and events per arm of one comparison.

    Examples
    --------
    >>> ArmCounts(12, 30, 8, 25).in_words()
    '12 operated (8 deaths) and 30 chemotherapy-only patients (25 deaths)'

    Any two-arm comparison can name its arms (the first arm is the "treated" one):

    >>> ArmCounts(20, 4, 9, 2, arm_names=("adjuvant-treated", "no-adjuvant")).in_words()
    '20 adjuvant-treated (9 deaths) and 4 no-adjuvant patients (2 deaths)'
    >>> comparison_reason(ArmCounts(20, 4, 9, 2, arm_names=("adjuvant-treated", "no-adjuvant")))
    'only 4 no-adjuvant patients and 2 deaths among them (at least 5 patients and 3 deaths in each arm are needed)'
    """

    n_surgery: int
    n_chemotherapy: int
    events_surgery: int
    events_chemotherapy: int
    event_word: str = "death"
    #: How the two arms are named in messages (first: the ``*_surgery`` counts).
    arm_names: tuple[str, str] = ("operated", "chemotherapy-only")

    @property
    def n(self) -> int:
        return self.n_surgery + self.n_chemotherapy

    @property
    def events(self) -> int:
        return self.events_surgery + self.events_chemotherapy

    def in_words(self) -> str:
        """Both arms' patients and events in one phrase."""
        first, second = self.arm_names
        return (f"{self.n_surgery} {first} ({_plural(self.events_surgery, self.event_word)}) and "
                f"{self.n_chemotherapy} {second} patients ({_plural(self.events_chemotherapy, self.event_word)})")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def comparison_reason(counts: ArmCounts) -> str:
    """Why a between-arm comparison gets no hazard ratio ('' when each arm has enough patients and events).

    Parameters
    ----------
    counts : ArmCounts
        Patients and events per arm.

    Returns
    -------
    str
        Plain words with the counts of the arm(s) that fall short, and the rule.
    """
    parts = []
    first, second = counts.arm_names
    for arm, n, e in ((first, counts.n_surgery, counts.events_surgery),
                      (second, counts.n_chemotherapy, counts.events_chemotherapy)):
        short_n, short_e = n < MIN_PATIENTS_PER_ARM, e < MIN_EVENTS_PER_ARM
        if n == 0:
            parts.append(f"no {arm} patients")
        elif short_n and short_e:
            parts.append(f"only {n} {arm} patient{'s' if n != 1 else ''} and {_plural(e, counts.event_word)} among them")
        elif short_n:
            parts.append(f"only {n} {arm} patient{'s' if n != 1 else ''}")
        elif short_e:
            parts.append(f"only {_plural(e, counts.event_word)} among the {n} {arm} patients")
    if not parts:
        return ""
    return (" and ".join(parts) + f" (at least {MIN_PATIENTS_PER_ARM} patients and "
            f"{MIN_EVENTS_PER_ARM} {counts.event_word}s in each arm are needed)")


def unreliable_reason(n: int, events: int) -> str:
    """Why an estimate of ONE group from ``n`` patients and ``events`` events is unreliable ('' when it is not)."""
    reasons = []
    if n < MIN_PATIENTS:
        reasons.append(f"only {n} patients (fewer than {MIN_PATIENTS})")
    if events < MIN_EVENTS:
        reasons.append(f"only {events} events (fewer than {MIN_EVENTS})")
    return " and ".join(reasons)
