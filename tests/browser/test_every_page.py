"""Every page type, as the person who uses it sees it, on a 390 px phone and a 1280 px screen:
nothing scrolls sideways, axe-core finds no WCAG 2.2 A/AA violation, and a screenshot of each
is saved under `screenshots/every-page/` (git ignores it) for a reviewer to look at.

axe runs on every page at 390 px and, at 1280 px, on one page of each layout (`AXE_WIDE`): it
costs half a second a page, most of this test's time.

The pages are the app's own routes: every GET route that answers a page (text/html) to one of
the access matrix's roles (tests/test_access_matrix.py), visited by the role it is for (the
public pages anonymously, the programme page also as its participant), plus the states a
route only reaches by a POST: the register form refused, a confirmation page, a 404.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.access_world import build_world
from tests.test_access_matrix import ROLES, expected_code, route_methods

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots" / "every-page"
WIDTHS = {"phone": (390, 844), "desktop": (1280, 800)}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
#: One page of each layout, checked by axe at 1280 px too (the wide header and navigation).
AXE_WIDE = {
    "catalogue.index",
    "catalogue.programme",
    "registration.register",
    "registration.my_programmes",
    "organiser.home",
    "organiser.programme",
    "organiser.registrants",
    "organiser.edit_programme",
    "outbox_admin.outbox",
    "dev_mailbox.show",
}
#: Routes that answer files, feeds or probes, not pages (any other download is passed over).
NOT_PAGES = {"static", "health.healthz", "metrics.metrics", "catalogue.download_material"}
#: Who a page is for, when more than one role may open it.
PREFERENCE = ("anonymous", "participant", "organiser", "admin")
#: Pages seen twice: as a visitor and as the programme's participant.
ALSO_AS_PARTICIPANT = {"catalogue.programme", "catalogue.module"}


def _pages(app, values: dict) -> list[tuple[str, str, str]]:
    """(name, role, url) of every page type."""
    adapter = app.url_map.bind("localhost")
    pages = []
    for endpoint, method, rule in route_methods(app):
        if method != "GET" or endpoint in NOT_PAGES:
            continue
        roles = [role for role in ROLES if expected_code(endpoint, "GET", role) == 200]
        chosen = [role for role in PREFERENCE if role in roles][:1]
        if endpoint in ALSO_AS_PARTICIPANT:
            chosen.append("participant")
        url = adapter.build(endpoint, {name: values[name] for name in rule.arguments})
        pages += [(endpoint, role, url) for role in chosen]
    return pages


def _session_cookies(app, users: dict) -> dict[str, dict]:
    """Each role's session cookie, as after signing in."""
    serializer = app.session_interface.get_signing_serializer(app)
    return {
        role: {
            "name": app.config["SESSION_COOKIE_NAME"],
            "value": serializer.dumps({"_user_id": user.get_id(), "_fresh": True}),
        }
        for role, user in users.items()
    }


def _check(page, name: str, problems: list[str], axe: bool = True) -> None:
    """Save the page's screenshot; note its sideways scroll and axe's violations."""
    from axe_playwright_python.sync_playwright import Axe

    width = page.viewport_size["width"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 0:
        problems.append(f"{name} at {width} px scrolls sideways by {overflow} px")
    if not axe:
        return
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    for violation in results.response["violations"]:
        targets = [node["target"] for node in violation["nodes"]][:3]
        problems.append(f"{name} at {width} px: {violation['id']} {targets}")


@pytest.mark.browser
def test_every_page_fits_a_phone_and_passes_axe(live_app, live_server, browser, tmp_path):
    from playwright.sync_api import Error as PlaywrightError

    with live_app.app_context():
        users, values, _ = build_world(tmp_path)
        # The world's certificate (revoked), so the verification page shows one.
        values["code"] = "ABCD-EFGH-JKMN"
        pages = _pages(live_app, values)
        slug = values["slug"]
        cookies = _session_cookies(live_app, users)
    assert len(pages) >= 60, pages
    problems: list[str] = []
    for width, height in WIDTHS.values():
        contexts = {}
        for role in ROLES:
            # bypass_csp: axe is injected into pages whose policy forbids scripts (an email).
            context = browser.new_context(
                base_url=live_server, viewport={"width": width, "height": height}, bypass_csp=True
            )
            context.set_default_timeout(15_000)
            if role != "anonymous":
                context.add_cookies([{**cookies[role], "url": live_server}])
            contexts[role] = context
        try:
            for endpoint, role, url in pages:
                page = contexts[role].new_page()
                try:
                    response = page.goto(url)
                except PlaywrightError as error:
                    assert "Download is starting" in str(error), (url, error)
                    page.close()
                    continue
                assert response is not None
                if response.status >= 500:
                    problems.append(f"{url} as {role}: {response.status}")
                elif "text/html" in response.headers.get("content-type", ""):
                    axe = width < 1000 or endpoint in AXE_WIDE
                    _check(page, f"{role}-{endpoint}", problems, axe)
                page.close()
            page = contexts["anonymous"].new_page()
            page.goto(f"/programmes/{slug}/register")
            page.locator("form[method=post] [type=submit]").last.click()
            page.wait_for_load_state()
            _check(page, "anonymous-register-refused", problems)
            page.goto("/no-such-page")
            _check(page, "anonymous-not-found", problems)
            page.close()
        finally:
            for context in contexts.values():
                context.close()
    assert problems == [], "\n".join(problems)
    assert all(re.search(r"-(390|1280)\.png$", p.name) for p in SCREENSHOTS.iterdir())
