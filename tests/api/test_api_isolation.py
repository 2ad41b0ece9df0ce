"""Tenants are walls: a token sees its own retailer's rows and nothing else, through every list, detail, filter
and error. Both retailers have the same SKUs, barcodes and store codes, so a filter that forgot the retailer
would visibly leak."""

import pytest

from .conftest import SECRET_ACCESS_TOKEN, SECRET_REFRESH_TOKEN

pytestmark = pytest.mark.django_db

# endpoint -> attribute of TenantData holding its rows
ENDPOINTS = {
    "stores": "stores",
    "products": "products",
    "inventory-levels": "levels",
    "transactions": "transactions",
    "mappings": "product_mappings",
    "store-mappings": "store_mappings",
    "sync-runs": "runs",
    "connections": "connection",
    "api-calls": "calls",
}


def ids_of(data, attr):
    rows = getattr(data, attr)
    return {r.pk for r in (rows if isinstance(rows, list) else [rows])}


def list_all(client, url):
    """Follow ``next`` links; the changes feed always gives a resume point, so stop when has_more is false."""
    seen, page = [], client.get(url)
    while True:
        assert page.status_code == 200, page.content
        seen.extend(r["id"] for r in page.json()["results"])
        if not page.json()["has_more"]:
            return seen
        page = client.get(page.json()["next"])


@pytest.mark.parametrize("endpoint,attr", ENDPOINTS.items())
def test_lists_show_only_own_rows(endpoint, attr, acme, rival, acme_staff_client):
    seen = list_all(acme_staff_client, f"/api/v1/{endpoint}/?page_size=2")
    assert sorted(seen) == sorted(ids_of(acme, attr))
    assert not set(seen) & ids_of(rival, attr)


@pytest.mark.parametrize("endpoint,attr", ENDPOINTS.items())
def test_other_retailers_row_is_404_exactly_like_a_missing_one(endpoint, attr, acme, rival, acme_staff_client):
    own = next(iter(ids_of(acme, attr)))
    assert acme_staff_client.get(f"/api/v1/{endpoint}/{own}/").status_code == 200
    foreign = acme_staff_client.get(f"/api/v1/{endpoint}/{next(iter(ids_of(rival, attr)))}/")
    missing = acme_staff_client.get(f"/api/v1/{endpoint}/99999999/")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["code"] == missing.json()["code"] == "not_found"


FILTERS_BY_VALUE = [
    # endpoint, query, attribute of the matching rows (filter values that exist at both retailers)
    ("products", "sku=SKU-1", lambda d: {p.pk for p in d.products if p.sku == "SKU-1"}),
    ("products", "barcode=001", lambda d: {p.pk for p in d.products if p.barcode == "001"}),
    ("stores", "code=S0", lambda d: {d.stores[0].pk}),
    ("transactions", "sku=SKU-1", lambda d: {t.pk for t in d.transactions if t.sku == "SKU-1"}),
    ("transactions", "source=square", lambda d: {t.pk for t in d.transactions}),
    ("transactions", "occurred_after=2026-10-01T09:30:00Z&occurred_before=2026-10-01T10:00:00Z",
     lambda d: {t.pk for t in d.transactions if "09:30" <= t.occurred_at.strftime("%H:%M") < "10:00"
                and t.occurred_at.day == 1}),
    ("transactions", "updated_since=2000-01-01T00:00:00Z", lambda d: {t.pk for t in d.transactions}),
    ("inventory-levels", "source=square", lambda d: {lv.pk for lv in d.levels}),
    ("inventory-levels", "as_of_after=2026-10-01T10:00:00Z&as_of_before=2026-10-01T12:00:00Z",
     lambda d: {lv.pk for lv in d.levels if 10 <= lv.as_of.hour < 12}),
    ("mappings", "mapped=false", lambda d: {m.pk for m in d.product_mappings if m.product_id is None}),
    ("store-mappings", "mapped=false", lambda d: {m.pk for m in d.store_mappings if m.store_id is None}),
    ("mappings", "sku=SKU-2", lambda d: {m.pk for m in d.product_mappings if m.sku == "SKU-2"}),
    ("sync-runs", "status=failed", lambda d: {r.pk for r in d.runs if r.status == "failed"}),
    ("sync-runs", "stream=orders", lambda d: {r.pk for r in d.runs if r.stream == "orders"}),
    ("api-calls", "status_code=200", lambda d: {c.pk for c in d.calls}),
]


@pytest.mark.parametrize("endpoint,query,expected", FILTERS_BY_VALUE)
def test_filters_match_only_own_rows(endpoint, query, expected, acme, rival, acme_staff_client):
    want = expected(acme)
    assert want, "the fixture must have matching rows, or the test proves nothing"
    assert set(list_all(acme_staff_client, f"/api/v1/{endpoint}/?{query}&page_size=3")) == want


FILTERS_BY_ID = [
    ("transactions", "store", "stores"),
    ("transactions", "product", "products"),
    ("inventory-levels", "store", "stores"),
    ("inventory-levels", "product", "products"),
    ("sync-runs", "connection", "connection"),
    ("api-calls", "connection", "connection"),
]


@pytest.mark.parametrize("endpoint,param,attr", FILTERS_BY_ID)
def test_filtering_by_own_id_works_and_a_foreign_id_is_rejected_like_a_missing_one(
    endpoint, param, attr, acme, rival, acme_staff_client
):
    own = sorted(ids_of(acme, attr))[0]
    ok = acme_staff_client.get(f"/api/v1/{endpoint}/?{param}={own}")
    assert ok.status_code == 200 and ok.json()["results"]
    foreign = acme_staff_client.get(f"/api/v1/{endpoint}/?{param}={sorted(ids_of(rival, attr))[0]}")
    missing = acme_staff_client.get(f"/api/v1/{endpoint}/?{param}=99999999")
    assert foreign.status_code == missing.status_code == 400
    assert [e["field"] for e in foreign.json()["errors"]] == [param]
    assert foreign.json()["errors"][0]["code"] == missing.json()["errors"][0]["code"]


def test_a_mapping_cannot_be_pointed_at_another_retailers_product(acme, rival, acme_client):
    unmapped = acme.product_mappings[-1]
    answer = acme_client.patch(f"/api/v1/mappings/{unmapped.pk}/", {"product": rival.products[0].pk}, format="json")
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "product"
    unmapped.refresh_from_db()
    assert unmapped.product_id is None


def test_another_retailers_mapping_cannot_be_changed(acme, rival, acme_client):
    theirs = rival.product_mappings[-1]
    answer = acme_client.patch(f"/api/v1/mappings/{theirs.pk}/", {"product": acme.products[0].pk}, format="json")
    assert answer.status_code == 404
    theirs.refresh_from_db()
    assert theirs.product_id is None


def test_connections_never_carry_a_secret(acme, acme_staff_client):
    for url in ("/api/v1/connections/", f"/api/v1/connections/{acme.connection.pk}/"):
        body = acme_staff_client.get(url).content.decode()
        assert SECRET_ACCESS_TOKEN not in body and SECRET_REFRESH_TOKEN not in body
        assert "token" not in body.lower()


def test_a_location_cannot_be_pointed_at_another_retailers_store(acme, rival, acme_client):
    unmapped = acme.store_mappings[-1]
    answer = acme_client.patch(f"/api/v1/store-mappings/{unmapped.pk}/", {"store": rival.stores[0].pk}, format="json")
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "store"
    theirs = rival.store_mappings[-1]
    answer = acme_client.patch(f"/api/v1/store-mappings/{theirs.pk}/", {"store": acme.stores[0].pk}, format="json")
    assert answer.status_code == 404


@pytest.mark.parametrize("endpoint,param,attr", FILTERS_BY_ID)
def test_id_filters_hold_when_tenants_take_turns(endpoint, param, attr, acme, rival):
    """Filter forms are built once per filterset class where they can be (filters.StrictFilterSet.get_form_class):
    a form whose choices came from the first tenant's request must never judge the next tenant's ids."""
    from .conftest import token_client

    clients = {"acme": token_client(acme.retailer, staff=True),
               "rival": token_client(rival.retailer, staff=True)}
    for turn in ("rival", "acme", "rival", "acme"):
        own, other = (rival, acme) if turn == "rival" else (acme, rival)
        mine = clients[turn].get(f"/api/v1/{endpoint}/?{param}={sorted(ids_of(own, attr))[0]}")
        assert mine.status_code == 200 and mine.json()["results"], (turn, mine.content)
        theirs = clients[turn].get(f"/api/v1/{endpoint}/?{param}={sorted(ids_of(other, attr))[0]}")
        assert theirs.status_code == 400, (turn, theirs.content)
