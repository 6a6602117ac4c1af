"""Process-level settings that keep patient data off the disk.

Streamlit (>= 1.5x) serves uploads through Starlette, whose multipart parser spools any uploaded
file larger than 1 MB to a temporary file on disk (``SpooledTemporaryFile(max_size=1 MB)``). A
study export of a few thousand patients is larger than that, so its bytes would reach the disk
before the app sees them. :func:`keep_uploads_in_memory` raises the spool threshold above the
upload size limit (``server.maxUploadSize``), so every accepted upload stays in memory.
"""

from __future__ import annotations

MB = 1024 * 1024


def upload_limit_bytes() -> int:
    """The server's upload size limit in bytes (``server.maxUploadSize``, in MB)."""
    from streamlit import config

    return int(config.get_option("server.maxUploadSize")) * MB


def keep_uploads_in_memory() -> int:
    """Make Starlette keep uploaded files in memory up to the upload size limit (idempotent).

    Returns
    -------
    int
        The spool threshold now in force, in bytes (the limit plus 1 MB of multipart framing).
    """
    from starlette.formparsers import MultiPartParser

    threshold = upload_limit_bytes() + MB
    if MultiPartParser.spool_max_size < threshold:
        MultiPartParser.spool_max_size = threshold
    return MultiPartParser.spool_max_size
