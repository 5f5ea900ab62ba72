"""Sellers' WhatsApp sessions in the public schema: what the dashboard asks for, and the leases
that give each session to exactly one gateway.

A lease is two columns of the session row (owner, expiry). A gateway takes free or expired
sessions with `FOR UPDATE SKIP LOCKED`, so two gateways never take the same row; it renews
its leases every third of the lease time, and every write it makes about a session names
itself as the owner, so a gateway that lost a lease (paused, partitioned) changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import socket
from dataclasses import dataclass
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_context

from channels_app.models import ChannelAccount, Gateway, WhatsAppSession
from ma5zani.realtime import publish
from sellers.models import Seller

logger = logging.getLogger(__name__)
State = WhatsAppSession.State
Wanted = WhatsAppSession.Wanted


def _public() -> Any:
    return schema_context(get_public_schema_name())


# --- The dashboard's side -------------------------------------------------------------------


def session_for_seller(seller: Seller) -> WhatsAppSession | None:
    with _public():
        return (
            WhatsAppSession.objects.select_related("account")
            .filter(account__seller=seller, account__channel=ChannelAccount.Channel.WHATSAPP)
            .first()
        )


def session_ensure(seller: Seller) -> WhatsAppSession:
    """The seller's WhatsApp session, created (not linked yet) on first use."""
    with _public(), transaction.atomic():
        account, _created = ChannelAccount.objects.get_or_create(
            seller=seller,
            channel=ChannelAccount.Channel.WHATSAPP,
            defaults={"external_id": f"pending:{seller.pk}", "display_name": "WhatsApp"},
        )
        session, _created = WhatsAppSession.objects.get_or_create(account=account)
        session.account = account
        return session


def _update(session: WhatsAppSession, **fields: Any) -> WhatsAppSession:
    with _public():
        for name, value in fields.items():
            setattr(session, name, value)
        session.save(update_fields=[*fields, "updated_at"])
    _publish_status(session)
    return session


def session_connect(session: WhatsAppSession) -> WhatsAppSession:
    """Ask for the session to run: a linked one reconnects, a new one shows a QR code."""
    fields: dict[str, Any] = {"wanted": Wanted.RUN, "last_error": "", "pair_code": ""}
    if not session.jid:
        fields.update(state=State.PAIRING, qr="", pair_phone="", pairing_started_at=None)
    elif session.state in WhatsAppSession.HALTED_STATES:
        fields.update(state=State.CONNECTING)
    return _update(session, **fields)


def clean_pair_phone(value: str) -> str:
    """A number to pair by code: digits with the country code (Algerian numbers may be local)."""
    try:
        number = phonenumbers.parse(value, "DZ")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("Enter the phone number of your WhatsApp, like 0550 12 34 56.")) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("Enter the phone number of your WhatsApp, like 0550 12 34 56."))
    return f"{number.country_code}{number.national_number}"


def session_pair_by_phone(session: WhatsAppSession, phone: str) -> WhatsAppSession:
    digits = clean_pair_phone(phone)
    return _update(
        session,
        wanted=Wanted.RUN,
        state=State.PAIRING,
        qr="",
        pair_phone=digits,
        pair_code="",
        pairing_started_at=None,
        last_error="",
    )


def session_disconnect(session: WhatsAppSession) -> WhatsAppSession:
    """Stop answering on WhatsApp; the link stays and "connect" resumes it. The holding gateway
    stops the client and reports; with no gateway holding it, it is stopped already."""
    held = (
        bool(session.lease_owner) and session.lease_expires_at is not None and session.lease_expires_at > timezone.now()
    )
    return _update(session, wanted=Wanted.STOP, **({} if held else {"state": State.STOPPED}))


def session_logout(session: WhatsAppSession) -> WhatsAppSession:
    """Unlink the number (the gateway logs the device out; a new QR code is needed after)."""
    return _update(session, wanted=Wanted.LOGOUT)


def session_update_settings(session: WhatsAppSession, *, ai_badge: bool) -> WhatsAppSession:
    """The channel's own settings. Answering in groups is a bot setting (BotSettings.
    group_chats_enabled, on the bot settings page), not one of the session."""
    return _update(session, ai_badge=ai_badge)


def status_payload(session: WhatsAppSession) -> dict[str, Any]:
    return {
        "state": session.state,
        "state_label": str(session.get_state_display()),
        "wanted": session.wanted,
        "phone": session.phone,
        "push_name": session.push_name,
        "pair_code": session.pair_code,
        "has_qr": bool(session.qr),
        "last_error": session.last_error,
        "ban_expires_at": session.ban_expires_at.isoformat() if session.ban_expires_at else None,
        "connected_at": session.connected_at.isoformat() if session.connected_at else None,
    }


def _publish_status(session: WhatsAppSession, extra: dict[str, Any] | None = None) -> None:
    schema = session.account.seller.schema_name
    publish(schema, "whatsapp.status", {**status_payload(session), **(extra or {})})


# --- The gateway's side --------------------------------------------------------------------


def gateway_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def gateway_heartbeat(name: str, *, metrics: dict[str, Any] | None = None) -> None:
    with _public():
        Gateway.objects.update_or_create(
            name=name,
            defaults={
                "hostname": socket.gethostname(),
                "pid": os.getpid(),
                "heartbeat_at": timezone.now(),
                **({"metrics": metrics} if metrics is not None else {}),
            },
        )


def gateway_remove(name: str) -> None:
    with _public():
        Gateway.objects.filter(name=name).delete()


def gateways_alive(now: dt.datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - dt.timedelta(seconds=settings.WHATSAPP_LEASE_SECONDS)
    with _public():
        return Gateway.objects.filter(heartbeat_at__gte=cutoff).count()


def _runnable() -> Q:
    """Sessions some gateway should hold: wanted running (or logging out), not waiting for a ban
    to end, not given up on."""
    return Q(wanted__in=[Wanted.RUN, Wanted.LOGOUT]) & ~Q(
        state__in=[State.LOGGED_OUT, State.REPLACED, State.PAIRING_EXPIRED, State.NEW]
    )


def fair_share(owner: str, *, ai_badge: bool) -> int:
    """How many sessions this gateway should hold: an even split among the live gateways."""
    with _public():
        total = WhatsAppSession.objects.filter(_runnable(), ai_badge=ai_badge).count()
    alive = max(1, gateways_alive())
    return min(settings.WHATSAPP_MAX_SESSIONS, math.ceil(total / alive))


def leases_acquire(owner: str, *, limit: int, ai_badge: bool) -> list[int]:
    """Take up to `limit` sessions that nobody holds (or whose lease ran out). Returns their ids."""
    if limit <= 0:
        return []
    now = timezone.now()
    expires = now + dt.timedelta(seconds=settings.WHATSAPP_LEASE_SECONDS)
    with _public(), transaction.atomic():
        free = (
            WhatsAppSession.objects.select_for_update(skip_locked=True)
            .filter(_runnable(), ai_badge=ai_badge)
            .filter(Q(lease_owner="") | Q(lease_expires_at__lt=now))
            .order_by("lease_expires_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        ids = list(free)
        if ids:
            WhatsAppSession.objects.filter(pk__in=ids).update(lease_owner=owner, lease_expires_at=expires)
    return ids


def leases_renew(owner: str, ids: list[int]) -> set[int]:
    """Extend this gateway's leases; returns the ids it still holds (a lost one must be stopped)."""
    if not ids:
        return set()
    expires = timezone.now() + dt.timedelta(seconds=settings.WHATSAPP_LEASE_SECONDS)
    with _public(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {WhatsAppSession._meta.db_table} SET lease_expires_at = %s "  # noqa: S608 - table name
            "WHERE lease_owner = %s AND id = ANY(%s) RETURNING id",
            [expires, owner, ids],
        )
        return {row[0] for row in cursor.fetchall()}


def leases_release(owner: str, ids: list[int] | None = None) -> int:
    """Give sessions back (all of this gateway's when `ids` is None) so another takes them now."""
    with _public():
        held = WhatsAppSession.objects.filter(lease_owner=owner)
        if ids is not None:
            held = held.filter(pk__in=ids)
        return held.update(lease_owner="", lease_expires_at=None)


def holders_by_session(ids: list[int] | None = None) -> dict[int, str]:
    with _public():
        rows = WhatsAppSession.objects.exclude(lease_owner="")
        if ids is not None:
            rows = rows.filter(pk__in=ids)
        return dict(rows.values_list("pk", "lease_owner"))


@dataclass(frozen=True)
class SessionSpec:
    """What a gateway needs to run one session."""

    id: int
    account_id: int
    schema: str
    jid: str
    wanted: str
    state: str
    pair_phone: str
    groups_enabled: bool
    ai_badge: bool
    ban_expires_at: dt.datetime | None
    lid: str


def groups_enabled_by_schema(schemas: set[str]) -> dict[str, bool]:
    """Each seller's bot setting "answer in group chats" (BotSettings.group_chats_enabled, in
    the seller's own schema), read for many sellers in one query. A seller whose settings row
    does not exist yet has the default: off."""
    from sales.models import BotSettings

    if not schemas:
        return {}
    table = connection.ops.quote_name(BotSettings._meta.db_table)

    def read(some: list[str]) -> dict[str, bool]:
        parts = [
            f"SELECT %s, group_chats_enabled FROM {connection.ops.quote_name(schema)}.{table} WHERE id = 1"  # noqa: S608
            for schema in some
        ]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), some)
            return {schema: bool(enabled) for schema, enabled in cursor.fetchall()}

    ordered = sorted(schemas)
    try:
        found = read(ordered)
    except DatabaseError:  # a schema without the table (being dropped...): the others still count
        found = {}
        for schema in ordered:
            try:
                found |= read([schema])
            except DatabaseError:
                logger.warning("Group setting of %s not readable; groups off", schema)
    return {schema: found.get(schema, False) for schema in schemas}


def session_specs(ids: list[int] | set[int]) -> dict[int, SessionSpec]:
    with _public():
        rows = list(WhatsAppSession.objects.filter(pk__in=list(ids)).select_related("account__seller"))
        groups = groups_enabled_by_schema({row.account.seller.schema_name for row in rows})
        return {
            row.pk: SessionSpec(
                id=row.pk,
                account_id=row.account_id,
                schema=row.account.seller.schema_name,
                jid=row.jid,
                wanted=row.wanted,
                state=row.state,
                pair_phone=row.pair_phone,
                groups_enabled=groups[row.account.seller.schema_name],
                ai_badge=row.ai_badge,
                ban_expires_at=row.ban_expires_at,
                lid=row.lid,
            )
            for row in rows
        }


def session_report(owner: str, session_id: int, **fields: Any) -> bool:
    """Record what the holding gateway saw (state, jid, errors…) and tell the seller's pages.
    Does nothing (returns False) when `owner` no longer holds the lease."""
    now = timezone.now()
    if "state" in fields:
        fields.setdefault("state_changed_at", now)
    with _public():
        updated = WhatsAppSession.objects.filter(pk=session_id, lease_owner=owner).update(**fields, updated_at=now)
        if not updated:
            return False
        session = WhatsAppSession.objects.select_related("account__seller").get(pk=session_id)
        if "jid" in fields and session.phone:
            # The routing index: the seller's number is now the account's external id.
            ChannelAccount.objects.filter(pk=session.account_id).update(
                external_id=session.phone.lstrip("+"), display_name=session.push_name or session.phone
            )
        if "state" in fields:
            account_status = (
                ChannelAccount.Status.CONNECTED
                if session.state == State.CONNECTED
                else ChannelAccount.Status.ERROR
                if session.state in WhatsAppSession.HALTED_STATES or session.state == State.STALE
                else ChannelAccount.Status.DISCONNECTED
            )
            ChannelAccount.objects.filter(pk=session.account_id).update(status=account_status)
    extra: dict[str, Any] = {}
    if fields.get("qr"):
        extra["qr_svg"] = qr_svg(fields["qr"])
    _publish_status(session, extra)
    return True


def qr_svg(data: str) -> str:
    """The QR code as an SVG data URI (segno), for the dashboard's pairing page."""
    import segno

    return str(segno.make_qr(data, error="l").svg_data_uri(scale=6, border=2))


def sessions_by_state() -> dict[str, int]:
    with _public():
        return dict(WhatsAppSession.objects.values_list("state").annotate(n=Count("pk")).values_list("state", "n"))


def store_connections(application_name: str = "ma5zani-wa") -> int:
    """Connections whatsmeow's session stores hold open (every gateway of this database)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [application_name])
        row = cursor.fetchone()
    return int(row[0]) if row else 0
