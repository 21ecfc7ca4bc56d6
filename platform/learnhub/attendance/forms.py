"""Forms of the attendance pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField, RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired, Length, NumberRange

from ..forms import one_line, timezone_field
from .import_staging import ImportSettings
from .models import ATTENDANCE_STATUSES

#: The sheet's choices; "" clears a mark ("not yet marked").
SHEET_CHOICES = [SelectChoice(s, s.capitalize()) for s in ATTENDANCE_STATUSES] + [
    SelectChoice("", "Not marked")
]


def sheet_form(rows) -> FlaskForm:
    """One radio group per expected registrant, named r<registration id>."""

    class SheetForm(FlaskForm):
        pass

    for row in rows:
        if not row.expected:
            continue
        setattr(
            SheetForm,
            f"r{row.registration.id}",
            RadioField(
                row.registration.user.full_name,
                choices=SHEET_CHOICES,
                default=row.status or "",
                validate_choice=False,  # the service refuses unknown marks
            ),
        )
    return SheetForm()


class OpenCheckInForm(FlaskForm):
    grace_minutes = IntegerField(
        "Grace period (minutes after the start that still count as on time)",
        default=10,
        validators=[NumberRange(0, 240, "Enter 0 to 240 minutes.")],
    )


class CheckInCodeForm(FlaskForm):
    code = StringField(
        "Check-in code",
        filters=[one_line],
        validators=[
            DataRequired("Type the code shown on screen."),
            Length(max=20, message="The code is 6 letters and digits."),
        ],
    )


class ImportForm(FlaskForm):
    report = FileField(
        "Participant report (Zoom or Teams export, or a CSV with email, name, join, leave)",
        validators=[FileRequired("Choose the report file.")],
    )
    times_timezone = timezone_field("Time zone of the times in the report")
    present_percent = IntegerField(
        "Present when at least this % of the session was attended",
        default=75,
        validators=[NumberRange(1, 100, "Enter a percentage from 1 to 100.")],
    )
    late_minutes = IntegerField(
        "Late when first joining more than this many minutes after the start",
        default=10,
        validators=[NumberRange(0, 240, "Enter 0 to 240 minutes.")],
    )
    absent_if_missing = BooleanField(
        "Mark registrants who are not in the report (and not yet marked) absent", default=True
    )

    def settings(self) -> ImportSettings:
        """The organiser's rule for reading the report."""
        return ImportSettings(
            self.times_timezone.data,
            self.present_percent.data,
            self.late_minutes.data,
            self.absent_if_missing.data,
        )


class CompletionRuleForm(FlaskForm):
    completion_percent = IntegerField(
        "Completed when attending at least this % of the sessions",
        validators=[NumberRange(1, 100, "Enter a percentage from 1 to 100.")],
    )
