"""Learning: extraction throughput and retrieval time.

1. The built-in extractor over 1,000 stored order conversations (12 messages each, a mix of
   questions, answers and order details in four ways of writing): conversations per second, and
   as the baseline measured in the same run, reading those conversations' messages alone.
2. Retrieval with 10,000 approved entries: the time to find the entry answering a question (the
   built-in engine's look-up, trigram index), against the baseline of one primary-key read.

    python scripts/devenv.py exec -- python bench/learning.py
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from common import bench_seller, django_setup, progress, use_bench_database

SLUG = "bench-learning"
QUESTIONS = [
    ("Combien coûte la livraison à Oran ?", "600 DA à domicile, 400 DA au bureau.", "fr"),
    ("wach kayen taille 42?", "Ih kayen, 42 w 43.", "arabizi"),
    ("شحال يدير التوصيل لوهران؟", "التوصيل 600 دج.", "ar"),
    ("Do you accept returns?", "Yes, within 7 days.", "en"),
    ("Est-ce que c'est original ?", "Oui, garanti.", "fr"),
]
DETAILS = ["Karim Benali", "0550 12 34 56", "Alger", "Bab Ezzouar", "Cité 200 logements", "oui"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=10000)
    parser.add_argument("--lookups", type=int, default=300)
    args = parser.parse_args()

    name = use_bench_database()
    django_setup()
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from channels_app.widget.services import widget_account_ensure
    from conversations.models import ChannelIdentity, Conversation, Customer, Message
    from learning.models import KnowledgeEntry, question_key
    from learning.services import extract_pairs, knowledge_answer_for

    print(f"Database {name}", flush=True)
    seller = bench_seller(SLUG, "Bench learning")
    account = widget_account_ensure(seller)
    rng = random.Random(7)

    with schema_context(seller.schema_name):
        have = Conversation.objects.count()
        for n in range(have, args.conversations):
            customer = Customer.objects.create(name=f"Client {n}")
            identity = ChannelIdentity.objects.create(
                customer=customer, channel="widget", channel_account_id=account.pk, external_id=f"bench-{n}"
            )
            conversation = Conversation.objects.create(
                identity=identity, customer=customer, channel="widget", channel_account_id=account.pk, language="fr"
            )
            rows = []
            for question, answer, _language in rng.sample(QUESTIONS, 3):
                rows += [("in", "customer", question), ("out", "bot", answer)]
            for detail in DETAILS:
                rows += [("in", "customer", detail), ("out", "bot", "Merci, et ensuite ?")]
            Message.objects.bulk_create(
                [
                    Message(
                        conversation=conversation,
                        direction=d,
                        author=a,
                        channel="widget",
                        text=t,
                        status="received" if d == "in" else "sent",
                        external_id=f"b-{n}-{i}" if d == "in" else None,
                    )
                    for i, (d, a, t) in enumerate(rows)
                ]
            )
            if n % 50 == 0:
                progress(n, args.conversations, "conversations stored")
        progress(args.conversations, args.conversations, "conversations stored")
        ids = list(Conversation.objects.order_by("pk").values_list("pk", flat=True)[: args.conversations])

        print(f"\n1. Built-in extractor over {len(ids):,} order conversations")
        started = time.perf_counter()
        pairs = 0
        for number, pk in enumerate(ids):
            pairs += len(extract_pairs(Conversation.objects.select_related("customer").get(pk=pk)))
            if number % 100 == 0:
                progress(number, len(ids), "extracted")
        progress(len(ids), len(ids), "extracted")
        extraction = time.perf_counter() - started
        started = time.perf_counter()
        for pk in ids:
            list(Message.objects.filter(conversation_id=pk).order_by("id"))
        reading = time.perf_counter() - started
        print(f"   extraction: {len(ids) / extraction:,.0f} conversations/s ({pairs:,} pairs)")
        print(f"   baseline, reading the messages alone: {len(ids) / reading:,.0f} conversations/s")
        print(f"   ratio extraction / reading: {reading / extraction:.2f}")

        have = KnowledgeEntry.objects.count()
        if have < args.entries:
            words = "livraison taille couleur prix retour paiement original stock bureau domicile semaine".split()
            new = []
            for n in range(have, args.entries):
                question = f"{rng.choice(words)} {rng.choice(words)} {n} ?"
                new.append(
                    KnowledgeEntry(question=question, answer=f"Réponse {n}", language="fr",
                                   question_key=question_key(question), status="approved", origin="manual")
                )  # fmt: skip
            KnowledgeEntry.objects.bulk_create(new, batch_size=2000)
        from django.db import connection

        with connection.cursor() as cursor:  # what autovacuum does after a bulk load
            cursor.execute("ANALYZE learning_knowledgeentry")
        print(f"\n2. Retrieval among {KnowledgeEntry.objects.count():,} entries")
        samples = KnowledgeEntry.objects.order_by("?").values_list("pk", "question")[: args.lookups]
        found, lookup_ms, pk_ms = 0, [], []
        for pk, question in samples:
            started = time.perf_counter()
            entry = knowledge_answer_for(question, "fr")
            lookup_ms.append((time.perf_counter() - started) * 1000)
            found += entry is not None and entry.pk == pk
            started = time.perf_counter()
            KnowledgeEntry.objects.get(pk=pk)
            pk_ms.append((time.perf_counter() - started) * 1000)
        lookup, base = statistics.median(lookup_ms), statistics.median(pk_ms)
        print(f"   look-up: median {lookup:.1f} ms, p95 {sorted(lookup_ms)[int(len(lookup_ms) * 0.95)]:.1f} ms "
              f"({found}/{len(lookup_ms)} found the asked entry)")  # fmt: skip
        print(f"   baseline, one read by primary key: median {base:.2f} ms; ratio {lookup / base:.1f}x")
        KnowledgeEntry.objects.filter(pk__in=[pk for pk, _ in samples]).update(times_used=0)
        print(f"   (measured at {timezone.now():%Y-%m-%d %H:%M})")


if __name__ == "__main__":
    main()
