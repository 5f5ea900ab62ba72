"""How long does provisioning one seller take as the platform grows?

Prints, for 10, 100 and 1,000 sellers already present, the median time to provision one more
seller by cloning the template schema (what the product does) and, as the baseline measured in
the same run, by replaying every migration (TENANT_CLONE_TEMPLATE off). Target: under 1 s at
1,000 sellers.

    make bench            # or: python scripts/devenv.py exec -- python bench/provision.py

Runs in its own database (<DATABASE_URL name>_bench), which later runs reuse.
"""

from __future__ import annotations

import argparse
import itertools

from common import django_setup, progress, timed, use_bench_database

COUNTER = itertools.count()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    name = use_bench_database()
    django_setup()
    from django.conf import settings
    from django.core.management import call_command

    from sellers.selectors import sellers_real
    from sellers.services import public_tenant_ensure, seller_provision, template_tenant_ensure

    print(f"Database {name}: preparing the public and template schemas…", flush=True)
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    public_tenant_ensure()
    template_tenant_ensure()
    call_command("migrate_schemas", tenant=True, interactive=False, verbosity=0)

    def provision(prefix: str) -> None:
        seller_provision(name="Bench", slug=f"{prefix}-{next(COUNTER)}-{run_id}", owner=None)

    import secrets

    run_id = secrets.token_hex(2)
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        present = sellers_real().count()
        if present < size:
            print(f"Creating sellers up to {size}:", flush=True)
            for done in range(present, size):
                seller_provision(name="Filler", slug=f"fill-{done}-{run_id}", owner=None)
                if done % 10 == 0 or done == size - 1:
                    progress(done + 1, size, "sellers")
        settings.TENANT_CLONE_TEMPLATE = True
        clone = timed(lambda: provision("clone"), args.repeat)
        settings.TENANT_CLONE_TEMPLATE = False
        migrate = timed(lambda: provision("migrate"), args.repeat)
        settings.TENANT_CLONE_TEMPLATE = True
        rows.append((sellers_real().count(), clone, migrate))
        print(f"  {size:>5} sellers: clone {clone * 1000:7.0f} ms   migrate {migrate * 1000:7.0f} ms", flush=True)

    print()
    print(f"Provisioning one seller (median of {args.repeat})")
    print(f"{'sellers present':>16} {'clone (ms)':>11} {'replay migrations (ms)':>23} {'ratio':>7}")
    for present, clone, migrate in rows:
        print(f"{present:>16} {clone * 1000:>11.0f} {migrate * 1000:>23.0f} {migrate / clone:>6.1f}x")
    worst = max(clone for _, clone, _ in rows)
    print(f"\nTarget under 1000 ms at 1,000 sellers: {'met' if worst < 1 else 'NOT met'} (worst {worst * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
