"""Authoring use cases: organisers write programmes, sessions, modules, materials and people.

One module per resource (programmes, sessions, modules, materials, people, organisations,
topics, editions); `shared` holds what they all use. Each public function is one use case: it
starts the write transaction (a programme's through `shared.locked_programme`), checks,
changes, writes an audit entry and commits once. Edits carry the version the editor saw; a
different version means someone else saved first, and the edit is refused with a message
instead of overwriting. Markdown is sanitised on save (`sanitise_markdown`) and again when
rendered.

The names below are those that code outside the authoring pages imports from here
(organiser/services.py, notifications/organiser_views.py);
the authoring pages import the resource modules themselves.
"""

from ..audit import record
from .sessions import session_instants
from .shared import AuthoringError, locked_programme

__all__ = ["AuthoringError", "locked_programme", "record", "session_instants"]
