import unicodedata
from functools import lru_cache

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    Form,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from ..forms import email_field, one_line, strip
from ..timefmt import all_timezones, is_valid_timezone
from .services import LANGUAGES, MIN_PASSWORD_LENGTH

#: What a refused zone is told; the list is /timezones (catalogue.timezones).
ZONE_REFUSED = (
    "Choose a time zone from the list. Type it as Region/City, for example "
    "America/Sao_Paulo, Asia/Jakarta or Europe/Madrid (the city alone is enough)."
)


def _folded(text: str) -> str:
    """Lower case, accents off, "_" as a space, one space between words: "São_Paulo" is
    "sao paulo"."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(plain.replace("_", " ").lower().split())


@lru_cache(maxsize=1)
def _zones_by_spelling() -> dict[str, str]:
    """Each zone under its folded name, and under its city's alone where no other zone has
    that city ("Sao Paulo", "seoul", "Kuala Lumpur")."""
    names: dict[str, str] = {}
    cities: dict[str, list[str]] = {}
    for name in all_timezones():
        names[_folded(name)] = name
        if "/" in name:
            cities.setdefault(_folded(name.rsplit("/", 1)[1]), []).append(name)
    for city, zones in cities.items():
        if len(zones) == 1:
            names.setdefault(city, zones[0])
    return names


def canonical_zone(value: str | None) -> str | None:
    """A typed zone as the list writes it ("america/sao paulo" and "São Paulo" are
    "America/Sao_Paulo"); what is not a zone is kept as typed (up to 64 characters), for the
    validator to refuse."""
    if value is None:
        return None
    typed = " ".join(value.split())[:64]
    return _zones_by_spelling().get(_folded(typed), typed)


def _known_zone(_form, field) -> None:
    if not is_valid_timezone(field.data):
        raise ValidationError(ZONE_REFUSED)


def zone_text_field(label: str = "Time zone") -> StringField:
    """A time zone typed as text (tz.js fills in the browser's), checked against zoneinfo: a
    few bytes where a select of every zone was 31 KB on each page that asked."""
    return StringField(
        label,
        filters=[canonical_zone],
        validators=[InputRequired(message=ZONE_REFUSED), _known_zone],
        render_kw={
            "autocomplete": "off",
            "spellcheck": "false",
            "autocapitalize": "none",
            "data-zone-search": "",  # tz.js offers the zones as suggestions
        },
    )


class SignInLinkForm(FlaskForm):
    email = email_field()
    next = HiddenField()


class PasswordSignInForm(FlaskForm):
    #: Its own id: the sign-in page also has the link form's "email" field.
    email = EmailField(
        "Email address",
        id="password_email",
        filters=[strip],
        validators=[DataRequired(), Email(), Length(max=320)],
    )
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


class ViewerTimezoneForm(Form):
    """Sent by GET (catalogue.set_viewer_timezone): no CSRF token, no session needed."""

    timezone = zone_text_field("Show times in")
    next = HiddenField()


def _optional_line(label: str, length: int) -> StringField:
    return StringField(label, filters=[one_line], validators=[Optional(), Length(max=length)])


class PersonForm(FlaskForm):
    """What a person says about themselves, on the registration form and in their profile
    (lengths as the account's columns keep them)."""

    full_name = StringField(
        "Full name", filters=[one_line], validators=[DataRequired(), Length(max=200)]
    )
    organisation = _optional_line("Organisation", 300)
    city = _optional_line("City", 120)
    country = _optional_line("Country", 120)


class ProfileForm(PersonForm):
    job_title = _optional_line("Job title", 200)
    timezone = zone_text_field("Time zone")
    preferred_language = SelectField(
        "Preferred language", choices=[SelectChoice(lang, lang) for lang in LANGUAGES]
    )


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password (if you have one)", validators=[Optional(), Length(max=200)]
    )
    new_password = PasswordField(
        "New password",
        validators=[
            DataRequired(),
            Length(min=MIN_PASSWORD_LENGTH, max=200, message="Use 10 to 200 characters."),
        ],
    )


class EmailChangeForm(FlaskForm):
    new_email = email_field("New email address")


class DeleteAccountForm(FlaskForm):
    email = EmailField(
        "Type your email address to confirm", filters=[strip], validators=[DataRequired()]
    )
