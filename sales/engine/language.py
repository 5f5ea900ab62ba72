"""Text normalization and language detection for Darija (Arabic script and Arabizi), Modern
Standard Arabic, French and English.

The bot answers in five forms (`FORMS`): "ar" (Darija in Arabic script), "msa" (Modern Standard
Arabic), "arabizi" (Darija in Latin letters with the digits 3, 7, 9), "fr" and "en".

Detection counts evidence: marker words of each form, weighted (2: only that form says it, 1:
mostly that form), found whole or behind a glued conjunction or preposition ("وواش", "فكم",
"بالسومة"). Darija and Standard Arabic are told apart by their markers; Arabizi by its own markers
and its digit-letters; French and English by their grammar words (pronouns, verbs, prepositions)
rather than by the words Arabizi borrows from them ("merci", "livraison", "ok"). The first message
decides on its own (lingua breaks a French/English tie); after that the conversation's form holds
until a message brings `SWITCH_MARGIN` more evidence for another form: a sentence, not a loan word.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

ARABIC_LETTERS = re.compile(r"[\u0600-\u06FF\u0750-\u077F]")
ARABIC_DIACRITICS = re.compile(r"[\u064B-\u065F\u0670\u0640]")
LATIN_WORD = re.compile(r"[a-z0-9']+")
ARABIZI_DIGIT_IN_WORD = re.compile(r"\b[a-z]*[23579][a-z]+\b|\b[a-z]+[23579][a-z]*\b")
ELONGATION = re.compile(r"(.)\1{2,}")  # "بزااااف", "merciii"

FORMS = ("ar", "msa", "arabizi", "fr", "en")
ARABIC_SCRIPT_FORMS = ("ar", "msa")
LATIN_FORMS = ("arabizi", "fr", "en")

# One form for the letters people write interchangeably.
LETTER_FORMS = str.maketrans("أإآٱىةؤئ", "اااايهوي")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize(text: str) -> str:
    """Lower case, no diacritics, one form of alef/ya/ta marbuta, single spaces."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = ARABIC_DIACRITICS.sub("", text)
    text = text.translate(LETTER_FORMS)
    text = strip_accents(text)
    text = re.sub(r"[^\w\s']", " ", text)
    return " ".join(text.split())


ARABIC_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال")


def search_terms(text: str) -> list[str]:
    """Normalized words with the Arabic definite article (and its joined prepositions) removed:
    "الصباط" and "بالصباط" both look for "صباط"."""
    terms = []
    for word in normalize(text).split():
        for prefix in ARABIC_PREFIXES:
            if word.startswith(prefix) and len(word) - len(prefix) >= 3:
                word = word[len(prefix) :]
                break
        terms.append(word)
    return terms


# --- Evidence -------------------------------------------------------------------------------
# Marker words by weight: 2, only that form says it; 1, mostly that form. Written as people
# write them; they are normalized (one alef, ة → ه, ى → ي) when the module loads. A word listed
# with weight 0 is neutral and is not cut into a glued prefix and a marker ("بكم" is not "كم").

DARIJA_MARKERS_TEXT = {
    2: """
    واش وش واشنو شحال شحل بشحال قداش بقداش قداه قديش بقديش شكون وقتاش علاش علاه كيفاش كيفاه
    وين فين منين فاش راني راك راكي راه راهي راهم راكم رانا رانيش كاين كاينة كاينين كاينه
    ماكانش ماكاش مكانش مكاش كاش نحب نحبو حاب حابة حابين بغيت نبغي بزاف ياسر هاذ هاد هادي
    هاذي هذي هادو هاذو هذوك هاذيك هاديك برك بركا ماشي نشري نشريو نديها نديه نديهم نديرو
    درك ضرك دروك دروق دابا مليح مليحة ملاح مزيان بصح ياخي يخي خويا ختي خوتي صباط سباط
    سبادري تاني زعما بالاك بلاك والو ليا عليا بيا معايا نتا نتي نتوما انتوما حنا هوما
    شوية شويا سومة السومة سومتو سومتها بلاصة كيراك كيراكي يعطيك صحيت نخلص نخلصو نجي يجي
    نسقسي نحوس قاع بلي باش كيما هكا هكاك هكذاك لوكان ياك ماعليش نورمال مرسي سمحلي سمحيلي
    سمحولي عطيني ابعثلي بعثلي ديرلي ليفريزون الليفريزون لافريزون كوموند نكوموندي نكمندي
    البيرو لبيرو بيرو الطاي بوانتور تصاور نعيطلك عيطلي نبعثلك نستنى يطول بالكارط الكارط
    تاعي تاعك تاعو تاعها تاعكم تاعهم ديالي ديالك ديالو ديالها ديالكم مافهمتش نطلبو توصلو
    """,
    1: """
    سلعة السلعة دراهم الدراهم الدار دار غالي غالية لاباس صحا نقدر تقدر نطلب ولا كي خلاص حاجة
    الطلبية طلبية زوج بيك ليك ليكم عندك مازال صح دير اوكي واه ايه تخلص قلتلي الكحلة الكحل
    """,
    0: "بكم لكم كل كما بين بعد قبل هذا ما لا في من على مع",
}
MSA_MARKERS_TEXT = {
    2: """
    هل كم ماذا لماذا أين متى أريد أود أرغب أرجو لديكم لديك لدي لدينا ليس ليست التي الذي الذين
    اللذان اللتان نحن ذلك تلك هؤلاء يرجى الرجاء يوجد توجد هناك أستطيع يمكنني يمكنكم يمكنك
    أيضا حسنا لقد لم لن منذ سوف أبحث أجد أغير أنتظر سأنتظر تستطيع تريد تريدون تقبلون توصلون
    الحذاء حذاء الأحذية أحذية هذين هاتين هذان هاتان إذن الاستفسار أستفسر عذرا معطف المعطف
    """,
    1: """
    كيف هذه سعر السعر ثمن الثمن الشحن إلى المنتج المنتجات الطلب طلبي جدا الآن فقط لكن ولكن أو
    أم نعم أرسل أرسلت أطلب أشتري أعرف عن قد يمكن المنزل منزلي بالنسبة متاح متاحة تكلفة مرتفع
    مجاني إلغاء تأكيد يتم مهتم مهتمة قميص
    """,
}
DARIJA_PHRASES_TEXT = {2: ("يعطيك الصحة", "الله يبارك", "ربي يحفظك", "واش راك", "كي راك"), 1: ()}
MSA_PHRASES_TEXT = {
    2: ("ما هو", "ما هي", "ممكن أن", "من الممكن", "شكرا جزيلا", "على الرحب", "أود أن", "أريد أن"),
    1: ("من فضلك", "من فضلكم", "لو سمحت", "لو سمحتم", "عند الاستلام"),
}
DARIJA_STEMS = ("ديال", "تاع", "نتاع", "متاع")  # ديالي، تاعك، نتاعكم …
GLUED_PREFIXES = ("وال", "بال", "فال", "كال", "عال", "لل", "ال", "و", "ف", "ب", "ل", "ك")
DARIJA_NEGATION = re.compile(r"^ما\w{2,}ش$")  # ماكانش، مافهمتش، مانقدرش
DARIJA_PLURAL_VERB = re.compile(r"^[نت]\w{2,}و$")  # نطلبو، توصلو
MSA_PLURAL_VERB = re.compile(r"^[تي]\w{2,}ون$")  # توصلون، يقبلون
NOT_MSA_PLURAL = frozenset({"تليفون", "تيليفون", "تلفون"})
# Written before the letters are unified: the hamza tells Standard Arabic's first person ("أسكن",
# "أفضل"; Darija says "نسكن") and its future ("سأرسل"); these hamza words are not verbs.
HAMZA_VERB = re.compile(r"^أ[\u0621-\u064A]{3,}$")
MSA_FUTURE = re.compile(r"^س[أن][\u0621-\u064A]{2,}$")
HAMZA_NOUNS = frozenset(
    """
    أحمر أزرق أسود أبيض أخضر أصفر أكحل أكبر أصغر أكثر أقل أحسن أصلي أصلية أخرى أخر أسبوع أمس
    أيام أول أولى أنا أنت أنتم أنتي أهلا أمي أبي أخي أختي أخويا أسعار أشياء أحذية أمين أحمد
    أسماء أيمن أنيس أكرم إسلام
    """.split()
)
MSA_PLURAL_PAST = re.compile(r"^\w{2,}وا$")  # أرسلوا، تأكدوا (Darija writes أرسلو)

ARABIZI_STRONG = frozenset(
    """
    salam slm wach wesh wech wache chhal ch7al bch7al bchhal chehal b9adech 9dech 9adach 9adeh
    bghit nebghi nheb n7eb nhab n7ab habit t7eb theb kayen kayn kayna kaynin makanch makach
    mlih mli7 mliha mli7a mzyan mezyan sahit sa7it saha sa7a khoya khouya khti khtiya rak raki
    rakom rakoum rahom rana rani rahi rah labas bezaf bzaf bezzaf bzzaf bzf chwiya chouia chwia
    ana nta nti ntia ntouma ntoma nchri nechri nchrih nchriha nediha nedih ndiha ndir ndiro
    ndirou dirli n3awnek kifach kifech kifah kifeh wqtach wa9tach fin win 3lach 3lah alach
    chkoun chkon yaatik ya3tik barak baraka brk barka wahed wa7ed m3a m3ak maa swalah dyal dial
    ta3 taa3 nta3 ntaa3 ta3i ta3ek ta3kom hna temma ghir nchouf nchof nrodlek nfekker nkhamem
    ba3d mba3d kach kech mazal mazel dork drok dorka daba derwek zouj zoudj ghali ghalia hada
    hadi hadou hadak hadik had bach besh blach 3la 3lia 3lik fih fiha nab3at nab3atlek ab3atli
    ba3atli 3tini a3tini nkhales nkhalas tkhales twasslou twaslou twasel tawsil youssel smahli
    sm7li sma7li smehli mar7ba marhba sbah khlas lazem bessah bsa7 bsah wela wella kifkif
    3andek 3andkom andkom 3andi n3ref ta3ref n9der tn9der kima walou walo b9a b9at b9aw tani
    zaama za3ma yak fhemt fhemtch nesta3mel nkemel ncommandi nkomandi nkoumandi
    jani jatni jabouli jabouhali wsletni wslatni wselni wslet wslat mkasra mkesra mkassra ghalta ghalet ghalto
    sabat sbabet sebbat spadri sbadri nakhod nakhdou nakhodhom nakhodha nakhdha ratili akher ab3athli b3atli
    b3atouli tb3atli tb3atliche sajli sajelli rjal rjel nsa rkhas ghla ghlat khdar k7al k7el byed 7mar
    zreg sfar l9ito l9itha l9itou chra chrit tousalni touslou tousel toussel 9bel nedih nediha ndiha
    bghitou bghitha n9ssli n9asli na9asli dirli diroli kho khti sahbi lyoum ghodwa ghedwa 7aja haja
    """.split()
)
ARABIZI_WEAK = frozenset("w f l ki ila ida ya wah ih iyeh eh inchallah nchallah hamdoullah wallah".split())
FRENCH_STRONG = frozenset(
    """
    je j'ai j'aime j'aimerais j'ai vous tu il elle ils elles nous est sont suis etes sera c'est
    n'est s'il qu'il qu'est ce cette ces cet mon mes votre vos ton tes son ses leur pour avec dans
    sans chez sur sous par pas ne n'ai plus que qui quoi quel quelle quels quelles comment quand
    pourquoi ou et mais aussi tres bien beaucoup encore deja toujours voudrais veux voulez peux
    pouvez peut avez avons ai fais faites fait faire envoyer envoyez m'envoyer recevoir recu
    livrez livrer prends prendre cherche aimerais souhaite plait arrive y
    """.split()
)
FRENCH_WEAK = frozenset(
    """
    merci bonjour bonsoir salut ok oui non prix livraison commande commander taille pointure
    couleur dispo disponible promo remise stock bureau domicile adresse numero telephone total
    confirme confirmer annuler photo photos garantie original qualite modele produit article paire
    paires noir noire blanc blanche rouge bleu vert gris marron le la les un une des du de en c
    bon cher trop combien svp stp d'accord coute ca ma ta sa a
    """.split()
)
ENGLISH_STRONG = frozenset(
    """
    i i'm i'll i've you your you're is are was the do does did can could would will what how when
    where which who why much many want need have has it this that there these those me my we our
    to of and for with in at from any some still more not don't isn't it's that's what's too very
    just also get send take buy arrive deliver lot
    """.split()
)
ENGLISH_WEAK = frozenset(
    """
    ok okay hello hi hey thanks thank yes no price size order delivery available great good nice
    cool sure please pay
    """.split()
)


def _weights(table: dict[int, str]) -> dict[str, int]:
    weights: dict[str, int] = {}
    for weight, words in table.items():
        for word in words.split():
            weights[normalize(word)] = weight
    return weights


def _phrases(table: dict[int, tuple[str, ...]]) -> tuple[tuple[str, int], ...]:
    return tuple((normalize(phrase), weight) for weight, phrases in table.items() for phrase in phrases)


DARIJA_MARKERS = _weights(DARIJA_MARKERS_TEXT)
MSA_MARKERS = {**_weights(MSA_MARKERS_TEXT), **dict.fromkeys(_weights({0: DARIJA_MARKERS_TEXT[0]}), 0)}
for _word in set(DARIJA_MARKERS) & set(MSA_MARKERS):  # a word in both lists is neutral in both
    if DARIJA_MARKERS[_word] and MSA_MARKERS[_word]:
        raise ValueError(f"{_word} is a marker of both Darija and Standard Arabic")
MARKED = {**DARIJA_MARKERS, **MSA_MARKERS}
DARIJA_PHRASES = _phrases(DARIJA_PHRASES_TEXT)
MSA_PHRASES = _phrases(MSA_PHRASES_TEXT)
SWITCH_MARGIN = 3  # the evidence another form needs over the conversation's (2 strong words)
STRONG, WEAK = 2, 1


@dataclass(frozen=True)
class Evidence:
    """How much a message speaks for each form, and how many words of each script it has.

    `scores` counts strong words 2 and weak ones 1 (the Arabic markers carry their own weights);
    `switch` counts only what may move a conversation to that form: for the Latin forms, the
    words the other languages do not borrow ("je", "vous", "wach"), not "merci" or "livraison"."""

    scores: dict[str, int]
    switch: dict[str, int]
    arabic_words: int
    latin_words: int

    @property
    def arabic_script(self) -> bool:
        return self.arabic_words > 0 and self.arabic_words >= self.latin_words


def _marker_weight(word: str, markers: dict[str, int]) -> int | None:
    """The weight of `word`, found whole or behind a glued prefix ("وواش", "بالسومة")."""
    if word in markers:
        return markers[word]
    for prefix in GLUED_PREFIXES:
        rest = word[len(prefix) :]
        if word.startswith(prefix) and len(rest) >= 2 and rest in markers:
            return markers[rest]
    return None


def _darija_weight(word: str) -> int:
    if word in MSA_MARKERS and word not in DARIJA_MARKERS:
        return 0  # a Standard Arabic word is not cut into a prefix and a Darija one
    weight = _marker_weight(word, DARIJA_MARKERS)
    if weight is not None:
        return weight
    if _marker_weight(word, MSA_MARKERS) is not None:
        return 0
    bare = word[1:] if word[:1] in ("و", "ف") and len(word) > 4 else word
    if any(bare.startswith(stem) for stem in DARIJA_STEMS) or DARIJA_NEGATION.match(bare):
        return STRONG
    if DARIJA_PLURAL_VERB.match(bare) or (word.startswith(("فال", "عال")) and len(word) >= 5):
        return WEAK  # "فالدار", "عالصباط": Standard Arabic does not glue في / على
    return 0


def _msa_weight(word: str) -> int:
    if word in DARIJA_MARKERS and word not in MSA_MARKERS:
        return 0  # "كاين" is not ك + أين
    weight = _marker_weight(word, MSA_MARKERS)
    if weight is not None:
        return weight
    if _marker_weight(word, DARIJA_MARKERS) is not None:
        return 0
    bare = word[1:] if word[:1] in ("و", "ف") and len(word) > 4 else word
    if MSA_PLURAL_VERB.match(bare) and bare not in NOT_MSA_PLURAL:
        return WEAK
    return 0


def _phrase_weight(padded: str, phrases: tuple[tuple[str, int], ...]) -> int:
    return sum(weight for phrase, weight in phrases if f" {phrase} " in padded)


def _hamza_weight(raw: str) -> int:
    """Standard Arabic's first person and future, read on the word as written."""
    word = raw[1:] if raw[:1] in ("و", "ف") and len(raw) > 4 else raw
    if MSA_FUTURE.match(word):
        return STRONG
    if HAMZA_VERB.match(word) and word not in HAMZA_NOUNS and _marker_weight(normalize(word), MARKED) is None:
        return WEAK
    return 0


def _arabizi_negations(latin: list[str]) -> int:
    """Darija's negation ma … ch in Latin letters: "ma fhemtch", "makanch", "ma wsalatnich"."""
    found = 0
    for index, word in enumerate(latin):
        if not word.endswith("ch") or len(word) < 4 or word in ARABIZI_STRONG:
            continue
        if (word.startswith("ma") and len(word) >= 6) or (index and latin[index - 1] == "ma"):
            found += 1
    return found


def language_evidence(text: str) -> Evidence:
    """The evidence `text` gives for each of the five forms."""
    normalized = ELONGATION.sub(r"\1", normalize(text))
    words = normalized.split()
    arabic = [word for word in words if ARABIC_LETTERS.search(word)]
    latin = [word for word in words if LATIN_WORD.fullmatch(word) and not word.isdigit()]
    raw = ARABIC_DIACRITICS.sub("", unicodedata.normalize("NFKC", text or ""))
    raw_arabic = re.findall(r"[\u0621-\u064A]+", raw)
    padded = f" {' '.join(arabic)} "
    darija = sum(_darija_weight(word) for word in arabic) + _phrase_weight(padded, DARIJA_PHRASES)
    msa = sum(_msa_weight(word) for word in arabic) + _phrase_weight(padded, MSA_PHRASES)
    msa += sum(_hamza_weight(word) for word in raw_arabic)
    msa += sum(WEAK for word in arabic if MSA_PLURAL_PAST.match(word) and _marker_weight(word, DARIJA_MARKERS) is None)
    digit_words = sum(1 for word in latin if ARABIZI_DIGIT_IN_WORD.fullmatch(word) and len(word) > 2)
    digit_words += _arabizi_negations(latin)

    def count(strong: frozenset[str], weak: frozenset[str]) -> tuple[int, int]:
        strong_hits = sum(1 for word in latin if word in strong)
        weak_hits = sum(1 for word in latin if word in weak and word not in strong)
        return STRONG * strong_hits + WEAK * weak_hits, STRONG * strong_hits

    arabizi, arabizi_switch = count(ARABIZI_STRONG, ARABIZI_WEAK)
    arabizi, arabizi_switch = arabizi + STRONG * digit_words, arabizi_switch + STRONG * digit_words
    french, french_switch = count(FRENCH_STRONG, FRENCH_WEAK)
    english, english_switch = count(ENGLISH_STRONG, ENGLISH_WEAK)
    return Evidence(
        scores={"ar": darija, "msa": msa, "arabizi": arabizi, "fr": french, "en": english},
        switch={"ar": darija, "msa": msa, "arabizi": arabizi_switch, "fr": french_switch, "en": english_switch},
        arabic_words=len(arabic),
        latin_words=len(latin),
    )


def _arabic_form(evidence: Evidence, fallback: str) -> str:
    darija, msa = evidence.scores["ar"], evidence.scores["msa"]
    if fallback in ARABIC_SCRIPT_FORMS:
        other = "msa" if fallback == "ar" else "ar"
        lead = evidence.scores[other] - evidence.scores[fallback]
        return other if lead >= SWITCH_MARGIN else fallback
    if fallback in LATIN_FORMS and evidence.arabic_words < 2 and max(darija, msa) < STRONG:
        return fallback  # "شكرا" from a French customer
    return "msa" if msa > darija else "ar"


def _latin_form(text: str, evidence: Evidence, fallback: str) -> str:
    if fallback in FORMS:
        held = evidence.switch[fallback] if fallback in LATIN_FORMS else 0
        best = max((form for form in LATIN_FORMS if form != fallback), key=lambda form: evidence.switch[form])
        needed = max(SWITCH_MARGIN, held + SWITCH_MARGIN)
        return best if evidence.switch[best] >= needed else fallback
    scores = evidence.scores
    ranked = sorted(LATIN_FORMS, key=lambda form: -scores[form])
    top = scores[ranked[0]]
    if top and scores[ranked[1]] < top:
        return ranked[0]
    tied = [form for form in LATIN_FORMS if scores[form] == top]
    if tied == ["arabizi", "fr"] or tied == ["arabizi", "en"]:
        return "arabizi"  # a loan word beside a Darija one
    return _french_or_english(text)


_detector: Any = None


def _lingua() -> Any:
    global _detector
    if _detector is None:
        from lingua import Language, LanguageDetectorBuilder

        _detector = (
            LanguageDetectorBuilder.from_languages(Language.FRENCH, Language.ENGLISH, Language.ARABIC)
            .with_low_accuracy_mode()
            .build()
        )
    return _detector


def _french_or_english(text: str) -> str:
    from lingua import Language

    values = _lingua().compute_language_confidence_values(text)
    best = values[0] if values else None
    return "en" if best is not None and best.language == Language.ENGLISH else "fr"


def detect_language(text: str, fallback: str = "") -> str:
    """The form `text` is written in, given `fallback`, the conversation's form so far ("" for
    the first message). A message that cannot tell (a name, a size, "ok") or that brings less
    than `SWITCH_MARGIN` evidence for another form keeps `fallback`."""
    fallback = fallback if fallback in FORMS else ""
    evidence = language_evidence(text)
    if evidence.arabic_script:
        return _arabic_form(evidence, fallback)
    if not evidence.latin_words:
        return fallback or "fr"
    return _latin_form(text, evidence, fallback)


def guess_language(text: str) -> str:
    """The form of a message read on its own (no conversation)."""
    return detect_language(text)


# --- Answering ------------------------------------------------------------------------------

# BotSettings.languages → the forms the seller answers in, the first being the one for a
# customer whose form is not known yet. "ar" (Arabic) covers Standard Arabic and Darija in
# Arabic script: a seller who writes Arabic answers a Darija customer in the script they read.
FORMS_OF_SETTING = {"darija": ("ar", "arabizi"), "ar": ("msa", "ar"), "fr": ("fr",), "en": ("en",)}

# When the customer's form is not allowed, the closest that is: the same script first (an MSA
# customer of a Darija-only seller reads "ar"; Latin letters stay Latin when they can).
CLOSEST_FORMS = {
    "ar": ("ar", "msa", "arabizi", "fr", "en"),
    "msa": ("msa", "ar", "fr", "en", "arabizi"),
    "arabizi": ("arabizi", "fr", "en", "ar", "msa"),
    "fr": ("fr", "en", "arabizi", "ar", "msa"),
    "en": ("en", "fr", "arabizi", "ar", "msa"),
}


def allowed_forms(allowed: tuple[str, ...] | list[str]) -> list[str]:
    """The forms the seller's languages (BotSettings.languages) answer in, in their order."""
    forms: list[str] = []
    for setting in allowed:
        forms += [form for form in FORMS_OF_SETTING.get(setting, ()) if form not in forms]
    return forms


def answer_language(detected: str, allowed: tuple[str, ...] | list[str]) -> str:
    """The form to answer in: the customer's, unless the seller does not answer in it; then the
    closest the seller allows. With no known form, the seller's first."""
    forms = allowed_forms(allowed)
    if not forms:
        return detected or "fr"
    if detected in forms:
        return detected
    return next((form for form in CLOSEST_FORMS.get(detected, ()) if form in forms), forms[0])


def readable_forms(form: str) -> tuple[str, ...]:
    """The forms a customer of `form` reads, theirs first: the two Arabic-script forms read each
    other (a learned answer in Darija serves a Standard Arabic question, and the reverse)."""
    if form in ARABIC_SCRIPT_FORMS:
        return (form, "msa" if form == "ar" else "ar")
    return (form,)


def catalog_language(form: str) -> str:
    """The language of the catalog's names ("ar", "fr", "en") to show a customer of `form`."""
    return "ar" if form in ARABIC_SCRIPT_FORMS else form if form in ("fr", "en") else "fr"
