"""The message path's statements, written once as SQL.

They run for every message a customer sends and every answer: compiled by the ORM on every
call they cost more CPU than running them (bench/README.md, widget_load.py). Table names come
from the models; values are always parameters. The functions that run them are the selectors
and services of this app, and the message path's tests cover every one.
"""

from conversations.models import ChannelIdentity, Conversation, Customer, DeliveryAttempt, Message

CONVERSATION = Conversation._meta.db_table
CUSTOMER = Customer._meta.db_table
IDENTITY = ChannelIdentity._meta.db_table
MESSAGE = Message._meta.db_table
ATTEMPT = DeliveryAttempt._meta.db_table

SENDER_CONVERSATION_SQL = f"""
    SELECT c.*, cu.last_seen_at AS customer_last_seen_at
    FROM {CONVERSATION} c
    JOIN {IDENTITY} i ON i.id = c.identity_id
    JOIN {CUSTOMER} cu ON cu.id = c.customer_id
    WHERE i.channel = %s AND i.channel_account_id = %s AND i.external_id = %s
    FOR UPDATE OF c
"""  # noqa: S608 - table names from the models, values as parameters

REPLY_CONVERSATION_SQL = f"""
    SELECT c.*, cu.name AS customer_name, cu.phone AS customer_phone, i.external_id AS recipient_id
    FROM {CONVERSATION} c
    JOIN {IDENTITY} i ON i.id = c.identity_id
    JOIN {CUSTOMER} cu ON cu.id = c.customer_id
    WHERE c.id = %s
"""  # noqa: S608

# What an answer reads of the recent messages (the other fields are loaded if ever asked for).
HISTORY_COLUMNS = (
    "id, conversation_id, direction, author, status, text, transcript, media_kind, reply_to_id, created_at"
)
HISTORY_SQL = f"""
    SELECT * FROM (
        SELECT {HISTORY_COLUMNS} FROM {MESSAGE} WHERE conversation_id = %s ORDER BY id DESC LIMIT %s
    ) recent ORDER BY id
"""  # noqa: S608

# The answer's check: the conversation's lock first, then (a statement of its own) its latest
# customer message. A locking SELECT reads other rows in the snapshot taken when it began, so
# one statement that waited for the lock would miss a message stored while it waited.
REPLY_LOCK_SQL = f"""
    SELECT mode FROM {CONVERSATION} WHERE id = %s FOR UPDATE
"""  # noqa: S608

REPLY_SLOT_SQL = f"""
    SELECT latest.id, latest.created_at,
           EXISTS (SELECT 1 FROM {MESSAGE} r WHERE r.reply_to_id = latest.id AND r.author = %s)
    FROM (
        SELECT id, created_at FROM {MESSAGE}
        WHERE conversation_id = %s AND direction = %s ORDER BY id DESC LIMIT 1
    ) latest
"""  # noqa: S608

MESSAGE_LOCK_QUEUED_SQL = f"""
    SELECT 1 FROM {MESSAGE} WHERE id = %s AND status = %s FOR UPDATE SKIP LOCKED
"""  # noqa: S608

STORED_MESSAGE_SQL = f"""
    SELECT id, conversation_id FROM {MESSAGE} WHERE channel = %s AND external_id = %s
"""  # noqa: S608

# One attempt and the message's state after it, in one statement.
RECORD_ATTEMPT_SQL = f"""
    WITH attempt AS (
        INSERT INTO {ATTEMPT} (message_id, number, started_at, succeeded, error) VALUES (%s, %s, %s, %s, %s)
    )
    UPDATE {MESSAGE} SET status = %s, sent_at = %s, external_id = %s, error = %s WHERE id = %s
"""  # noqa: S608

INBOUND_COUNTS_SQL = f"""
    UPDATE {CONVERSATION}
    SET unread_count = unread_count + 1, last_inbound_at = %s, last_message_at = %s, language = %s
    WHERE id = %s
"""  # noqa: S608

OUTBOUND_AT_SQL = f"""
    UPDATE {CONVERSATION} SET last_outbound_at = %s, last_message_at = %s WHERE id = %s
"""  # noqa: S608
