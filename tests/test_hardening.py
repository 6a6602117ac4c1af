"""Uploads never touch the disk: Starlette's multipart parser must keep them in memory."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from starlette.datastructures import Headers
from starlette.formparsers import MultiPartParser
from streamlit.testing.v1 import AppTest

from tests.waits import APP_RUN_S
from ui import hardening

ROOT = Path(__file__).resolve().parent.parent
BOUNDARY = "pdacboundary"


def _parse(size: int):
    """Parse one multipart upload of ``size`` bytes with Starlette's parser (as the upload endpoint does)."""
    body = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cohort.csv\"\r\n"
            "Content-Type: text/csv\r\n\r\n").encode() + b"x" * size + f"\r\n--{BOUNDARY}--\r\n".encode()

    async def stream():
        for i in range(0, len(body), 64 * 1024):
            yield body[i:i + 64 * 1024]

    async def run():
        headers = Headers({"content-type": f"multipart/form-data; boundary={BOUNDARY}"})
        form = await MultiPartParser(headers, stream()).parse()
        upload = form["file"]
        rolled = upload.file._rolled  # SpooledTemporaryFile: True once the data went to a file on disk
        data = await upload.read()
        await form.close()
        return rolled, len(data)

    return asyncio.run(run())


@pytest.fixture
def default_threshold(monkeypatch):
    monkeypatch.setattr(MultiPartParser, "spool_max_size", 1024 * 1024)  # Starlette's default


def test_control_starlette_default_spools_a_3_mb_upload_to_disk(default_threshold):
    rolled, n = _parse(3 * hardening.MB)
    assert n == 3 * hardening.MB
    assert rolled, "the hazard this module guards against: without it a 3 MB upload goes to a temporary file"


def test_uploads_up_to_the_size_limit_stay_in_memory(default_threshold):
    threshold = hardening.keep_uploads_in_memory()
    assert threshold >= hardening.upload_limit_bytes()
    for size in (3 * hardening.MB, hardening.upload_limit_bytes()):
        rolled, n = _parse(size)
        assert n == size and not rolled, size


def test_the_app_applies_it_before_anything_else(default_threshold):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=APP_RUN_S).run()
    assert not at.exception
    assert MultiPartParser.spool_max_size >= hardening.upload_limit_bytes()
