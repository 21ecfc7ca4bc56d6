from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Email, Length

from ..forms import strip, timezone_field


class SignInLinkForm(FlaskForm):
    email = EmailField(
        "Email address",
        filters=[strip],
        validators=[
            DataRequired(),
            Email(message="Enter an email address like name@city.gov."),
            Length(max=320),
        ],
    )
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


class ViewerTimezoneForm(FlaskForm):
    timezone = timezone_field("Show times in")
    next = HiddenField()
