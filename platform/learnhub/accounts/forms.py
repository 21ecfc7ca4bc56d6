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
from wtforms.validators import DataRequired, Email, Length, Optional

from ..forms import email_field, one_line, strip, timezone_field
from .services import LANGUAGES, MIN_PASSWORD_LENGTH


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

    timezone = timezone_field("Show times in")
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
    timezone = timezone_field("Time zone")
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
