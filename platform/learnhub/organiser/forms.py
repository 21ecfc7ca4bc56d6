"""Organiser forms: registration settings, questions, registrant filters and decisions."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from ..forms import email_field, strip
from ..registration.models import QUESTION_KINDS, REGISTRATION_STATUSES

KIND_LABELS = {
    "short_text": "Short text",
    "long_text": "Long text",
    "single_choice": "Single choice",
    "multiple_choice": "Multiple choice",
    "country": "Country",
    "yes_no": "Yes / no",
}
STATE_LABELS = {
    "pending": "Awaiting approval",
    "confirmed": "Confirmed",
    "waitlisted": "Waiting list",
    "cancelled": "Cancelled",
    "rejected": "Rejected",
}


def _plausible_year(_form, field) -> None:
    if field.data is not None and not 2000 <= field.data.year <= 2100:
        raise ValidationError("Enter a date between the years 2000 and 2100.")


class RegistrationSettingsForm(FlaskForm):
    capacity = IntegerField(
        "Seats (leave empty for unlimited)",
        validators=[Optional(), NumberRange(min=0, max=1_000_000, message="Enter 0 or more.")],
    )
    opens_at = DateTimeLocalField(
        "Registration opens", format="%Y-%m-%dT%H:%M", validators=[Optional(), _plausible_year]
    )
    closes_at = DateTimeLocalField(
        "Registration closes", format="%Y-%m-%dT%H:%M", validators=[Optional(), _plausible_year]
    )
    approval_required = BooleanField("An organiser approves each registration")
    waitlist_enabled = BooleanField("Keep a waiting list when the seats are taken")


class QuestionForm(FlaskForm):
    label = StringField("Question", filters=[strip], validators=[DataRequired(), Length(max=300)])
    kind = SelectField(
        "Kind of answer", choices=[SelectChoice(k, KIND_LABELS[k]) for k in QUESTION_KINDS]
    )
    required = BooleanField("An answer is required")
    choices = TextAreaField(
        "Choices (for choice questions), one per line",
        filters=[strip],
        validators=[Optional(), Length(max=5000)],
    )


class RegistrantFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form: reads only

    q = StringField("Search name, email, organisation, city", filters=[strip])
    status = SelectField(
        "State",
        choices=[SelectChoice("", "Any state")]
        + [SelectChoice(s, STATE_LABELS[s]) for s in REGISTRATION_STATUSES],
        validate_choice=False,
    )
    question = SelectField("Question", choices=[], validate_choice=False)
    answer = StringField("Answer contains", filters=[strip])


class DecisionForm(FlaskForm):
    ids = SelectMultipleField("Registrations", coerce=int, validate_choice=False)
    action = SelectField(
        "Action",
        choices=[SelectChoice("approve", "Approve"), SelectChoice("reject", "Reject")],
    )


class MoveForm(FlaskForm):
    status = SelectField(
        "Move to", choices=[SelectChoice(s, STATE_LABELS[s]) for s in REGISTRATION_STATUSES]
    )


class TeamMemberForm(FlaskForm):
    email = email_field("Organiser's email address")
    manage_programme = BooleanField("Manage the programme (settings, questions, team)")
    manage_registrations = BooleanField("Manage registrations")
    manage_attendance = BooleanField("Manage attendance")
