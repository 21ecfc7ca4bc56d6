"""The header in a real browser: one row for a signed-in organiser at 1280 px; on a 390 px phone a
"Menu" button, no taller than 64 px, that opens the links without JavaScript; Sign out works."""

from __future__ import annotations

import pytest

from tests.browser.conftest import VIEWER_TIMEZONE

PASSWORD = "organiser-password"


def _organiser(live_app) -> None:
    """An organiser with a long address: the header's widest signed-in row."""
    from tests import factories as f

    with live_app.app_context():
        f.make_organiser(
            email="olivia.organiser@metropolis-learning.example.org", password=PASSWORD
        )


def _signed_in_page(browser, live_server, width: int, *, javascript: bool = True):
    context = browser.new_context(
        base_url=live_server,
        timezone_id=VIEWER_TIMEZONE,
        locale="en-GB",
        viewport={"width": width, "height": 900},
        java_script_enabled=javascript,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/login")
    form = page.get_by_role("region", name="Sign in with your password")
    form.get_by_label("Email address").fill("olivia.organiser@metropolis-learning.example.org")
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Sign in").click()
    return context, page


def _header_height(page) -> float:
    return page.evaluate("document.querySelector('.site-header').getBoundingClientRect().height")


def _no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= innerWidth")


@pytest.mark.browser
def test_the_signed_in_header_is_one_row_at_1280_px(live_app, live_server, browser):
    from playwright.sync_api import expect

    _organiser(live_app)
    context, page = _signed_in_page(browser, live_server, 1280)
    try:
        page.goto("/me/profile")
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        links = page.get_by_role("navigation", name="Main").get_by_role("link")
        tops = {round(box["y"]) for box in (link.bounding_box() for link in links.all()) if box}
        assert len(tops) == 1, f"header links on {len(tops)} rows"
        assert _header_height(page) <= 64
        assert _no_sideways_scroll(page)
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("javascript", [True, False], ids=["with JavaScript", "without"])
def test_on_a_phone_the_links_are_behind_a_menu_button(live_app, live_server, browser, javascript):
    from playwright.sync_api import expect

    _organiser(live_app)
    context, page = _signed_in_page(browser, live_server, 390, javascript=javascript)
    try:
        page.goto("/me/profile")
        menu = page.get_by_text("Menu", exact=True)
        my_programmes = page.get_by_role("link", name="My programmes")
        expect(menu).to_be_visible()
        expect(my_programmes).to_be_hidden()
        assert _header_height(page) <= 64
        assert _no_sideways_scroll(page)

        menu.click()
        expect(my_programmes).to_be_visible()
        assert _no_sideways_scroll(page)
        page.get_by_role("navigation", name="Main").get_by_role("button", name="Sign out").click()
        expect(page.get_by_text("You are signed out")).to_be_visible()
        header = page.get_by_role("navigation", name="Main")
        expect(header.get_by_role("link", name="Sign in", include_hidden=True)).to_have_count(1)
        expect(header.get_by_role("link", name="My programmes", include_hidden=True)).to_have_count(
            0
        )
    finally:
        context.close()
