"""The shapes every authoring page takes: a form page that saves through one use case, a
button, a removal that asks first. Each resource's pages are these shapes filled in."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from flask import abort, flash, g, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import Select

from ...forms import ActionForm, ConfirmForm, confirmation_page, strip
from ...pagination import page_of, requested_page
from ...use_cases import attempt, run_use_case, show

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

#: A use case's input: a dataclass.
D = TypeVar("D", bound="DataclassInstance")

#: Rows per page of a list that can grow without bound (people, organisations, a change log).
PER_PAGE = 50


@dataclass(frozen=True)
class FormPage:
    """A create or edit page: GET shows the form of `template` (in templates/organiser/); a
    valid POST runs `use_case` with the arguments read from the form, flashes `saved`
    (formatted with what the use case returned) and redirects to `next_page`: a page of the
    programme (an endpoint such as ".modules"), or a function of what the use case returned.
    A refusal is shown on the form and the page answers 422. Upload fields check their files
    as they validate (forms.checked_file). A page that lists what it adds, with a search box
    (`q` in the address), names the `search` whose statement finds the rows it shows
    (`found`: a page of them, `page` in the address)."""

    template: str
    use_case: Callable[..., Any]
    saved: str
    next_page: str | Callable[[Any], str]
    search: Callable[[str], Select] | None = None

    def __call__(
        self,
        form: FlaskForm,
        arguments: Callable[[FlaskForm], tuple],
        shown: Callable[[], dict] | None = None,
        **context,
    ):
        """`context` goes to the template as it is; `shown()` (what the page reads to show
        beside the form: a list, a count) only when the page is shown, after a refusal."""
        if form.validate_on_submit():
            done, result = run_use_case(form, self.use_case, *arguments(form))
            if done:
                flash(self.saved.format(result), "success")
                return redirect(self._after(result))
        extra: dict[str, Any] = shown() if shown else {}
        if self.search is not None:
            query = (strip(request.args.get("q") or "") or "")[:200]
            found = page_of(self.search(query), requested_page(), PER_PAGE)
            extra.update(query=query, found=found)
        return show(f"organiser/{self.template}", form=form, **context, **extra)

    def _after(self, result) -> str:
        if callable(self.next_page):
            return self.next_page(result)
        return url_for(self.next_page, slug=g.programme.slug)


def form_for(form_class: type[FlaskForm], row=None, **data) -> FlaskForm:
    """A page's form: on GET filled from `row` (what an edit page edits), then from `data`
    (fields the row has no attribute for, or holds otherwise; a new thing's defaults); on POST
    from the request alone, so a field left out of a POST is empty rather than the row's."""
    if request.method != "GET":
        return form_class()
    form = form_class(obj=row)
    for name, value in data.items():
        getattr(form, name).data = value
    return form


def typed(input_class: type[D], form: FlaskForm, **given) -> D:
    """A use case's input (a dataclass) from a validated form: each of its fields from
    `given`, else from the form field of the same name (for a name ending in `_id`, the select
    without it: `topic` for `topic_id`; for a file field, the file it checked). A field the
    form lacks or left empty (None) keeps its default."""
    values = {}
    for item in dataclasses.fields(input_class):
        name = item.name if item.name in form else item.name.removesuffix("_id")
        if item.name in given or name not in form:
            continue
        field = form[name]
        value = field.checked if isinstance(field, FileField) else field.data
        has_default = not (item.default is item.default_factory is dataclasses.MISSING)
        if value is not None or not has_default:
            values[item.name] = value
    return input_class(**values, **given)


def pressed(use_case: Callable[..., Any], *args) -> tuple[bool, Any]:
    """A button's POST (CSRF-checked): one use case, a refusal flashed. (done, result)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    return attempt(use_case, *args)


def button(back: str, message: str | None, use_case: Callable[..., Any], *args):
    """A button on a programme's page: one use case on it, its outcome flashed, then back."""
    done, _ = pressed(use_case, g.programme.id, *args)
    if done and message:
        flash(message, "success")
    return redirect(url_for(back, slug=g.programme.slug))


@dataclass(frozen=True)
class Removal:
    """A removal's POST: first a confirmation page that says what goes (`asks`, formatted
    with the row, and `happens`), then the removal, `done` flashed, and back to `back` (a page
    of the programme). Without the row (gone already, or not to be asked about) the use case
    answers at once."""

    back: str
    use_case: Callable[..., Any]
    asks: str
    happens: tuple[str, ...]
    done: str

    def __call__(self, row, row_id: int):
        form = ConfirmForm()
        if not form.validate_on_submit():
            abort(400)
        if row is not None and not form.is_confirmed:
            return confirmation_page(
                form,
                programme=g.programme,
                title=self.asks.format(row),
                happens=list(self.happens),
                told="nobody is emailed.",
                button="Remove",
                back=url_for(self.back, slug=g.programme.slug),
            )
        return button(self.back, self.done, self.use_case, row_id, current_user.id)
