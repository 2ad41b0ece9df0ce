"""End to end on PostgreSQL with a real Celery worker: Square, Shopify and NetSuite connected for one retailer,
all three drawing from the sandbox's ground-truth catalog, synced at once. Scored against the truth: no automatic
match is wrong, at least 95% of the true pairs are matched automatically and every other one has a suggestion;
after the suggestions are accepted at least 99% of sales lines and stock levels have a product and a store."""

from __future__ import annotations

import pytest

from integrations.models import SyncRun
from integrations.sync import services
from inventory.matching import review
from inventory.models import InventoryLevel, ProductMapping, StoreMapping, Transaction
from sandbox.catalog import truth
from tests.netsuite.e2e import connect as netsuite_connect
from tests.processes import wait_until
from tests.sync.e2e_helpers import finished, sandbox_connection, start_worker, unthrottled_shop

from .ground_truth import score

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
NETSUITE_ACCOUNT = "4815162_SB1"


@pytest.fixture
def acme(sandbox_server):
    sandbox_server.set_webhook_target("http://127.0.0.1:9")  # webhooks are not under test here
    accounts = {"square": sandbox_server.default_account("square"),
                "shopify": sandbox_server.default_account("shopify"), "netsuite": NETSUITE_ACCOUNT}
    sandbox_server.state.add_retailer("acme-truth", accounts)
    unthrottled_shop(sandbox_server)  # matching is under test, not Shopify's cost budget (~13 s of waits)
    return accounts


@pytest.fixture
def worker(sandbox_server, acme):
    worker = start_worker(sandbox_server)
    yield worker
    worker.stop()


def _coverage(model, retailer) -> float:
    rows = model.objects.filter(retailer=retailer)
    total = rows.count()
    return rows.filter(product__isnull=False, store__isnull=False).count() / total if total else 0.0


def test_three_systems_of_one_retailer_become_one_catalog(sandbox_server, acme, worker, retailer):
    connections = [sandbox_connection(sandbox_server, retailer, "square"),
                   sandbox_connection(sandbox_server, retailer, "shopify"),
                   netsuite_connect(sandbox_server, retailer, NETSUITE_ACCOUNT)]
    runs = [run for c in connections for run in services.request_all(c, full=False, trigger="manual")]
    done = wait_until(lambda: finished(runs), timeout=300, interval=0.5, what="all three systems to sync")
    assert all(r.status == SyncRun.Status.SUCCEEDED for r in done), [(r.stream, r.error) for r in done]

    facts = truth(sandbox_server.state, "acme-truth")
    for kind in ("items", "locations"):
        result = score(facts, kind, acme, retailer.pk)
        print(f"\nMATCHING {kind}: true pairs {result.true_pairs}, precision {result.precision}, recall "
              f"{result.recall:.4f}, without a suggestion {len(result.unmatched_without_suggestion)}")  # -s shows it
        assert result.true_pairs > 0
        assert result.precision == 1.0, (kind, result.wrong_pairs)
        assert result.recall >= 0.95, (kind, result.recall)
        assert not result.unmatched_without_suggestion, result.unmatched_without_suggestion[:5]
    assert ProductMapping.objects.filter(retailer=retailer, suggested_product__isnull=False).exists()

    review.accept(review.pending_suggestions(ProductMapping, retailer.pk).select_related("suggested_product"))
    review.accept(review.pending_suggestions(StoreMapping, retailer.pk).select_related("suggested_store"))

    for kind in ("items", "locations"):
        after = score(facts, kind, acme, retailer.pk)
        assert after.precision == 1.0 and after.recall == 1.0, (kind, after.precision, after.recall)
    print(f"MATCHING after accepting: sales lines {_coverage(Transaction, retailer):.4f}, stock levels "
          f"{_coverage(InventoryLevel, retailer):.4f} with a product and a store")
    assert _coverage(Transaction, retailer) >= 0.99
    assert _coverage(InventoryLevel, retailer) >= 0.99
