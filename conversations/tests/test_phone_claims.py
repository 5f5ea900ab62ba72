"""A phone number typed in a chat is a claim, not an identity: it never merges two customers by
itself and never brings another customer's history into the bot's context or answers. The
seller is offered the merge on the customers' profiles; a number the channel vouches for (the
WhatsApp sender) still joins its customer."""

from __future__ import annotations

import dataclasses
import itertools
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from channels_app.base import InboundMessage
from channels_app.models import ChannelAccount
from conversations.models import Conversation, Customer, Message
from conversations.services import conversation_reply, ingest
from conversations.tests.factories import widget_inbound
from sales.engine.base import EngineContext
from sales.models import Order
from sales.tests.test_sales_conversations import prepare

pytestmark = pytest.mark.django_db

NUMBER = "+213550123456"
VISITOR = "00000000-0000-4000-8000-00000000bad1"
_ids = itertools.count(1)


class Contexts:
    """What the engine received, reply by reply (the real engine answers)."""

    def __init__(self, monkeypatch) -> None:
        from conversations.services import reply as services

        self.seen: list[EngineContext] = []
        real = services.guarded_reply

        def spy(engine, context):
            self.seen.append(context)
            return real(engine, context)

        monkeypatch.setattr(services, "guarded_reply", spy)

    def last(self) -> str:
        """Everything the engine was told about the customer in the last reply (not the
        customer's own words, which are theirs to repeat)."""
        context = self.seen[-1]
        return repr((context.customer_name, context.customer_summary, context.customer_id))


class Talk:
    """A customer on one channel, through ingest and the reply task."""

    def __init__(self, shop, queued, capture, *, whatsapp: str = "", visitor: str = VISITOR) -> None:
        self.shop, self.queued, self.capture = shop, queued, capture
        self.whatsapp, self.visitor = whatsapp, visitor

    def inbound(self, text: str) -> InboundMessage:
        if not self.whatsapp:
            return widget_inbound(self.shop, text, visitor=self.visitor)
        account, _ = ChannelAccount.objects.get_or_create(
            channel="whatsapp", external_id="213770000000", defaults={"seller": self.shop.seller}
        )
        return InboundMessage(
            channel="whatsapp", channel_account_id=account.pk, sender_id=f"{self.whatsapp[1:]}@s.whatsapp.net",
            external_id=f"wa-{next(_ids)}", text=text, timestamp=timezone.now(), sender_name="Karim",
            sender_phone=self.whatsapp,
        )  # fmt: skip

    def say(self, text: str) -> Message:
        with self.capture(execute=True):
            ingest(self.inbound(text))
        with self.capture(execute=True):
            reply = conversation_reply(*self.queued.replies[-1])
        assert reply is not None, f"no answer to {text!r}"
        return reply

    def script(self, texts: list[str]) -> list[str]:
        return [self.say(text).text for text in texts]

    @property
    def conversation(self) -> Conversation:
        external_id = f"{self.whatsapp[1:]}@s.whatsapp.net" if self.whatsapp else self.visitor
        return Conversation.objects.select_related("customer").get(identity__external_id=external_id)


KARIM_BUYS = [
    "Je veux commander les baskets en 41", "Karim Benali", "0550 12 34 56", "Alger", "Bab Ezzouar",
    "Cité 200 logements", "à domicile", "oui",
]  # fmt: skip
# The visitor gives Karim's number in an order of their own.
VISITOR_BUYS = ["Je veux commander la montre", "Sara Haddad", "0550123456", "Alger", "Hydra", "Rue 5", "bureau", "oui"]
KARIM_TRACES = ("karim", "benali", "bab ezzouar", "baskets", "sneakers", "bs-41", "200 logements")


def karim_then_the_visitor(shop, queued, capture) -> tuple[Talk, Talk]:
    prepare(shop)
    karim = Talk(shop, queued, capture, whatsapp=NUMBER)
    assert "confirm" in karim.script(KARIM_BUYS)[-1].lower()
    visitor = Talk(shop, queued, capture)
    visitor.script(VISITOR_BUYS)
    assert Order.objects.filter(conversation=visitor.conversation, status="confirmed").exists()
    return karim, visitor


def test_a_typed_phone_of_another_customer_merges_nothing_and_leaks_nothing(
    shop_a, queued, django_capture_on_commit_callbacks, monkeypatch
):
    contexts = Contexts(monkeypatch)
    with shop_a.schema():
        karim, visitor = karim_then_the_visitor(shop_a, queued, django_capture_on_commit_callbacks)
        karim_customer, visitor_customer = karim.conversation.customer, visitor.conversation.customer
        assert Customer.objects.count() == 2 and karim_customer.pk != visitor_customer.pk
        assert str(karim_customer.phone) == NUMBER and karim_customer.name == "Karim"
        assert str(visitor_customer.phone) == ""  # the number is Karim's: it stays on the order only
        visitor_order = Order.objects.get(conversation=visitor.conversation)
        assert str(visitor_order.phone) == NUMBER and visitor_order.customer_id == visitor_customer.pk

        # The visitor comes back for another order: nothing of Karim's reaches the engine or them.
        replies = visitor.script(["Bonjour", "Je veux commander les baskets en 42"])
        for seen in contexts.seen[-2:]:
            told = repr((seen.customer_name, seen.customer_summary)).lower()
            assert not any(trace in told for trace in KARIM_TRACES), told
            assert seen.customer_id == visitor_customer.pk
        assert not any(trace in reply for reply in replies for trace in ("Karim", "Benali", "Bab Ezzouar"))
        draft = Order.objects.open().get(conversation=visitor.conversation)
        assert (draft.customer_name, draft.commune) == ("Sara Haddad", "Hydra")  # the visitor's own last order

        # Karim's next message sees none of the visitor's.
        karim.say("Salam")
        told = contexts.last()
        assert "Sara" not in told and "Hydra" not in told and "montre" not in told.lower()
        assert contexts.seen[-1].customer_summary["orders_count"] == 1

    # The profiles: Karim's shows none of the visitor's orders; both offer the merge.
    client = shop_a.client()
    karim_page = client.get(reverse("customers:detail", args=[karim_customer.pk])).content.decode()
    own = re.sub(r'<section class="card" id="merge-suggestions">.*?</section>', "", karim_page, flags=re.S)
    assert own != karim_page  # the suggestion is shown, apart from Karim's own orders
    assert visitor_order.reference not in own and "Hydra" not in own and "Sara" not in own
    from conversations.models import MergeSuggestion

    with shop_a.schema():
        suggestion = MergeSuggestion.objects.get()
        assert suggestion.status == MergeSuggestion.Status.PENDING
        assert {suggestion.customer_id, suggestion.other_id} == {karim_customer.pk, visitor_customer.pk}
        assert (suggestion.reason, str(suggestion.phone), suggestion.order_id) == (
            "same_phone",
            NUMBER,
            visitor_order.pk,
        )
    for customer in (karim_customer, visitor_customer):
        page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
        assert reverse("customers:suggestion", args=[suggestion.pk, "accept"]) in page
        assert reverse("customers:suggestion", args=[suggestion.pk, "dismiss"]) in page
        assert visitor_order.reference in page  # the evidence, in the suggestion
    listing = client.get(reverse("customers:list")).content.decode()
    assert 'id="merge-suggestions-count"' in listing and ">1<" in listing


def test_confirming_the_suggestion_merges_the_two(shop_a, queued, django_capture_on_commit_callbacks):
    from conversations.models import MergeSuggestion

    with shop_a.schema():
        karim, visitor = karim_then_the_visitor(shop_a, queued, django_capture_on_commit_callbacks)
        karim_id, visitor_id = karim.conversation.customer_id, visitor.conversation.customer_id
        suggestion = MergeSuggestion.objects.get()
    client = shop_a.client()
    profile = reverse("customers:detail", args=[visitor_id])
    french = client.get(profile, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Fusions suggérées" in french and "a été donné dans la commande" in french
    assert "تأكيد الدمج" in client.get(profile, HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    url = reverse("customers:suggestion", args=[suggestion.pk, "accept"])
    assert client.get(url).status_code == 405  # only a POST changes anything
    response = client.post(url, {"next": str(visitor_id)})
    assert response.status_code == 302
    with shop_a.schema():
        assert list(Customer.objects.values_list("pk", flat=True)) == [karim_id]  # the older one is kept
        assert Order.objects.filter(customer_id=karim_id).count() == 2
        assert Conversation.objects.filter(customer_id=karim_id).count() == 2
        suggestion.refresh_from_db()
        assert (suggestion.status, suggestion.customer_id, suggestion.other_id) == ("accepted", karim_id, None)
        assert suggestion.decided_by_id == shop_a.owner.pk and suggestion.decided_at is not None
    assert response["Location"] == reverse("customers:detail", args=[karim_id])


def test_dismissing_the_suggestion_keeps_them_apart_for_good(shop_a, queued, django_capture_on_commit_callbacks):
    from conversations.models import MergeSuggestion

    with shop_a.schema():
        karim, visitor = karim_then_the_visitor(shop_a, queued, django_capture_on_commit_callbacks)
        suggestion = MergeSuggestion.objects.get()
    client = shop_a.client()
    client.post(reverse("customers:suggestion", args=[suggestion.pk, "dismiss"]))
    with shop_a.schema():
        assert Customer.objects.count() == 2
        suggestion.refresh_from_db()
        assert suggestion.status == "dismissed"
        # The same number in the visitor's next order: not suggested again.
        visitor.script(["Je veux commander la montre", "oui"])
        assert Order.objects.filter(conversation=visitor.conversation, status="confirmed").count() == 2
        assert MergeSuggestion.objects.count() == 1 and Customer.objects.count() == 2
    page = client.get(reverse("customers:detail", args=[karim.conversation.customer_id])).content.decode()
    assert reverse("customers:suggestion", args=[suggestion.pk, "accept"]) not in page
    assert 'id="merge-suggestions-count"' not in client.get(reverse("customers:list")).content.decode()


def test_suggestions_are_for_the_shop_members_only(shop_a, shop_b, queued, django_capture_on_commit_callbacks):
    from conversations.models import MergeSuggestion

    with shop_a.schema():
        karim_then_the_visitor(shop_a, queued, django_capture_on_commit_callbacks)
        suggestion = MergeSuggestion.objects.get()
    url = reverse("customers:suggestion", args=[suggestion.pk, "accept"])
    assert shop_a.anonymous().post(url).status_code == 302  # to sign in
    outsider = shop_a.client(shop_b.owner)
    assert outsider.post(url).status_code == 403
    # On the other seller's own domain the id is not theirs.
    assert shop_b.client().post(url).status_code == 404
    with shop_a.schema():
        assert MergeSuggestion.objects.get().status == "pending" and Customer.objects.count() == 2


def test_a_free_number_is_kept_on_the_customer_who_gave_it(shop_a, queued, django_capture_on_commit_callbacks):
    from conversations.models import MergeSuggestion

    with shop_a.schema():
        prepare(shop_a)
        visitor = Talk(shop_a, queued, django_capture_on_commit_callbacks)
        visitor.script(VISITOR_BUYS)
        customer = visitor.conversation.customer
        assert str(customer.phone) == NUMBER and not customer.phone_verified
        assert not MergeSuggestion.objects.exists()
        # The same visitor comes back: their own details are proposed.
        reply = visitor.say("Je veux commander les baskets en 41")
        assert "Hydra" in reply.text and "6 300" in reply.text


def test_a_whatsapp_number_joins_the_customer_it_belongs_to(shop_a, queued, django_capture_on_commit_callbacks):
    """The channel vouches for the sender's number: a new identity of a known WhatsApp number
    (another of the seller's WhatsApp accounts) is the same customer, automatically."""
    with shop_a.schema():
        prepare(shop_a)
        karim = Talk(shop_a, queued, django_capture_on_commit_callbacks, whatsapp=NUMBER)
        karim.script(KARIM_BUYS)
        customer = karim.conversation.customer
        assert customer.phone_verified
        second = ChannelAccount.objects.create(channel="whatsapp", external_id="213770000001", seller=shop_a.seller)
        inbound = dataclasses.replace(karim.inbound("Salam"), channel_account_id=second.pk)
        with django_capture_on_commit_callbacks(execute=True):
            result = ingest(inbound)
        assert Customer.objects.count() == 1
        assert Conversation.objects.get(pk=result.conversation_id).customer_id == customer.pk
        with django_capture_on_commit_callbacks(execute=True):
            reply = conversation_reply(*queued.replies[-1])
        assert reply is not None and "Karim" in reply.text  # welcomed back: it is them


def test_a_number_claimed_first_on_the_widget_does_not_capture_its_whatsapp_owner(
    shop_a, queued, django_capture_on_commit_callbacks, monkeypatch
):
    """The other way round: a visitor gives a number no customer has yet; its owner writes
    later on WhatsApp. The claim lured nobody: the WhatsApp sender is a customer of their own
    (the number is theirs now), and the seller is offered the merge."""
    from conversations.models import MergeSuggestion

    contexts = Contexts(monkeypatch)
    with shop_a.schema():
        prepare(shop_a)
        visitor = Talk(shop_a, queued, django_capture_on_commit_callbacks)
        visitor.script(VISITOR_BUYS)
        claimant = visitor.conversation.customer
        assert str(claimant.phone) == NUMBER
        owner = Talk(shop_a, queued, django_capture_on_commit_callbacks, whatsapp=NUMBER)
        reply = owner.say("Salam")
        assert "Sara" not in reply.text and "Sara" not in contexts.last() and "Hydra" not in contexts.last()
        owner_customer = owner.conversation.customer
        claimant.refresh_from_db()
        assert owner_customer.pk != claimant.pk and Customer.objects.count() == 2
        assert (str(owner_customer.phone), owner_customer.phone_verified, str(claimant.phone)) == (NUMBER, True, "")
        suggestion = MergeSuggestion.objects.get(status="pending")
        assert {suggestion.customer_id, suggestion.other_id} == {owner_customer.pk, claimant.pk}
        # The owner's own order draft starts empty of the visitor's details.
        owner.say("Je veux commander la montre")
        draft = Order.objects.open().get(conversation=owner.conversation)
        assert draft.commune == "" and "Sara" not in draft.customer_name


def test_only_a_channel_that_vouches_for_numbers_may_give_one(shop_a):
    from channels_app.base import channel_vouches_for_phone

    assert channel_vouches_for_phone("whatsapp")
    assert not any(channel_vouches_for_phone(channel) for channel in ("widget", "instagram", "messenger"))
    with shop_a.schema():
        inbound = dataclasses.replace(widget_inbound(shop_a, "Salam"), sender_phone=NUMBER)
        Customer.objects.create(name="Karim", phone=NUMBER, phone_verified=True)
        result = ingest(inbound)
        customer = Conversation.objects.get(pk=result.conversation_id).customer
        assert customer.name != "Karim" and str(customer.phone) == "" and Customer.objects.count() == 2


def test_a_merge_settles_the_pair_and_hands_the_other_suggestions_on(shop_a):
    from conversations.customers import customers_merge, merge_suggestion_offer
    from conversations.models import MergeSuggestion

    with shop_a.schema():
        a = Customer.objects.create(name="A", phone="+213661000001")
        b = Customer.objects.create(name="B", phone=NUMBER, phone_verified=True)
        c = Customer.objects.create(name="C")
        same_phone = MergeSuggestion.Reason.SAME_PHONE
        ab = merge_suggestion_offer(customer=b, other=a, reason=same_phone, phone=NUMBER)
        assert merge_suggestion_offer(customer=a, other=b, reason=same_phone) == ab  # one per pair
        bc = merge_suggestion_offer(customer=b, other=c, reason=same_phone)
        assert ab is not None and bc is not None and (ab.customer_id, ab.other_id) == (a.pk, b.pk)
        kept = customers_merge(keep=a, merge=b, member_id=7)
        # The number WhatsApp vouched for wins over the one A gave; one customer per number.
        assert (str(kept.phone), kept.phone_verified) == (NUMBER, True)
        ab.refresh_from_db()
        bc.refresh_from_db()
        assert (ab.status, ab.customer_id, ab.other_id, ab.decided_by_id) == ("accepted", a.pk, None, 7)
        assert (bc.status, bc.customer_id, bc.other_id) == ("pending", a.pk, c.pk)
        bc.status = "dismissed"
        bc.save()
        assert merge_suggestion_offer(customer=c, other=a, reason=same_phone) is None  # dismissed: not again


def test_two_customers_never_hold_the_same_number(shop_a):
    from django.db import IntegrityError, transaction

    with shop_a.schema():
        Customer.objects.create(name="A", phone=NUMBER)
        with pytest.raises(IntegrityError), transaction.atomic():
            Customer.objects.create(name="B", phone=NUMBER)
        Customer.objects.create(name="C")
        Customer.objects.create(name="D")  # no number: as many as there are
