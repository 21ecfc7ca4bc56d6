"""The choices of the authoring forms' selects, read when a form is built."""

from __future__ import annotations

from flask import g

from ...catalogue.authoring.modules import modules_of
from ...catalogue.authoring.organisations import all_organisations
from ...catalogue.authoring.people import all_people
from ...catalogue.authoring.topics import all_topics


def with_modules(form):
    """`form` with this programme's modules, in order, as its `module` select's choices."""
    form.module.choices = [("", "No module")] + [
        (m.id, f"{m.position}. {m.title}") for m in modules_of(g.programme.id)
    ]
    return form


def organisations() -> list[tuple[int, str]]:
    return [(o.id, o.name) for o in all_organisations()]


def topics() -> list[tuple[int | str, str]]:
    return [("", "No topic")] + [(t.id, t.name) for t in all_topics()]


def people() -> list[tuple[int, str]]:
    """Everyone who can speak or moderate, each as "name, position, affiliation"."""
    return [
        (p.id, ", ".join(filter(None, [p.display_name, p.position, p.affiliation])))
        for p in all_people()
    ]
