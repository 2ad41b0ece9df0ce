"""No N+1: a list page costs the same number of queries whatever its size (and the count is small)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

LISTS = [
    "stores/", "products/", "inventory-levels/", "transactions/", "mappings/", "store-mappings/", "connections/",
    "sync-runs/", "api-calls/", "transactions/?store={store}&occurred_after=2026-01-01T00:00:00Z",
    "transactions/?updated_since=2026-01-01T00:00:00Z", "inventory-levels/?product={product}",
]


def count_queries(client, url):
    client.get(url)  # warm: last_used_at is written at most once a minute, keep it out of the comparison
    with CaptureQueriesContext(connection) as ctx:
        answer = client.get(url)
    assert answer.status_code == 200, answer.content
    return len(ctx.captured_queries), len(answer.json()["results"])


@pytest.mark.parametrize("path", LISTS)
def test_query_count_is_constant_in_page_size(path, acme, rival, acme_staff_client):
    from .conftest import build_tenant

    # A second connection with its own streams, so connection lists have several rows too.
    extra = build_tenant(acme.retailer, prefix="acme2", stores=1, products=1, lines_per_pair=1)
    assert extra.connection.retailer == acme.retailer
    if path == "connections/":
        from integrations.health import refresh_all

        refresh_all()  # health is stored after every run and by the periodic check; lists read the stored copy
    url = "/api/v1/" + path.format(store=acme.stores[0].pk, product=acme.products[0].pk)
    sep = "&" if "?" in url else "?"
    small_q, small_n = count_queries(acme_staff_client, f"{url}{sep}page_size=1")
    big_q, big_n = count_queries(acme_staff_client, f"{url}{sep}page_size=1000")
    assert big_n > small_n == 1
    assert big_q == small_q
    assert small_q <= 6  # token lookup + (filter choice lookups) + the page + connection prefetches


def test_connections_never_refreshed_derive_health_per_page_not_per_row(acme, acme_staff_client):
    from .conftest import build_tenant

    build_tenant(acme.retailer, prefix="acme2", stores=1, products=1, lines_per_pair=1)
    small_q, _ = count_queries(acme_staff_client, "/api/v1/connections/?page_size=1")
    big_q, big_n = count_queries(acme_staff_client, "/api/v1/connections/?page_size=1000")
    assert big_n == 2 and big_q == small_q


@pytest.mark.parametrize("endpoint,param,attr", [("transactions", "store", "stores"),
                                                 ("inventory-levels", "product", "products")])
def test_a_page_filtered_by_id_costs_the_token_and_the_page_only(endpoint, param, attr, acme, acme_client):
    """The store/product id is checked against the retailer only when the page is empty (filters.TenantIdFilter):
    rows filtered by the retailer and the id already prove it is the retailer's."""
    from inventory.models import Store

    own = getattr(acme, attr)[0].pk
    queries, rows = count_queries(acme_client, f"/api/v1/{endpoint}/?{param}={own}")
    assert rows and queries == 2  # the token, the page

    empty = Store.objects.create(retailer=acme.retailer, name="no sales yet", code="EMPTY")
    with CaptureQueriesContext(connection) as ctx:
        answer = acme_client.get(f"/api/v1/transactions/?store={empty.pk}")
    assert answer.status_code == 200 and answer.json()["results"] == []
    assert len(ctx.captured_queries) == 3  # the token, the page, the id's check
