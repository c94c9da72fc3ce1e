"""Admin pages: every site with this month's figures, and the staff accounts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from checkin.domain import limits
from checkin.domain.errors import PasswordTooShort, ServiceError
from checkin.domain.roles import Capability
from checkin.extensions import db
from checkin.models import Site, User
from checkin.services import accounts, headoffice, reports, sites, transaction
from checkin.web.common import acting_user, flash_refusal, now, requires
from checkin.web.forms import Form, options, show_error
from checkin.web.forms.admin import (
    AccountForm,
    AccountRoleForm,
    DisplayNameForm,
    PasswordForm,
    SiteEditForm,
    SiteForm,
)
from checkin.words.labels import ROLE_LABELS

bp = Blueprint("admin", __name__, url_prefix="/manage/admin")

admins = requires(Capability.ADMINISTER)

# The service errors of an account form, by the form field they are about.
ACCOUNT_FIELDS = {
    "username": "username",
    "display_name": "display_name",
    "site": "site_id",
    "password": "password",
    "role": "role",
}


@bp.context_processor
def labels() -> dict[str, Any]:
    """Give the admin templates the words for roles and the password rule."""
    return {"ROLE_LABELS": ROLE_LABELS, "MIN_PASSWORD": limits.MIN_PASSWORD}


def account_form(
    directory: accounts.Directory, form_class: type[AccountRoleForm] = AccountForm, **kwargs: Any
) -> AccountRoleForm:
    """Return a form of an account's role and site, offering the existing sites."""
    form = form_class(**kwargs)
    form.site_id.choices = options([(0, "–"), *((site.id, site.code) for site in directory.sites)])
    return form


def render_admin(
    directory: accounts.Directory, status: int = 200, **forms: Form
) -> tuple[str, int]:
    """Render the admin page with empty forms, except those given."""
    page_forms = {
        "site_form": SiteForm(formdata=None),
        "account_form": account_form(directory, formdata=None),
        **forms,
    }
    today = headoffice.head_office_day(now())
    month = reports.national_summary(today.replace(day=1), today, today)
    return render_template(
        "admin/index.html",
        directory=directory,
        month={totals.site_id: totals for totals in month},
        **page_forms,
    ), status


@bp.get("")
@admins
def index():
    """List sites with this month's figures and the accounts, with forms to add and change them."""
    return render_admin(accounts.directory())


@bp.post("/sites")
@admins
def add_site():
    """Create a site."""
    form = SiteForm()
    if form.validate():
        try:
            with transaction.owned():
                sites.add_site(
                    form.code.data,
                    form.name.data,
                    form.timezone.data,
                    daily_quota=form.daily_quota.data,
                )
        except ServiceError as error:
            show_error(form.code, error)
        else:
            flash(_("Site %(code)s created.", code=form.code.data), "success")
            return redirect(url_for(".index"))
    return render_admin(accounts.directory(), 400, site_form=form)


@bp.post("/accounts")
@admins
def add_account():
    """Create a staff account."""
    directory = accounts.directory()
    form = account_form(directory)
    if form.validate():
        try:
            with transaction.owned():
                accounts.add_user(
                    form.username.data,
                    form.role.data,
                    form.password.data,
                    db.session.get(Site, form.site_id.data),
                    by=acting_user(),
                    now=now(),
                    display_name=form.display_name.data,
                )
        except ServiceError as error:
            show_error(form[ACCOUNT_FIELDS[error.field]], error)
        else:
            flash(_("Account %(name)s created.", name=form.username.data), "success")
            return redirect(url_for(".index"))
    return render_admin(directory, 400, account_form=form)


def site_or_404(site_id: int) -> Site:
    """Return the site ``site_id`` or answer 404."""
    return db.get_or_404(Site, site_id)


@bp.route("/sites/<id:site_id>", methods=["GET", "POST"])
@admins
def edit_site(site_id: int):
    """Show and change a site's name, time zone and usual quota."""
    site = site_or_404(site_id)
    data = {"name": site.name, "timezone": site.timezone, "daily_quota": site.daily_quota}
    form = SiteEditForm(data=data)
    # A zone set from the command line stays choosable, or saving the name would refuse it.
    if site.timezone not in limits.TIMEZONES:
        form.timezone.choices = options([*limits.TIMEZONES.items(), (site.timezone, site.timezone)])
    if form.validate_on_submit():
        try:
            with transaction.owned():
                sites.edit_site(
                    site,
                    acting_user(),
                    now(),
                    name=form.name.data,
                    timezone=form.timezone.data,
                    daily_quota=form.daily_quota.data,
                )
        except ServiceError as error:
            show_error(form._fields.get(error.field, form.daily_quota), error)
        else:
            flash(_("Site %(code)s saved.", code=site.code), "success")
            return redirect(url_for(".index"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/site.html", site=site, form=form), status


@bp.route("/accounts/<id:user_id>", methods=["GET", "POST"])
@admins
def edit_account(user_id: int):
    """Show and change an account's role and site; its sessions end."""
    account = account_or_404(user_id)
    data = {"role": account.role, "site_id": account.site_id or 0}
    form = account_form(accounts.directory(), AccountRoleForm, data=data)
    if form.validate_on_submit():
        site = db.session.get(Site, form.site_id.data)
        try:
            with transaction.owned():
                changed = accounts.change_account(
                    account, form.role.data, site, acting_user(), now()
                )
        except ServiceError as error:
            show_error(form[ACCOUNT_FIELDS[error.field]], error)
        else:
            if changed:
                flash(_("%(name)s is changed and logs in again.", name=account.username), "success")
            return redirect(url_for(".index"))
    status = 400 if form.is_submitted() else 200
    name_form = DisplayNameForm(formdata=None, data={"display_name": account.display_name})
    return render_template(
        "admin/account.html", account=account, form=form, name_form=name_form
    ), status


@bp.post("/accounts/<id:user_id>/name")
@admins
def rename_account(user_id: int):
    """Change the name staff see of an account."""
    account = account_or_404(user_id)
    name_form = DisplayNameForm()
    if name_form.validate_on_submit():
        try:
            with transaction.owned():
                accounts.rename(account, name_form.display_name.data, acting_user(), now())
        except ServiceError as error:
            show_error(name_form.display_name, error)
        else:
            flash(
                _(
                    "%(name)s is shown as %(shown)s.",
                    name=account.username,
                    shown=account.shown_name,
                ),
                "success",
            )
            return redirect(url_for(".index"))
    data = {"role": account.role, "site_id": account.site_id or 0}
    form = account_form(accounts.directory(), AccountRoleForm, formdata=None, data=data)
    page = render_template("admin/account.html", account=account, form=form, name_form=name_form)
    return page, 400


def account_or_404(user_id: int) -> User:
    """Return the account ``user_id`` or answer 404."""
    return db.get_or_404(User, user_id)


@bp.post("/accounts/<id:user_id>/active")
@admins
def set_active(user_id: int):
    """Deactivate or reactivate an account."""
    account = account_or_404(user_id)
    active = request.form.get("active") == "1"
    try:
        with transaction.owned():
            accounts.set_account_active(account, active, acting_user(), now())
    except ServiceError as error:
        flash_refusal(error)
    else:
        if active:
            flash(_("%(name)s can log in again.", name=account.username), "success")
        else:
            flash(_("%(name)s can no longer log in.", name=account.username), "success")
    return redirect(url_for(".index"))


@bp.post("/accounts/<id:user_id>/password")
@admins
def reset_password(user_id: int):
    """Give an account a new password."""
    account = account_or_404(user_id)
    form = PasswordForm()
    if not form.validate():
        flash_refusal(PasswordTooShort(limits.MIN_PASSWORD))
        return redirect(url_for(".index"))
    with transaction.owned():
        accounts.reset_password(account, form.password.data, acting_user(), now())
    flash(_("New password set for %(name)s.", name=account.username), "success")
    return redirect(url_for(".index"))
