"""The one way a view calls a use case that may refuse: a `DomainError` rolls the transaction
back and reaches the person, on the form beside its field or as a flash. Views never roll back
themselves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, flash, render_template, request
from flask_wtf import FlaskForm

from .errors import DomainError, NotAllowed, NotFound
from .extensions import db

T = TypeVar("T")


def refused(error: DomainError) -> DomainError:
    """Roll the use case's transaction back; a missing or forbidden thing ends the request."""
    db.session.rollback()
    if isinstance(error, NotFound):
        abort(404)
    if isinstance(error, NotAllowed):
        abort(403)
    return error


def run_use_case(
    form: FlaskForm, use_case: Callable[..., T], *args: Any, **kwargs: Any
) -> tuple[bool, T | None]:
    """(True, result), or (False, None) with the refusal shown on `form`: beside the field it
    names, else above the form. `form.refusal` keeps it for a view that shows more."""
    try:
        return True, use_case(*args, **kwargs)
    except DomainError as error:
        refused(error)
        form.refusal = error
        field = getattr(form, error.field or "", None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, error.message]
        else:
            form.form_errors.append(error.message)
        return False, None


def attempt(use_case: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[bool, T | None]:
    """(True, result), or (False, None) with the refusal flashed: for a button, not a form."""
    try:
        return True, use_case(*args, **kwargs)
    except DomainError as error:
        flash(refused(error).message, "error")
        return False, None


def show(template: str, **context: Any) -> tuple[str, int]:
    """Render a page: 200, or 422 when a POST comes back to it (its form refused, with the
    errors beside the fields), so a refused form never looks like a success."""
    return render_template(template, **context), 422 if request.method == "POST" else 200
