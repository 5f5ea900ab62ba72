import pytest
from sales.tests.test_dialogue import chat, Order  # noqa
from conversations.models import Conversation

SCRIPTS = [
 ["je veux commander les baskets en 42", "Karim Benali", "0550123456", "wahran", "smahli machi wahran, setif", "el eulma", "non plutôt Jijell", "oui"],
 ["nheb nechri sabat 42", "annuler la commande"],
 ["machi robot nheb bnadem"], ["نحب نهدر مع انسان"],
 ["هل يوجد خصم على الصباط الرياضي؟", "أريد أن أطلب مقاس 42"],
 ["nheb nechri sabat 42", "la commande est en retard et personne ne m'appelle"],
]

@pytest.mark.parametrize("script", SCRIPTS)
def test_debug(chat, script):
    for text in script:
        r = chat.say(text)
        o = Order.objects.open().first()
        c = Conversation.objects.get()
        print(repr(text), "->", repr(r.text), r.quick_replies, c.mode, o and (o.status, o.wilaya, o.commune, list(o.items.values_list('sku','quantity'))))
