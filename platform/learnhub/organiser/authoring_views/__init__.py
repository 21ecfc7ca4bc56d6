"""Authoring pages of the organiser workspace, one module per resource: programmes (with new
editions), sessions, modules, materials, people and organisations, the change log; and the
administrators' organiser invitations and topics (`admin`).

Programme pages hang on the organiser blueprint, whose access check reads the right each
route declares (`@requires`); people and organisations need only the organiser role. Every
page is one of the shapes in `pages`: a form page that turns its form into typed input and
calls one authoring use case, a button, or a removal that asks first.
"""

from . import audit_log, materials, modules, people, programmes, sessions
from .admin import admin_bp, topic_admin_bp

__all__ = [
    "admin_bp",
    "audit_log",
    "materials",
    "modules",
    "people",
    "programmes",
    "sessions",
    "topic_admin_bp",
]
