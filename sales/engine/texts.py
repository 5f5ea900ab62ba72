"""What the built-in engine says, in the five forms it answers in: "ar" (Darija in Arabic script,
written the way Algerians write it), "msa" (Modern Standard Arabic), "arabizi", "fr" and "en".
Prices are formatted by the caller.

A product's name (`{name}`) can be masculine, feminine or plural in any language ("Écouteurs",
"سماعات", "Montre"): no sentence makes a pronoun, an adjective or a verb agree with it. The name
stands apart ("{name} : …") or after a preposition, and what follows agrees with a noun of the
sentence itself (la qualité, نوعية، المخزون). The Standard Arabic texts speak to the customer in
words written the same for a man and a woman (يمكنك، لديك، طلبك)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "greet": {
        "ar": "مرحبا بيك! أنا {persona} من {shop}. كيفاش نقدر نعاونك؟",
        "msa": "مرحبًا بك! أنا {persona} من {shop}. كيف يمكنني مساعدتك؟",
        "arabizi": "Salam! Ana {persona} men {shop}. Kifach n9der n3awnek?",
        "fr": "Bonjour ! Je suis {persona} de {shop}. Comment puis-je vous aider ?",
        "en": "Hello! I'm {persona} from {shop}. How can I help you?",
    },
    "welcome_back": {
        "ar": "مرحبا بيك من جديد{name}! يسعدنا نشوفوك.",
        "msa": "أهلًا بعودتك{name}! يسعدنا تواصلك معنا من جديد.",
        "arabizi": "Mar7ba bik men jdid{name}! Ysa3dna nchoufouk.",
        "fr": "Quel plaisir de vous revoir{name} !",
        "en": "Welcome back{name}!",
    },
    "price": {"ar": "{name}: {price} دج", "msa": "{name}: {price} دج", "arabizi": "{name}: {price} DA", "fr": "{name} : {price} DA", "en": "{name}: {price} DZD"},
    "was": {"ar": " بدلا من {old} دج", "msa": " بدلًا من {old} دج", "arabizi": " blasst {old} DA", "fr": " au lieu de {old} DA", "en": " instead of {old} DZD"},
    "variants": {"ar": "المتوفر: {list}", "msa": "المتوفر: {list}", "arabizi": "Kayen: {list}", "fr": "Disponible : {list}", "en": "Available: {list}"},
    "out": {
        "ar": "{name}: ماكانش في المخزون حالياً.",
        "msa": "نفد المخزون حاليًا من {name}.",
        "arabizi": "{name}: makanch f stock dork.",
        "fr": "{name} : rupture de stock pour le moment.",
        "en": "{name}: out of stock at the moment.",
    },
    "few_left": {
        "ar": "في المخزون غير {count} برك.",
        "msa": "الكمية المتبقية في المخزون: {count} فقط.",
        "arabizi": "F stock ghir {count} brk.",
        "fr": "Plus que {count} en stock.",
        "en": "Only {count} left in stock.",
    },
    "promo_until": {
        "ar": "التخفيض صالح حتى {date}.",
        "msa": "ينتهي العرض يوم {date}.",
        "arabizi": "La promo tkemel l {date}.",
        "fr": "La promotion se termine le {date}.",
        "en": "The promotion ends on {date}.",
    },
    "social_proof": {
        "ar": "{count} طلبيات على هاد المنتج هاد السيمانة.",
        "msa": "عدد الطلبات على هذا المنتج هذا الأسبوع: {count}.",
        "arabizi": "{count} commandes 3la had le produit had la semaine.",
        "fr": "{count} commandes cette semaine pour ce produit.",
        "en": "{count} orders for this product this week.",
    },
    "also": {"ar": "تقدر تعجبك تاني: {list}", "msa": "قد يعجبك أيضًا: {list}", "arabizi": "Y3ejbek tani: {list}", "fr": "Vous aimerez aussi : {list}", "en": "You may also like: {list}"},
    "which": {
        "ar": "على أي منتج تحب تعرف؟",
        "msa": "ما المنتج الذي يهمك؟",
        "arabizi": "3la ana produit t7eb ta3ref?",
        "fr": "Quel produit vous intéresse ?",
        "en": "Which product are you interested in?",
    },
    "unknown": {
        "ar": "سمحلي، ما فهمتش مليح. واش تحب تعرف السعر، التوفر ولا تطلب؟",
        "msa": "عذرًا، لم أفهم قصدك جيدًا. هل يهمك السعر أم التوفر أم إتمام طلب؟",
        "arabizi": "Sm7li, ma fhemtch mli7. T7eb ta3ref le prix, ila kayen, wela t commandi?",
        "fr": "Pardon, je n'ai pas bien compris. Voulez-vous un prix, une disponibilité ou commander ?",
        "en": "Sorry, I didn't quite get that. Would you like a price, to check availability or to order?",
    },
    "unsure_handoff": {
        "ar": "راني نعيط لواحد من المحل باش يجاوبك مليح.",
        "msa": "سأحيل محادثتك إلى أحد موظفي المتجر ليجيبك بدقة.",
        "arabizi": "Rani n3ayet l wa7ed men l magasin bach yjawbek mli7.",
        "fr": "Je passe la main à quelqu'un de la boutique pour bien vous répondre.",
        "en": "I'm bringing in someone from the shop to answer you properly.",
    },
    "delivery_fee": {
        "ar": "التوصيل لـ {wilaya}: {fees}.",
        "msa": "التوصيل إلى {wilaya}: {fees}.",
        "arabizi": "Livraison l {wilaya}: {fees}.",
        "fr": "Livraison vers {wilaya} : {fees}.",
        "en": "Delivery to {wilaya}: {fees}.",
    },
    "home_fee": {"ar": "للدار {fee} دج", "msa": "للمنزل {fee} دج", "arabizi": "l dar {fee} DA", "fr": "à domicile {fee} DA", "en": "home {fee} DZD"},
    "desk_fee": {"ar": "للمكتب {fee} دج", "msa": "لمكتب التوصيل {fee} دج", "arabizi": "l bureau {fee} DA", "fr": "au bureau (stop desk) {fee} DA", "en": "stop desk {fee} DZD"},
    "delivery_days": {
        "ar": "يوصل في حوالي {days} أيام.",
        "msa": "مدة التوصيل المعتادة (بالأيام): {days}.",
        "arabizi": "Youssel f {days} iyam ta9riban.",
        "fr": "Livraison en {days} jours environ.",
        "en": "Delivery takes about {days} days.",
    },
    "not_served": {
        "ar": "سمحلي، ما نوصلوش لـ {wilaya} حالياً.",
        "msa": "عذرًا، لا نوصل إلى {wilaya} حاليًا.",
        "arabizi": "Sm7li, ma nwasslouch l {wilaya} dork.",
        "fr": "Désolé, nous ne livrons pas encore vers {wilaya}.",
        "en": "Sorry, we don't deliver to {wilaya} yet.",
    },
    "which_wilaya": {
        "ar": "لأي ولاية؟",
        "msa": "إلى أي ولاية؟",
        "arabizi": "L ana wilaya?",
        "fr": "Vers quelle wilaya ?",
        "en": "To which wilaya?",
    },
    "payment": {
        "ar": "الدفع عند الاستلام: تخلص كي توصلك السلعة وتشوفها.",
        "msa": "الدفع عند الاستلام: يُدفع المبلغ عند وصول الطرد إليك.",
        "arabizi": "Tkhalles ki toussel la commande (paiement à la livraison), tchoufha 9bel.",
        "fr": "Le paiement se fait à la livraison : vous payez en recevant votre colis.",
        "en": "Cash on delivery: you pay when the parcel reaches you.",
    },
    "trust": {
        "ar": "السلعة مضمونة وتخلص غير كي توصلك وتشوفها بعينيك.",
        "msa": "منتجاتنا مضمونة، ولا يتم الدفع إلا عند الاستلام بعد معاينة الطرد.",
        "arabizi": "La marchandise madmouna, w tkhalles ghir ki toussel w tchoufha.",
        "fr": "Nos produits sont garantis et vous ne payez qu'à la réception, après avoir vu le colis.",
        "en": "Our products are guaranteed and you only pay on delivery, once you've seen the parcel.",
    },
    "value": {
        "ar": "{name}: نوعية مليحة بزاف وتستاهل السومة.",
        "msa": "{name}: جودة عالية تستحق الثمن.",
        "arabizi": "{name}: qualité mli7a bezzaf w testahel soum.",
        "fr": "{name} : une très bonne qualité, qui vaut largement le prix.",
        "en": "{name}: great quality, well worth the price.",
    },
    "offer": {
        "ar": "نقدر ندير لك تخفيض {percent}%: تولي بـ {price} دج.",
        "msa": "يمكنني أن أقدم لك تخفيضًا بنسبة {percent}%: يصبح السعر {price} دج بدلًا من {old} دج.",
        "arabizi": "N9der ndirlek remise {percent}%: twelli b {price} DA.",
        "fr": "Je peux vous faire {percent} % de remise : {price} DA au lieu de {old} DA.",
        "en": "I can give you {percent}% off: {price} DZD instead of {old} DZD.",
    },
    "hesitation": {
        "ar": "ماكاش مشكل! تخلص غير كي توصلك السلعة وتشوفها، وإذا ما عجبتكش ما تديهاش. نحجزهالك؟",
        "msa": "لا بأس! لا يتم الدفع إلا عند الاستلام بعد معاينة المنتج. هل أحجزه لك؟",
        "arabizi": "Makach mochkil! Tkhalles ghir ki toussel la commande w tchoufha. N7ajzhalek?",
        "fr": "Pas de souci ! Vous ne payez qu'à la livraison, après avoir vu le produit. Je vous le réserve ?",
        "en": "No problem! You only pay on delivery, after seeing it. Shall I reserve it for you?",
    },
    "max_discount": {
        "ar": "هذا أقصى تخفيض نقدر نديرو.",
        "msa": "هذا أقصى تخفيض يمكنني تقديمه.",
        "arabizi": "Hada a9sa remise n9der ndirha.",
        "fr": "C'est la remise maximale que je peux accorder.",
        "en": "That's the best discount I can give.",
    },
    "no_discount": {
        "ar": "سمحلي، السومة هذي نهائية.",
        "msa": "عذرًا، هذا السعر نهائي.",
        "arabizi": "Sm7li, had soum final.",
        "fr": "Désolé, ce prix est déjà le meilleur.",
        "en": "Sorry, this price is already our best.",
    },
    "thanks": {
        "ar": "العفو! إذا تحتاج حاجة أخرى راني هنا.",
        "msa": "على الرحب والسعة! أنا هنا إن احتجت إلى أي شيء آخر.",
        "arabizi": "La3fou! Ila t7taj 7aja okhra rani hna.",
        "fr": "Avec plaisir ! Je reste à votre disposition.",
        "en": "You're welcome! I'm here if you need anything else.",
    },
    "ask_items": {
        "ar": "واش من منتج تحب تطلب؟",
        "msa": "ما المنتج المطلوب؟",
        "arabizi": "Wach men produit t7eb t commandi?",
        "fr": "Quel produit souhaitez-vous commander ?",
        "en": "Which product would you like to order?",
    },
    "ask_variant": {
        "ar": "أي مقاس/لون تحب في {name}؟ {list}",
        "msa": "ما المقاس أو اللون المطلوب من {name}؟ {list}",
        "arabizi": "Ana taille/couleur t7eb f {name}? {list}",
        "fr": "Quelle taille/couleur pour {name} ? {list}",
        "en": "Which size/colour of {name}? {list}",
    },
    "ask_customer_name": {"ar": "باسم من نسجل الطلبية؟", "msa": "باسم من أسجل الطلب؟", "arabizi": "B ism chkoun nsajel la commande?", "fr": "À quel nom dois-je enregistrer la commande ?", "en": "Under what name should I place the order?"},
    "ask_phone": {"ar": "عطيني رقم الهاتف (موبايل) باش يعيطلك الموصل.", "msa": "يرجى إرسال رقم هاتفك المحمول ليتصل بك عامل التوصيل.", "arabizi": "3tini numéro ta3ek (mobile) bach y3ayetlek livreur.", "fr": "Votre numéro de téléphone mobile, pour le livreur ?", "en": "Your mobile number, for the courier?"},
    "ask_wilaya": {"ar": "في أي ولاية راك؟", "msa": "ما ولايتك؟", "arabizi": "F ana wilaya rak?", "fr": "Dans quelle wilaya êtes-vous ?", "en": "Which wilaya are you in?"},
    "ask_commune": {"ar": "وفي أي بلدية في {wilaya}؟", "msa": "وفي أي بلدية من {wilaya}؟", "arabizi": "W f ana commune f {wilaya}?", "fr": "Et quelle commune à {wilaya} ?", "en": "And which commune in {wilaya}?"},
    "ask_address": {"ar": "عطيني العنوان بالتفصيل.", "msa": "يرجى كتابة العنوان بالتفصيل.", "arabizi": "3tini l'adresse bel tafsil.", "fr": "Votre adresse complète, s'il vous plaît ?", "en": "Your full address, please?"},
    "ask_delivery_type": {
        "ar": "التوصيل للدار ({home}) ولا للمكتب ({desk})؟",
        "msa": "التوصيل إلى المنزل ({home}) أم إلى مكتب التوصيل ({desk})؟",
        "arabizi": "Livraison l dar ({home}) wela l bureau ({desk})?",
        "fr": "Livraison à domicile ({home}) ou au bureau stop desk ({desk}) ?",
        "en": "Home delivery ({home}) or stop desk ({desk})?",
    },
    "bad_phone": {"ar": "الرقم هذا ماشي صحيح، عطيني رقم موبايل جزائري (مثلا 0550123456).", "msa": "هذا الرقم غير صحيح. يرجى إرسال رقم هاتف محمول جزائري (مثلًا 0550123456).", "arabizi": "Had numéro machi s7i7, 3tini numéro mobile (ex 0550123456).", "fr": "Ce numéro ne semble pas valide : un mobile algérien, par exemple 0550 12 34 56.", "en": "That number doesn't look right: an Algerian mobile, e.g. 0550 12 34 56."},
    "bad_commune": {"ar": "ما لقيتش هذه البلدية في {wilaya}، عاود اكتبها.", "msa": "لم أجد هذه البلدية في {wilaya}، يرجى كتابتها مرة أخرى.", "arabizi": "Ma l9itch had la commune f {wilaya}, 3awed ktebha.", "fr": "Je ne trouve pas cette commune à {wilaya}, pouvez-vous la réécrire ?", "en": "I can't find that commune in {wilaya}; could you write it again?"},
    "out_of_stock_order": {
        "ar": "سمحلي، الكمية هذي ما بقاتش من {name} (في المخزون غير {count}).",
        "msa": "عذرًا، الكمية المتبقية في المخزون من {name}: {count} فقط.",
        "arabizi": "Sm7li, had la quantité ma b9atch men {name} (f stock ghir {count}).",
        "fr": "Désolé, il ne reste que {count} en stock pour {name}.",
        "en": "Sorry, only {count} left in stock for {name}.",
    },
    "summary": {
        "ar": "ملخص الطلبية:\n{lines}\nالتوصيل ({delivery}) لـ {commune}، {wilaya}: {fee} دج\n{discount}المجموع: {total} دج\nنأكدو الطلبية؟",
        "msa": "ملخص الطلب:\n{lines}\nالتوصيل {delivery} في {commune}، {wilaya}: {fee} دج\n{discount}المجموع: {total} دج\nهل أؤكد الطلب؟",
        "arabizi": "Résumé:\n{lines}\nLivraison ({delivery}) l {commune}, {wilaya}: {fee} DA\n{discount}Total: {total} DA\nNconfirmiw?",
        "fr": "Récapitulatif :\n{lines}\nLivraison ({delivery}) à {commune}, {wilaya} : {fee} DA\n{discount}Total : {total} DA\nJe confirme la commande ?",
        "en": "Order summary:\n{lines}\nDelivery ({delivery}) to {commune}, {wilaya}: {fee} DZD\n{discount}Total: {total} DZD\nShall I confirm the order?",
    },
    "summary_discount": {"ar": "تخفيض {percent}%: -{amount} دج\n", "msa": "تخفيض {percent}%: -{amount} دج\n", "arabizi": "Remise {percent}%: -{amount} DA\n", "fr": "Remise {percent} % : -{amount} DA\n", "en": "Discount {percent}%: -{amount} DZD\n"},
    "home_word": {"ar": "للدار", "msa": "إلى المنزل", "arabizi": "l dar", "fr": "à domicile", "en": "home"},
    "desk_word": {"ar": "للمكتب", "msa": "إلى المكتب", "arabizi": "bureau", "fr": "stop desk", "en": "stop desk"},
    "confirmed": {
        "ar": "تم تأكيد الطلبية {reference}! المجموع {total} دج تخلصو عند الاستلام. يعيطلك الموصل قريب.",
        "msa": "تم تأكيد الطلب {reference}! المبلغ الإجمالي {total} دج يُدفع عند الاستلام. سيتصل بك عامل التوصيل قريبًا.",
        "arabizi": "Commande {reference} confirmée! Total {total} DA tkhalsou ki toussel. Livreur y3ayetlek 9rib.",
        "fr": "Commande {reference} confirmée ! Total {total} DA, à payer à la livraison. Le livreur vous appellera.",
        "en": "Order {reference} confirmed! Total {total} DZD, paid on delivery. The courier will call you.",
    },
    "change_what": {
        "ar": "واش تحب تبدل فالطلبية؟",
        "msa": "ما التعديل المطلوب في الطلب؟",
        "arabizi": "Wach t7eb tbeddel f la commande?",
        "fr": "Que souhaitez-vous modifier dans la commande ?",
        "en": "What would you like to change in the order?",
    },
    "reminder": {
        "ar": "مرحبا! طلبيتك ({items}) مازالت ما كملتش. نكملوها؟",
        "msa": "مرحبًا! طلبك ({items}) لم يكتمل بعد. هل نكمله؟",
        "arabizi": "Salam! La commande ta3ek ({items}) mazal ma kmeltech. Nkemlouha?",
        "fr": "Bonjour ! Votre commande ({items}) n'est pas encore terminée. On la finalise ?",
        "en": "Hello! Your order ({items}) isn't finished yet. Shall we complete it?",
    },
    # Quick replies: the customer taps them, and the engine reads them like typed text.
    "yes": {"ar": "ايه", "msa": "نعم", "arabizi": "Ih", "fr": "Oui", "en": "Yes"},
    "no": {"ar": "لا", "msa": "لا", "arabizi": "La", "fr": "Non", "en": "No"},
    "order_it": {"ar": "نطلب", "msa": "نطلب الآن", "arabizi": "Ncommandi", "fr": "Commander", "en": "Order"},
    "home_choice": {"ar": "للدار", "msa": "إلى البيت", "arabizi": "L dar", "fr": "À domicile", "en": "Home"},
    "desk_choice": {"ar": "للمكتب", "msa": "إلى المكتب", "arabizi": "Bureau", "fr": "Stop desk", "en": "Stop desk"},
}  # fmt: skip

# The form to use when a text lacks the one asked for: Standard Arabic reads Darija in Arabic
# script before French.
FALLBACK_FORMS = {"msa": ("ar",), "ar": ("msa",)}


def say(key: str, language: str, **values: object) -> str:
    forms = TEXTS[key]
    for form in (language, *FALLBACK_FORMS.get(language, ()), "fr"):
        if form in forms:
            return forms[form].format(**values)
    return next(iter(forms.values())).format(**values)


def money(value: int) -> str:
    return f"{value:,}".replace(",", " ")
