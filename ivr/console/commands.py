"""`hausruf staff add|list|disable|password|secret`, `hausruf graph FLOW` and `hausruf card HOUSE`."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import click

from ivr.config import Settings


def _sessions(settings: Settings):
    from ivr.db import make_engine, session_factory, upgrade

    upgrade(settings.database_url)
    return session_factory(make_engine(settings.database_url))


def _read_password(password_stdin: bool, confirm: bool = True) -> str:
    """From standard input (one line) or a hidden prompt; never from the command line."""
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=confirm)


def _audit(session, action: str, target: str, detail: str = "") -> None:
    from ivr.db.models import StaffAuditEntry
    from ivr.db.types import utcnow

    session.add(StaffAuditEntry(at=utcnow(), actor="cli", action=action, target=target, detail=detail))


@click.group("staff", help="Accounts of the staff console (sign in at / of the web app).")
def staff_group() -> None:
    """Manage staff accounts."""


@staff_group.command("add")
@click.argument("email")
@click.option("--name", required=True, help="The person's name, shown in the console and the audit log.")
@click.option("--role", type=click.Choice(["staff", "admin"]), default="staff", show_default=True,
              help="staff: tasks, calls, directory; admin: also accounts, flows and deleting people.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def add_command(email: str, name: str, role: str, password_stdin: bool) -> None:
    """Create an account; the password is asked for (or read from stdin), never given as an argument."""
    from ivr.console.accounts import AccountError, create

    password = _read_password(password_stdin)
    with _sessions(Settings.from_env()).begin() as session:
        try:
            account = create(session, email, name, password, role)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
        _audit(session, "staff.add", f"staff {account.id}", f"{account.email} as {role}")
        shown = f"{account.email} ({account.role})"
    click.echo(f"account {shown} created; sign in at the web app's address, e.g. http://127.0.0.1:5000/")


@staff_group.command("list")
def list_command() -> None:
    """Every account: e-mail, name, role, active, last sign-in."""
    from ivr.console.accounts import all_accounts

    with _sessions(Settings.from_env())() as session:
        rows = all_accounts(session)
        if not rows:
            click.echo("no accounts yet; create the first with: hausruf staff add EMAIL --name NAME --role admin")
            return
        for a in rows:
            last = a.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if a.last_login_at else "never"
            click.echo(f"{a.email:<32} {a.name:<24} {a.role:<6} {'active' if a.active else 'disabled':<9} "
                       f"last sign-in {last}")


def _change_account(action: str, change) -> None:
    """Run change(session) on one account in a transaction, with its audit entry; errors as plain messages."""
    from ivr.console.accounts import AccountError

    with _sessions(Settings.from_env()).begin() as session:
        try:
            account = change(session)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
        _audit(session, action, f"staff {account.id}", account.email)


@staff_group.command("disable")
@click.argument("email")
def disable_command(email: str) -> None:
    """Disable an account: it can no longer sign in, and its open sessions end."""
    from ivr.console.accounts import set_active

    _change_account("staff.disable", lambda session: set_active(session, email, False))
    click.echo(f"account {email.strip().lower()} disabled")


@staff_group.command("password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the new password from the first line of standard input.")
def password_command(email: str, password_stdin: bool) -> None:
    """Set a new password (open sessions of the account end)."""
    from ivr.console.accounts import set_password

    password = _read_password(password_stdin)
    _change_account("staff.password", lambda session: set_password(session, email, password))
    click.echo(f"password of {email.strip().lower()} changed")


@staff_group.command("secret")
@click.option("--env-file", default=".env", show_default=True, type=click.Path(dir_okay=False, path_type=Path))
def secret_command(env_file: Path) -> None:
    """Write a new HAUSRUF_SECRET_KEY into the env file unless one is set already (used by `make demo`)."""
    import os

    if os.environ.get("HAUSRUF_SECRET_KEY"):
        click.echo("HAUSRUF_SECRET_KEY is set in the environment; nothing written")
        return
    text = env_file.read_text(encoding="utf-8") if env_file.exists() else ""
    if any(line.strip().startswith("HAUSRUF_SECRET_KEY=") for line in text.splitlines()):
        click.echo(f"{env_file} has a HAUSRUF_SECRET_KEY already; nothing written")
        return
    with env_file.open("a", encoding="utf-8") as out:
        if text and not text.endswith("\n"):
            out.write("\n")
        out.write("# Signs the staff console's login cookies; keep it secret (written by `hausruf staff secret`).\n")
        out.write(f"HAUSRUF_SECRET_KEY={secrets.token_urlsafe(32)}\n")
    env_file.chmod(0o600)
    click.echo(f"wrote a new HAUSRUF_SECRET_KEY to {env_file}")


@click.command("graph")
@click.argument("flow_name", metavar="FLOW")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "svg", "dot"]), default="mermaid", show_default=True)
@click.option("--language", default=None, help="Flow language (default: HAUSRUF_LANGUAGE).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file.")
def graph_command(flow_name: str, fmt: str, language: str | None, output: Path | None) -> None:
    """The flow as a picture: Mermaid text, or SVG drawn by Graphviz (FLOW is a name or a file)."""
    from ivr.console.graph import GraphvizMissing, dot, mermaid, svg

    flow = _load_flow(flow_name, language)
    try:
        text = {"mermaid": mermaid, "svg": svg, "dot": dot}[fmt](flow)
    except GraphvizMissing as exc:
        raise click.ClickException(str(exc)) from None
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(text, nl=False)


def _load_flow(flow_name: str, language: str | None):
    from ivr.flows.flowset import FlowSet
    from ivr.flows.loader import load_flow_file
    from ivr.flows.problems import FlowError

    settings = Settings.from_env()
    try:
        if Path(flow_name).is_file():
            return load_flow_file(flow_name)
    except FlowError as exc:
        raise click.ClickException(f"the flow has problems:\n{exc}") from None
    try:
        return FlowSet.load(settings.flows_dir).get(flow_name, language or settings.default_language,
                                                    settings.default_language)
    except KeyError as exc:
        raise click.ClickException(str(exc.args[0])) from None


@click.command("card")
@click.argument("house")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The PDF file to write.")
@click.option("--flow", "flow_name", default=None, help="Flow name (default: HAUSRUF_FLOW).")
def card_command(house: str, output: Path, flow_name: str | None) -> None:
    """Write the printable large-print menu card of HOUSE (an id from the directory) as PDF."""
    from ivr.console.card import CardError, card_for, card_pdf

    settings = Settings.from_env()
    flow = _load_flow(flow_name or settings.flow_name, None)
    with _sessions(settings)() as session:
        try:
            card = card_for(session, flow, house, settings)
        except CardError as exc:
            raise click.ClickException(str(exc)) from None
    output.write_bytes(card_pdf(card))
    click.echo(f"wrote {output}: {card.house}, keys {' '.join(k for k, _ in card.keys)}")


def register(group: click.Group) -> None:
    """Add the console's commands to the hausruf group."""
    group.add_command(staff_group)
    group.add_command(graph_command)
    group.add_command(card_command)
