"""The web server of the explorer: ``app.py`` behind the security layer (``streamlit run server.py``).

``scripts/serve.sh`` (``make run``) starts this. Streamlit recognises the ``st.App`` below and
serves ``app.py`` through it with :class:`ui.hardening.SecurityMiddleware` in front: security
headers on every response, ``Cache-Control: no-store`` on downloads, no ``/_stcore/metrics``,
no upload before log-in (see ``ui/hardening.py`` and SECURITY.md). Command-line options and
``.streamlit/config.toml`` apply as with ``streamlit run app.py``.
"""

import streamlit as st
from starlette.middleware import Middleware

from ui import hardening

hardening.keep_uploads_in_memory()
hardening.ignore_clear_cache()

app = st.App("app.py", middleware=[Middleware(hardening.SecurityMiddleware)])
