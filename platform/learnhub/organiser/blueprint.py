"""The organiser workspace's blueprint: the pages of organiser/views.py and
organiser/authoring_views.py hang on it, every one behind the access check."""

from flask import Blueprint

from ..access import guard_programmes

bp = Blueprint("organiser", __name__, url_prefix="/organiser")
guard_programmes(bp)
