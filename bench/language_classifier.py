"""Language detection: the marker method of sales.engine.language against a character n-gram
classifier trained on bench/language/train.tsv, both measured on the test corpus of
sales/tests/fixtures/language__messages.tsv (first messages, no conversation history).

A measurement, not shipped: scikit-learn is not a dependency of the project. Install it in a
virtual environment of your own to run this:

    pip install scikit-learn && python bench/language_classifier.py
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sales.engine.language import ARABIC_SCRIPT_FORMS, FORMS, LATIN_FORMS, detect_language, language_evidence  # noqa: E402

TRAIN = ROOT / "bench" / "language" / "train.tsv"
TEST = ROOT / "sales" / "tests" / "fixtures" / "language__messages.tsv"


def read(path: Path) -> list[tuple[str, str, str]]:
    """(form, text, part): part is "first" (the markers were written knowing these), "held out"
    (written once the markers were fixed; measured, then generalizable rules were added) or
    "blind" (written after both methods were fixed, measured once)."""
    rows, part = [], "first"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# Held out"):
            part = "held out"
        elif line.startswith("# Blind"):
            part = "blind"
        if line.strip() and not line.startswith("#"):
            form, text = line.split("\t")
            rows.append((form, text, part))
    return rows


def accuracy(pairs: list[tuple[str, str]]) -> str:
    right = sum(1 for expected, got in pairs if expected == got)
    return f"{right}/{len(pairs)} = {100 * right / len(pairs):5.1f} %" if pairs else "-"


def report(name: str, test: list[tuple[str, str, str]], predicted: list[str]) -> None:
    rows = list(zip(test, predicted, strict=True))

    def subset(keep) -> list[tuple[str, str]]:
        return [(form, got) for (form, _, part), got in rows if keep(form, part)]

    arabic = ("ar", "msa")
    print(f"\n{name}")
    print(f"  all messages            {accuracy(subset(lambda f, p: True))}")
    print(f"  Arabic script (ar, msa) {accuracy(subset(lambda f, p: f in arabic))}")
    for part in ("first", "held out", "blind"):
        print(f"    {part:<21} {accuracy(subset(lambda f, p, part=part: f in arabic and p == part))}")
    print(f"  Latin script            {accuracy(subset(lambda f, p: f not in arabic))}")
    print(f"  blind part, all forms   {accuracy(subset(lambda f, p: p == 'blind'))}")
    per_form = {form: accuracy(subset(lambda f, p, form=form: f == form)) for form in FORMS}
    print("  by form: " + ", ".join(f"{form} {value}" for form, value in per_form.items()))
    confusions = Counter((form, got) for (form, _, _), got in rows if form != got)
    if confusions:
        print("  confusions (expected → got): " + ", ".join(f"{a}→{b} ×{n}" for (a, b), n in confusions.most_common()))
    blind_misses = [(form, str(got), text) for (form, text, part), got in rows if part == "blind" and form != got]
    if blind_misses:
        print(f"  blind misses: {blind_misses}")


def main() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    train, test = read(TRAIN), read(TEST)
    overlap = {text for _, text, _ in train} & {text for _, text, _ in test}
    assert not overlap, overlap
    texts, labels = [text for _, text, _ in train], [form for form, _, _ in train]
    print(f"training corpus: {len(train)} messages {dict(Counter(labels))}; test corpus: {len(test)} messages")

    report("markers (sales.engine.language.detect_language)", test, [detect_language(text) for _, text, _ in test])
    models = {
        "char 1-4 n-grams (word-bounded), tf-idf, logistic regression": make_pipeline(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, lowercase=True),
            LogisticRegression(C=20, max_iter=2000),
        ),
        "char 1-5 n-grams, tf-idf, linear SVM": make_pipeline(
            TfidfVectorizer(analyzer="char", ngram_range=(1, 5), sublinear_tf=True, lowercase=True),
            LinearSVC(C=1.0),
        ),
    }
    for name, model in models.items():
        folds = cross_val_score(model, texts, labels, cv=5)
        model.fit(texts, labels)
        report(
            f"{name} (5-fold CV on training: {100 * folds.mean():.1f} %)",
            test,
            list(model.predict([t for _, t, _ in test])),
        )

    # Markers where they decide; the classifier, within the message's script, where they do not
    # (no marker, or as many of each form).
    model = next(iter(models.values()))
    classes = list(model.classes_)

    def hybrid(text: str) -> str:
        evidence = language_evidence(text)
        forms = ARABIC_SCRIPT_FORMS if evidence.arabic_script else LATIN_FORMS
        scores = [evidence.scores[form] for form in forms]
        if max(scores) > 0 and scores.count(max(scores)) == 1:
            return detect_language(text)
        probabilities = dict(zip(classes, model.predict_proba([text])[0], strict=True))
        return max(forms, key=lambda form: probabilities[form])

    report(
        "hybrid: markers, then the logistic regression where they do not decide", test, [hybrid(t) for _, t, _ in test]
    )


if __name__ == "__main__":
    main()
