#!/bin/sh
# Start the dashboard as it is deployed (`make run` calls this; extra arguments go to `streamlit run server.py`).
#
# Two allocator settings must be in the environment before Python starts (the app cannot set them):
# * PYTHONMALLOC=malloc: small Python objects come from the C allocator instead of Python's own
#   arenas, so memory freed when a session ends can be handed back to the system (ui/memory.py
#   calls malloc_trim); with Python's arenas, fragments of ended sessions stay resident.
# * MALLOC_ARENA_MAX=2: one heap per core instead of one per thread (each session has a thread).
# Measured with the load test (10 sessions, own 10,000-patient uploads; docs/memory.md): memory
# after the sessions ended +50% of warm without them, +11% with them; ~13% fewer updates per second.
set -e
cd "$(dirname "$0")/.."
export PYTHONMALLOC="${PYTHONMALLOC:-malloc}"
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
# server.py serves app.py behind the security layer (ui/hardening.py: headers, no upload before log-in).
exec "${PYTHON:-.venv/bin/python}" -m streamlit run server.py "$@"
