"""Signing in (link or password) and out."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db, login_manager
from ..forms import ActionForm
from ..safety import safe_next_path
from . import services
from .forms import PasswordSignInForm, SignInLinkForm
from .models import User

bp = Blueprint("accounts", __name__)

login_manager.login_view = "accounts.login"
login_manager.login_message = "Please sign in to see this page."
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


def _after_sign_in(user: User, next_path: str | None):
    login_user(user)
    default = (
        url_for("organiser.home") if user.is_organiser else url_for("registration.my_programmes")
    )
    return redirect(safe_next_path(next_path, default))


@bp.get("/login")
def login():
    next_path = safe_next_path(request.args.get("next"), "")
    return render_template(
        "accounts/login.html",
        link_form=SignInLinkForm(next=next_path, email=request.args.get("email", "")),
        password_form=PasswordSignInForm(next=next_path),
    )


@bp.post("/login/link")
def request_link():
    link_form = SignInLinkForm()
    if link_form.validate_on_submit():
        services.request_sign_in_link(
            link_form.email.data, safe_next_path(link_form.next.data, "") or None
        )
        return render_template("accounts/link_sent.html", email=link_form.email.data)
    return (
        render_template(
            "accounts/login.html", link_form=link_form, password_form=PasswordSignInForm()
        ),
        422,
    )


@bp.post("/login/password")
def password_login():
    password_form = PasswordSignInForm()
    if password_form.validate_on_submit():
        user = services.authenticate_with_password(
            password_form.email.data, password_form.password.data
        )
        if user is not None:
            return _after_sign_in(user, password_form.next.data)
        password_form.form_errors.append("That email address and password do not match.")
    return (
        render_template(
            "accounts/login.html", link_form=SignInLinkForm(), password_form=password_form
        ),
        422,
    )


@bp.route("/login/link/<token>", methods=["GET", "POST"])
def sign_in_with_link(token: str):
    """GET asks to confirm; only the POST spends the link, so mail scanners cannot."""
    form = ActionForm()
    try:
        if form.validate_on_submit():
            user, next_path = services.redeem_sign_in_link(token)
            return _after_sign_in(user, next_path)
        login_token = services.peek_sign_in_link(token)
    except services.SignInLinkError as error:
        return render_template("accounts/link_invalid.html", message=str(error)), 410
    return render_template("accounts/confirm_link.html", form=form, email=login_token.user.email)


@bp.post("/logout")
@login_required
def logout():
    if not ActionForm().validate_on_submit():
        abort(400)
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("catalogue.index"))


@bp.app_context_processor
def inject_action_form():
    return {"action_form": ActionForm, "current_user": current_user}
