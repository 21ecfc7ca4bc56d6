"""Signing in (link or password) and out."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from ..database import MAX_ID
from ..extensions import db, limiter, login_manager
from ..forms import ActionForm
from ..safety import safe_next_path
from ..use_cases import attempt, run_use_case
from . import personal_data, services
from .forms import (
    DeleteAccountForm,
    EmailChangeForm,
    PasswordForm,
    PasswordSignInForm,
    ProfileForm,
    SignInLinkForm,
)
from .link_pages import link_page
from .models import User

bp = Blueprint("accounts", __name__)

login_manager.login_view = "accounts.login"
login_manager.login_message = "Please sign in to see this page."
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The person of a session, while the session's generation is still theirs ("id.gen";
    a bare id, from before generations, is generation 0)."""
    user_id, _, generation = session_id.partition(".")
    generation = generation or "0"
    if not (user_id.isascii() and user_id.isdigit() and generation.isdigit()):
        return None
    user = db.session.get(User, int(user_id)) if int(user_id) <= MAX_ID else None
    if user is None or user.deleted_at is not None:
        return None
    return user if user.session_generation == int(generation) else None


def _start_session(user: User) -> None:
    session.permanent = True  # PERMANENT_SESSION_LIFETIME, renewed by every request
    login_user(user)


def _after_sign_in(user: User, next_path: str | None):
    _start_session(user)
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
@limiter.limit("5 per minute; 30 per hour")
def request_link():
    link_form = SignInLinkForm()
    if link_form.validate_on_submit():
        next_path = safe_next_path(link_form.next.data, "") or None
        done, _ = run_use_case(
            link_form, services.request_sign_in_link, link_form.email.data, next_path
        )
        if done:
            return render_template("accounts/link_sent.html", email=link_form.email.data)
    return (
        render_template(
            "accounts/login.html", link_form=link_form, password_form=PasswordSignInForm()
        ),
        422,
    )


@bp.post("/login/password")
@limiter.limit("10 per minute; 100 per hour")
def password_login():
    password_form = PasswordSignInForm()
    if password_form.validate_on_submit():
        credentials = (password_form.email.data, password_form.password.data)
        done, user = run_use_case(password_form, services.authenticate_with_password, *credentials)
        if done:
            return _after_sign_in(user, password_form.next.data)
    return (
        render_template(
            "accounts/login.html", link_form=SignInLinkForm(), password_form=password_form
        ),
        422,
    )


@bp.route("/login/link/<token>", methods=["GET", "POST"])
def sign_in_with_link(token: str):
    """GET asks to confirm; only the POST spends the link."""

    def ask(login_token, form):
        return render_template("accounts/confirm_link.html", form=form, login_token=login_token)

    return link_page(
        token,
        ask=(services.peek_sign_in_link, ask),
        act=(services.redeem_sign_in_link, lambda signed_in, _form: _after_sign_in(*signed_in)),
        refused=("accounts/link_invalid.html", 410),
    )


@bp.post("/logout")
@login_required
def logout():
    if not ActionForm().validate_on_submit():
        abort(400)
    attempt(services.end_every_session, current_user.id)
    logout_user()
    flash("You are signed out, on this device and every other one.", "info")
    return redirect(url_for("catalogue.index"))


@bp.app_context_processor
def inject_action_form():
    return {"action_form": ActionForm, "current_user": current_user}


# --- the account's own pages ----------------------------------------------------------------


def _profile_page(status: int = 200, **forms):
    forms.setdefault(
        "profile_form",
        ProfileForm(data=services.profile_of(current_user)),
    )
    forms.setdefault("password_form", PasswordForm())
    forms.setdefault("email_form", EmailChangeForm())
    return render_template("accounts/profile.html", **forms), status


@bp.route("/me/profile", methods=["GET", "POST"])
@login_required
def profile():
    if request.method == "GET":
        return _profile_page()
    form = ProfileForm()
    if form.validate_on_submit():
        data = services.ProfileInput(
            full_name=form.full_name.data,
            organisation=form.organisation.data or None,
            job_title=form.job_title.data or None,
            city=form.city.data or None,
            country=form.country.data or None,
            timezone=form.timezone.data,
            preferred_language=form.preferred_language.data,
        )
        done, _ = run_use_case(form, services.update_profile, current_user.id, data)
        if done:
            flash("Your profile is saved.", "success")
            return redirect(url_for("accounts.profile"))
    return _profile_page(422, profile_form=form)


@bp.post("/me/password")
@login_required
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        done, _ = run_use_case(
            form,
            services.change_password,
            current_user.id,
            form.current_password.data,
            form.new_password.data,
        )
        if done:
            _start_session(db.session.get(User, current_user.id))  # the new generation
            flash(
                "Your password is saved. You can now sign in with it. You stay signed in "
                "here; every other device was signed out.",
                "success",
            )
            return redirect(url_for("accounts.profile"))
    return _profile_page(422, password_form=form)


@bp.post("/me/email")
@login_required
@limiter.limit("5 per hour")
def request_email_change():
    form = EmailChangeForm()
    if form.validate_on_submit():
        done, _ = run_use_case(
            form, services.request_email_change, current_user.id, form.new_email.data
        )
        if done:
            flash(
                f"We have sent a link to {form.new_email.data}. Your address changes when "
                "you open it.",
                "success",
            )
            return redirect(url_for("accounts.profile"))
    return _profile_page(422, email_form=form)


@bp.route("/me/email/confirm/<token>", methods=["GET", "POST"])
def confirm_email_change(token: str):
    """GET asks to confirm; only the POST changes the address."""

    def ask(change, form):
        return render_template("accounts/confirm_email.html", form=form, new_email=change[1])

    def changed(user, _form):
        flash(f"Your email address is now {user.email}.", "success")
        signed_in = current_user.is_authenticated
        return redirect(url_for("accounts.profile" if signed_in else "accounts.login"))

    return link_page(
        token,
        ask=(services.read_email_change, ask),
        act=(services.confirm_email_change, changed),
        refused=("accounts/email_link_invalid.html", 410),
    )


@bp.get("/me/data.json")
@login_required
def export_data():
    response = jsonify(personal_data.export_data(current_user))
    response.headers["Content-Disposition"] = 'attachment; filename="learnhub-my-data.json"'
    return response


@bp.route("/me/delete", methods=["GET", "POST"])
@login_required
def delete_account():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        done, _ = run_use_case(form, personal_data.delete_account, current_user.id, form.email.data)
        if done:
            logout_user()
            flash("Your account is deleted. Thank you for taking part.", "info")
            return redirect(url_for("catalogue.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/delete.html", form=form), status
