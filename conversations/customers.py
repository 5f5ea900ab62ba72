"""Returning customers: one customer across channels, recognized by channel identity (a WhatsApp
number, a Messenger id, a widget visitor id); merging two customers; merge suggestions.

Identity rule: a number the channel vouches for (WhatsApp's sender) joins the customer whose
number it is. A number a customer gives in a chat or an order is a claim: it is kept on the
order, and on the customer's own record only while no other customer has it; it never merges
two customers and never brings another customer's history into the bot's context. When it
matches another customer, the seller is offered the merge (`MergeSuggestion`) and decides.

Opting out: a customer who asks not to be written to (STOP) is recorded on the customer and on
the channel identity they wrote from (`customer_opt_out`); nothing proactive (a reminder, a
follow-up) goes to a conversation for which `may_message_first` is False. Answers to the
customer's own messages still go.

The reads (customer_by_phone, customer_list, customer_summary) are in conversations.selectors."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from conversations.models import ChannelIdentity, Conversation, Customer, MergeSuggestion
from conversations.selectors import customer_by_phone

Suggestion = MergeSuggestion


@transaction.atomic
def customers_merge(*, keep: Customer, merge: Customer, member_id: int | None = None) -> Customer:
    """Move everything of `merge` (identities, conversations, orders, notes, tags) to `keep`
    and delete `merge`. The older first-seen date and any missing detail are kept; a number
    the channel vouched for wins over a given one. Suggestions to merge the two are marked
    merged (by `member_id`); `merge`'s other suggestions move to `keep`."""
    from sales.models import Order

    if keep.pk == merge.pk:
        raise ValidationError(_("Choose two different customers."))
    # Both rows locked in id order: two merges of the same pair never wait on each other.
    locked = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[keep.pk, merge.pk]).order_by("pk")}
    if len(locked) != 2:
        raise ValidationError(_("This customer no longer exists."))
    keep, merge = locked[keep.pk], locked[merge.pk]
    ChannelIdentity.objects.filter(customer=merge).update(customer=keep)
    Conversation.objects.filter(customer=merge).update(customer=keep)
    Order.objects.filter(customer=merge).update(customer=keep)
    _move_suggestions(keep=keep, merge=merge, member_id=member_id)
    keep.name = keep.name or merge.name
    if merge.phone and (not keep.phone or (merge.phone_verified and not keep.phone_verified)):
        keep.phone, keep.phone_verified = merge.phone, merge.phone_verified
    keep.language = keep.language or merge.language
    keep.notes = "\n".join(part for part in (keep.notes, merge.notes) if part)
    keep.tags = list(dict.fromkeys([*keep.tags, *merge.tags]))
    keep.first_seen_at = min(keep.first_seen_at, merge.first_seen_at)
    keep.last_seen_at = max(keep.last_seen_at, merge.last_seen_at)
    # Either asked not to be written to first: the merged customer did.
    opted_out = [when for when in (keep.opted_out_at, merge.opted_out_at) if when is not None]
    keep.opted_out_at = min(opted_out) if opted_out else None
    merge.delete()  # first: one customer per number
    keep.save()
    return keep


def _move_suggestions(*, keep: Customer, merge: Customer, member_id: int | None) -> None:
    """Before `merge` goes: its suggestions with `keep` are done (merged), the others are
    `keep`'s now (unless `keep` has the same one already)."""
    now = timezone.now()
    rows = Suggestion.objects.select_for_update().filter(Q(customer=merge) | Q(other=merge)).order_by("pk")
    for suggestion in rows:
        first = keep.pk if suggestion.customer_id == merge.pk else suggestion.customer_id
        second = keep.pk if suggestion.other_id == merge.pk else suggestion.other_id
        if second is None or first == second:  # the pair is one customer now
            suggestion.customer_id, suggestion.other_id = keep.pk, None
            if suggestion.status == Suggestion.Status.PENDING:
                suggestion.status, suggestion.decided_at, suggestion.decided_by_id = (
                    Suggestion.Status.ACCEPTED, now, member_id,
                )  # fmt: skip
            suggestion.save()
            continue
        low, high = sorted((first, second))
        twins = Suggestion.objects.filter(customer_id=low, other_id=high).exclude(pk=suggestion.pk)
        said = Q(status=suggestion.status)  # keep's own twin says it already
        if suggestion.status == Suggestion.Status.PENDING:  # or the seller told them apart
            said |= Q(status=Suggestion.Status.DISMISSED, reason=suggestion.reason)
        if twins.filter(said).exists():
            suggestion.delete()
            continue
        suggestion.customer_id, suggestion.other_id = low, high
        suggestion.save(update_fields=["customer", "other"])


def merge_suggestion_offer(
    *, customer: Customer, other: Customer, reason: str, phone: str = "", order_id: int | None = None
) -> MergeSuggestion | None:
    """Offer the seller to merge two customers. One pending suggestion per pair; a pair the
    seller dismissed for this reason is not offered again. None when nothing is offered."""
    if customer.pk == other.pk:
        return None
    low, high = sorted((customer.pk, other.pk))
    pair = Suggestion.objects.filter(customer_id=low, other_id=high)
    pending = pair.filter(status=Suggestion.Status.PENDING).first()
    if pending is not None:
        return pending
    if pair.filter(status=Suggestion.Status.DISMISSED, reason=reason).exists():
        return None
    try:
        with transaction.atomic():
            return Suggestion.objects.create(
                customer_id=low, other_id=high, reason=reason, phone=phone, order_id=order_id
            )
    except IntegrityError:  # offered meanwhile by another transaction
        return pair.filter(status=Suggestion.Status.PENDING).first()


@transaction.atomic
def customer_phone_given(*, customer_id: int, phone: str, name: str = "", order_id: int | None = None) -> Customer:
    """A customer gave their number (and name) in an order: a claim. Kept on their own record
    while no other customer has it; when another has it, the seller is offered the merge and
    the two stay apart (the number stays on the order)."""
    customer = Customer.objects.select_for_update().get(pk=customer_id)
    customer.name = customer.name or name[:200]
    customer.save(update_fields=["name"])
    if str(customer.phone) == phone:
        return customer
    holder = customer_by_phone(phone, exclude=customer.pk)
    if holder is None and not customer.phone:
        try:
            with transaction.atomic():
                Customer.objects.filter(pk=customer.pk).update(phone=phone, phone_verified=False)
            customer.phone, customer.phone_verified = phone, False
            return customer
        except IntegrityError:  # another customer took the number meanwhile
            holder = customer_by_phone(phone, exclude=customer.pk)
    if holder is not None:
        merge_suggestion_offer(
            customer=customer, other=holder, reason=Suggestion.Reason.SAME_PHONE, phone=phone, order_id=order_id
        )
    return customer


def customer_for_channel_phone(*, phone: str, name: str = "") -> Customer:
    """The customer of a number the channel vouches for (a new WhatsApp identity): the one
    whose number the channel vouched for before, else a new customer. A customer who only
    gave that number in an order is not them until the seller says so: the number becomes the
    new customer's and the seller is offered the merge. Runs in the caller's transaction."""
    holder = Customer.objects.select_for_update().filter(phone=phone).first()
    if holder is not None and holder.phone_verified:
        return holder
    if holder is not None:  # a claim only: the number is its owner's from now on
        Customer.objects.filter(pk=holder.pk).update(phone="", phone_verified=False)
    customer = Customer.objects.create(name=name[:200], phone=phone, phone_verified=True)
    if holder is not None:
        from sales.models import Order

        order_id = (
            Order.objects.filter(customer=holder, phone=phone)
            .order_by("-created_at")
            .values_list("pk", flat=True)
            .first()
        )
        merge_suggestion_offer(
            customer=customer, other=holder, reason=Suggestion.Reason.SAME_PHONE, phone=phone, order_id=order_id
        )
    return customer


@transaction.atomic
def merge_suggestion_accept(*, suggestion_id: int, member_id: int | None) -> Customer:
    """The seller confirms: the two customers are merged (the older one is kept)."""
    suggestion = Suggestion.objects.select_for_update().get(pk=suggestion_id)
    if suggestion.status != Suggestion.Status.PENDING or suggestion.other_id is None:
        raise ValidationError(_("This suggestion was already decided."))
    pair = list(Customer.objects.filter(pk__in=[suggestion.customer_id, suggestion.other_id]))
    older, newer = sorted(pair, key=lambda c: (c.first_seen_at, c.pk))
    return customers_merge(keep=older, merge=newer, member_id=member_id)


@transaction.atomic
def merge_suggestion_dismiss(*, suggestion_id: int, member_id: int | None) -> MergeSuggestion:
    """The seller says the two are different people: they stay apart, and the same reason
    never suggests this pair again."""
    suggestion = Suggestion.objects.select_for_update().get(pk=suggestion_id)
    if suggestion.status != Suggestion.Status.PENDING:
        raise ValidationError(_("This suggestion was already decided."))
    suggestion.status, suggestion.decided_at, suggestion.decided_by_id = (
        Suggestion.Status.DISMISSED, timezone.now(), member_id,
    )  # fmt: skip
    suggestion.save(update_fields=["status", "decided_at", "decided_by_id"])
    return suggestion


# --- Opting out ---------------------------------------------------------------------------


def _opt_rows_locked(conversation: Conversation) -> tuple[Customer, ChannelIdentity]:
    """The conversation's customer and identity, locked in the order a merge locks them
    (customer first)."""
    customer_id = ChannelIdentity.objects.filter(pk=conversation.identity_id).values_list("customer_id", flat=True)
    customer = Customer.objects.select_for_update().get(pk=customer_id.get())
    return customer, ChannelIdentity.objects.select_for_update().get(pk=conversation.identity_id)


@transaction.atomic
def customer_opt_out(*, conversation: Conversation) -> bool:
    """The customer asked not to be written to first: recorded on the customer and on the
    channel identity of `conversation`. True when this changes what the shop may do (the bot
    acknowledges once), False when the conversation was opted out already."""
    customer, identity = _opt_rows_locked(conversation)
    allowed_before = customer.opted_out_at is None and identity.opted_out_at is None
    now = timezone.now()
    if customer.opted_out_at is None:
        customer.opted_out_at = now
        customer.save(update_fields=["opted_out_at"])
    if identity.opted_out_at is None:
        identity.opted_out_at = now
        identity.save(update_fields=["opted_out_at"])
    return allowed_before


@transaction.atomic
def customer_opt_in(*, conversation: Conversation) -> None:
    """The customer agrees to be written to again (on the customer and on this identity)."""
    customer, identity = _opt_rows_locked(conversation)
    if customer.opted_out_at is not None:
        customer.opted_out_at = None
        customer.save(update_fields=["opted_out_at"])
    if identity.opted_out_at is not None:
        identity.opted_out_at = None
        identity.save(update_fields=["opted_out_at"])


def may_message_first(conversation: Conversation) -> bool:
    """Whether the shop may write to this conversation on its own (a reminder, a follow-up):
    False when the customer, or the channel identity of this conversation, opted out. Read from
    the database, whatever the caller has loaded."""
    return not ChannelIdentity.objects.filter(
        Q(opted_out_at__isnull=False) | Q(customer__opted_out_at__isnull=False), pk=conversation.identity_id
    ).exists()
