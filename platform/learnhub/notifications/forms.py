from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, StringField, TextAreaField, TimeField, URLField
from wtforms.fields.choices import SelectChoice, SelectField
from wtforms.validators import URL, DataRequired, Length, Optional

from ..forms import CheckboxListField, coerce_id, drop_nul, one_line, plausible_year, strip
from .announcements import AUDIENCE_LABELS
from .policy import OFFSET_CHOICES


class EmailPreferencesForm(FlaskForm):
    reminders = BooleanField("Reminders before my sessions")
    announcements = BooleanField("Announcements and follow-ups from organisers")


class ReminderPolicyForm(FlaskForm):
    offsets = CheckboxListField(
        "Send reminders",
        choices=[SelectChoice(str(m), label) for m, label in OFFSET_CHOICES.items()],
        coerce=int,
        validate_choice=True,
    )


class AnnouncementForm(FlaskForm):
    subject = StringField(
        "Subject", filters=[one_line], validators=[DataRequired(), Length(max=300)]
    )
    body = TextAreaField(
        "Message",
        filters=[drop_nul],
        validators=[DataRequired(), Length(max=20000)],
        render_kw={"rows": 10},
    )
    audience = SelectField(
        "Send to",
        choices=[SelectChoice(value, label) for value, label in AUDIENCE_LABELS.items()],
        validators=[DataRequired()],
    )
    session_id = SelectField(
        "Session (for attended / missed)",
        coerce=coerce_id,
        validators=[Optional()],
        validate_choice=False,
    )


class ScheduleForm(FlaskForm):
    day = DateField("Date", validators=[DataRequired(message="Enter the date."), plausible_year])
    starts = TimeField("Starts", validators=[DataRequired(message="Enter the start time.")])
    ends = TimeField("Ends", validators=[DataRequired(message="Enter the end time.")])
    #: Only for a session that runs past midnight; empty means the start date.
    end_day = DateField(
        "Ends on (only if not the same day)", validators=[Optional(), plausible_year]
    )
    #: Asked for when the new time is in the past (catalogue.services.reschedule_session).
    confirm_past = BooleanField("Yes, this session is in the past")


class RecordingForm(FlaskForm):
    title = StringField("Title", filters=[one_line], validators=[Optional(), Length(max=300)])
    url = URLField(
        "Recording link",
        filters=[strip],
        validators=[
            DataRequired(),
            URL(message="Enter a full link, like https://..."),
            Length(max=1000),
        ],
    )
