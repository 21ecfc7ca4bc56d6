"""Form pieces shared by features."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import DataRequired, ValidationError

from .timefmt import all_timezones, is_valid_timezone


def _valid_zone(_form, field) -> None:
    if not is_valid_timezone(field.data):
        raise ValidationError("Choose a time zone from the list.")


def timezone_field(label: str = "Time zone") -> SelectField:
    return SelectField(
        label,
        choices=[(name, name.replace("_", " ")) for name in all_timezones()],
        validators=[DataRequired(), _valid_zone],
        validate_choice=False,
    )


class ActionForm(FlaskForm):
    """A button that changes something: carries only the CSRF token."""
