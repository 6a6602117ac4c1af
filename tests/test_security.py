"""Security settings and behaviour that need no browser: config defaults, dependency floors,
the password gate (off and on), the idle timeout with a fake clock, no HTML from data."""

from __future__ import annotations

import ast
import base64
import re
import tomllib
from pathlib import Path

import pytest
from packaging.version import Version
from streamlit.testing.v1 import AppTest

from tests.waits import APP_RUN_S
from ui import auth, hardening, idle

ROOT = Path(__file__).resolve().parent.parent
VIEWS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "views").glob("*.py"))

# RFC 7914 / widely published PBKDF2-HMAC-SHA256 vector: P="password", S="salt", c=4096, dkLen=32.
VECTOR_HEX = "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"
VECTOR_ENCODED = "pbkdf2_sha256$4096$" + base64.b64encode(b"salt").decode() + "$" + base64.b64encode(bytes.fromhex(VECTOR_HEX)).decode()


# --- configuration and dependencies ---------------------------------------------------------------

def _config() -> dict:
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))


def test_streamlit_config_has_safe_defaults():
    cfg = _config()
    assert cfg["server"]["enableXsrfProtection"] is True
    assert cfg["server"]["enableCORS"] is True  # XSRF protection needs CORS protection on
    assert cfg["server"]["enableStaticServing"] is False
    assert cfg["server"]["headless"] is True
    assert 1 <= cfg["server"]["maxUploadSize"] <= 200
    assert cfg["browser"]["gatherUsageStats"] is False
    assert cfg["client"]["showErrorDetails"] in ("type", "none")


def test_streamlit_config_keeps_many_sessions_responsive():
    # Streamlit's default full garbage collection after every script run held the interpreter lock
    # ~50 ms per run and was half the server's time with 20 sessions (docs/benchmarks.md, load test).
    cfg = _config()
    assert cfg["runner"]["postScriptGC"] is False
    assert cfg["server"]["fileWatcherType"] == "none"
    assert cfg["server"]["runOnSave"] is False


def test_no_secrets_file_is_committed():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".streamlit/secrets.toml" in ignored


def _pins(name: str) -> dict[str, Version]:
    pins = {}
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*==\s*([^\s;]+)", line)
        if m:
            pins[m.group(1).lower()] = Version(m.group(2))
    return pins


@pytest.mark.parametrize(("package", "floor"), [("streamlit", "1.54"), ("pyarrow", "14.0.1")])
def test_dependency_floors_for_known_advisories(package, floor):
    pins = _pins("requirements.txt")
    assert package in pins, f"{package} must be pinned in requirements.txt"
    assert pins[package] >= Version(floor)


def test_installed_versions_meet_the_floors():
    import pyarrow
    import streamlit

    assert Version(streamlit.__version__) >= Version("1.54")
    assert Version(pyarrow.__version__) >= Version("14.0.1")


def _html_calls(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        unsafe = any(k.arg == "unsafe_allow_html" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                     for k in node.keywords)
        if unsafe or name in ("html",):
            yield node


def test_html_is_only_ever_static_text():
    """unsafe_allow_html / st.html only with a literal or an UPPER_CASE module constant: never data."""
    files = [ROOT / "app.py", *(ROOT / "ui").glob("*.py"), *(ROOT / "views").glob("*.py")]
    offenders = []
    for path in files:
        for call in _html_calls(path):
            arg = call.args[0] if call.args else None
            static = (isinstance(arg, ast.Constant) and isinstance(arg.value, str)) or (
                isinstance(arg, ast.Name) and arg.id.isupper())
            if not static:
                offenders.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert not offenders, offenders


# --- password hashing -----------------------------------------------------------------------------

def test_verify_accepts_the_published_pbkdf2_vector():
    assert auth.verify_password("password", VECTOR_ENCODED)
    assert not auth.verify_password("Password", VECTOR_ENCODED)
    assert not auth.verify_password("", VECTOR_ENCODED)


def test_hash_password_reproduces_the_published_vector():
    assert auth.hash_password("password", salt=b"saltsalt", iterations=4096) != VECTOR_ENCODED  # other salt
    encoded = auth.hash_password("password", salt=b"salt" * 2, iterations=4096)
    assert encoded.startswith("pbkdf2_sha256$4096$" + base64.b64encode(b"saltsalt").decode() + "$")


def test_salt_is_random_per_hash():
    a, b = auth.hash_password("same password", iterations=1000), auth.hash_password("same password", iterations=1000)
    assert a != b
    assert auth.verify_password("same password", a) and auth.verify_password("same password", b)


def test_default_iterations_are_strong():
    iterations, salt, digest = auth.parse_hash(auth.hash_password("x" * 12))
    assert iterations >= 600_000 and len(salt) >= 16 and len(digest) == 32


def test_verification_uses_a_constant_time_compare(monkeypatch):
    calls = []
    real = auth.hmac.compare_digest
    monkeypatch.setattr(auth.hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    assert auth.verify_password("password", VECTOR_ENCODED)
    assert calls == [1]


@pytest.mark.parametrize("bad", ["", "plain", "md5$1$a$b", "pbkdf2_sha256$10$c2FsdA==$AAAA",
                                 "pbkdf2_sha256$x$c2FsdA==$AAAA", "pbkdf2_sha256$4096$!!$AAAA"])
def test_malformed_hashes_are_rejected(bad):
    with pytest.raises(ValueError):
        auth.parse_hash(bad)


@pytest.mark.parametrize(("kwargs", "message"), [({"password": ""}, "non-empty"),
                                                 ({"password": "x", "iterations": 10}, "iterations"),
                                                 ({"password": "x", "salt": b"abc"}, "salt")])
def test_hash_password_validates_its_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        auth.hash_password(**kwargs)


def test_cli_prints_a_usable_secrets_line(monkeypatch, capsys):
    import getpass

    monkeypatch.setattr(getpass, "getpass", lambda prompt="": "a long shared password")
    assert auth._cli(["hash"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("[auth]\n")
    encoded = tomllib.loads(out)["auth"]["password_hash"]
    assert auth.verify_password("a long shared password", encoded)
    assert auth._cli([]) == 2


# --- the gate in the app ---------------------------------------------------------------------------

PASSWORD = "tangerine-otter-42"
FAST_HASH = auth.hash_password(PASSWORD, iterations=1000)


@pytest.fixture(autouse=True)
def _behind_the_security_layer(monkeypatch):
    """As under server.py (the deployed server): app.py refuses to run with a password and without the layer."""
    monkeypatch.setitem(hardening._LAYER, "on", True)


def _app(secrets: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=APP_RUN_S)
    for key, value in (secrets or {}).items():
        at.secrets[key] = value
    return at


def test_without_the_security_layer_a_password_protected_app_shows_only_an_error(monkeypatch):
    monkeypatch.setitem(hardening._LAYER, "on", False)
    at = _app({"auth": {"password_hash": FAST_HASH}}).run()
    assert not at.exception and not at.text_input and not _shows_data(at)
    assert "without its security layer" in at.error[0].value
    assert _shows_data(_app().run()), "without a password (the demo) the bare app runs"


def _shows_data(at: AppTest) -> bool:
    return bool(len(at.metric) or len(at.dataframe) or len(at.get("file_uploader")) or len(at.get("plotly_chart")))


def test_access_control_off_shows_the_demo_without_login():
    at = _app().run()
    assert not at.exception
    assert not at.text_input, "no login form when there is no [auth] section"
    assert _shows_data(at)


def test_access_control_on_shows_no_page_and_accepts_no_upload_before_login():
    at = _app({"auth": {"password_hash": FAST_HASH}}).run()
    assert not at.exception
    assert at.text_input(key="auth_password").proto.type == at.text_input(key="auth_password").proto.PASSWORD
    assert not _shows_data(at)
    for view in VIEWS:
        at.switch_page(view).run()
        assert not at.exception, view
        assert not _shows_data(at), f"{view} shows data before login"
        assert not at.sidebar.markdown or all("patients" not in m.value for m in at.sidebar.markdown)


def _login(at: AppTest, password: str) -> AppTest:
    at.text_input(key="auth_password").input(password)
    at.button[0].click().run()
    return at


def test_wrong_password_is_refused_and_right_one_opens_the_app():
    at = _app({"auth": {"password_hash": FAST_HASH}}).run()
    _login(at, "not-the-password")
    assert not at.exception
    assert any("Wrong password" in e.value for e in at.error)
    assert not _shows_data(at)
    _login(at, PASSWORD)
    assert not at.exception
    assert not at.error
    assert _shows_data(at)
    at.switch_page("views/data.py").run()
    assert [u.key for u in at.get("file_uploader")] == ["upload", "upload_mapping"]  # the export, its mapping file
    at.sidebar.button(key="auth_logout").click().run()
    assert not _shows_data(at)
    assert at.text_input(key="auth_password")


def test_misconfigured_access_control_fails_closed():
    at = _app({"auth": {"password_hash": "plaintext-password"}}).run()
    assert any("misconfigured" in e.value for e in at.error)
    assert not _shows_data(at)
    assert not at.text_input


# --- idle timeout --------------------------------------------------------------------------------

class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _small_cohort(n: int = 30) -> bytes:
    lines = (ROOT / "data" / "demo_cohort.csv").read_bytes().splitlines(keepends=True)
    return b"".join(lines[: n + 1])


def _uploaded(at: AppTest) -> bool:
    return any(m.value == "**Uploaded cohort**" for m in at.sidebar.markdown)


def test_timeout_configuration(monkeypatch):
    monkeypatch.delenv(idle.ENV_VAR, raising=False)
    assert idle.timeout_minutes() == 30
    monkeypatch.setenv(idle.ENV_VAR, "5")
    assert idle.timeout_minutes() == 5
    for bad in ("0", "-1", "soon", "nan"):
        monkeypatch.setenv(idle.ENV_VAR, bad)
        with pytest.raises(ValueError, match=idle.ENV_VAR):
            idle.timeout_minutes()


def test_idle_session_loses_its_upload_and_is_told_why(monkeypatch):
    from streamlit.runtime.caching import cache_resource_api

    monkeypatch.delenv(idle.ENV_VAR, raising=False)
    clock = FakeClock()
    monkeypatch.setattr(idle, "clock", clock)
    cleared = []
    real_clear = cache_resource_api.clear_session_cache
    monkeypatch.setattr(cache_resource_api, "clear_session_cache", lambda sid: cleared.append(sid) or real_clear(sid))
    at = _app().run()
    at.switch_page("views/data.py").run()
    at.file_uploader(key="upload").set_value(("small.csv", _small_cohort(), "text/csv")).run()
    at.run()  # the sidebar is drawn before the page handles the upload
    assert _uploaded(at)
    assert any(c.value.startswith("30 patients") for c in at.sidebar.caption)
    clock.now += 29 * 60  # within the 30 minutes: nothing happens
    at.run()
    assert _uploaded(at)
    assert not [i for i in at.info if "idle" in i.value]
    clock.now += 30 * 60 + 1
    at.run()
    assert not at.exception
    assert not _uploaded(at), "the upload is dropped"
    assert any("idle for more than 30 minutes" in i.value for i in at.info)
    assert "upload_report" not in at.session_state and "active_cohort" not in at.session_state
    assert len(cleared) == 1, "the session-scoped result caches of this session are cleared"
    at.run()  # the next run goes on with the demo, without the message
    assert not [i for i in at.info if "idle for more" in i.value]
    assert not _uploaded(at)


def test_idle_timeout_also_drops_the_primary_analysis_declared_for_the_upload(monkeypatch):
    monkeypatch.delenv(idle.ENV_VAR, raising=False)
    clock = FakeClock()
    monkeypatch.setattr(idle, "clock", clock)
    at = _app().run()
    at.switch_page("views/data.py").run()
    at.file_uploader(key="upload").set_value(("small.csv", _small_cohort(), "text/csv")).run()
    at.switch_page("views/robustness.py").run()
    at.button(key="primary_declare").click().run()
    assert not at.exception
    assert len(at.session_state["primary_by_cohort"]) == 1
    clock.now += 30 * 60 + 1
    at.run()
    assert not _uploaded(at)
    assert "primary_by_cohort" not in at.session_state


def test_idle_timeout_from_env_also_logs_out(monkeypatch):
    monkeypatch.setenv(idle.ENV_VAR, "2")
    clock = FakeClock()
    monkeypatch.setattr(idle, "clock", clock)
    at = _app({"auth": {"password_hash": FAST_HASH}}).run()
    _login(at, PASSWORD)
    assert _shows_data(at)
    clock.now += 2 * 60 + 1
    at.run()
    assert not _shows_data(at)
    assert at.text_input(key="auth_password")
    assert any("idle for more than 2 minutes" in i.value for i in at.info)


def test_demo_session_that_idles_is_not_bothered(monkeypatch):
    monkeypatch.delenv(idle.ENV_VAR, raising=False)
    clock = FakeClock()
    monkeypatch.setattr(idle, "clock", clock)
    at = _app().run()
    clock.now += 3 * 3600
    at.run()
    assert not [i for i in at.info if "idle" in i.value]
    assert _shows_data(at)
