"""Organiser forms: registration settings, questions, registrant filters and decisions."""

from __future__ import annotations

from datetime import datetime

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.validators import (
    URL,
    DataRequired,
    Email,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..forms import (
    coerce_id,
    coerce_optional_id,
    email_field,
    one_line,
    optional_timezone_field,
    parse_id,
    plausible_year,
    strip,
    timezone_field,
)
from ..i18n import LANGUAGE_LOCALES
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


class RegistrationSettingsForm(FlaskForm):
    capacity = IntegerField(
        "Seats (leave empty for unlimited)",
        validators=[Optional(), NumberRange(min=0, max=1_000_000, message="Enter 0 or more.")],
    )
    opens_at = DateTimeLocalField(
        "Registration opens", format="%Y-%m-%dT%H:%M", validators=[Optional(), plausible_year]
    )
    closes_at = DateTimeLocalField(
        "Registration closes", format="%Y-%m-%dT%H:%M", validators=[Optional(), plausible_year]
    )
    approval_required = BooleanField("An organiser approves each registration")
    waitlist_enabled = BooleanField("Keep a waiting list when the seats are taken")


class QuestionForm(FlaskForm):
    label = StringField(
        "Question", filters=[one_line], validators=[DataRequired(), Length(max=300)]
    )
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

    q = StringField("Search name, email, organisation, city", filters=[one_line])
    status = SelectField(
        "State",
        choices=[SelectChoice("", "Any state")]
        + [SelectChoice(s, STATE_LABELS[s]) for s in REGISTRATION_STATUSES],
        validate_choice=False,
    )
    question = SelectField("Question", choices=[], validate_choice=False)
    answer = StringField("Answer contains", filters=[one_line])


class DecisionForm(FlaskForm):
    ids = SelectMultipleField("Registrations", coerce=coerce_id, validate_choice=False)
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


# --- authoring --------------------------------------------------------------------------------

PROGRAMME_KIND_CHOICES = [
    SelectChoice("programme", "Training programme"),
    SelectChoice("webinar", "Webinar"),
]
FORMAT_CHOICES = [
    SelectChoice("online", "Online"),
    SelectChoice("in_person", "In person"),
    SelectChoice("hybrid", "Hybrid"),
]
MATERIAL_KIND_CHOICES = [
    SelectChoice("guidebook", "Guidebook"),
    SelectChoice("slides", "Slides"),
    SelectChoice("reading", "Reading"),
    SelectChoice("policy_case", "Policy case"),
    SelectChoice("recording", "Recording"),
    SelectChoice("programme", "Programme"),
]
VISIBILITY_CHOICES = [
    SelectChoice("public", "Everyone"),
    SelectChoice("registered", "Confirmed registrants only"),
]
MARKDOWN_HINT = "Markdown: **bold**, *italic*, [link](https://…), lists with -."


class VersionedForm(FlaskForm):
    #: The version the editor saw; a different one on save means someone else saved first.
    version = HiddenField(filters=[lambda v: v if isinstance(v, int) else parse_id(v)])


class ProgrammeForm(VersionedForm):
    kind = SelectField("Kind", choices=PROGRAMME_KIND_CHOICES)
    title = StringField("Title", filters=[one_line], validators=[DataRequired(), Length(max=300)])
    edition = StringField(
        "Edition (e.g. 2nd edition)", filters=[one_line], validators=[Optional(), Length(max=80)]
    )
    summary = TextAreaField(
        "Summary (one or two sentences)",
        filters=[strip],
        validators=[DataRequired(), Length(max=1000)],
    )
    description = TextAreaField(
        "Description", filters=[strip], validators=[Optional(), Length(max=50_000)]
    )
    topic = SelectField("Topic", coerce=coerce_optional_id, choices=[], validate_choice=False)
    format = SelectField("Format", choices=FORMAT_CHOICES)
    venue = StringField(
        "Venue (in person and hybrid)", filters=[one_line], validators=[Optional(), Length(max=300)]
    )
    language = StringField(
        "Language",
        filters=[one_line],
        default="English",
        validators=[DataRequired(), Length(max=40)],
    )
    timezone = timezone_field("Time zone (sessions are entered in it)")
    hosts = SelectMultipleField("Hosted by", coerce=coerce_id, validate_choice=False)
    supporters = SelectMultipleField("With the support of", coerce=coerce_id, validate_choice=False)
    partners = SelectMultipleField(
        "In collaboration with (partners)", coerce=coerce_id, validate_choice=False
    )
    alliances = SelectMultipleField("Related alliances", coerce=coerce_id, validate_choice=False)
    cover = FileField("Cover image (optional; PNG, JPEG or WebP, up to 5 MB)")


class NewProgrammeForm(ProgrammeForm):
    capacity = IntegerField(
        "Seats (leave empty for unlimited)",
        validators=[Optional(), NumberRange(min=0, max=1_000_000, message="Enter 0 or more.")],
    )
    approval_required = BooleanField("An organiser approves each registration")
    waitlist_enabled = BooleanField("Keep a waiting list when the seats are taken", default=True)


def _end_after_start(form, field) -> None:
    """The end, on its own day when one is given, must come after the start."""
    day, end_day = form.day.data, form.end_day.data or form.day.data
    if not (form.start.data and field.data and day and end_day):
        return
    if datetime.combine(end_day, field.data) <= datetime.combine(day, form.start.data):
        raise ValidationError(
            "The end must be after the start. A session past midnight needs its end date."
        )


class SessionForm(VersionedForm):
    title = StringField("Title", filters=[one_line], validators=[DataRequired(), Length(max=300)])
    day = DateField("Date", validators=[DataRequired(message="Enter the date."), plausible_year])
    start = TimeField("Starts at", validators=[DataRequired(message="Enter the start time.")])
    end = TimeField(
        "Ends at", validators=[DataRequired(message="Enter the end time."), _end_after_start]
    )
    #: Only for a session that runs past midnight; empty means the start date.
    end_day = DateField(
        "Ends on (only if not the same day)", validators=[Optional(), plausible_year]
    )
    timezone = timezone_field("Time zone of these times")
    description = TextAreaField(
        "Description", filters=[strip], validators=[Optional(), Length(max=20_000)]
    )
    join_url = URLField(
        "Join link (shown to confirmed registrants from 30 minutes before the start)",
        filters=[strip],
        validators=[Optional(), Length(max=1000), URL(message="Enter a link like https://…")],
    )
    module = SelectField("Module", coerce=coerce_optional_id, choices=[], validate_choice=False)
    speakers = SelectMultipleField("Speakers", coerce=coerce_id, validate_choice=False)
    moderators = SelectMultipleField("Moderators", coerce=coerce_id, validate_choice=False)
    #: Asked for when the date is in the past (see authoring.check_not_past).
    confirm_past = BooleanField("Yes, this session is in the past")
    #: Asked for when a new time would be emailed to registrants (authoring.update_session).
    confirm_move = BooleanField("Yes, email them the new time")
    move_note = TextAreaField(
        "A note for the email (optional)",
        filters=[strip],
        validators=[Optional(), Length(max=2000)],
    )


class ModuleForm(VersionedForm):
    title = StringField("Title", filters=[one_line], validators=[DataRequired(), Length(max=300)])
    theme = StringField("Theme", filters=[one_line], validators=[Optional(), Length(max=120)])
    summary = TextAreaField("Summary", filters=[strip], validators=[Optional(), Length(max=2000)])
    body = TextAreaField("Body", filters=[strip], validators=[Optional(), Length(max=100_000)])


class MaterialForm(FlaskForm):
    title = StringField("Title", filters=[one_line], validators=[DataRequired(), Length(max=300)])
    kind = SelectField("Kind", choices=MATERIAL_KIND_CHOICES)
    module = SelectField("Module", coerce=coerce_optional_id, choices=[], validate_choice=False)
    file = FileField("File (PDF, .pptx or .docx, up to 25 MB)")
    url = URLField(
        "…or a link",
        filters=[strip],
        validators=[Optional(), Length(max=1000), URL(message="Enter a link like https://…")],
    )
    language = StringField(
        "Language",
        filters=[one_line],
        default="English",
        validators=[DataRequired(), Length(max=40)],
    )
    visibility = SelectField("Who may open it", choices=VISIBILITY_CHOICES)

    def validate_url(self, field) -> None:
        has_file = bool(self.file.data and getattr(self.file.data, "filename", ""))
        if has_file == bool(field.data):
            raise ValidationError("Upload a file or give a link (one of the two).")


class MaterialEditForm(MaterialForm):
    #: What the editor saw (authoring.material_seen); a different one on save is refused.
    seen = HiddenField()
    file = FileField("Replace the file (PDF, .pptx or .docx, up to 25 MB)")
    url = URLField(
        "…or a link",
        filters=[strip],
        validators=[Optional(), Length(max=1000), URL(message="Enter a link like https://…")],
    )

    def validate_url(self, field) -> None:
        has_file = bool(self.file.data and getattr(self.file.data, "filename", ""))
        if has_file and field.data:
            raise ValidationError("Upload a file or give a link (one of the two).")


class PersonForm(FlaskForm):
    honorific = StringField(
        "Honorific (Ms., Mr., Dr.)", filters=[one_line], validators=[Optional(), Length(max=20)]
    )
    full_name = StringField(
        "Full name", filters=[one_line], validators=[DataRequired(), Length(max=200)]
    )
    position = StringField("Position", filters=[one_line], validators=[Optional(), Length(max=300)])
    organisation = SelectField(
        "Organisation", coerce=coerce_optional_id, choices=[], validate_choice=False
    )
    organisation_text = StringField(
        "…or organisation, if not in the list",
        filters=[one_line],
        validators=[Optional(), Length(max=300)],
    )
    email = EmailField(
        "Email (for their own reminders; optional)",
        filters=[strip],
        validators=[
            Optional(),
            Email(message="Enter an email address like name@city.gov."),
            Length(max=320),
        ],
    )
    timezone = optional_timezone_field("Their time zone (their run-sheet shows times in it)")
    preferred_language = SelectField(
        "Language of their emails",
        choices=[SelectChoice("", "Their LearnHub account's language, else English")]
        + [SelectChoice(language, language) for language in LANGUAGE_LOCALES],
        validate_choice=False,  # checked by the use case; left out of a post, it is unset
    )
    bio = TextAreaField(
        "Short biography", filters=[strip], validators=[Optional(), Length(max=5000)]
    )
    photo = FileField("Photo (optional; PNG, JPEG or WebP, up to 5 MB)")
    confirmed_new = BooleanField("This is someone else than the similar people listed")


class TopicForm(FlaskForm):
    name = StringField("Name", filters=[one_line], validators=[DataRequired(), Length(max=200)])


class OrganisationForm(FlaskForm):
    name = StringField(
        "Full name", filters=[one_line], validators=[DataRequired(), Length(max=300)]
    )
    short_name = StringField(
        "Short name or acronym", filters=[one_line], validators=[Optional(), Length(max=80)]
    )
    website = URLField(
        "Website",
        filters=[strip],
        validators=[Optional(), Length(max=500), URL(message="Enter a link like https://…")],
    )
    confirmed_new = BooleanField("This is another organisation than the similar ones listed")


class OrganisationEditForm(OrganisationForm):
    #: What the editor saw (authoring.organisation_seen); a different one on save is refused.
    seen = HiddenField()
    confirmed_new = None  # an edit keeps the organisation: no "another one" question


class NewEditionForm(FlaskForm):
    title = StringField("Title", filters=[one_line], validators=[DataRequired(), Length(max=300)])
    edition = StringField(
        "Edition (e.g. 3rd edition)",
        filters=[one_line],
        validators=[DataRequired(), Length(max=80)],
    )
    weeks = IntegerField(
        "Shift the sessions by this many weeks",
        validators=[DataRequired(message="Enter a number of weeks."), NumberRange(min=1, max=520)],
    )


class InviteOrganiserForm(FlaskForm):
    full_name = StringField(
        "Name", filters=[one_line], validators=[DataRequired(), Length(max=200)]
    )
    email = email_field("Email address")
