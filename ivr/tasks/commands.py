"""`hausruf tasks [show|done|cancel N]` and `hausruf worker`: thin wrappers over ivr.tasks functions."""

from __future__ import annotations

from datetime import datetime, timezone

import click

from ivr.config import Settings, configure_logging, settings_for_start
from ivr.db.engine import make_engine, session_factory
from ivr.db.migrate import upgrade
from ivr.tasks.config import TaskConfig
from ivr.tasks.report import open_tasks, task_details
from ivr.tasks.staff import UnknownTask, close_by_staff, task_by_number
from ivr.tasks.states import IllegalTransition


def _sessions(settings: Settings):
    upgrade(settings.database_url)
    return session_factory(make_engine(settings.database_url))


def _now() -> datetime:
    return datetime.now(timezone.utc)


@click.group("tasks", invoke_without_command=True,
             help="Callback tasks: without a subcommand, the open ones with age, state and who has them.")
@click.pass_context
def tasks_group(ctx: click.Context) -> None:
    """List open tasks unless a subcommand follows."""
    if ctx.invoked_subcommand is None:
        with _sessions(Settings.from_env())() as session:
            lines = open_tasks(session, _now())
        click.echo("\n".join(lines) if len(lines) > 1 else "no open tasks")


@tasks_group.command("show")
@click.argument("number", type=int)
def show_command(number: int) -> None:
    """All details of task NUMBER: caller, transitions, SMS."""
    settings = Settings.from_env()
    with _sessions(settings)() as session:
        try:
            click.echo("\n".join(task_details(session, task_by_number(session, number), settings.timezone)))
        except UnknownTask as exc:
            raise click.ClickException(str(exc)) from None


def _close(number: int, to_state: str, by: str, reason: str) -> None:
    settings = Settings.from_env()
    with _sessions(settings)() as session:
        try:
            task = close_by_staff(session, number, to_state, f"staff ({by})", reason, _now(),
                                  TaskConfig.for_settings(settings))
        except (UnknownTask, IllegalTransition) as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
    click.echo(f"task #{task.number} is {task.state}")


@tasks_group.command("done")
@click.argument("number", type=int)
@click.option("--by", default="cli", show_default=True, help="Who did it (for the audit trail).")
@click.option("--reason", default="", help="Why, for the audit trail.")
def done_command(number: int, by: str, reason: str) -> None:
    """Mark task NUMBER done (a volunteer holding it is told by SMS)."""
    _close(number, "done", by, reason)


@tasks_group.command("cancel")
@click.argument("number", type=int)
@click.option("--by", default="cli", show_default=True, help="Who cancelled it (for the audit trail).")
@click.option("--reason", default="", help="Why, for the audit trail.")
def cancel_command(number: int, by: str, reason: str) -> None:
    """Cancel task NUMBER (a volunteer holding it is told by SMS)."""
    _close(number, "cancelled", by, reason)


@click.command("worker", help="Run background jobs: send SMS, offers and escalations, spooled missed calls.")
@click.option("--threads", default=2, show_default=True, help="Worker threads.")
def worker_command(threads: int) -> None:
    """Run the Huey consumer until interrupted."""
    from ivr.app import listen_beside_worker, worker_jobs
    from ivr.tasks.worker import run_worker

    settings = settings_for_start()  # exit 2 with every problem, before the consumer starts
    configure_logging(settings)
    run_worker(settings, workers=threads, jobs=worker_jobs(settings), beside=listen_beside_worker)


def register(group: click.Group) -> None:
    """Add the tasks and worker commands to the hausruf group."""
    group.add_command(tasks_group)
    group.add_command(worker_command)
