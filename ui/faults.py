"""Fault injection for the fault-tolerance tests only: off unless ``PDAC_FAULT_INJECTION=1``.

With the variable set, a session opened with ``?fault=raise`` raises an exception in its own
script run, so tests can check that one failing session leaves the others (and the health
endpoint) working. Never set the variable in a deployment.
"""

from __future__ import annotations

import os

from ui import url

ENV_VAR = "PDAC_FAULT_INJECTION"


class InjectedFault(RuntimeError):
    """The exception raised on request (its message must never reach the page)."""


def maybe_raise() -> None:
    """Raise :class:`InjectedFault` when fault injection is on and the URL asks for it."""
    if os.environ.get(ENV_VAR) == "1" and url.get("fault") == "raise":
        raise InjectedFault("injected fault INJECTED-FAULT-DETAIL (must not be shown to users)")
