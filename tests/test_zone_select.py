"""The time-zone select: WTForms' own select over the zone list, grouped by region, with the
chosen zone selected and the field's attributes; a value not of the list is refused."""

from __future__ import annotations

from wtforms import Form
from wtforms.widgets import Select

from learnhub.forms import optional_timezone_field, timezone_field


class ZoneForm(Form):
    zone = timezone_field()
    maybe_zone = optional_timezone_field("Their zone")


def test_the_select_is_the_one_the_plain_widget_renders():
    first = ZoneForm(data={"zone": "Asia/Jakarta"}).zone(**{"aria-describedby": "zone-hint"})
    again = ZoneForm(data={"zone": "Asia/Jakarta"}).zone(**{"aria-describedby": "zone-hint"})
    field = ZoneForm(data={"zone": "Asia/Jakarta"}).zone
    plain = Select()(field, **{"aria-describedby": "zone-hint"})
    assert first == again == plain
    assert '<option selected value="Asia/Jakarta">' in first
    assert '<optgroup label="Asia">' in first


def test_each_chosen_zone_and_attribute_set_has_its_own_select():
    jakarta = ZoneForm(data={"zone": "Asia/Jakarta"}).zone()
    madrid = ZoneForm(data={"zone": "Europe/Madrid"}).zone()
    invalid = ZoneForm(data={"zone": "Europe/Madrid"}).zone(**{"aria-invalid": "true"})
    unknown = ZoneForm().maybe_zone()
    assert '<option selected value="Europe/Madrid">' in madrid
    assert '<option selected value="Europe/Madrid">' not in jakarta
    assert 'aria-invalid="true"' in invalid and "aria-invalid" not in madrid
    assert '<option value="">Not known</option>' in unknown and "selected" not in unknown


def test_a_value_that_is_not_a_zone_of_the_list_is_refused(client):
    """A client may post anything (up to 500 KB) as its zone: the form refuses it."""
    from tests import factories as f

    programme = f.make_programme(capacity=5, sessions=1)
    response = client.post(
        f"/programmes/{programme.slug}/register",
        data=f.registration_form(timezone="X" * 400_000),
    )
    assert response.status_code == 422
    assert "Choose a time zone from the list." in response.get_data(as_text=True)
