"""Knowledge entries in Standard Arabic and in Darija in Arabic script serve each other's
customers; the seller can write either."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from learning.models import KnowledgeEntry
from learning.services import knowledge_answer_for, knowledge_create_manual

pytestmark = pytest.mark.django_db

QUESTION = "واش كاين التوصيل يوم الجمعة؟"


def test_a_standard_arabic_question_is_answered_by_a_darija_entry_and_the_same_form_comes_first(shop_a):
    with shop_a.schema():
        darija = knowledge_create_manual(
            question=QUESTION, answer="لا، من السبت للخميس.", language="ar", reviewer_id=None
        )
        knowledge_create_manual(question="Livrez-vous le vendredi ?", answer="Non.", language="fr", reviewer_id=None)
        assert knowledge_answer_for(QUESTION, "msa") == darija  # Arabic script reads Arabic script
        assert knowledge_answer_for(QUESTION, "arabizi") is None  # not across scripts
        standard = knowledge_create_manual(
            question=QUESTION, answer="لا، يتم التوصيل من السبت إلى الخميس.", language="msa", reviewer_id=None
        )
        assert knowledge_answer_for(QUESTION, "msa") == standard  # the customer's own form first
        assert knowledge_answer_for(QUESTION, "ar") == darija
        assert KnowledgeEntry.objects.get(pk=darija.pk).times_used == 2


def test_the_seller_can_write_an_entry_in_standard_arabic_but_not_in_an_unknown_language(shop_a):
    with shop_a.schema():
        assert knowledge_create_manual(
            question="هل الدفع عند الاستلام؟", answer="نعم.", language="msa", reviewer_id=None
        )
        with pytest.raises(ValidationError):
            knowledge_create_manual(question="Question ?", answer="Réponse.", language="darija", reviewer_id=None)


def test_the_knowledge_page_offers_standard_arabic(shop_a):
    from django.urls import reverse

    page = shop_a.client().get(reverse("knowledge:create")).content.decode()
    assert 'value="msa"' in page and "العربية الفصحى" in page
