"""CSRF on every state-changing route, rate limits, headers, cookies, the same answer for
known and unknown addresses."""

from __future__ import annotations

import re
import statistics
import time
from pathlib import Path

import pytest

from learnhub.config import ProductionConfig
from learnhub.security import CONTENT_SECURITY_POLICY
from tests import factories as f
from tests import services

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
#: Endpoints that authenticate by a token of their own instead of a session form (none yet).
#: Token-authenticated endpoints: RFC 8058 one-click unsubscribe is POSTed by mail clients
#: without cookies; the opaque token in the URL is the credential.
CSRF_EXEMPT: set[str] = {"notifications.unsubscribe"}
DUMMY = {
    "slug": "x",
    "token": "t",
    "direction": "up",
    "filename": "style.css",
}


def url_for_rule(app, rule) -> str:
    values = {name: DUMMY.get(name, 1) for name in rule.arguments}
    return app.url_map.bind("localhost").build(rule.endpoint, values)


@pytest.mark.parametrize("signed_in", [False, True])
def test_every_state_changing_route_refuses_a_request_without_a_csrf_token(app_factory, signed_in):
    app = app_factory(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    if signed_in:
        with app.app_context():
            admin_id = f.make_user(role="admin").id
        with client.session_transaction() as session:
            session["_user_id"] = str(admin_id)
    checked = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & STATE_CHANGING):
            if rule.endpoint in CSRF_EXEMPT:
                continue
            url = url_for_rule(app, rule)
            response = client.open(url, method=method, data={"anything": "1"})
            assert response.status_code == 400, f"{method} {url} answered {response.status_code}"
            assert "This form has expired" in response.get_data(as_text=True)
            checked.append(rule.endpoint)
    assert len(checked) >= 20, "the walk must find the app's forms"


def test_a_valid_token_is_accepted(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login/password",
        data={"csrf_token": token, "email": "nobody@example.org", "password": "not-this-one"},
    )
    # Past the CSRF check (400 "This form has expired"): the form itself answers.
    assert response.status_code == 422
    assert "do not match" in response.get_data(as_text=True)


def test_pages_carry_a_strict_content_security_policy(client):
    programme = f.make_programme()
    for url in ("/", f"/programmes/{programme.slug}", f"/programmes/{programme.slug}/register"):
        response = client.get(url)
        policy = response.headers["Content-Security-Policy"]
        assert policy == CONTENT_SECURITY_POLICY
        assert "unsafe-inline" not in policy and "script-src 'self'" in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        html = response.get_data(as_text=True)
        # Scripts only from the app's own files (the small time-zone guess), never inline.
        assert not re.search(r"<script(?![^>]*\bsrc=\"/static/)", html)
        assert " style=" not in html and "<style" not in html


def test_no_template_of_a_page_has_inline_script_style_or_handlers():
    """Emails are exempt: they are not pages and mail clients need inline styles."""
    root = Path(__file__).resolve().parents[1] / "templates"
    offenders = []
    for path in root.rglob("*.html"):
        if "email" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=|javascript:", text):
            offenders.append(str(path.relative_to(root)))
    assert offenders == []


def test_production_cookies_are_secure_httponly_and_samesite(app_factory, tmp_path, database_url):
    settings = ProductionConfig(tmp_path)
    settings.SQLALCHEMY_DATABASE_URI = database_url
    settings.SECRET_KEY = "x" * 40
    settings.CELERY_BROKER_URL = f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    from learnhub import create_app

    app = create_app(settings)
    response = app.test_client().get("/login")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "max-age" in response.headers["Strict-Transport-Security"]
    assert app.config["REMEMBER_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_HTTPONLY"]
    assert app.config["PREFERRED_URL_SCHEME"] == "https"
    with app.app_context():
        from learnhub.extensions import db

        db.engine.dispose()


@pytest.mark.parametrize(
    ("url", "data", "allowed"),
    [
        ("/login/link", {"email": "a@example.org"}, 5),
        ("/login/password", {"email": "a@example.org", "password": "x"}, 10),
    ],
)
def test_sign_in_is_rate_limited(app_factory, url, data, allowed):
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    client = app.test_client()
    codes = [client.post(url, data=data).status_code for _ in range(allowed + 1)]
    assert 429 not in codes[:allowed]
    assert codes[-1] == 429
    assert "Too many attempts" in client.post(url, data=data).get_data(as_text=True)


def test_registration_is_rate_limited(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    with app.app_context():
        slug = f.make_programme().slug
    client = app.test_client()
    codes = [client.post(f"/programmes/{slug}/register", data={}).status_code for _ in range(21)]
    assert codes[:20] == [422] * 20 and codes[20] == 429
    assert client.get(f"/programmes/{slug}/register").status_code == 200, "reading is not limited"


@pytest.mark.redis
def test_rate_limits_are_kept_in_redis_when_redis_url_is_set(app_factory, monkeypatch):
    url = services.require_redis()
    import redis

    store = redis.Redis.from_url(url)

    def forget_counters() -> None:
        for key in store.scan_iter("LIMITS*"):
            store.delete(key)

    forget_counters()
    monkeypatch.setenv("REDIS_URL", url)
    from learnhub.config import load_config

    assert load_config(Path("/tmp"), "development").RATELIMIT_STORAGE_URI == url
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=url)
    client = app.test_client()
    codes = [
        client.post("/login/link", data={"email": "a@example.org"}).status_code for _ in range(6)
    ]
    assert codes[-1] == 429
    assert list(store.scan_iter("LIMITS*")), "the counters live in Redis"
    forget_counters()


def test_link_requests_take_similar_time_for_known_and_unknown_addresses(app_factory):
    app = app_factory(SIGN_IN_LINK_MIN_SECONDS=0.08)
    client = app.test_client()
    with app.app_context():
        f.make_user(email="known@example.org")

    def median_ms(email: str) -> float:
        samples = []
        for _ in range(15):
            start = time.perf_counter()
            client.post("/login/link", data={"email": email})
            samples.append((time.perf_counter() - start) * 1000)
        return statistics.median(samples)

    median_ms("warm-up@example.org")
    known, unknown = median_ms("known@example.org"), median_ms("nobody@example.org")
    assert known >= 80 and unknown >= 80, "both answers wait for the same floor"
    assert abs(known - unknown) < max(10.0, 0.25 * known), (known, unknown)


def test_session_cookies_follow_a_secret_key_rotation(app_factory):
    """A new key still reads session cookies through SECRET_KEY_FALLBACKS, and without them
    it does not."""
    app = app_factory()
    client = app.test_client()
    with client.session_transaction() as session:
        session["probe"] = "signed with the old key"
    with client.session_transaction() as session:
        assert session["probe"] == "signed with the old key"
    app.config["SECRET_KEY_FALLBACKS"] = [app.secret_key]
    app.secret_key = "a-rotated-secret-key-for-this-test-0123456789"
    with client.session_transaction() as session:
        assert session["probe"] == "signed with the old key"
    app.config["SECRET_KEY_FALLBACKS"] = []
    with client.session_transaction() as session:
        assert "probe" not in session


#: A moving window: with the default fixed window, requests that straddle the turn of a minute
#: start a new count, and a test expecting the limit on the 21st request would pass by chance.
STEADY_WINDOW = {"RATELIMIT_STRATEGY": "moving-window"}


def test_sign_up_and_sign_in_go_through_while_redis_is_down(app_factory, private_redis):
    """Rate limits counted in Redis fall back to this process's memory when Redis stops:
    registering and signing in answer as usual (not a 500), /healthz says where limits are
    counted, and the limits still hold."""
    app = app_factory(
        RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=private_redis.url, **STEADY_WINDOW
    )
    with app.app_context():
        slug = f.make_programme(capacity=100).slug
        f.make_user(email="known@example.org", password="a-long-password-1")
    client = app.test_client()
    assert client.get("/healthz").get_json()["rate_limits"] == "redis"
    assert client.post("/login/link", data={"email": "a@example.org"}).status_code in (200, 302)
    private_redis.stop()
    registered = client.post(
        f"/programmes/{slug}/register",
        data=f.registration_form(email="city@example.org", full_name="City Official"),
    )
    assert registered.status_code == 302, registered.get_data(as_text=True)[:300]
    wrong = client.post("/login/password", data={"email": "a@example.org", "password": "x"})
    assert wrong.status_code == 422 and "do not match" in wrong.get_data(as_text=True)
    signed_in = app.test_client().post(
        "/login/password", data={"email": "known@example.org", "password": "a-long-password-1"}
    )
    assert signed_in.status_code == 302
    assert client.get("/healthz").get_json()["rate_limits"] == "memory (Redis is unreachable)"
    codes = [
        client.post("/login/link", data={"email": "a@example.org"}).status_code for _ in range(6)
    ]
    assert 500 not in codes and codes[-1] == 429, codes


@pytest.fixture(autouse=True)
def _limiter_storage_alive():
    """The limiter is one object for every app a test process builds: a test that stops Redis
    leaves it counting in its fallback, and a later app's counts would split between the
    two stores when it notices its own storage answers."""
    from learnhub.extensions import limiter

    yield
    limiter._storage_dead = False


def _register_from(client, slug: str, n: int, forwarded_for: str):
    return client.post(
        f"/programmes/{slug}/register",
        data={},
        headers={"X-Forwarded-For": forwarded_for},
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
    ).status_code


def test_behind_a_trusted_proxy_each_visitor_has_their_own_rate_limit(app_factory):
    app = app_factory(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        TRUSTED_PROXIES=1,
        **STEADY_WINDOW,
    )
    with app.app_context():
        slug = f.make_programme().slug
    client = app.test_client()
    codes = [_register_from(client, slug, n, f"198.51.100.{n}") for n in range(25)]
    assert 429 not in codes, "visitors behind the proxy shared one bucket"
    same = [_register_from(client, slug, n, "203.0.113.7") for n in range(21)]
    assert same[-1] == 429, "one visitor is still limited"


def test_without_trusted_proxies_a_forwarded_address_is_not_believed(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://", **STEADY_WINDOW)
    with app.app_context():
        slug = f.make_programme().slug
    client = app.test_client()
    codes = [_register_from(client, slug, n, f"198.51.100.{n}") for n in range(21)]
    assert codes[-1] == 429, "a made-up X-Forwarded-For escaped the limit"


def test_the_calendar_feed_address_comes_from_base_url(app_factory):
    app = app_factory(BASE_URL="https://learnhub.example.org", TRUSTED_PROXIES=1)
    client = app.test_client()
    with app.app_context():
        f.sign_in(client, f.make_user())
    response = client.post(
        "/me/calendar",
        headers={"X-Forwarded-Host": "10.0.0.5:8000", "X-Forwarded-Proto": "http"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "https://learnhub.example.org/calendar/" in page, page[:3000]
    assert "http://10.0.0.5" not in page


def test_personal_pages_and_exports_are_never_cached(client):
    """A proxy or a shared browser must not keep one person's pages for the next one."""
    programme = f.make_programme()
    organiser = f.make_organiser(programme)
    registration = f.make_registration(programme)
    participant_pages = [
        "/me/programmes",
        "/me/data.json",
        "/me/profile",
        "/me/attendance",
        "/me/calendar",
        "/me/email-preferences",
        f"/programmes/{programme.slug}",
    ]
    f.sign_in(client, registration.user)
    for url in participant_pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers.get("Cache-Control") == "private, no-store", url
    f.sign_in(client, organiser)
    for url in (
        f"/organiser/programmes/{programme.slug}/registrants",
        f"/organiser/programmes/{programme.slug}/registrants.csv",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers.get("Cache-Control") == "private, no-store", url
    assert "no-store" not in client.get("/static/style.css").headers.get("Cache-Control", "")
    signed_out = client.application.test_client().get(f"/programmes/{programme.slug}")
    assert "no-store" not in signed_out.headers.get("Cache-Control", "")
