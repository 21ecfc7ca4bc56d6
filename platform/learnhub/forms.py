"""Form pieces shared by features."""

from __future__ import annotations

import re
from functools import cache

from flask import render_template
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .database import MAX_ID
from .timefmt import all_timezones, is_valid_timezone


def strip(value: str | None) -> str | None:
    """Pasted values often carry spaces; an email address with one must still be accepted.
    NUL characters are dropped: PostgreSQL refuses them in text."""
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


#: Line breaks and other control characters: a typed one-line value never holds them, and in a
#: name or a title that ends up in an email header they would inject headers.
_CONTROL_RUN = re.compile("[\\x00-\\x1f\\x7f\\u2028\\u2029]+")


def one_line(value: str | None) -> str | None:
    """`strip` for one-line fields (names, titles, subjects): a run of line breaks or other
    control characters becomes one space."""
    return _CONTROL_RUN.sub(" ", value).strip() if isinstance(value, str) else value


def drop_nul(value: str | None) -> str | None:
    """`strip` for text kept as typed (a message's layout): only NUL characters are dropped."""
    return value.replace("\x00", "") if isinstance(value, str) else value


def plausible_year(_form, field) -> None:
    """A date (or date and time) people plan with: years far off are typing slips, and near
    year 1 or 9999 the conversion to UTC overflows."""
    if field.data is not None and not 2000 <= field.data.year <= 2100:
        raise ValidationError("Enter a date between the years 2000 and 2100.")


def parse_id(value: str | None) -> int | None:
    """A row id sent in a form or a query string, else None: ASCII digits only ("²" passes
    str.isdigit() but not int()), and no larger than a row id can be (MAX_ID: the database
    refuses a larger number)."""
    text = value.strip() if isinstance(value, str) else ""
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number <= MAX_ID else None


def coerce_id(value) -> int:
    """`coerce` of a select of row ids: anything but an id is the field's "Invalid choice"
    error, never a number the database cannot bind."""
    number = value if isinstance(value, int) else parse_id(value)
    if number is None or not 0 <= number <= MAX_ID:
        raise ValueError("not a row id")
    return number


def coerce_optional_id(value) -> int | None:
    """`coerce_id` for a select whose first choice is "none" (an empty value)."""
    return None if value in (None, "", "None") else coerce_id(value)


def _valid_zone(_form, field) -> None:
    if not is_valid_timezone(field.data):
        raise ValidationError("Choose a time zone from the list.")


@cache
def _timezone_choices() -> list[SelectChoice]:
    return [
        SelectChoice(name, name.replace("_", " "), optgroup=name.split("/")[0])
        for name in all_timezones()
    ]


def timezone_field(label: str = "Time zone") -> SelectField:
    # Choices are read only when the list is shown: a form being sent validates the zone
    # itself, without going through ~600 choices per request.
    return SelectField(
        label,
        choices=_timezone_choices,
        validators=[DataRequired(), _valid_zone],
        validate_choice=False,
    )


def _optional_timezone_choices() -> list[SelectChoice]:
    return [SelectChoice("", "Not known"), *_timezone_choices()]


def optional_timezone_field(label: str) -> SelectField:
    """A time zone that may be left unknown (checked by the use case when given)."""
    return SelectField(label, choices=_optional_timezone_choices, validate_choice=False)


def email_field(label: str = "Email address") -> EmailField:
    return EmailField(
        label,
        filters=[strip],
        validators=[
            DataRequired(),
            Email(message="Enter an email address like name@city.gov."),
            Length(max=320),
        ],
    )


class ActionForm(FlaskForm):
    """A button that changes something: carries only the CSRF token."""


class ConfirmForm(FlaskForm):
    """The second press of an action that emails people or removes data: the first shows a
    confirmation page (`confirmation_page`), which posts again with `confirmed`."""

    confirmed = HiddenField()
    note = TextAreaField(
        "A note for the email (optional)",
        filters=[lambda value: value.strip() if value else value],
        validators=[Optional(), Length(max=2000)],
    )

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed.data == "yes" and not self.note.errors


def confirmation_page(
    form: ConfirmForm,
    *,
    programme,
    title: str,
    happens: list[str],
    told: str,
    button: str,
    back: str,
    note: bool = False,
    carry: dict[str, str] | None = None,
):
    """The page that asks before the action: what happens, who is told, an optional note
    for their email, and the same form posted again with `confirmed` (no JavaScript)."""
    return render_template(
        "confirm.html",
        form=form,
        programme=programme,
        title=title,
        happens=happens,
        told=told,
        button=button,
        back=back,
        with_note=note,
        carry=carry or {},
    )


class CheckboxListField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes: the same form data as a multiple
    select (organisers' lists of rows add a search box: templates/organiser/_checklist.html)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
