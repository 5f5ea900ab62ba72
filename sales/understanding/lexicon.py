"""What customers write, by intent: Darija in Arabic script and in Latin letters (the common
spellings of the east, the centre and the west), Modern Standard Arabic, French and English,
with SMS spellings.

Entries are matched as whole tokens or whole token sequences (sales.understanding.match), on
the forms sales.understanding.text gives them: "ch7al" also finds "chhal" and "chal", "السعر"
also finds "والسعر" and "سعر". An entry is never found inside another word.
"""

from __future__ import annotations

INTENTS: dict[str, tuple[str, ...]] = {
    "greeting": (
        "مساء النور", "صباح النور", "masa nour",
        "saha ftourkoum", "sa7a ftourkom", "saha ftourkom", "صحة فطوركم", "صح فطوركم", "ramadan karim", "رمضان كريم",
        "aid mabrouk", "عيد مبارك", "saha 3idkom", "sbah el khir", "sba7 el khir", "ahla kho", "ahla khoya",
        "تحية طيبة", "كيف حالكم", "واش راك", "wach rak", "wesh rak", "cc", "slt cv",
        "salam", "slm", "slt", "salut", "assalam", "assalamou alaykoum", "salamou alaykoum", "salam alikoum",
        "salam alaykoum", "salem", "bonjour", "bjr", "bonsoir", "bsr", "coucou", "cc", "hello", "hi", "hey",
        "good morning", "good evening", "ahla", "ahlan", "marhba", "mar7ba", "sbah lkhir", "sba7 lkhir",
        "msa lkhir", "saba7 el khir", "labas", "labes", "cv", "ca va",
        "السلام", "سلام", "السلام عليكم", "مرحبا", "اهلا", "أهلا", "صباح الخير", "مساء الخير", "صباح النور",
        "لاباس", "واش راكم", "كي راكم", "اهلا وسهلا",
    ),
    "catalog": (
        "show me your", "your collection", "electronics", "accessories", "what products",
        "do you sell", "you sell", "what do you sell", "vous vendez", "tbi3ou", "تبيعو", "تبيعون", "الكتالوج",
        "الكاتالوغ", "كتالوج", "catalogue", "ابعثولي الكتالوج",
        "vendez quoi", "vous vendez quoi", "qu est ce que vous avez", "quoi de neuf", "catalogue ta3kom",
        "قائمة المنتجات", "ملابس", "ماذا تقترحون", "تقترحون", "هدية", "cadeau", "gift", "what do you have",
        "what have you got", "wach 3andkom", "chno kayen", "wesh 3andkom", "montre moi", "montrez moi", "fais voir",
        "nchouf catalogue", "les modeles", "ach 3andkom",
        "wach 3andkom", "wach kayen", "wesh kayen", "wach tbi3o", "wach tbi3ou", "chno tbi3o", "wach 3andek",
        "catalogue", "catalog", "vos produits", "les produits", "qu'est ce que vous vendez", "que vendez vous",
        "what do you sell", "your products", "show me", "montrez moi", "les articles", "modeles", "modele",
        "wach 3andkom jdid", "nouveautes", "nouveaute", "new arrivals", "les photos", "des photos", "tsawer",
        "صور", "الصور", "واش عندكم", "واش كاين", "واش تبيعو", "المنتجات", "منتجاتكم", "الموديلات", "موديلات",
        "ماذا تبيعون", "ما هي منتجاتكم", "الكتالوج", "الجديد", "وريني",
    ),
    "price": (
        "bkach", "b chhal", "bch7al", "9adeh", "qadeh", "bechal", "ch7al soum", "combien ca coute", "c combien",
        "ca coute", "prix de", "what s the price", "what is the price", "how much is", "بشحال", "السعر تاع", "قديش",
        "بقداش", "تكلفة", "يكلف", "ثمنه", "ثمنها", "سعره", "سعرها",
        "ch7al", "chhal", "chal", "bch7al", "bchhal", "bechhal", "b9adech", "b9adach", "9adech", "9adach",
        "qadech", "qadach", "kadech", "kadach", "bkadech", "bqadech", "9dech", "kdech", "bcham", "soum",
        "souma", "soumtha", "soumtou", "sou9", "prix", "le prix", "px", "combien", "cmb", "cb", "coute",
        "coutent", "coûte", "tarif", "tarifs", "ca fait combien", "how much", "price", "prices", "cost",
        "costs", "howmuch", "hm",
        "شحال", "بشحال", "قداش", "بقداش", "بقداه", "قداه", "بكم", "كم", "السعر", "سعر", "الثمن", "ثمن", "سومة",
        "السومة", "سومته", "سومتها", "الاسعار", "اسعار", "كم سعر", "كم ثمن", "ما هو السعر", "ما سعر", "بكام",
        "prix svp", "bghit nesma3 soum",
    ),
    "stock": (
        "existe", "il existe", "ca existe", "exist", "does it come", "come in", "يكون", "تكون",
        "encore", "toujours dispo", "mazal kayen", "kmel", "kamel", "kmelt", "rest", "still available", "left",
        "do you still have", "any left", "خلاص", "كمل", "مازال كاين", "نفذ", "نفد", "نفدت", "متاح", "متاحة",
        "المتاحة", "المتوفرة", "هل عندكم",
        "kayen", "kayn", "kayna", "kaina", "kain", "mawjoud", "mawjouda", "disponible", "disponibles", "dispo",
        "en stock", "reste", "il reste", "vous avez", "vous l'avez", "available", "in stock", "do you have",
        "have you got", "mazal", "mazel", "ba9i", "ba9in", "mazal kayen", "3andkom", "andkom", "3andek",
        "كاين", "كاينة", "كاينين", "متوفر", "متوفرة", "متوفرين", "موجود", "موجودة", "مازال", "باقي",
        "هل يتوفر", "هل تتوفر", "هل لديكم", "لديكم", "هل هو متوفر", "هل هي متوفرة", "عندكم", "عندك", "يتوفر",
    ),
    "options": (
        "taille", "tailles", "pointure", "pointures", "size", "sizes", "couleur", "couleurs", "colour",
        "colours", "color", "colors", "coloris", "modele", "9yas", "l9yas", "9yass", "pointura", "lwan", "lon",
        "el lon", "tay", "t", "numero", "nemra", "mesure",
        "مقاس", "مقاسات", "لون", "الوان", "ألوان", "قياس", "القياس", "المقاس", "اللون", "نمرة", "النمرة", "طاي",
        "الحجم", "حجم", "الأحجام", "المقاسات المتوفرة",
    ),
    "delivery": (
        "envoi", "l envoi", "expedition", "livraison vers",
        "when do i get", "get it in", "receive it", "receive", "arrive", "arrives", "يوصلني", "نستلم", "استلم",
        "touslou", "tousal", "tousalni", "touselni", "twaslouni", "yeddi", "yedi", "tedi", "teddi", "wa9tach",
        "wa9tah", "wqtach", "wakteh", "ywasslouha", "tab3tou", "tb3tou", "teb3tou", "tba3tou", "reçois quand",
        "recois quand", "je reçois", "je recois", "livre quand", "quand", "when", "days", "jours", "iyam", "youm",
        "nhar", "ayam", "وقتاش", "غدوة", "توصلني", "توصلوني", "يوصلني", "تبعتولي", "تبعثولي", "ايام", "أيام", "نهار",
        "يوم", "يستغرق", "مدة", "الشحن", "رسوم الشحن", "توصلون", "هل توصلون",
        "livraison", "livrez", "livrer", "livre", "livrai", "liv", "delivery", "deliver", "shipping", "ship",
        "delai", "delais", "combien de jours", "how long", "how many days", "when will it arrive", "arrive quand",
        "tawsil", "twasslou", "twaslou", "twasslo", "twaslo", "twasslu", "twesslou", "tousel", "toussel",
        "ywasslou", "frais de port", "frais", "expedition", "expedier", "envoyer", "tb3atou", "teb3at",
        "ch7al men youm", "9adech men youm", "yaousel", "tawsil l", "livreur", "yalidine", "zr express",
        "maystro", "ecotrack", "noest", "stop desk",
        "توصيل", "التوصيل", "ليفريزون", "لافريزون", "توصلو", "توصلوا", "توصلون", "يوصل", "توصل", "الشحن", "شحن",
        "قداش من يوم", "شحال من يوم", "كم يوم", "متى يصل", "مدة التوصيل", "تكلفة التوصيل", "سعر التوصيل",
        "تبعثو", "تبعتو", "ترسلو", "الموصل", "ياليدين",
    ),
    "payment": (
        "cib", "carte cib", "dahabia", "paypal", "visa", "mesba9", "msab9", "avance", "d avance", "advance",
        "upfront", "pay first", "دفع مسبق", "مسبقا", "مسبق", "أدفع", "ادفع", "الدفع عند الاستلام", "طرق الدفع", "كاش",
        "paiement", "payement", "payer", "paye", "payment", "pay", "cash", "a la livraison", "on delivery",
        "cod", "ccp", "baridimob", "baridi mob", "edahabia", "carte", "virement", "nkhales", "nkhalas",
        "nkhelles", "tkhalsou", "khlas", "lkhlas", "ndfa3", "nkhalso",
        "عند الاستلام", "الدفع", "دفع", "نخلص", "تخلصو", "الخلاص", "خلاص", "بريدي موب", "الدفع عند الاستلام",
        "كيفاش نخلص", "طريقة الدفع",
    ),
    "order": (
        "sajli commande", "ndir commande", "je veux commander", "je commande", "passer commande",
        "passer une commande", "je la veux", "je le veux", "je les veux", "je veux acheter", "i ll buy", "i want it",
        "i want one", "get one", "سآخذ", "ساخذ", "اشتري", "أشتري", "شراء", "اريد طلب", "أريد طلب", "قطعتين", "nedi",
        "ndi", "ndiha", "jibli", "jiboli", "جيبلي", "جيبولي",
        "commander", "commande", "commandé", "je commande", "je prends", "je le prends", "je la prends",
        "je les prends", "je veux le", "je veux la", "je veux les", "je veux", "je voudrais", "je prend",
        "jprends", "reserver", "reserve", "acheter", "j'achete", "order", "i want", "i'll take", "i will take",
        "buy", "buy it", "i want to buy", "i'd like", "purchase",
        "nheb nechri", "n7eb nchri", "n7eb nechri", "nheb nchri", "bghit nechri", "bghit nchri", "nechri",
        "nchri", "ncommandi", "nkomandi", "nkoumandi", "ncomandi", "ndir commande", "ndir commandi",
        "nakhdou", "nakhdo", "nakhod", "nakhedha", "nakhdha", "nedih", "nediha", "ndiha", "ndih", "n3ayet",
        "bghitou", "bghitha", "7abet", "hab", "habit", "habba", "nheb", "n7eb", "n7ab", "nhab", "bghit",
        "rani nheb", "habit nchri", "ab3atli", "b3atli", "ba3thli", "ab3athli", "sajelli", "sajli",
        "نطلب", "نشري", "نكوموندي", "نكمندي", "نكومندي", "حاب نشري", "نحب نشري", "بغيت نشري", "بغيت", "نحب",
        "حاب", "ناخذ", "ناخذه", "ناخدو", "ناخذها", "نديه", "نديها", "نديهم", "ابعثلي", "ابعتلي", "سجلي",
        "اريد", "أريد", "اريد ان اطلب", "أريد أن أطلب", "اود", "أود", "ارغب", "أرغب", "اطلب", "الطلب",
        "اريد شراء", "طلبية", "نطلبها", "نطلبو",
    ),
    "objection": (
        "a lot of money", "that s a lot", "thats a lot", "so expensive", "c est cher", "trop cher pour moi",
        "غال جدا", "ghalia bezzaf", "ghla", "ghlat",
        "rkhas", "ra5as", "ar5as", "moins cher ailleurs", "moins cher sur", "cheaper elsewhere", "found it cheaper",
        "ارخص", "أرخص", "رخيص", "غال", "مرتفع جدا", "لا يناسبني", "ما يناسبنيش", "bezzaf", "bzzaf", "ghali bzzaf",
        "ghalya bezzaf", "cher pour moi", "too pricey",
        "cher", "trop cher", "tres cher", "chere", "expensive", "too expensive", "too much", "pricey",
        "ghali", "ghalia", "ghalya", "ghali bezaf", "ghali bzaf", "bezaf 3lia", "bzaf 3liya", "chwiya ghali",
        "c'est beaucoup", "c cher", "trop", "ghla", "ghlat",
        "غالي", "غالية", "غالي بزاف", "بزاف عليا", "شوية غالي", "مرتفع", "السعر مرتفع", "غالي شوية",
    ),
    "hesitation": (
        "check with my", "my husband", "my wife", "ask my", "mon mari", "ma femme", "rajli", "mrati", "زوجي", "راجلي",
        "مرتي", "نعاود نقولك", "نشوف ونعاود", "ونعاود", "i ll let you know", "je vous tiens au courant",
        "nrodlek", "nrod 3lik", "nrodlk", "nrj3lek", "نردلك", "نرد عليك",
        "je vous redis", "je vous dis", "je reviens", "en parler a mon mari", "en parler", "pas encore decide",
        "pas encore decidee", "pas decide", "je sais pas encore", "nraja3lek", "nwalilek", "nchawer rajli",
        "nchawer mra", "nchawer", "ma 9arertch", "ma qarartch", "سأعود", "أستشير", "استشير", "لم أقرر", "ما قررتش",
        "نرجعلك", "نولي", "نشاور", "نشاور راجلي", "دعني", "let me think", "i ll come back", "will get back",
        "ask my husband", "ask my wife",
        "je vais reflechir", "je reflechis", "reflechir", "plus tard", "pas sur", "pas sure", "je sais pas",
        "later", "think about it", "not sure", "maybe later", "i'll think", "nfekker", "nkhamem", "nchouf",
        "nchoof", "ba3d", "mba3d", "menba3d", "ndir fiha", "hesite", "j'hesite", "nchawer", "nchawar",
        "نخمم", "نشوف", "من بعد", "مبعد", "ماشي متأكد", "مانيش متأكد", "سأفكر", "نفكر", "لاحقا", "نشاور",
    ),
    "discount": (
        "geste commercial", "un geste", "akher prix", "akhir prix", "akher soum", "akher", "dernier", "last price",
        "final price", "best price", "prix final", "يوجد خصم", "هل يوجد خصم", "تخفيض السعر", "بنسبة", "آخر سعر",
        "اخر سعر", "promo code", "code promo", "coupon", "kemmel soum",
        "remise", "reduction", "promo", "promotion", "discount", "cheaper", "moins cher", "solde", "soldes",
        "rabais", "baisser", "baissez", "baisse", "dernier prix", "last price", "best price", "lower",
        "naqes", "n9es", "na9es", "n9ssli", "n9asli", "na9asli", "tn9es", "n9ess", "ne9es", "na9sli", "dirli remise",
        "dir remise", "ratili", "rati", "dirli prix", "dirli soum", "dernier soum", "akhir soum", "s9at",
        "n9sli", "ykhfed", "khfed", "tkhfed",
        "تخفيض", "نقص", "نقصلي", "تنقص", "نقصو", "ريميز", "ديرلي ريميز", "اخر سومة", "آخر سعر", "خصم",
        "تخفيضات", "هل يوجد خصم", "هل هناك تخفيض", "سعر اقل", "خفض", "اخفض",
    ),
    "trust": (
        "genuine", "warranty", "authentic", "garanti", "guaranteed", "fake or", "real or", "أصلية", "اصلية",
        "استبدال", "استبداله", "nbedlou", "nbadlou", "echangeable",
        "return it", "can i return", "refund", "peut on retourner", "retourner", "si ca ne va pas", "doesn t fit",
        "ne va pas", "نرجعها", "نرجعو", "إذا ما عجبنيش", "ماشي كيما التصويرة", "كيما التصويرة", "التصويرة",
        "reel", "reelle", "reelles", "vraies photos", "real photos", "les photos", "photos", "tsawer s7a7", "avis",
        "reviews", "review", "clients", "deja achete", "chra menkom", "chrat menkom", "people bought", "retour",
        "retourner", "rembourse", "echange", "echanger", "return", "exchange", "حقيقية", "حقيقي", "الصور", "التصويرة",
        "كيما التصويرة", "إرجاع", "ارجاع", "استرجاع", "تبديل", "نبدلها", "شرا منكم", "كيف أتأكد", "اتأكد", "ضمان",
        "original", "originale", "authentique", "garantie", "fiable", "arnaque", "confiance", "trust", "legit",
        "scam", "guarantee", "fake", "contrefacon", "copie", "vrai", "qualite", "quality",
        "s7i7", "mdamen", "madmoun", "madmouna", "m9ala9", "nasb", "khedma mli7a",
        "أصلي", "اصلي", "ضمان", "مضمون", "مضمونة", "نصب", "ثقة", "الجودة", "جودة", "تقليد", "كوبي",
    ),
    "thanks": (
        "thx", "thks", "tnx", "merciii", "shukran",
        "بارك الله فيكم", "جزاكم الله خيرا", "جزاك الله خيرا", "يعطيكم الصحة", "ya3tikom sa7a", "yatikom saha",
        "merci bcp", "merci infiniment", "thanks a lot", "thank u", "شكرا لكم", "مشكورين", "يرحم والديك",
        "allah ybarek",
        "merci", "mrc", "mci", "thanks", "thank you", "thx", "ty", "ya3tik sa7a", "ya3tik saha", "yatik saha",
        "saha", "sahit", "sa7it", "choukran", "chokran", "barak allah", "baraka allah fik", "merci beaucoup",
        "شكرا", "شكرا جزيلا", "يعطيك الصحة", "صحيت", "بارك الله فيك", "مشكور", "يعيشك",
    ),
    "yes": (
        "oui", "ouii", "ouais", "wi", "yes", "yep", "yeah", "ok", "okay", "oki", "d'accord", "dacord", "daccord",
        "dac", "je confirme", "confirme", "confirmer", "confirm", "confirmed", "valider", "valide", "c bon",
        "c'est bon", "parfait", "wah", "wa", "ih", "ih n3am", "iyeh", "eyh", "n3am", "na3am", "mwafe9",
        "mwaf9", "confirmi", "nconfirmi", "sure", "go", "tamam", "sah",
        "نعم", "ايه", "إيه", "واه", "موافق", "تمام", "أكد", "اكد", "نأكد", "صح", "اوكي", "نكونفيرمي", "مليح",
    ),
    "no": (
        "non", "nn", "no", "nope", "nah", "la", "la la", "lala", "machi", "pas maintenant", "blach",
        "لا", "ماشي", "بلاش", "لالا",
    ),
    "cancel": (
        "j annule", "finalement j annule", "cancel it", "changed my mind", "i changed my mind", "غيرت رأيي",
        "غيرت رايي", "بدلت رايي", "badalt rayi", "bedelt rayi",
        "n'annuli", "nannuli", "annuli", "annuliha", "annulih", "batalt", "batelt", "batel commande",
        "nbatel commande", "نلغي", "انيلي", "أنيلي", "ألغوا", "الغوا", "نبطل الكوموند", "بطلو الكوموند",
        "cancel order", "i want to cancel", "je veux annuler", "je n en veux plus", "ma tb3athouhach", "ما تبعثوهاش",
        "annuler", "annule", "annulez", "annulation", "cancel", "cancel it", "cancel my order",
        "nbatel", "batel", "batlou", "batlha", "ma bghitch", "ma nhebch", "ma n7ebch", "ma bqitch nheb",
        "الغي", "ألغي", "الغاء", "إلغاء", "بطل", "نبطل", "بطلو", "ما بغيتش", "ما نحبش", "ماعدتش نحب",
    ),
    "home": (
        "domicile", "a domicile", "maison", "a la maison", "home", "home delivery", "chez moi", "door",
        "l dar", "ldar", "lel dar", "dar", "f dar", "l bit", "lbit",
        "الدار", "للدار", "لدار", "البيت", "للبيت", "المنزل", "للمنزل", "الى المنزل",
    ),
    "desk": (
        "bureau", "au bureau", "stop desk", "stopdesk", "desk", "agence", "point relais", "relais", "l bureau",
        "lbureau", "lbiro", "biro", "bureau yalidine", "office",
        "لبيرو", "بيرو", "مكتب", "للمكتب", "المكتب", "الوكالة", "ستوب ديسك",
    ),
    "track": (
        "الكوموند", "كوموند", "كومند", "الكومند", "الكولي", "كولي", "colis", "mon colis", "my parcel", "parcel",
        "خرجت", "khrjat", "khorjat", "شحن طلبي", "حالة طلبي", "حالة الطلب", "expediee", "expedie", "shipped", "sent",
        "envoye", "wslat", "weslat", "win wslat", "وين وصلت", "وين وصل", "طلبيتي", "commande ta3i",
        "la commande ta3i", "mon order", "suivre",
        "ma commande", "ou est ma commande", "où est ma commande", "suivi", "suivi de commande", "tracking",
        "track", "where is my order", "my order", "order status", "status", "statut", "pas encore recu",
        "toujours pas recu", "not received", "haven't received", "didn't receive", "mazal ma wsletch",
        "mazal ma wsalni", "mazal ma jatch", "ma wsaletch", "win rahi la commande", "fin rahi commande",
        "la commande ta3i", "commande ta3i", "la commande dyali", "wa9tach twsal", "wa9tach tousel",
        "wqtach tousel", "wa9tah twsal", "wsalt", "wslat", "wselt",
        "طلبيتي", "الطلبية تاعي", "الطلبية ديالي", "وين راهي الطلبية", "فين راهي", "مازال ما وصلتش",
        "مازال ما وصلت", "ما وصلتنيش", "وقتاش توصل", "أين طلبي", "اين طلبي", "طلبي", "حالة الطلب", "تتبع",
        "لم يصل", "لم تصل", "لم أستلم", "متى تصل طلبيتي",
    ),
    "complaint": (
        "لا يطابق", "ما يطابقش", "لا تطابق", "m9achra", "m9echra", "مقشرة", "مقشر", "not as described",
        "pas conforme", "ماشي كيف", "doesn t match", "does not match",
        "pas la bonne", "la bonne taille", "pas le bon", "ne correspond pas", "correspond pas", "trop de retard",
        "very late", "it s been a week", "it s been", "ca fait", "ماشي هذاك", "ماشي هذاك لي طلبت", "لي طلبت",
        "تأخر التوصيل", "mauvaise couleur", "wrong one", "not the right",
        "غالط", "غلط", "خاطئ", "خاطئا", "تالف", "تالفا", "مكسر", "لا يشبه", "ماشي كيما", "مقاس غالط", "تأخر", "تاخر",
        "ghalet", "ghalta", "machi li tlabt", "machi hadi", "pas ce que j ai commande", "pas ce que j ai demande",
        "not what i ordered", "wrong size", "wrong colour", "wrong color", "mauvaise taille", "abimee", "cassee",
        "dechire", "dechiree", "m9ata3", "مقطوع", "مقطعة", "ما خدمتش", "ma khedmatch", "ne marche pas",
        "doesn t work", "مشكلة في",
        "plainte", "reclamation", "probleme", "pas content", "pas contente", "decu", "decue", "nul",
        "en retard", "retard", "casse", "abime", "defectueux", "mauvais", "pas le bon", "erreur",
        "rembourser", "remboursement", "complaint", "broken", "damaged", "wrong item", "late", "refund",
        "not happy", "disappointed", "terrible",
        "mochkil", "machakil", "ma 3jbetnich", "m9alka", "mkasra", "mkesra", "khasra", "ghalta",
        "tfou", "ta3tal", "t3atlet", "t3atlat", "tcharkat", "3tatouni ghalet", "machi hiya",
        "مشكل", "مشكلة", "شكوى", "تأخرت", "تعطلت", "مكسورة", "مكسور", "خاسرة", "غالطين", "ماشي هي",
        "ما عجبتنيش", "تعطلتو", "رجعولي دراهمي", "استرجاع", "معطوبة", "متأخرة", "تأخير", "سيئة",
    ),
    "optout": (
        "حبسو", "ما تبعثولي", "ma tab3atli", "ma tb3atli", "ma teb3atli", "ma tab3atlich", "ma tb3atlich",
        "walou mlyoum", "ميساج", "ميساجات", "ne m envoyez", "plus rien",
        "don t text me", "dont text me", "text me again", "don t message", "stop texting", "ne m ecrivez",
        "ne m envoyez plus", "m ecrivez plus",
        "ma nhebch messages", "ma n7ebch les messages", "ما نحبش رسائل", "ما نحبش الميساجات", "ما تبعتولي حتى",
        "عدم مراسلتي", "توقفوا عن إرسال", "توقفوا", "لا أريد استقبال", "ألغوا اشتراكي", "الغوا اشتراكي",
        "no more messages", "plus de messages", "arretez les messages", "desabonnez moi", "stop messages",
        "unsubscribe me", "ne plus recevoir",
        "stop", "stp stop", "unsubscribe", "desabonner", "desinscrire", "ne m'ecrivez plus", "arretez",
        "arreter", "arretez de m'ecrire", "plus de messages", "don't message me", "stop messaging",
        "leave me alone", "ma tb3atliche", "ma tba3tlich", "ma teb3atlich", "ma tba3touliche", "ma tb3atouli",
        "hbes", "7bes", "baraka", "ma tktbouliche", "ma tektbouliche",
        "توقف", "حبس", "ما تبعتليش", "ما تبعثوليش", "ما تكتبوليش", "بركاو", "الغاء الاشتراك", "لا ترسلوا",
    ),
    "human": (
        "nhdar m3ah", "nahder m3ah", "nhder m3ah", "numero ta3 patron",
        "the owner", "speak to", "talk to", "passez moi", "le responsable", "responsable", "le patron", "patron",
        "manager", "صاحب", "المسؤول",
        "صاحب المحل", "نومرو تاع", "numero du vendeur", "numero ta3 moul", "numero du magasin", "أحد البائعين",
        "يتصل بي", "اتصلوا بي", "عيطولي", "3aytouli", "appelez moi", "call me", "rappelez moi", "مسؤول المتجر",
        "مسؤول", "chkoun yjawbni", "un vrai", "vrai humain", "n3ayetlkom",
        "nheb nahder m3a wahed", "n7eb nahder m3a wa7ed", "bghit nahder m3a", "nahder m3a wahed", "m3a wahed men",
        "nheb nehder m3a", "n7eb nhder m3a", "habit nahder m3a", "bnadem", "insan", "mol lmahal", "moul l7anout",
        "machi robot", "mechi robot", "pas un robot", "pas un bot", "not a robot", "not a bot", "are you a robot",
        "are you a bot", "t'es un robot", "tu es un robot", "vous etes un robot", "robot", "bot", "chatbot",
        "parler a quelqu'un", "parler a une personne", "un humain", "une vraie personne", "un conseiller",
        "une conseillere", "le vendeur", "la vendeuse", "service client", "talk to a human", "talk to a person",
        "real person", "a human", "human", "customer service", "talk to someone", "agent",
        "نحب نهدر مع واحد", "نهدر مع واحد", "بغيت نهدر مع", "مول المحل", "مولات المحل", "عبد حقيقي", "انسان حقيقي",
        "شخص حقيقي", "روبو", "روبوت", "ماشي روبو", "نتا روبو", "انتي روبو", "اريد التحدث مع", "موظف", "خدمة العملاء",
        "بشري", "مع شخص",
    ),
    "change": (
        "changer", "change", "modifier", "modifie", "plutot", "au lieu de", "instead", "instead of",
        "rather", "bdel", "nbadel", "nbedel", "beddel", "bedel", "badli", "baddel", "bedli", "machi",
        "بدل", "نبدل", "بدلي", "بدلها", "غير", "تغيير", "عدل", "بلاصة", "بدلا من", "عوض",
    ),
    "remove": (
        "enlever", "enleve", "enlevez", "retirer", "retire", "supprimer", "supprime", "sans", "remove",
        "delete", "without", "take off", "na7i", "nahi", "na7iha", "na7ih", "n7i", "n7iha", "blach",
        "نحي", "نحيه", "نحيها", "احذف", "حذف", "بلا", "بدون",
    ),
    "add": (
        "ajouter", "ajoute", "ajoutez", "aussi", "en plus", "avec", "et aussi", "add", "also", "plus",
        "another", "zid", "zidli", "zidni", "m3aha", "m3ah", "tani",
        "زيد", "زيدلي", "زيدني", "معاه", "معاها", "كذلك", "ايضا", "أيضا", "تاني",
    ),
}  # fmt: skip

# Entries that alone do not say it: read only when the bot just asked for it (a delivery type,
# a confirmation) or beside a stronger word.
WEAK: dict[str, frozenset[str]] = {
    "hesitation": frozenset({"nchouf", "nchoof", "نشوف", "ba3d", "mba3d", "je reviens", "en parler", "دعني", "نولي"}),
    "track": frozenset({"status", "statut", "sent", "envoye", "parcel", "colis", "suivre", "خرجت", "khrjat", "khorjat",
                        "shipped", "wslat", "weslat", "وين وصل"}),
    "home": frozenset({"dar", "door", "maison", "home"}),
    "yes": frozenset({"wa", "sah", "go", "mliha", "مليح", "صح"}),
    "no": frozenset({"la", "machi", "ماشي"}),
    "stock": frozenset({"reste", "3andek", "عندك", "mazal", "مازال", "باقي", "ba9i", "encore", "left", "rest", "kmel",
                        "kamel", "خلاص", "كمل"}),
    "order": frozenset({"nheb", "n7eb", "n7ab", "nhab", "bghit", "hab", "habit", "نحب", "حاب", "بغيت", "i want",
                        "je veux", "buy", "الطلب", "habba", "7abet", "شراء", "nedi", "ndi", "قطعتين", "commande",
                        "order", "طلبية"}),
    "options": frozenset({"t", "tay", "numero", "nemra", "modele", "lon"}),
    "delivery": frozenset({"livre", "frais", "envoyer", "ship", "liv", "quand", "when", "days", "jours", "iyam", "youm",
                           "nhar", "ayam", "ايام", "أيام", "نهار", "يوم", "مدة", "wa9tach", "wa9tah", "wqtach", "وقتاش",
                           "غدوة", "wakteh"}),
    "trust": frozenset({"vrai", "qualite", "quality", "جودة", "الجودة", "copie", "photos", "les photos", "clients",
                        "retour", "return", "echange", "exchange", "تبديل", "حقيقي", "avis"}),
    "complaint": frozenset({"late", "mauvais", "erreur", "nul", "غلط", "تأخر", "تاخر", "terrible", "probleme",
                            "mochkil",
                            "مشكل", "مشكلة", "retard"}),
    "optout": frozenset({"baraka", "hbes", "7bes", "حبس", "توقف", "توقفوا"}),
    "objection": frozenset({"trop", "too much", "غال", "bezzaf", "bzzaf"}),
    "change": frozenset({"machi", "change", "غير"}),
    "remove": frozenset({"sans", "without", "بلا", "بدون", "blach"}),
    "add": frozenset({"avec", "plus", "aussi", "also", "tani", "تاني", "m3ah", "m3aha", "معاه", "معاها"}),
    "catalog": frozenset({"modele", "modeles", "الجديد", "show me", "صور", "الصور", "tsawer", "ملابس", "هدية", "cadeau",
                          "gift"}),
    "greeting": frozenset({"labas", "labes", "cv", "ca va", "لاباس"}),
    "price": frozenset({"cb", "hm", "كم", "px", "t", "تكلفة", "يكلف"}),
    "payment": frozenset({"carte", "cash"}),
    "human": frozenset({"agent", "bot", "insan", "human", "موظف", "le vendeur", "la vendeuse", "مسؤول", "call me",
                        "appelez moi", "un vrai"}),
}  # fmt: skip

COLOURS: dict[str, tuple[str, ...]] = {
    # code: spellings in every language; the first French, Arabic, Arabizi and English ones
    # are how the bot names the colour (COLOUR_NAMES).
    "black": ("noir", "noire", "black", "k7al", "kahla", "k7ila", "ka7la", "khal", "كحل", "كحلة", "أكحل", "اكحل",
              "أسود", "اسود", "سوداء", "سودا"),
    "white": ("blanc", "blanche", "white", "byed", "bida", "baida", "abyad", "بيض", "بيضاء", "بيضا", "أبيض", "ابيض"),
    "red": ("rouge", "red", "7mar", "7mer", "hmar", "7amra", "hamra", "حمر", "حمراء", "حمرا", "أحمر", "احمر"),
    "blue": ("bleu", "bleue", "blue", "zreg", "zra9", "zar9a", "zerga", "zer9a", "زرق", "زرقاء", "زرقا", "أزرق",
             "ازرق"),
    "navy": ("bleu marine", "marine", "navy", "navy blue", "k7ili", "kahli", "كحلي", "كحلية", "أزرق داكن"),
    "green": ("vert", "verte", "green", "khdar", "khder", "khadra", "khodr", "خضر", "خضراء", "خضرا", "أخضر", "اخضر",
              "خضرين"),
    "olive": ("vert olive", "olive", "zitouni", "zitoni", "zeytouni", "زيتوني", "زيتي", "kaki", "khaki", "كاكي"),
    "yellow": ("jaune", "yellow", "sfar", "sfer", "safra", "صفر", "صفراء", "صفرا", "أصفر", "اصفر"),
    "pink": ("rose", "pink", "roz", "wardi", "rouz", "وردي", "وردية", "روز"),
    "grey": ("gris", "grise", "grey", "gray", "gri", "rmadi", "رمادي", "رمادية", "غري"),
    "beige": ("beige", "bej", "bij", "بيج", "بيجي"),
    "brown": ("marron", "brown", "9ahwi", "qahwi", "chocolat", "marone", "قهوي", "بني", "بنية", "ماروني", "مارون"),
    "burgundy": ("bordeaux", "burgundy", "bordo", "bordou", "3nabi", "عنابي", "بوردو", "بوردو"),
    "gold": ("dore", "gold", "golden", "dahbi", "ذهبي", "دوري"),
    "silver": ("argent", "argente", "silver", "fedi", "فضي"),
    "purple": ("violet", "mauve", "purple", "banafsaji", "mov", "موف", "بنفسجي"),
    "orange": ("orange", "tchina", "limouni", "برتقالي", "ليموني"),
    "transparent": ("transparent", "transparente", "clear", "cristal", "chafaf", "شفاف", "شفافة", "ترانسبارون"),
}  # fmt: skip

# How the bot names a colour in each form it answers in.
COLOUR_NAMES: dict[str, dict[str, str]] = {
    "black": {"fr": "Noir", "ar": "كحل", "msa": "أسود", "arabizi": "K7al", "en": "Black"},
    "white": {"fr": "Blanc", "ar": "بيض", "msa": "أبيض", "arabizi": "Byed", "en": "White"},
    "red": {"fr": "Rouge", "ar": "حمر", "msa": "أحمر", "arabizi": "7mer", "en": "Red"},
    "blue": {"fr": "Bleu", "ar": "زرق", "msa": "أزرق", "arabizi": "Zreg", "en": "Blue"},
    "navy": {"fr": "Bleu marine", "ar": "كحلي", "msa": "أزرق داكن", "arabizi": "K7ili", "en": "Navy"},
    "green": {"fr": "Vert", "ar": "خضر", "msa": "أخضر", "arabizi": "Khder", "en": "Green"},
    "olive": {"fr": "Vert olive", "ar": "زيتوني", "msa": "زيتوني", "arabizi": "Zitouni", "en": "Olive"},
    "yellow": {"fr": "Jaune", "ar": "صفر", "msa": "أصفر", "arabizi": "Sfer", "en": "Yellow"},
    "pink": {"fr": "Rose", "ar": "وردي", "msa": "وردي", "arabizi": "Rose", "en": "Pink"},
    "grey": {"fr": "Gris", "ar": "رمادي", "msa": "رمادي", "arabizi": "Gri", "en": "Grey"},
    "beige": {"fr": "Beige", "ar": "بيج", "msa": "بيج", "arabizi": "Beige", "en": "Beige"},
    "brown": {"fr": "Marron", "ar": "قهوي", "msa": "بني", "arabizi": "9ahwi", "en": "Brown"},
    "burgundy": {"fr": "Bordeaux", "ar": "عنابي", "msa": "عنابي", "arabizi": "Bordo", "en": "Burgundy"},
    "gold": {"fr": "Doré", "ar": "ذهبي", "msa": "ذهبي", "arabizi": "Dore", "en": "Gold"},
    "silver": {"fr": "Argenté", "ar": "فضي", "msa": "فضي", "arabizi": "Argenté", "en": "Silver"},
    "purple": {"fr": "Violet", "ar": "موف", "msa": "بنفسجي", "arabizi": "Mov", "en": "Purple"},
    "orange": {"fr": "Orange", "ar": "ليموني", "msa": "برتقالي", "arabizi": "Orange", "en": "Orange"},
    "transparent": {"fr": "Transparent", "ar": "شفاف", "msa": "شفاف", "arabizi": "Transparent", "en": "Clear"},
}

# Words that say a size follows or precedes ("taille M", "pointure 42", "مقاس L").
SIZE_WORDS = frozenset(
    """taille tailles pointure size t tay 9yas l9yas 9ias mesure numero nemra pointura
    مقاس المقاس قياس القياس نمرة النمرة طاي""".split()
)

# Words that introduce the customer's own name ("ana Amina", "je m'appelle Amine").
NAME_INTRODUCERS = (
    "ana", "ana ismi", "smiti", "esmi", "ismi", "ism", "je m'appelle", "je m appelle", "jm appelle", "je mapelle",
    "je suis", "moi c'est", "c'est",
    "my name is", "i'm", "i am", "this is", "name", "nom", "le nom", "nom et prenom", "الاسم", "اسمي", "انا",
    "أنا", "سميتي", "باسم", "au nom de", "b ism", "b esm", "bism",
)  # fmt: skip

# Number words, for quantities.
NUMBERS: dict[str, int] = {
    "wahed": 1, "wa7ed": 1, "wahda": 1, "wa7da": 1, "un": 1, "une": 1, "one": 1, "واحد": 1, "واحدة": 1, "وحدة": 1,
    "zouj": 2, "zoudj": 2, "zoj": 2, "jouj": 2, "deux": 2, "two": 2, "زوج": 2, "زوز": 2, "اثنان": 2, "اثنين": 2,
    "جوج": 2,
    "tlata": 3, "tleta": 3, "trois": 3, "three": 3, "ثلاثة": 3, "ثلاثه": 3, "تلاتة": 3, "ثلاث": 3,
    "arba3a": 4, "rab3a": 4, "quatre": 4, "four": 4, "اربعة": 4, "أربعة": 4, "ربعة": 4,
    "khamsa": 5, "cinq": 5, "five": 5, "خمسة": 5, "خمسا": 5, "اربعا": 4, "أربعا": 4, "ثلاثا": 3, "اثنتين": 2,
    "اثنتان": 2, "قطعتين": 2, "زوجين": 2, "hbatin": 2, "7abtin": 2, "جوزين": 2,
}  # fmt: skip

# Kinds of products, as each way of writing names them: a product whose name or synonym holds
# one of these words is also found by the others ("الحذاء الرياضي" finds "Baskets de sport").
PRODUCT_KINDS: dict[str, tuple[str, ...]] = {
    "shoes": ("chaussure", "chaussures", "basket", "baskets", "sneakers", "sneaker", "shoes", "shoe", "sabat", "sbabet",
              "sebbat", "spadri", "sbadri", "espadrille", "tennis", "صباط", "سبابط", "سبادري", "حذاء", "احذية", "أحذية",
              "سبرديلة"),
    "sandals": ("sandale", "sandales", "sandals", "sandal", "claquette", "claquettes", "slides", "chlaka", "cholka",
                "sandala", "صندالة", "صندل", "شلاكة", "شبشب", "نعل"),
    "bag": ("sac", "sacs", "bag", "bags", "handbag", "sacoche", "saccoche", "cartable", "صاك", "ساكوش", "حقيبة", "شنطة",
            "جبيرة"),
    "dress": ("robe", "robes", "dress", "dresses", "blouza", "blousa", "jebba", "djebba", "فستان", "فساتين", "روبة",
              "جبة", "بلوزة", "قندورة", "gandoura", "kandoura"),
    "watch": ("montre", "montres", "watch", "watches", "magana", "mgana", "ساعة", "منقانة", "مقانة"),
    "perfume": ("parfum", "parfums", "perfume", "fragrance", "3tr", "atr", "musc", "misk", "عطر", "عطور", "برفان",
                "مسك"),
    "phone_case": ("coque", "coques", "case", "cover", "etui", "pochette", "kouk", "كوك", "غطاء", "جراب", "كوفر"),
    "hijab": ("hijab", "hidjab", "khimar", "foulard", "voile", "scarf", "headscarf", "حجاب", "خمار", "فولار", "منديل"),
    "tshirt": ("tshirt", "t shirt", "tee shirt", "tricot", "maillot", "تريكو", "تيشرت", "قميص"),
    "tracksuit": ("survetement", "survet", "jogging", "tracksuit", "سورفات", "سورفيتمو", "بدلة رياضية", "بذلة رياضية",
                  "بدلة الرياضة", "بدلة", "بذلة", "ensemble"),
    "necklace": ("collier", "pendentif", "necklace", "chaine", "سلسلة", "قلادة", "عقد", "سنسلة"),
    "oil": ("huile", "oil", "zit", "زيت"),
    "abaya": ("abaya", "abaya", "عباية", "عباءة"),
    "coat": ("manteau", "veste", "jacket", "coat", "kachabia", "burnous", "قشابية", "برنوس", "جاكيت", "معطف"),
}  # fmt: skip

# Everyday words of each way of writing: never read as a typo of another word ("there" is not
# "chere", "mais" is not "mahis").
COMMON_WORDS = frozenset(
    """
    there their where here these those other about after again against because before being below between
    could would should while which whose whom with within without your yours what when then than them they
    this that thing think thanks please maybe really still just only also some something someone anyone
    everyone nothing people money little much many more most very well right good great sorry hello
    quelque quelle quelles quels lequel laquelle comment combien pourquoi parce depuis pendant toujours
    encore aussi alors apres avant avec avoir etre faire votre vous nous notre leurs elles mais donc
    merci bonjour bonsoir salut beaucoup moins plus tres bien aujourd demain hier maintenant quand
    chose choses cette ceux celle celles sont suis etes avez avons peux peut pouvez voudrais veux
    case cases pendant during come home some same sale safe sure save vase base cause close dose pose rose
    lose nose note more mere bore core care cart card cash cast dash mass pass less loss miss kiss boss
    sent send tent rent went want wait week weak well will wall tall call cell sell tell fell fill full
    power tower lower flower water phone phones charger cable table stable model models black white color
    colour colours colors small large medium light night right fight might sight bright price prices place
    places plate state great treat sweet sheet street ready heavy happy money honey order orders cover
    river never every other mother father brother sister daughter woman women child children school house
    mouse horse course source force forces voice choice quite quiet quick thick think thing things bring
    along among around about above alone aller avoir venir faire prendre donner mettre porter acheter
    quelque toujours jamais souvent beaucoup ensemble comment pourquoi combien quand depuis pendant
    maison femme homme enfant enfants taille tailles couleur couleurs modele modeles prix livraison
    commande commandes merci bonjour bonsoir salut adresse numero telephone wilaya commune quartier
    """.split()
)


# Words after which a value is the one not wanted ("42 machi 43", "L ماشي XL", "pas Oran") — a
# "non" or "لا" that opens a correction is not one ("لا لا L ماشي XL").
NEGATIONS = frozenset("machi mechi mchi mahich mahouch pas not instead blast blaset ماشي ماهيش ماهوش بلاصه عوض".split())
# Words that bring a correction: what follows is the one meant ("non plutôt Sétif").
CORRECTIONS = frozenset("plutot rather finalement enfin actually sorry pardon smahli sma7li سمحلي".split())
# Words that say a message holds an address ("cité 200 logements", "حي 100 مسكن", "rue 14").
ADDRESS_WORDS = frozenset(
    """cite rue hay 7ay hai 7ouma houma lot lotissement bloc bt bat batiment immeuble residence villa route avenue
    boulevard bd quartier logements logts cooperative حي شارع عماره طريق تجزيه مسكن السكنات فيلا""".split()
)
