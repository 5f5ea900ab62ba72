"""What the built-in engine says, in the four forms it answers in: "ar" (Arabic script, written
the way Algerians write Darija), "arabizi", "fr" and "en". Prices are formatted by the caller."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "greet": {
        "ar": "مرحبا بيك! أنا {persona} من {shop}. كيفاش نقدر نعاونك؟",
        "arabizi": "Salam! Ana {persona} men {shop}. Kifach n9der n3awnek?",
        "fr": "Bonjour ! Je suis {persona} de {shop}. Comment puis-je vous aider ?",
        "en": "Hello! I'm {persona} from {shop}. How can I help you?",
    },
    "welcome_back": {
        "ar": "مرحبا بيك من جديد{name}! يسعدنا نشوفوك.",
        "arabizi": "Mar7ba bik men jdid{name}! Ysa3dna nchoufouk.",
        "fr": "Ravi de vous revoir{name} !",
        "en": "Welcome back{name}!",
    },
    "price": {"ar": "{name}: {price} دج", "arabizi": "{name}: {price} DA", "fr": "{name} : {price} DA", "en": "{name}: {price} DZD"},
    "was": {"ar": " بدلا من {old} دج", "arabizi": " blasst {old} DA", "fr": " au lieu de {old} DA", "en": " instead of {old} DZD"},
    "variants": {"ar": "المتوفر: {list}", "arabizi": "Kayen: {list}", "fr": "Disponible : {list}", "en": "Available: {list}"},
    "out": {
        "ar": "{name} ماكانش في المخزون حالياً.",
        "arabizi": "{name} makanch f stock dork.",
        "fr": "{name} est en rupture de stock pour le moment.",
        "en": "{name} is out of stock at the moment.",
    },
    "few_left": {
        "ar": "بقاو غير {count} في المخزون.",
        "arabizi": "B9aw ghir {count} f stock.",
        "fr": "Il n'en reste que {count} en stock.",
        "en": "Only {count} left in stock.",
    },
    "promo_until": {
        "ar": "التخفيض صالح حتى {date}.",
        "arabizi": "La promo tkemel l {date}.",
        "fr": "La promotion se termine le {date}.",
        "en": "The promotion ends on {date}.",
    },
    "social_proof": {
        "ar": "تباعت {count} طلبية منو هاد السيمانة.",
        "arabizi": "Tba3 {count} commandes menou had la semaine.",
        "fr": "{count} commandes cette semaine pour ce produit.",
        "en": "{count} orders for it this week.",
    },
    "also": {"ar": "تقدر تعجبك تاني: {list}", "arabizi": "Y3ejbek tani: {list}", "fr": "Vous aimerez aussi : {list}", "en": "You may also like: {list}"},
    "which": {
        "ar": "على أي منتج تحب تعرف؟",
        "arabizi": "3la ana produit t7eb ta3ref?",
        "fr": "Quel produit vous intéresse ?",
        "en": "Which product are you interested in?",
    },
    "unknown": {
        "ar": "سمحلي، ما فهمتش مليح. واش تحب تعرف السعر، التوفر ولا تطلب؟",
        "arabizi": "Sm7li, ma fhemtch mli7. T7eb ta3ref le prix, ila kayen, wela t commandi?",
        "fr": "Pardon, je n'ai pas bien compris. Voulez-vous un prix, une disponibilité ou commander ?",
        "en": "Sorry, I didn't quite get that. Would you like a price, to check availability or to order?",
    },
    "unsure_handoff": {
        "ar": "راني نعيط لواحد من المحل باش يجاوبك مليح.",
        "arabizi": "Rani n3ayet l wa7ed men l magasin bach yjawbek mli7.",
        "fr": "Je passe la main à quelqu'un de la boutique pour bien vous répondre.",
        "en": "I'm bringing in someone from the shop to answer you properly.",
    },
    "delivery_fee": {
        "ar": "التوصيل لـ {wilaya}: {fees}.",
        "arabizi": "Livraison l {wilaya}: {fees}.",
        "fr": "Livraison vers {wilaya} : {fees}.",
        "en": "Delivery to {wilaya}: {fees}.",
    },
    "home_fee": {"ar": "للدار {fee} دج", "arabizi": "l dar {fee} DA", "fr": "à domicile {fee} DA", "en": "home {fee} DZD"},
    "desk_fee": {"ar": "للمكتب {fee} دج", "arabizi": "l bureau {fee} DA", "fr": "au bureau (stop desk) {fee} DA", "en": "stop desk {fee} DZD"},
    "delivery_days": {
        "ar": "يوصل في حوالي {days} أيام.",
        "arabizi": "Youssel f {days} iyam ta9riban.",
        "fr": "Livré en {days} jours environ.",
        "en": "Delivered in about {days} days.",
    },
    "not_served": {
        "ar": "سمحلي، ما نوصلوش لـ {wilaya} حالياً.",
        "arabizi": "Sm7li, ma nwasslouch l {wilaya} dork.",
        "fr": "Désolé, nous ne livrons pas encore vers {wilaya}.",
        "en": "Sorry, we don't deliver to {wilaya} yet.",
    },
    "which_wilaya": {
        "ar": "لأي ولاية؟",
        "arabizi": "L ana wilaya?",
        "fr": "Vers quelle wilaya ?",
        "en": "To which wilaya?",
    },
    "payment": {
        "ar": "الدفع عند الاستلام: تخلص كي توصلك السلعة وتشوفها.",
        "arabizi": "Tkhalles ki toussel la commande (paiement à la livraison), tchoufha 9bel.",
        "fr": "Le paiement se fait à la livraison : vous payez en recevant votre colis.",
        "en": "Cash on delivery: you pay when the parcel reaches you.",
    },
    "trust": {
        "ar": "السلعة مضمونة وتخلص غير كي توصلك وتشوفها بعينيك.",
        "arabizi": "La marchandise madmouna, w tkhalles ghir ki toussel w tchoufha.",
        "fr": "Nos produits sont garantis et vous ne payez qu'à la réception, après avoir vu le colis.",
        "en": "Our products are guaranteed and you only pay on delivery, once you've seen the parcel.",
    },
    "value": {
        "ar": "{name} نوعية مليحة وتستاهل سومتها.",
        "arabizi": "{name} qualité mli7a w testahel soumtha.",
        "fr": "{name} est de très bonne qualité, elle vaut son prix.",
        "en": "{name} is great quality and worth its price.",
    },
    "offer": {
        "ar": "نقدر ندير لك تخفيض {percent}%: تولي بـ {price} دج.",
        "arabizi": "N9der ndirlek remise {percent}%: twelli b {price} DA.",
        "fr": "Je peux vous faire {percent} % de remise : {price} DA au lieu de {old} DA.",
        "en": "I can give you {percent}% off: {price} DZD instead of {old} DZD.",
    },
    "hesitation": {
        "ar": "ماكاش مشكل! تخلص غير كي توصلك وتشوفها، وإذا ما عجبتكش ما تديهاش. نحجزهالك؟",
        "arabizi": "Makach mochkil! Tkhalles ghir ki toussel w tchoufha. N7ajzhalek?",
        "fr": "Pas de souci ! Vous ne payez qu'à la livraison, après avoir vu le produit. Je vous le réserve ?",
        "en": "No problem! You only pay on delivery, after seeing it. Shall I reserve it for you?",
    },
    "max_discount": {
        "ar": "هذا أقصى تخفيض نقدر نديرو.",
        "arabizi": "Hada a9sa remise n9der ndirha.",
        "fr": "C'est la remise maximale que je peux accorder.",
        "en": "That's the best discount I can give.",
    },
    "no_discount": {
        "ar": "سمحلي، السومة هذي نهائية.",
        "arabizi": "Sm7li, had soum final.",
        "fr": "Désolé, ce prix est déjà le meilleur.",
        "en": "Sorry, this price is already our best.",
    },
    "thanks": {
        "ar": "العفو! إذا تحتاج حاجة أخرى راني هنا.",
        "arabizi": "La3fou! Ila t7taj 7aja okhra rani hna.",
        "fr": "Avec plaisir ! Je reste à votre disposition.",
        "en": "You're welcome! I'm here if you need anything else.",
    },
    "ask_items": {
        "ar": "واش من منتج تحب تطلب؟",
        "arabizi": "Wach men produit t7eb t commandi?",
        "fr": "Quel produit souhaitez-vous commander ?",
        "en": "Which product would you like to order?",
    },
    "ask_variant": {
        "ar": "أي مقاس/لون تحب في {name}؟ {list}",
        "arabizi": "Ana taille/couleur t7eb f {name}? {list}",
        "fr": "Quelle taille/couleur pour {name} ? {list}",
        "en": "Which size/colour of {name}? {list}",
    },
    "ask_customer_name": {"ar": "باسم من نسجل الطلبية؟", "arabizi": "B ism chkoun nsajel la commande?", "fr": "À quel nom dois-je enregistrer la commande ?", "en": "Under what name should I place the order?"},
    "ask_phone": {"ar": "عطيني رقم الهاتف (موبايل) باش يعيطلك الموصل.", "arabizi": "3tini numéro ta3ek (mobile) bach y3ayetlek livreur.", "fr": "Votre numéro de téléphone mobile, pour le livreur ?", "en": "Your mobile number, for the courier?"},
    "ask_wilaya": {"ar": "في أي ولاية راك؟", "arabizi": "F ana wilaya rak?", "fr": "Dans quelle wilaya êtes-vous ?", "en": "Which wilaya are you in?"},
    "ask_commune": {"ar": "وفي أي بلدية في {wilaya}؟", "arabizi": "W f ana commune f {wilaya}?", "fr": "Et quelle commune à {wilaya} ?", "en": "And which commune in {wilaya}?"},
    "ask_address": {"ar": "عطيني العنوان بالتفصيل.", "arabizi": "3tini l'adresse bel tafsil.", "fr": "Votre adresse complète, s'il vous plaît ?", "en": "Your full address, please?"},
    "ask_delivery_type": {
        "ar": "التوصيل للدار ({home}) ولا للمكتب ({desk})؟",
        "arabizi": "Livraison l dar ({home}) wela l bureau ({desk})?",
        "fr": "Livraison à domicile ({home}) ou au bureau stop desk ({desk}) ?",
        "en": "Home delivery ({home}) or stop desk ({desk})?",
    },
    "bad_phone": {"ar": "الرقم هذا ماشي صحيح، عطيني رقم موبايل جزائري (مثلا 0550123456).", "arabizi": "Had numéro machi s7i7, 3tini numéro mobile (ex 0550123456).", "fr": "Ce numéro ne semble pas valide : un mobile algérien, par exemple 0550 12 34 56.", "en": "That number doesn't look right: an Algerian mobile, e.g. 0550 12 34 56."},
    "bad_commune": {"ar": "ما لقيتش هذه البلدية في {wilaya}، عاود اكتبها.", "arabizi": "Ma l9itch had la commune f {wilaya}, 3awed ktebha.", "fr": "Je ne trouve pas cette commune à {wilaya}, pouvez-vous la réécrire ?", "en": "I can't find that commune in {wilaya}; could you write it again?"},
    "out_of_stock_order": {
        "ar": "سمحلي، ما بقاش {name} بالكمية هذي (بقاو {count}).",
        "arabizi": "Sm7li, ma b9ach {name} b had la quantité (b9aw {count}).",
        "fr": "Désolé, il ne reste que {count} de {name}.",
        "en": "Sorry, only {count} of {name} left.",
    },
    "summary": {
        "ar": "ملخص الطلبية:\n{lines}\nالتوصيل ({delivery}) لـ {commune}، {wilaya}: {fee} دج\n{discount}المجموع: {total} دج\nنأكدو الطلبية؟",
        "arabizi": "Résumé:\n{lines}\nLivraison ({delivery}) l {commune}, {wilaya}: {fee} DA\n{discount}Total: {total} DA\nNconfirmiw?",
        "fr": "Récapitulatif :\n{lines}\nLivraison ({delivery}) à {commune}, {wilaya} : {fee} DA\n{discount}Total : {total} DA\nJe confirme la commande ?",
        "en": "Order summary:\n{lines}\nDelivery ({delivery}) to {commune}, {wilaya}: {fee} DZD\n{discount}Total: {total} DZD\nShall I confirm the order?",
    },
    "summary_discount": {"ar": "تخفيض {percent}%: -{amount} دج\n", "arabizi": "Remise {percent}%: -{amount} DA\n", "fr": "Remise {percent} % : -{amount} DA\n", "en": "Discount {percent}%: -{amount} DZD\n"},
    "home_word": {"ar": "للدار", "arabizi": "l dar", "fr": "à domicile", "en": "home"},
    "desk_word": {"ar": "للمكتب", "arabizi": "bureau", "fr": "stop desk", "en": "stop desk"},
    "confirmed": {
        "ar": "تم تأكيد الطلبية {reference}! المجموع {total} دج تخلصو عند الاستلام. يعيطلك الموصل قريب.",
        "arabizi": "Commande {reference} confirmée! Total {total} DA tkhalsou ki toussel. Livreur y3ayetlek 9rib.",
        "fr": "Commande {reference} confirmée ! Total {total} DA, à payer à la livraison. Le livreur vous appellera.",
        "en": "Order {reference} confirmed! Total {total} DZD, paid on delivery. The courier will call you.",
    },
    "change_what": {
        "ar": "واش تحب تبدل فالطلبية؟",
        "arabizi": "Wach t7eb tbeddel f la commande?",
        "fr": "Que souhaitez-vous modifier dans la commande ?",
        "en": "What would you like to change in the order?",
    },
    "reminder": {
        "ar": "مرحبا! طلبيتك ({items}) مازالت ما كملتش. نكملوها؟",
        "arabizi": "Salam! La commande ta3ek ({items}) mazal ma kmeltech. Nkemlouha?",
        "fr": "Bonjour ! Votre commande ({items}) n'est pas encore terminée. On la finalise ?",
        "en": "Hello! Your order ({items}) isn't finished yet. Shall we complete it?",
    },
    "yes": {"ar": "ايه", "arabizi": "Ih", "fr": "Oui", "en": "Yes"},
    "no": {"ar": "لا", "arabizi": "La", "fr": "Non", "en": "No"},
    "order_it": {"ar": "نطلب", "arabizi": "Ncommandi", "fr": "Commander", "en": "Order"},
    "home_choice": {"ar": "للدار", "arabizi": "L dar", "fr": "À domicile", "en": "Home"},
    "desk_choice": {"ar": "للمكتب", "arabizi": "Bureau", "fr": "Stop desk", "en": "Stop desk"},
}  # fmt: skip


def say(key: str, language: str, **values: object) -> str:
    forms = TEXTS[key]
    return forms.get(language, forms["fr"]).format(**values)


def money(value: int) -> str:
    return f"{value:,}".replace(",", " ")
