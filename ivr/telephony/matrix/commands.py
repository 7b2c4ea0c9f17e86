"""`hausruf matrix check`: is the hotline connected to the cooperative's Matrix server as configured?"""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    """Add `hausruf matrix`."""
    group.add_command(matrix_group)


@click.group("matrix", help="The cooperative's Matrix chat: helpers get tasks there (see README).")
def matrix_group() -> None:
    pass


@matrix_group.command("check")
def check_command() -> None:
    """Sign in, enter the helpers' room and the houses' rooms; exit 1 when something is not ready."""
    from ivr.config import settings_for_start
    from ivr.db import make_engine, session_factory, upgrade
    from ivr.telephony.matrix.settings import MatrixSettings

    settings = settings_for_start()
    matrix = settings.group(MatrixSettings)
    if not matrix.enabled:
        click.echo("Matrix is off: HAUSRUF_MATRIX_HOMESERVER is not set (offers go by SMS).")
        raise SystemExit(1)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        lines, ok = check_matrix(matrix, settings.data_dir, session_factory(engine))
    finally:
        engine.dispose()
    for line in lines:
        click.echo(line)
    raise SystemExit(0 if ok else 1)


def check_matrix(matrix, data_dir, sessions) -> tuple[list[str], bool]:
    """What `hausruf matrix check` prints, and whether everything is ready."""
    from sqlalchemy import func, select

    from ivr.db.models import House, Tenant, Volunteer
    from ivr.telephony.matrix.client import MatrixClient, MatrixError
    from ivr.telephony.matrix.state import StateStore

    lines, ok = [], True
    client = MatrixClient(matrix, data_dir=data_dir)
    try:
        try:
            client.sign_in()
        except MatrixError as exc:
            return [f"cannot sign in to {matrix.homeserver} as {matrix.user}: {exc}"], False
        lines.append(f"signed in to {matrix.homeserver} as {matrix.user}, device {client.device_id}")
        if client.fingerprint:
            lines.append(f"end-to-end encryption on; verify this session in Element with the key {client.fingerprint}")
        rooms = [("helpers' room", matrix.helpers_room)] if matrix.helpers_room else []
        with sessions() as session:
            rooms += [(f"house {h.id}", h.chat_room) for h in session.scalars(
                select(House).where(House.chat_room != "").order_by(House.id))]
            helpers = session.scalar(select(func.count()).select_from(Volunteer).where(
                Volunteer.matrix != "", Volunteer.active.is_(True)))
            tenants = session.scalar(select(func.count()).select_from(Tenant).where(Tenant.house_chat.is_(True)))
        for what, room in rooms:
            try:
                room_id = client.join(room)
            except MatrixError as exc:
                ok = False
                lines.append(f"{what}: {room} cannot be joined ({exc}); invite {matrix.user} to it")
                continue
            if client.is_encrypted(room_id) and not client.encrypted:
                ok = False
                lines.append(f"{what}: {room} is end-to-end encrypted but the hotline has no key store "
                             "(HAUSRUF_DATA_DIR); it cannot read or write it")
            else:
                lines.append(f"{what}: {room} joined ({room_id})")
        for room_id, when in StateStore(sessions).unreadable_rooms().items():
            ok = False
            lines.append(f"room {room_id}: a helper's encrypted message could not be read ({when})")
        lines.append(f"{helpers} active helpers get offers in Matrix; {tenants} tenants opted in to their house chat")
    finally:
        client.close()
    return lines, ok
