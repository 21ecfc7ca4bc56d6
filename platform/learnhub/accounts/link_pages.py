"""Pages behind a link from an email (sign in, confirm a new address, cancel a registration).

A GET shows what following the link would do; only the POST from that page does it, so a
mail scanner that opens every link changes nothing. A link that cannot be used says why."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import render_template
from werkzeug.wrappers import Response

from ..forms import ActionForm
from ..use_cases import run_use_case

#: A use case taking the link's token, and the answer made of its result and the page's form.
Step = tuple[Callable[[str], Any], Callable[[Any, ActionForm], Response | str]]


def link_page(token: str, *, ask: Step, act: Step, refused: tuple[str, int]):
    """`ask` reads what the link is about for the GET, `act` does it on the POST; `refused`
    is the template (given `message`) and status of a link that cannot be used."""
    form = ActionForm()
    use_case, answer = act if form.validate_on_submit() else ask
    done, result = run_use_case(form, use_case, token)
    if not done:
        template, status = refused
        return render_template(template, message=form.refusal.message), status
    return answer(result, form)
