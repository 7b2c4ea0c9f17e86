"""A helper's read receipt (m.read) marks the hotline's messages delivered, as Twilio's "read" does an SMS."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from ivr.db.models import SmsMessage
from ivr.tasks.config import TaskConfig
from ivr.tasks.outbox import queue_sms
from ivr.tasks.sending import send_due
from ivr.telephony.matrix.channel import MatrixChannel
from ivr.telephony.matrix.listener import MatrixListener


def statuses(sessions) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(SmsMessage.status).where(SmsMessage.direction == "outbound")
                                    .order_by(SmsMessage.id)))


def test_a_read_receipt_marks_that_message_and_the_earlier_ones_delivered(synapse, matrix_client, sessions):
    jonas, petra = synapse.register("jonas"), synapse.register("petra")
    channel = MatrixChannel(matrix_client)
    listener = MatrixListener(channel, sessions, TaskConfig(matrix=True))
    listener.run_once(timeout_ms=0)
    now = datetime.now(timezone.utc)
    with sessions() as session:
        for number in (1, 2, 3):
            queue_sms(session, jonas.user_id, f"Hausruf #{number}: Frau Becker bittet um Rückruf", f"offer:{number}",
                      now)
        queue_sms(session, petra.user_id, "Hausruf #4: Herr Vogel bittet um Rückruf", "offer:4", now)
        session.commit()
        assert send_due(session, channel, now, TaskConfig()).sent == 4
        events = list(session.scalars(select(SmsMessage.provider_message_id).order_by(SmsMessage.id)))
    room = channel.direct_room(jonas.user_id, create=False)
    synapse.api(jonas, "POST", f"/join/{room}", json={})

    # Jonas's Element showed him the second offer: it and the first are delivered, the third not yet.
    synapse.api(jonas, "POST", f"/rooms/{room}/receipt/m.read/{events[1]}", json={})
    listener.run_once(timeout_ms=5000)
    assert statuses(sessions) == ["delivered", "delivered", "sent", "sent"]

    # He answers and his client marks his own answer read: everything sent before it has been seen.
    answer = synapse.api(jonas, "PUT", f"/rooms/{room}/send/m.room.message/a1",
                         json={"msgtype": "m.text", "body": "?"})["event_id"]
    synapse.api(jonas, "POST", f"/rooms/{room}/receipt/m.read/{answer}", json={})
    listener.run_once(timeout_ms=5000)
    assert statuses(sessions)[:3] == ["delivered", "delivered", "delivered"]
    assert statuses(sessions)[3] == "sent"  # Petra has not read hers (nor joined her room)
