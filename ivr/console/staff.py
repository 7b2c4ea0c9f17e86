"""/staff (admins): accounts (add, disable, enable, new password) and the audit log of staff actions."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ivr.console import accounts
from ivr.console.audit import recent, record
from ivr.console.web import _, admin_required, bp, db_read, db_write
from ivr.db.models import STAFF_ROLES, StaffAccount


@bp.get("/staff")
@admin_required
def staff():
    """Every account and the newest audit entries."""
    db = db_read()
    return render_template("console/staff.html", title=_("Konten und Protokoll"), accounts=accounts.all_accounts(db),
                           audit=recent(db), roles=STAFF_ROLES, form={}, problems=[])


@bp.post("/staff")
@admin_required
def staff_add():
    """Create an account with a first password (the person changes it with `hausruf staff password`)."""
    db = db_write()
    form = {name: request.form.get(name, "").strip() for name in ("email", "name", "role")}
    try:
        account = accounts.create(db, form["email"], form["name"], request.form.get("password", ""),
                                  form["role"] or "staff")
        record(db, "staff.add", f"staff {account.id}", f"{account.email} as {account.role}")
        db.commit()
    except accounts.AccountError as exc:
        db.rollback()
        read = db_read()
        return render_template("console/staff.html", title=_("Konten und Protokoll"),
                               accounts=accounts.all_accounts(read), audit=recent(read), roles=STAFF_ROLES,
                               form=form, problems=[str(exc)]), 422
    flash(_("Konto für %(email)s angelegt.", email=account.email))
    return redirect(url_for("console.staff"), 303)


@bp.post("/staff/<int:account_id>/active")
@admin_required
def staff_active(account_id: int):
    """Disable or enable an account (not one's own: an admin cannot lock everyone out by mistake)."""
    db = db_write()
    account = db.get(StaffAccount, account_id)
    if account is None or account.id == current_user.id:
        flash(_("Das eigene Konto kann man nicht sperren."), "error")
        return redirect(url_for("console.staff"), 303)
    account.active = request.form.get("active") == "1"
    record(db, "staff.enable" if account.active else "staff.disable", f"staff {account.id}", account.email)
    db.commit()
    flash(_("Konto %(email)s ist jetzt %(state)s.", email=account.email,
            state=_("aktiv") if account.active else _("gesperrt")))
    return redirect(url_for("console.staff"), 303)
