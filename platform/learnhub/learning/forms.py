"""Forms of the learning pages: posts, toggles, certificates, the organiser's settings."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..forms import parse_id, strip
from .services.discussions import MAX_POST_LENGTH, MODERATION_ACTIONS


class PostForm(FlaskForm):
    body = TextAreaField(
        "Your post",
        validators=[
            DataRequired("Write something before posting."),
            Length(max=MAX_POST_LENGTH, message=f"Posts are at most {MAX_POST_LENGTH} characters."),
        ],
        filters=[strip],
    )
    parent_id = HiddenField(validators=[Optional()])

    def parent(self) -> int | None:
        return parse_id(self.parent_id.data)


class CertificateCodeForm(FlaskForm):
    """The code printed on a certificate, typed to check it (a GET form: nothing changes)."""

    class Meta:
        csrf = False

    code = StringField(
        "Certificate code",
        filters=[strip],
        validators=[
            DataRequired("Type the code printed on the certificate, for example ABCD-EFGH-JKMN."),
            Length(max=40, message="A certificate code is 14 characters, like ABCD-EFGH-JKMN."),
        ],
    )


class ToggleForm(FlaskForm):
    """A button that switches something on or off (digests, a discussion's lock)."""

    wanted = HiddenField(validators=[DataRequired()])

    @property
    def on(self) -> bool:
        return self.wanted.data == "on"


class ModerateForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])

    def validate_action(self, field) -> None:
        if field.data not in MODERATION_ACTIONS:
            raise ValidationError("Choose pin, unpin, hide or show.")


class IssueForm(FlaskForm):
    """Issuing by hand, from a participant's line of the certificates overview."""

    registration_id = HiddenField(
        filters=[parse_id], validators=[DataRequired("Choose a participant.")]
    )
    reason = TextAreaField(
        "Reason", filters=[strip], validators=[DataRequired("Give a reason."), Length(max=2000)]
    )


class RevokeForm(FlaskForm):
    reason = TextAreaField(
        "Reason for revoking",
        filters=[strip],
        validators=[DataRequired("Give a reason for revoking."), Length(max=2000)],
    )


COMPLETION_CHOICES = [
    SelectChoice("manual", "The participant marks it complete"),
    SelectChoice("items", "Opening its required materials completes it"),
]


def settings_form(programme) -> FlaskForm:
    """Per module: `mode-<id>` and `cert-<id>`; per module material: `req-<id>`."""

    class SettingsForm(FlaskForm):
        pass

    data = {}
    for module in programme.modules:
        setattr(
            SettingsForm,
            f"mode-{module.id}",
            RadioField(
                f"How is module {module.position} completed?",
                choices=COMPLETION_CHOICES,
                validators=[DataRequired("Choose how the module is completed.")],
            ),
        )
        setattr(
            SettingsForm,
            f"cert-{module.id}",
            BooleanField("Needed for the certificate"),
        )
        data[f"mode-{module.id}"] = module.completion_mode
        data[f"cert-{module.id}"] = module.required_for_certificate
        for material in module.materials:
            setattr(SettingsForm, f"req-{material.id}", BooleanField(material.title))
            data[f"req-{material.id}"] = material.required
    return SettingsForm(data=data)
