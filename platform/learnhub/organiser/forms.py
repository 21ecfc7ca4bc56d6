"""Organiser forms: registration settings, questions, registrant filters and decisions; the
authoring pages' programmes, sessions, modules, materials, people, organisations, topics."""

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

from ..catalogue.uploads import UploadError, check_image, check_upload
from ..forms import (
    CheckboxListField,
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


def line(label: str, max: int, *, required: bool = False, **options) -> StringField:
    """A one-line text field (`one_line`: no line breaks), at most `max` characters."""
    return StringField(
        label, filters=[one_line], validators=[_needed(required), Length(max=max)], **options
    )


def text(label: str, max: int, *, required: bool = False) -> TextAreaField:
    """A text area (spaces around stripped), at most `max` characters."""
    return TextAreaField(label, filters=[strip], validators=[_needed(required), Length(max=max)])


def link(label: str, max: int) -> URLField:
    """An optional web address, at most `max` characters."""
    return URLField(
        label,
        filters=[strip],
        validators=[Optional(), Length(max=max), URL(message="Enter a link like https://…")],
    )


def row_choice(label: str) -> SelectField:
    """A select of rows (its choices set by the page), whose first choice is "none"."""
    return SelectField(label, coerce=coerce_optional_id, choices=[], validate_choice=False)


def rows_choice(label: str) -> CheckboxListField:
    """A checkable list of rows (its choices set by the page, with a search box from
    static/filter_list.js); the use case checks them."""
    return CheckboxListField(label, coerce=coerce_id, validate_choice=False)


def _needed(required: bool):
    return DataRequired() if required else Optional()


class RegistrationChoices(FlaskForm):
    """Seats, approval and waiting list: a new programme's, then its registration settings'."""

    capacity = IntegerField(
        "Seats (leave empty for unlimited)",
        validators=[Optional(), NumberRange(min=0, max=1_000_000, message="Enter 0 or more.")],
    )
    approval_required = BooleanField("An organiser approves each registration")
    waitlist_enabled = BooleanField("Keep a waiting list when the seats are taken", default=True)


class RegistrationSettingsForm(RegistrationChoices):
    opens_at = DateTimeLocalField(
        "Registration opens", format="%Y-%m-%dT%H:%M", validators=[Optional(), plausible_year]
    )
    closes_at = DateTimeLocalField(
        "Registration closes", format="%Y-%m-%dT%H:%M", validators=[Optional(), plausible_year]
    )


class QuestionForm(FlaskForm):
    label = line("Question", 300, required=True)
    kind = SelectField(
        "Kind of answer", choices=[SelectChoice(k, KIND_LABELS[k]) for k in QUESTION_KINDS]
    )
    required = BooleanField("An answer is required")
    choices = text("Choices (for choice questions), one per line", 5000)


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


def checked_file(check):
    """A file field's validator: an upload, if one came, passes `check` (its content, size and
    name); the checked file lands on `field.checked` for the use case, a refusal beside the
    field."""

    def validate(_form, field) -> None:
        field.checked = None
        upload = field.data
        if upload and getattr(upload, "filename", ""):
            try:
                field.checked = check(upload.filename, upload.stream)
            except UploadError as error:
                raise ValidationError(error.message) from error

    return validate


class VersionedForm(FlaskForm):
    #: The version the editor saw; a different one on save means someone else saved first.
    version = HiddenField(filters=[lambda v: v if isinstance(v, int) else parse_id(v)])


class ProgrammeForm(VersionedForm):
    kind = SelectField("Kind", choices=PROGRAMME_KIND_CHOICES)
    title = line("Title", 300, required=True)
    edition = line("Edition (e.g. 2nd edition)", 80)
    summary = text("Summary (one or two sentences)", 1000, required=True)
    description = text("Description", 50_000)
    topic = row_choice("Topic")
    format = SelectField("Format", choices=FORMAT_CHOICES)
    venue = line("Venue (in person and hybrid)", 300)
    language = line("Language", 40, required=True, default="English")
    timezone = timezone_field("Time zone (sessions are entered in it)")
    hosts = rows_choice("Hosted by")
    supporters = rows_choice("With the support of")
    partners = rows_choice("In collaboration with (partners)")
    alliances = rows_choice("Related alliances")
    cover = FileField(
        "Cover image (optional; PNG, JPEG or WebP, up to 5 MB)",
        validators=[checked_file(check_image)],
    )


class NewProgrammeForm(ProgrammeForm, RegistrationChoices):
    """A new programme's details and its first registration settings."""


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
    title = line("Title", 300, required=True)
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
    description = text("Description", 20_000)
    join_url = link(
        "Join link (shown to confirmed registrants from 30 minutes before the start)", 1000
    )
    module = row_choice("Module")
    speakers = rows_choice("Speakers")
    moderators = rows_choice("Moderators")
    #: Asked for when the date is in the past (see authoring.sessions.check_not_past).
    confirm_past = BooleanField("Yes, this session is in the past")
    #: Asked for when a new time would be emailed to registrants (sessions.update_session).
    confirm_move = BooleanField("Yes, email them the new time")
    move_note = text("A note for the email (optional)", 2000)


class ModuleForm(VersionedForm):
    title = line("Title", 300, required=True)
    theme = line("Theme", 120)
    summary = text("Summary", 2000)
    body = text("Body", 100_000)


def _has_file(form) -> bool:
    return bool(form.file.data and getattr(form.file.data, "filename", ""))


class MaterialForm(FlaskForm):
    title = line("Title", 300, required=True)
    kind = SelectField("Kind", choices=MATERIAL_KIND_CHOICES)
    module = row_choice("Module")
    file = FileField(
        "File (PDF, .pptx or .docx, up to 25 MB)", validators=[checked_file(check_upload)]
    )
    url = link("…or a link", 1000)
    language = line("Language", 40, required=True, default="English")
    visibility = SelectField("Who may open it", choices=VISIBILITY_CHOICES)

    def validate_url(self, field) -> None:
        if _has_file(self) == bool(field.data):
            raise ValidationError("Upload a file or give a link (one of the two).")


class MaterialEditForm(MaterialForm):
    #: What the editor saw (authoring.materials.material_seen); another one on save is refused.
    seen = HiddenField()
    file = FileField(
        "Replace the file (PDF, .pptx or .docx, up to 25 MB)",
        validators=[checked_file(check_upload)],
    )
    url = link("…or a link", 1000)  # again, to stay after the file

    def validate_url(self, field) -> None:
        """Neither keeps the stored file; both is one too many."""
        if _has_file(self) and field.data:
            raise ValidationError("Upload a file or give a link (one of the two).")


class PersonForm(FlaskForm):
    honorific = line("Honorific (Ms., Mr., Dr.)", 20)
    full_name = line("Full name", 200, required=True)
    position = line("Position", 300)
    organisation = row_choice("Organisation")
    organisation_text = line("…or organisation, if not in the list", 300)
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
    bio = text("Short biography", 5000)
    photo = FileField(
        "Photo (optional; PNG, JPEG or WebP, up to 5 MB)", validators=[checked_file(check_image)]
    )
    confirmed_new = BooleanField("This is someone else than the similar people listed")


class TopicForm(FlaskForm):
    name = line("Name", 200, required=True)


class OrganisationForm(FlaskForm):
    name = line("Full name", 300, required=True)
    short_name = line("Short name or acronym", 80)
    website = link("Website", 500)
    confirmed_new = BooleanField("This is another organisation than the similar ones listed")


class OrganisationEditForm(OrganisationForm):
    #: What the editor saw (organisations.organisation_seen); another one on save is refused.
    seen = HiddenField()
    confirmed_new = None  # an edit keeps the organisation: no "another one" question


class NewEditionForm(FlaskForm):
    title = line("Title", 300, required=True)
    edition = line("Edition (e.g. 3rd edition)", 80, required=True)
    weeks = IntegerField(
        "Shift the sessions by this many weeks",
        validators=[DataRequired(message="Enter a number of weeks."), NumberRange(min=1, max=520)],
    )


class InviteOrganiserForm(FlaskForm):
    full_name = line("Name", 200, required=True)
    email = email_field("Email address")
