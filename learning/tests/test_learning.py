"""Learning Q&A from conversations that sold and from the seller's answers, reviewed by people,
then used by the bot."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conversations.models import Conversation
from conversations.services import conversation_hand_back, conversation_take_over, message_send_by_seller
from learning.models import KnowledgeEntry
from learning.services import knowledge_extract, knowledge_review
from sales.tests.test_sales_conversations import Chat, prepare

pytestmark = pytest.mark.django_db

SHIPPING_QUESTION = "Est-ce que la livraison est gratuite ?"
SHIPPING_ANSWER = "Oui : la livraison est offerte dès 10 000 DA d'achat, partout en Algérie."


@pytest.fixture
def extractions(monkeypatch) -> list[tuple[int, bool]]:
    """What was sent to the learning queue (the tests run the extraction by hand)."""
    sent: list[tuple[int, bool]] = []
    monkeypatch.setattr(
        "learning.tasks.enqueue_extraction",
        lambda schema, conversation_id, sellers_only=False: sent.append((conversation_id, sellers_only)),
    )
    return sent


def sold_conversation(chat: Chat) -> None:
    for text in [
        "Bonjour", "Combien coûtent les baskets ?", "Vous livrez à Oran ?", "Je veux commander en 41",
        "Karim Benali", "0550 12 34 56", "Alger", "Bab Ezzouar", "Cité 200 logements, bt 4", "à domicile", "oui",
    ]:  # fmt: skip
        chat.say(text)


def seller_answers(chat: Chat, shop, question: str, answer: str) -> Conversation:
    chat.say(question)
    conversation = chat.conversation
    with chat.capture(execute=True):
        conversation_take_over(conversation=conversation, member_id=shop.owner.pk)
        message_send_by_seller(conversation=conversation, member_id=shop.owner.pk, text=answer)
        conversation_hand_back(conversation=Conversation.objects.get(pk=conversation.pk))
    return conversation


def test_an_order_conversation_yields_pending_entries_without_personal_data(
    shop_a, queued, django_capture_on_commit_callbacks, extractions
):
    with shop_a.schema():
        prepare(shop_a)
        chat = Chat(shop_a, queued, django_capture_on_commit_callbacks)
        sold_conversation(chat)
        assert extractions == [(chat.conversation.pk, False)]  # the confirmation asked for it
        assert knowledge_extract(chat.conversation.pk) >= 2
        entries = list(KnowledgeEntry.objects.all())
        questions = {entry.question for entry in entries}
        assert {"Combien coûtent les baskets ?", "Vous livrez à Oran ?"} <= questions
        assert all(entry.status == "pending" and entry.language == "fr" for entry in entries)
        every_text = " ".join(f"{e.question} {e.answer}" for e in entries)
        for personal in ("Karim", "0550", "550123456", "Cité 200", "Bab Ezzouar", "#0", "5 910", "6 500"):
            assert personal not in every_text
        assert entries[0].sources.get().conversation_id == chat.conversation.pk
        # The same conversation learned again counts nothing twice.
        knowledge_extract(chat.conversation.pk)
        assert KnowledgeEntry.objects.count() == len(entries) and {e.count for e in KnowledgeEntry.objects.all()} == {1}


def test_approving_a_sellers_answer_changes_what_the_bot_says_to_a_new_customer(
    shop_a, queued, django_capture_on_commit_callbacks, extractions
):
    with shop_a.schema():
        prepare(shop_a)
        first = Chat(shop_a, queued, django_capture_on_commit_callbacks, visitor="00000000-0000-4000-8000-0000000000f1")
        conversation = seller_answers(first, shop_a, SHIPPING_QUESTION, SHIPPING_ANSWER)
        assert extractions == [(conversation.pk, True)]  # learned from the seller, no order needed
        knowledge_extract(conversation.pk, sellers_only=True)
        entry = KnowledgeEntry.objects.get()
        assert (entry.question, entry.answer, entry.origin, entry.status) == (
            SHIPPING_QUESTION, SHIPPING_ANSWER, "seller", "pending",
        )  # fmt: skip
        second = Chat(
            shop_a, queued, django_capture_on_commit_callbacks, visitor="00000000-0000-4000-8000-0000000000f2"
        )
        assert SHIPPING_ANSWER not in second.say("Est ce que la livraison est gratuite?").text  # pending: unused
    page = shop_a.client().post(reverse("knowledge:bulk"), {"approve_one": entry.pk})
    assert page.status_code == 302
    with shop_a.schema():
        third = Chat(shop_a, queued, django_capture_on_commit_callbacks, visitor="00000000-0000-4000-8000-0000000000f3")
        assert SHIPPING_ANSWER in third.say("est ce que la livraison est gratuite ?").text
        entry.refresh_from_db()
        assert entry.status == "approved" and entry.reviewed_by_id == shop_a.owner.pk and entry.times_used == 1


def test_a_dismissed_question_never_returns_as_pending(shop_a, queued, django_capture_on_commit_callbacks, extractions):
    with shop_a.schema():
        prepare(shop_a)
        one = Chat(shop_a, queued, django_capture_on_commit_callbacks, visitor="00000000-0000-4000-8000-0000000000d1")
        knowledge_extract(seller_answers(one, shop_a, SHIPPING_QUESTION, "Non.").pk)
        entry = KnowledgeEntry.objects.get()
        knowledge_review(entries=[entry], status="dismissed", reviewer_id=1)
        two = Chat(shop_a, queued, django_capture_on_commit_callbacks, visitor="00000000-0000-4000-8000-0000000000d2")
        knowledge_extract(seller_answers(two, shop_a, "Est ce que la livraison est gratuite ?", "Non, 600 DA.").pk)
        assert KnowledgeEntry.objects.count() == 1
        entry.refresh_from_db()
        assert entry.status == "dismissed" and entry.count == 2 and entry.sources.count() == 2


def test_review_page_filters_edits_and_bulk_actions_stay_within_the_seller(
    shop_a, shop_b, queued, django_capture_on_commit_callbacks, extractions
):
    with shop_a.schema():
        prepare(shop_a)
        chat = Chat(shop_a, queued, django_capture_on_commit_callbacks)
        sold_conversation(chat)
        knowledge_extract(chat.conversation.pk)
        ids = list(KnowledgeEntry.objects.values_list("pk", flat=True))
    client = shop_a.client()
    page = client.get(reverse("knowledge:list")).content.decode()
    assert "Combien coûtent les baskets ?" in page and "Where it comes from" in page
    assert "Combien" not in client.get(reverse("knowledge:list"), {"language": "en"}).content.decode()
    client.post(reverse("knowledge:edit", args=[ids[0]]), {"question": "Prix des baskets ?", "answer": "5 900 DA."})
    client.post(reverse("knowledge:bulk"), {"entry": ids[1:], "action": "dismissed"})
    client.post(
        reverse("knowledge:create"), {"question": "Retour possible ?", "answer": "Oui, sous 7 jours.", "language": "fr"}
    )
    with shop_a.schema():
        edited = KnowledgeEntry.objects.get(pk=ids[0])
        assert (edited.question, edited.status) == ("Prix des baskets ?", "approved")
        assert set(KnowledgeEntry.objects.filter(pk__in=ids[1:]).values_list("status", flat=True)) == {"dismissed"}
        assert KnowledgeEntry.objects.get(origin="manual").status == "approved"
    # Another seller sees none of it and cannot act on it.
    other = shop_b.client()
    assert "Prix des baskets" not in other.get(reverse("knowledge:list"), {"status": "all"}).content.decode()
    assert other.get(reverse("knowledge:edit", args=[ids[0]])).status_code == 404
    other.post(reverse("knowledge:bulk"), {"entry": ids, "action": "dismissed"})
    with shop_a.schema():
        assert KnowledgeEntry.objects.get(pk=ids[0]).status == "approved"


def test_customer_text_is_shown_as_text_on_the_review_page(
    shop_a, queued, django_capture_on_commit_callbacks, extractions
):
    with shop_a.schema():
        prepare(shop_a)
        chat = Chat(shop_a, queued, django_capture_on_commit_callbacks)
        knowledge_extract(seller_answers(chat, shop_a, "<script>alert(1)</script> c'est quoi ?", "Rien.").pk)
    page = shop_a.client().get(reverse("knowledge:list")).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page


def test_staff_see_pending_entries_of_every_seller_in_one_admin_list(
    shop_a, shop_b, queued, django_capture_on_commit_callbacks, extractions, django_user_model
):
    from review.models import PendingKnowledge

    for shop, answer in ((shop_a, "Oui, dès 10 000 DA."), (shop_b, "Non, jamais.")):
        with shop.schema():
            prepare(shop)
            chat = Chat(
                shop,
                queued,
                django_capture_on_commit_callbacks,
                visitor="00000000-0000-4000-8000-00000000000" + shop.seller.slug[0],
            )
            knowledge_extract(seller_answers(chat, shop, SHIPPING_QUESTION, answer).pk)
    assert PendingKnowledge.objects.count() == 2
    staff = django_user_model.objects.create_superuser(email="staff@ma5zani.test", password="pw-For-tests-1")
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)
    page = client.get("/admin/review/pendingknowledge/").content.decode()
    assert "Alpha Shop" in page and "Bravo Shop" in page and "dès 10 000 DA" in page and "Non, jamais." in page
    # A seller sees only its own, on its own review page.
    own = shop_a.client().get(reverse("knowledge:list")).content.decode()
    assert "dès 10 000 DA" in own and "Non, jamais." not in own
    # Staff approve Alpha's and dismiss Bravo's from the one list, through the sellers' services.
    alpha = PendingKnowledge.objects.get(seller=shop_a.seller)
    bravo = PendingKnowledge.objects.get(seller=shop_b.seller)
    client.post("/admin/review/pendingknowledge/", {"action": "approve", "_selected_action": [alpha.pk]})
    client.post("/admin/review/pendingknowledge/", {"action": "dismiss", "_selected_action": [bravo.pk]})
    assert not PendingKnowledge.objects.exists()
    with shop_a.schema():
        assert (
            KnowledgeEntry.objects.get().status == "approved"
            and KnowledgeEntry.objects.get().reviewed_by_id == staff.pk
        )
    with shop_b.schema():
        assert KnowledgeEntry.objects.get().status == "dismissed"


def test_entries_round_trip_through_csv_and_bad_lines_are_reported(shop_a):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = shop_a.client()
    data = (
        b"question,answer,language\n"
        b"Retour possible ?,Oui sous 7 jours.,fr\n"
        b"Do you deliver on Friday?,No: Saturday to Thursday.,en\n"
        b"=HYPERLINK(1),bad language,xx\n"
        b",no question,fr\n"
    )
    response = client.post(
        reverse("knowledge:import"), {"file": SimpleUploadedFile("a.csv", data, "text/csv")}, follow=True
    )
    page = response.content.decode()
    assert "2 answers added, 0 updated." in page and "Line 4:" in page and "Line 5:" in page
    with shop_a.schema():
        assert set(KnowledgeEntry.objects.values_list("status", "origin")) == {("approved", "manual")}
        assert KnowledgeEntry.objects.count() == 2
    again = b"question,answer,language\nRetour possible ?,Oui sous 14 jours.,fr\n"
    client.post(reverse("knowledge:import"), {"file": SimpleUploadedFile("b.csv", again, "text/csv")})
    exported = b"".join(client.get(reverse("knowledge:export")).streaming_content).decode()
    assert exported.startswith("\ufeffquestion,answer,language,status") and "Oui sous 14 jours." in exported
    assert exported.count("\n") == 3  # the header and two entries: the second import updated


@pytest.fixture
def model_server(settings):
    from sales.tests.chat_server import ChatServer

    server = ChatServer()
    settings.OPENROUTER_BASE_URL = server.base_url
    settings.OPENROUTER_API_KEY = "sk-or-platform-test"
    settings.OPENROUTER_MAX_RETRIES = 0
    yield server
    server.stop()


def test_the_openrouter_extractor_returns_validated_json_without_personal_data(
    shop_a, queued, django_capture_on_commit_callbacks, extractions, model_server
):
    import json

    from sales.tests.chat_server import text_turn

    with shop_a.schema():
        prepare(shop_a, intensity="gentle")
        chat = Chat(shop_a, queued, django_capture_on_commit_callbacks)
        model_server.default = text_turn("Bonjour !")  # the chat itself (the model answers)
        for text in ("Bonjour", "Vous livrez à Oran ?"):
            chat.say(text)
        pairs = {"pairs": [
            {"question": "Vous livrez à Oran ?", "answer": "Oui, 900 DA à domicile.", "language": "fr"},
            {"question": "Mon numéro est 0550 12 34 56, ok ?", "answer": "Noté.", "language": "fr"},
        ]}  # fmt: skip
        model_server.requests.clear()
        model_server.script(text_turn(json.dumps(pairs)))
        assert knowledge_extract(chat.conversation.pk) == 1
        body = model_server.requests[0]["body"]
        assert body["response_format"]["type"] == "json_schema"
        assert "customer: Vous livrez à Oran ?" in body["messages"][1]["content"]
        entry = KnowledgeEntry.objects.get()
        assert (entry.question, entry.answer, entry.status) == (
            "Vous livrez à Oran ?",
            "Oui, 900 DA à domicile.",
            "pending",
        )
        # An answer that is not the JSON asked for: the built-in extractor takes over.
        model_server.script(text_turn("Here are the pairs: none"))
        assert knowledge_extract(chat.conversation.pk) >= 1
        assert KnowledgeEntry.objects.count() == 1 and KnowledgeEntry.objects.get().count == 1


def test_a_conversation_marked_as_a_good_example_is_learned_from(
    shop_a, queued, django_capture_on_commit_callbacks, extractions
):
    with shop_a.schema():
        prepare(shop_a)
        chat = Chat(shop_a, queued, django_capture_on_commit_callbacks)
        chat.say("Combien coûtent les baskets ?")
        conversation_id = chat.conversation.pk
    with django_capture_on_commit_callbacks(execute=True):
        response = shop_a.client().post(reverse("conversations:example", args=[conversation_id]))
    assert response.status_code == 302 and extractions == [(conversation_id, False)]
    with shop_a.schema():
        assert knowledge_extract(conversation_id) == 1
        assert KnowledgeEntry.objects.get().question == "Combien coûtent les baskets ?"
