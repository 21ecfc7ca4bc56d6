"""The time-zone select is rendered once per chosen zone and attributes, and kept."""

from __future__ import annotations

from wtforms import Form
from wtforms.widgets import Select

from learnhub import forms
from learnhub.forms import optional_timezone_field, timezone_field


class ZoneForm(Form):
    zone = timezone_field()
    maybe_zone = optional_timezone_field("Their zone")


def test_a_kept_select_is_the_one_the_plain_widget_renders():
    forms._ZONE_SELECTS.clear()
    first = ZoneForm(data={"zone": "Asia/Jakarta"}).zone(**{"aria-describedby": "zone-hint"})
    again = ZoneForm(data={"zone": "Asia/Jakarta"}).zone(**{"aria-describedby": "zone-hint"})
    field = ZoneForm(data={"zone": "Asia/Jakarta"}).zone
    plain = Select()(field, **{"aria-describedby": "zone-hint"})
    assert first == again == plain
    assert len(forms._ZONE_SELECTS) == 1
    assert '<option selected value="Asia/Jakarta">' in first


def test_each_chosen_zone_and_attribute_set_has_its_own_select():
    forms._ZONE_SELECTS.clear()
    jakarta = ZoneForm(data={"zone": "Asia/Jakarta"}).zone()
    madrid = ZoneForm(data={"zone": "Europe/Madrid"}).zone()
    invalid = ZoneForm(data={"zone": "Europe/Madrid"}).zone(**{"aria-invalid": "true"})
    unknown = ZoneForm().maybe_zone()
    assert '<option selected value="Europe/Madrid">' in madrid
    assert '<option selected value="Europe/Madrid">' not in jakarta
    assert 'aria-invalid="true"' in invalid and "aria-invalid" not in madrid
    assert '<option value="">Not known</option>' in unknown and "selected" not in unknown
    assert len(forms._ZONE_SELECTS) == 4


def test_the_kept_selects_stay_bounded(monkeypatch):
    forms._ZONE_SELECTS.clear()
    monkeypatch.setattr(forms, "_ZONE_SELECTS_LIMIT", 3)
    for zone in ("Asia/Jakarta", "Europe/Madrid", "Asia/Tokyo", "America/Lima", "Africa/Lagos"):
        assert f'<option selected value="{zone}">' in ZoneForm(data={"zone": zone}).zone()
    assert len(forms._ZONE_SELECTS) <= 3


def test_a_value_that_is_not_a_zone_of_the_list_is_shown_back_but_never_kept(client):
    """A client may post anything (up to 500 KB) as its zone: the form shows it refused, and
    the kept selects do not grow by it."""
    from tests import factories as f

    programme = f.make_programme(capacity=5, sessions=1)
    forms._ZONE_SELECTS.clear()
    response = client.post(
        f"/programmes/{programme.slug}/register",
        data=f.registration_form(timezone="X" * 400_000),
    )
    assert response.status_code == 422
    assert all(len(str(key[2])) < 100 for key in forms._ZONE_SELECTS)
