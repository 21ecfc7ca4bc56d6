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


class ProfileForm(FlaskForm):
    full_name = StringField(
        "Full name", filters=[one_line], validators=[DataRequired(), Length(max=200)]
    )
    organisation = StringField(
        "Organisation", filters=[one_line], validators=[Optional(), Length(max=300)]
    )
    job_title = StringField(
        "Job title", filters=[one_line], validators=[Optional(), Length(max=200)]
    )
    city = StringField("City", filters=[one_line], validators=[Optional(), Length(max=120)])
    country = StringField("Country", filters=[one_line], validators=[Optional(), Length(max=120)])
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
