"""Prompt size per reply as the catalog grows, and the built-in engine's speed.

1. Prompt tokens of the OpenRouter engine's request for one customer question with 10, 100,
   1,000 and 10,000 products in the catalog, against the baseline of a prompt that lists the
   whole catalog (what a naive bot sends), as a ratio. Tokens are estimated the same way for
   both (UTF-8 bytes / 4): no tokenizer download is possible offline, and the ratio is what
   matters.
2. Built-in engine replies per second over a mix of customer questions (price, stock, delivery,
   objection, greeting) with 10,000 products, against the baseline of the bare catalog look-up
   each reply starts with (one product search), as a ratio.

    python scripts/devenv.py exec -- python bench/sales_engine.py
"""

from __future__ import annotations

import argparse
import json
import time

from common import bench_seller, django_setup, progress, use_bench_database

SLUG = "bench-engine"
QUESTIONS = [
    "Combien coûtent les baskets ?",
    "ch7al sabat modele 40?",
    "شحال الصباط؟",
    "Is the basket 120 available?",
    "wach twasslou l wahran?",
    "c'est trop cher",
    "Bonjour",
    "Do you deliver to Setif?",
]


def tokens(value: object) -> int:
    return len(json.dumps(value, ensure_ascii=False).encode()) // 4


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,100,1000,10000")
    parser.add_argument("--replies", type=int, default=400)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    name = use_bench_database()
    django_setup()
    from django_tenants.utils import schema_context

    from sales.engine.base import EngineContext
    from sales.engine.builtin import BuiltinEngine, match_products
    from sales.engine.prompt import build_messages, product_facts
    from sales.models import DeliveryRate, Product, Variant, product_search_text

    print(f"Database {name}", flush=True)
    seller = bench_seller(SLUG, "Bench engine")

    def context(text: str) -> EngineContext:
        return EngineContext(
            conversation_id=0, channel="widget", burst=(text,), history=(), persona_name="Amina",
            shop_name="Bench", language="fr", max_discount_percent=10, intensity="balanced",
        )  # fmt: skip

    with schema_context(seller.schema_name):
        DeliveryRate.objects.update_or_create(wilaya=31, defaults={"is_served": True, "home_fee": 700, "desk_fee": 450})
        print()
        print("1. Prompt tokens for one question (estimated: UTF-8 bytes / 4)")
        print(f"   {'products':>8}  {'this engine':>11}  {'whole catalog':>13}  {'ratio':>7}")
        for size in sizes:
            have = Product.objects.count()
            if have < size:
                new = [
                    Product(
                        code=f"b-{n}",
                        name_fr=f"Basket modèle {n}" if n % 10 == 0 else f"Article {n} coton",
                        name_ar=f"صباط {n}" if n % 10 == 0 else f"سلعة {n}",
                        price=1000 + n,
                    )
                    for n in range(have, size)
                ]
                for product in new:  # bulk_create skips save(), which keeps the search text
                    product.search_text = product_search_text(product)
                Product.objects.bulk_create(new, batch_size=2000)
                Variant.objects.bulk_create(
                    [Variant(product=p, sku=f"B-{p.code}", size="M", stock=5) for p in new], batch_size=2000
                )
            messages, _ = build_messages(context(QUESTIONS[0]))
            ours = tokens(messages)
            catalog = [
                product_facts(p, urgency=False)
                for p in Product.objects.live().prefetch_related("variants").order_by("pk")[:size]
            ]
            naive = tokens([messages[0], {"role": "system", "content": catalog}, messages[2:]])
            print(f"   {size:>8}  {ours:>11,}  {naive:>13,}  {naive / ours:>6.1f}x", flush=True)

        print()
        print(f"2. Built-in engine, {args.replies} replies with {Product.objects.count():,} products")
        engine = BuiltinEngine()
        started = time.perf_counter()
        for n in range(args.replies):
            engine.reply(context(QUESTIONS[n % len(QUESTIONS)]))
            if n % 50 == 0:
                progress(n, args.replies, "replies")
        progress(args.replies, args.replies, "replies")
        elapsed = time.perf_counter() - started
        started = time.perf_counter()
        for n in range(args.replies):
            match_products(QUESTIONS[n % len(QUESTIONS)])
        bare = time.perf_counter() - started
        rate, bare_rate = args.replies / elapsed, args.replies / bare
        print(f"   built-in engine: {rate:,.0f} replies/s ({1000 / rate:.1f} ms each)")
        print(f"   baseline, the catalog search alone: {bare_rate:,.0f} searches/s")
        print(f"   ratio engine / search: {rate / bare_rate:.2f}")


if __name__ == "__main__":
    main()
