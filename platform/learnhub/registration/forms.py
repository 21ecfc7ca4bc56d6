from __future__ import annotations

from flask import url_for
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    Field,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..accounts.forms import PersonForm, zone_text_field
from ..forms import email_field, one_line, strip
from .models import RegistrationQuestion
from .questions import MAX_LONG, MAX_SHORT, choices_for


class _ConsentLabel(str):
    """The consent sentence; as HTML its "privacy notice" links to the notice (/privacy)."""

    SENTENCE = (
        "I agree that LearnHub and the organisers keep my details to run this programme, "
        "as described in the {}."
    )

    def __new__(cls) -> _ConsentLabel:
        return super().__new__(cls, cls.SENTENCE.format("privacy notice"))

    def __html__(self) -> str:
        link = Markup('<a href="{}">privacy notice</a>').format(url_for("catalogue.privacy"))
        return Markup(escape(self.SENTENCE)).format(link)


class RegistrationForm(PersonForm):
    email = email_field()
    timezone = zone_text_field("Your time zone")
    consent = BooleanField(
        _ConsentLabel(),
        validators=[DataRequired(message="Please accept the privacy notice to register.")],
    )

    def question_fields(self) -> list[Field]:
        return [field for field in self if field.name.startswith("q_")]

    def answers(self) -> dict[int, str | list[str]]:
        return {int(field.name[2:]): field.data for field in self.question_fields()}


class AnswersForm(FlaskForm):
    """Only the programme's questions: what a registrant edits later."""

    def question_fields(self) -> list[Field]:
        return [field for field in self if field.name.startswith("q_")]

    def answers(self) -> dict[int, str | list[str]]:
        return {int(field.name[2:]): field.data for field in self.question_fields()}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _question_field(question: RegistrationQuestion) -> Field:
    label = question.label
    # Text answers are required after stripping (DataRequired), so "   " is refused here too.
    required = DataRequired if question.kind in ("short_text", "long_text") else InputRequired
    needed = (
        [required(message="This question needs an answer.")] if question.required else [Optional()]
    )
    choices = [SelectChoice(c, c) for c in choices_for(question)]
    if question.kind == "short_text":
        return StringField(label, filters=[one_line], validators=[*needed, Length(max=MAX_SHORT)])
    if question.kind == "long_text":
        return TextAreaField(label, filters=[strip], validators=[*needed, Length(max=MAX_LONG)])
    if question.kind in ("single_choice", "yes_no"):
        return RadioField(label, choices=choices, validators=needed)
    if question.kind == "country":
        return SelectField(
            label, choices=[SelectChoice("", "Choose a country"), *choices], validators=needed
        )
    return MultiCheckboxField(
        label,
        choices=choices,
        validators=[InputRequired(message="Choose at least one.")]
        if question.required
        else [Optional()],
    )


def with_questions(form_class: type[FlaskForm], questions: list[RegistrationQuestion]):
    """A subclass of `form_class` with one field per question, named q_<id>, in order."""

    class WithQuestions(form_class):
        pass

    for question in questions:
        setattr(WithQuestions, f"q_{question.id}", _question_field(question))
    return WithQuestions


def answers_form(questions: list[RegistrationQuestion], registration=None) -> AnswersForm:
    form_class = with_questions(AnswersForm, questions)
    if registration is None:
        return form_class()
    stored = {a.question_id: a.value for a in registration.answers}
    data = {}
    for question in questions:
        value = stored.get(question.id)
        if value is not None:
            data[f"q_{question.id}"] = (
                value.split("\n") if question.kind == "multiple_choice" else value
            )
    return form_class(data=data)
