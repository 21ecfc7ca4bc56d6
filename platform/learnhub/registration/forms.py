from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from ..forms import strip, timezone_field


class RegistrationForm(FlaskForm):
    full_name = StringField(
        "Full name", filters=[strip], validators=[DataRequired(), Length(max=200)]
    )
    email = EmailField(
        "Email address",
        filters=[strip],
        validators=[
            DataRequired(),
            Email(message="Enter an email address like name@city.gov."),
            Length(max=320),
        ],
    )
    organisation = StringField(
        "Organisation", filters=[strip], validators=[Optional(), Length(max=300)]
    )
    city = StringField("City", filters=[strip], validators=[Optional(), Length(max=120)])
    country = StringField("Country", filters=[strip], validators=[Optional(), Length(max=120)])
    timezone = timezone_field("Your time zone")
    consent = BooleanField(
        "I agree that LearnHub and the organisers keep my details to run this programme, "
        "as described in the privacy notice.",
        validators=[DataRequired(message="Please accept the privacy notice to register.")],
    )
