"""The sandbox's ground-truth catalog: one retailer's accounts overlap the way real systems do, deterministically."""

from collections import Counter

from stdnum import ean

from sandbox.catalog import RetailerCatalog
from sandbox.data import Sizes
from sandbox.state import SandboxConfig, SandboxState

ACCOUNTS = {"square": "MLACME", "shopify": "acme.myshopify.com", "netsuite": "TSTDRV_42"}


def _state(products=500, locations=4):
    state = SandboxState(SandboxConfig(seed="t", sizes=Sizes(products=products, locations=locations, orders=20)))
    state.add_retailer("acme", ACCOUNTS)
    return state


def test_views_share_skus_and_gtins_in_different_spellings():
    state = _state()
    sq, sh, ns = (state.merchant(p, ACCOUNTS[p]) for p in ("square", "shopify", "netsuite"))
    spellings, formats = Counter(), Counter()
    for i in range(sq.sizes.variants):
        a, b, c = sq.variant(i), sh.variant(i), ns.variant(i)
        if a.truth == b.truth == c.truth:
            keys = {"".join(ch for ch in v.sku.upper() if ch.isalnum()) for v in (a, b, c)}
            assert len(keys) == 1
            spellings[len({a.sku, b.sku, c.sku})] += 1
        for v in (a, b, c):
            if v.barcode:
                assert ean.is_valid(v.barcode), v.barcode
                formats[len(v.barcode)] += 1
    assert spellings[1] and spellings[2] and spellings[3]  # case/space/dash variants all occur
    assert set(formats) == {12, 13, 14}


def test_truth_names_conflicts_missing_and_single_system_items():
    state = _state()
    truth = __import__("sandbox.catalog", fromlist=["truth"]).truth(state, "acme")
    per_truth = Counter(t for items in truth["items"].values() for t in items.values())
    assert any(t.endswith(tuple(f"-only-{i}" for i in range(1000))) for t in per_truth)
    assert max(per_truth.values()) == 3
    sq, sh = state.merchant("square", ACCOUNTS["square"]), state.merchant("shopify", ACCOUNTS["shopify"])
    missing = sum(1 for i in range(sq.sizes.variants) if not sq.variant(i).barcode)
    conflicting = sum(
        1 for i in range(sq.sizes.variants)
        if sq.variant(i).truth == sh.variant(i).truth and sq.variant(i).barcode and sh.variant(i).barcode
        and ean.compact(sq.variant(i).barcode).zfill(14) != ean.compact(sh.variant(i).barcode).zfill(14)
    )
    assert missing > 0 and conflicting > 0
    stores = truth["locations"]
    assert [sorted(v.values()) for v in stores.values()] == [["s0", "s1", "s2", "s3"]] * 3
    names = {p: [state.merchant(p, ACCOUNTS[p]).location(0).name] for p in ACCOUNTS}
    assert len({n[0] for n in names.values()}) == 3  # same store, three names


def test_deterministic_by_seed_and_other_accounts_unchanged():
    a, b = RetailerCatalog("acme").view("shopify"), RetailerCatalog("acme").view("shopify")
    assert [a.item(i) for i in range(50)] == [b.item(i) for i in range(50)]
    assert RetailerCatalog("other").product(0) != RetailerCatalog("acme").product(0)
    state = _state()
    plain = state.merchant("shopify", "someone-else.myshopify.com").variant(0)
    assert plain.truth == "" and plain.sku == "SKU-000001"


def test_control_api_registers_a_retailer_and_serves_its_truth(sandbox_server):
    import requests

    url = sandbox_server.url
    assert requests.post(f"{url}/_sandbox/retailers", json={"seed": "x", "accounts": {"nope": "1"}}).status_code == 400
    assert requests.get(f"{url}/_sandbox/retailers/none/truth").status_code == 404
    answer = requests.post(f"{url}/_sandbox/retailers", json={"seed": "acme", "accounts": ACCOUNTS})
    assert answer.status_code == 201
    truth = requests.get(f"{url}/_sandbox/retailers/acme/truth").json()
    assert set(truth["items"]) == set(ACCOUNTS)
    assert "40000000000" in truth["items"]["shopify"] and "1000" in truth["items"]["netsuite"]
