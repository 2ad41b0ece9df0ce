"""Matching benchmark (issue 14): one retailer's Square, Shopify and NetSuite catalogs, drawn from the sandbox's
ground truth (``sandbox.catalog``), ingested and matched on PostgreSQL; items/s, peak RSS, precision and recall.

Each provider account's items are generated exactly as its sandbox API serves them (SKU spellings, UPC-A /
EAN-13 / GTIN-14, missing and conflicting barcodes, names, items only in one system), turned into the
normalized ``Item`` records the provider mappers produce (same external ids), and fed to
``inventory.ingest.ingest_items`` in pages of 2,000 (a sync page), providers one after the other, so every item
goes through the same matching path a sync or webhook takes. HTTP and the provider clients are left out: they are
measured by bench/ingest.py and bench/sandbox.py; this one measures matching.

Figures per size (each size in a fresh process and an empty database, so peak RSS is its own): items/s over
all three catalogs (ANALYZE every 10 pages, standing in for autovacuum), peak RSS, precision of automatic
matches, recall of true same-product pairs, true pairs left without a suggestion, and the time ratio between
sizes (linear growth = ratio close to the size ratio).

    .venv/bin/python bench/matching.py [--sizes 10000,100000] [--smoke]   # --smoke: print only, write nothing
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from urllib.parse import urlparse

from _setup import peak_rss_mb, setup, write_result

DB_SUFFIX = "_matching"
PAGE = 2000
PROVIDERS = ("square", "shopify", "netsuite")
ACCOUNTS = {"square": "MLBENCHMATCH", "shopify": "bench-match.myshopify.com", "netsuite": "BENCH_MATCH"}
TABLES = ("inventory_productmapping", "inventory_product", "inventory_retailer")
# Stands in for autovacuum's ANALYZE, which this machine's PostgreSQL has turned off: without fresh statistics
# the planner keeps treating the growing tables as empty and the per-page lookups turn into scans.
ANALYZE_EVERY = 10


def _analyze(connection) -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inventory_productmapping, inventory_product")


def own_database() -> None:
    url = urlparse(os.environ.get("DATABASE_URL", ""))
    name = url.path.lstrip("/")
    if name and not name.endswith(DB_SUFFIX):
        os.environ["DATABASE_URL"] = url._replace(path=f"/{name}{DB_SUFFIX}").geturl()


def _items(state, provider: str):
    """The provider's catalog as normalized records, in pages (constant memory)."""
    from inventory.records import Item
    from sandbox.catalog import _external_ids

    m = state.merchant(provider, ACCOUNTS[provider])
    item_id, _ = _external_ids(provider, m)
    page = []
    for i in range(m.sizes.variants):
        v = m.variant(i)
        page.append(Item(external_id=item_id(i), sku=v.sku.strip(), barcode=v.barcode, name=v.title,
                         updated_at=v.updated_at))
        if len(page) == PAGE:
            yield page
            page = []
            # The generator's variant cache (64k per account) is the sandbox's memory, not the portal's.
            m.base_variant.cache_clear()
    if page:
        yield page


def _score(state, retailer_id: int) -> dict:
    """Precision and recall from one pass over the mapping table (no pairwise catalog comparison)."""
    from collections import Counter, defaultdict

    from inventory.models import ProductMapping
    from sandbox.catalog import _external_ids

    truth_of = {}
    for provider in PROVIDERS:
        m = state.merchant(provider, ACCOUNTS[provider])
        item_id, _ = _external_ids(provider, m)
        for i in range(m.sizes.variants):
            truth_of[(provider, item_id(i))] = m.variant(i).truth
    members = defaultdict(list)  # true product -> [(product id, suggested id)]
    by_product = defaultdict(Counter)  # product -> Counter(true ids)
    rows = ProductMapping.objects.filter(retailer_id=retailer_id).values_list(
        "provider", "external_id", "product_id", "suggested_product_id").iterator(chunk_size=10_000)
    for provider, external_id, product_id, suggested in rows:
        true_id = truth_of[(provider, external_id)]
        members[true_id].append((product_id, suggested))
        if product_id is not None:
            by_product[product_id][true_id] += 1
    pairs = together = wrong = matched = unsuggested = 0
    for group in members.values():
        for a in range(len(group)):
            for b in range(a + 1, len(group)):
                (pa, sa), (pb, sb) = group[a], group[b]
                pairs += 1
                if pa is not None and pa == pb:
                    matched += 1
                elif not ((pa is None and sa is not None and sa == pb) or (pb is None and sb is not None and sb == pa)
                          or (pa is None and pb is None and sa is not None and sa == sb)):
                    unsuggested += 1
    for counts in by_product.values():
        n = sum(counts.values())
        together += n * (n - 1) // 2
        wrong += n * (n - 1) // 2 - sum(c * (c - 1) // 2 for c in counts.values())
    return {"true_pairs": pairs, "auto_matched_pairs": matched, "recall": matched / pairs if pairs else 1.0,
            "precision": (together - wrong) / together if together else 1.0, "wrong_pairs": wrong,
            "pairs_without_suggestion": unsuggested,
            "suggestions": ProductMapping.objects.filter(retailer_id=retailer_id, product__isnull=True,
                                                         suggested_product__isnull=False).count()}


def child(items_per_provider: int) -> dict:
    own_database()
    setup()
    from django.db import connection

    from inventory.ingest import ingest_items
    from inventory.models import Retailer
    from inventory.records import Source
    from sandbox.data import Sizes
    from sandbox.state import SandboxConfig, SandboxState

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")
        cursor.execute("ANALYZE")
    state = SandboxState(SandboxConfig(seed="bench", sizes=Sizes(products=items_per_provider // 2, locations=1,
                                                                     orders=1)))
    state.add_retailer("bench-retailer", ACCOUNTS)
    retailer = Retailer.objects.create(name="Bench Retail", slug="bench-matching")
    started = time.perf_counter()
    seconds = {}
    for provider in PROVIDERS:
        spent = 0.0  # ingest + matching only: generating the sandbox's records is not the portal's work
        source = Source(retailer.pk, provider, ACCOUNTS[provider])
        for number, page in enumerate(_items(state, provider)):
            t0 = time.perf_counter()
            ingest_items(source, page)
            spent += time.perf_counter() - t0
            if number % ANALYZE_EVERY == 0:
                _analyze(connection)
        seconds[provider] = round(spent, 2)
    wall = time.perf_counter() - started
    rss_matching = round(peak_rss_mb(), 1)  # before scoring, which holds the whole truth in memory
    elapsed = sum(seconds.values())
    total = items_per_provider * len(PROVIDERS)
    result = {"items_per_provider": items_per_provider, "items": total, "seconds": round(elapsed, 2),
              "wall_seconds_with_generation": round(wall, 2),
              "items_per_second": round(total / elapsed), "seconds_per_provider": seconds,
              "peak_rss_mb": rss_matching, **_score(state, retailer.pk)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="items per provider, comma-separated")
    parser.add_argument("--smoke", action="store_true", help="print the figures, write no result file")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    results = []
    for size in [int(s) for s in args.sizes.split(",")]:
        out = subprocess.run([sys.executable, __file__, "--child", str(size)], check=True, capture_output=True,
                             text=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(result)
        print(f"{size:>7} items x 3 providers: {result['seconds']:>7.1f} s, {result['items_per_second']:>6} items/s, "
              f"peak RSS {result['peak_rss_mb']} MB, precision {result['precision']:.4f}, recall "
              f"{result['recall']:.4f}, {result['pairs_without_suggestion']} true pair(s) without a suggestion")
    summary = {"sizes": results}
    if len(results) > 1:
        first, last = results[0], results[-1]
        summary["time_ratio"] = round(last["seconds"] / first["seconds"], 2)
        summary["size_ratio"] = round(last["items"] / first["items"], 2)
        print(f"time grew {summary['time_ratio']}x for {summary['size_ratio']}x the items")
    if not args.smoke:
        write_result("matching", summary)


if __name__ == "__main__":
    main()
