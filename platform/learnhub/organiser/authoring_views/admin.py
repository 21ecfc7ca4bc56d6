"""Administrators' pages: organiser accounts (invitations) and topics."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_login import current_user

from ...access import guard_admin
from ...catalogue.authoring import topics as authoring
from ...forms import ActionForm
from ...pagination import requested_page
from .. import services
from ..forms import InviteOrganiserForm, TopicForm
from .pages import FormPage, pressed

admin_bp = Blueprint("organiser_admin", __name__, url_prefix="/admin/organisers")
guard_admin(admin_bp)

topic_admin_bp = Blueprint("topic_admin", __name__, url_prefix="/admin/topics")
guard_admin(topic_admin_bp)


def _listed(endpoint: str):
    return lambda _saved: url_for(endpoint)


invite_page = FormPage(
    "admin_organisers.html",
    services.invite_organiser,
    "Invitation sent to {0.email}.",
    _listed("organiser_admin.organisers"),
)


@admin_bp.route("/", methods=["GET", "POST"])
def organisers():
    return invite_page(
        InviteOrganiserForm(),
        lambda form: (form.email.data, form.full_name.data, current_user),
        lambda: {"organisers": services.organiser_accounts(requested_page())},
    )


add_topic_page = FormPage(
    "admin_topics.html",
    authoring.add_topic,
    "Topic “{0.name}” added.",
    _listed("topic_admin.topics"),
)


@topic_admin_bp.route("/", methods=["GET", "POST"])
def topics():
    return add_topic_page(
        TopicForm(),
        lambda form: (form.name.data,),
        lambda: {"topics": authoring.topics_in_use()},
        remove_form=ActionForm(),
    )


rename_topic_page = FormPage(
    "admin_topic_form.html",
    authoring.rename_topic,
    "Topic renamed to “{0.name}”.",
    _listed("topic_admin.topics"),
)


@topic_admin_bp.route("/<int:topic_id>/edit", methods=["GET", "POST"])
def edit_topic(topic_id: int):
    topic = authoring.topic_of(topic_id) or abort(404)
    # Filled from the topic on POST too: a name left out of the POST keeps the topic's.
    return rename_topic_page(
        TopicForm(obj=topic),
        lambda form: (topic.id, current_user.id, form.name.data),
        topic=topic,
    )


@topic_admin_bp.post("/<int:topic_id>/remove")
def remove_topic(topic_id: int):
    done, name = pressed(authoring.remove_topic, topic_id)
    if done:
        flash(f"Topic “{name}” removed.", "success")
    return redirect(url_for("topic_admin.topics"))
