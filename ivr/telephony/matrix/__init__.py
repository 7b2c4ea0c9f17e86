"""The Matrix channel: task offers to helpers in the cooperative's own chat, their replies, the house rooms.

settings.py reads and checks HAUSRUF_MATRIX_*; client.py is the only module importing matrix-nio
(blocking calls on a private event loop); channel.py sends outbox rows (MessagingChannel) and routes
between Matrix and SMS; state.py keeps the sync token and the helpers' direct rooms in the database;
listener.py is the worker's one /sync connection that hands helpers' replies to ivr.tasks.inbound.
"""
