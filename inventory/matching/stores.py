"""Locations -> stores, by evidence: the normalised address, checked against the timezone, names in support.

- one store at the address: matched (0.97 when the timezones agree, 0.95 when one is unknown); a different
  timezone makes it a suggestion (two stores in one building in two zones is a data error someone must see);
- several stores at the address, or the store already has a location of the same system: a suggestion;
- nothing at the address (or no address): a new store named after the location.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Q

from inventory.models import Store, StoreMapping

from .decisions import Decision, write
from .keys import address_key, name_similarity


def _stores_with_a_location_of(systems: set[tuple[str, str]], store_ids: list[int]) -> set[int]:
    if not store_ids or not systems:
        return set()
    query = Q()
    for provider, account in systems:
        query |= Q(provider=provider, external_account_id=account)
    return set(StoreMapping.objects.filter(query, store_id__in=store_ids).values_list("store_id", flat=True))


def match_stores(retailer_id: int, pending, details: dict[str, dict]) -> list[int]:
    """``pending``: (mapping id, external id, name, provider, account) rows, locked for the retailer;
    ``details``: external id -> {"timezone", "address", "kind"}. Returns the ids mapped."""
    rows = []
    kinds = {pk: details.get(external_id, {}).get("kind") or Store.Kind.STORE for pk, external_id, *_ in pending}
    systems = {(provider, account) for *_, provider, account in pending}
    for pk, external_id, name, *_ in pending:
        info = details.get(external_id, {})
        rows.append((pk, name or external_id, info.get("timezone", "") or "", info.get("address", "") or "",
                     address_key(info.get("address", ""))))
    keys = sorted({r[4] for r in rows if r[4]})
    by_address: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    if keys:
        found = Store.objects.filter(Q(retailer_id=retailer_id, is_active=True, address_key__in=keys))
        for pk, key, name, tz in found.values_list("pk", "address_key", "name", "timezone"):
            by_address[key].append((pk, name, tz))
    same_system = _stores_with_a_location_of(systems, [h[0] for hits in by_address.values() for h in hits])
    decisions, new_stores = [], []
    for pk, name, tz, address, key in rows:
        hits = by_address.get(key, []) if key else []
        if len(hits) == 1:
            store_pk, store_name, store_tz = hits[0]
            score = name_similarity(name, store_name)
            if store_pk in same_system:
                # One system listing two locations at one address means two places to it (a shop and its
                # stockroom): a person decides, the matcher does not fold them together.
                decisions.append(Decision(pk, suggested=store_pk, suggestion_confidence=0.4,
                                          suggestion_reason=f"same address ({key}) as another location of this "
                                                            "system"))
            elif tz and store_tz and tz != store_tz:
                decisions.append(Decision(pk, suggested=store_pk, suggestion_confidence=0.5,
                                          suggestion_reason=f"same address ({key}) but timezone {tz} vs {store_tz}"))
            else:
                agree = "same timezone" if tz and tz == store_tz else "timezone unknown on one side"
                decisions.append(Decision(pk, store_pk, 0.97 if tz and tz == store_tz else 0.95,
                                          f"same address ({key}); {agree}; names {score}% alike"))
        elif len(hits) > 1:
            best = max(hits, key=lambda h: (name_similarity(name, h[1]), -h[0]))
            decisions.append(Decision(pk, suggested=best[0], suggestion_confidence=0.5,
                                      suggestion_reason=f"{len(hits)} stores at {key}; closest name"))
        else:
            decision = Decision(pk, confidence=1.0,
                                reason="new store: no store at this address" if key else "new store: no address")
            decisions.append(decision)
            new_stores.append((decision, Store(retailer_id=retailer_id, name=name[:255], timezone=tz[:64],
                                               address=address, address_key=key,
                                               kind=kinds[pk])))
    # Two locations of one batch at one address each get a store: one system listing both (a shop and its
    # stockroom) means they are different places to it.
    if new_stores:
        created = Store.objects.bulk_create([store for _, store in new_stores])
        for (decision, _), store in zip(new_stores, created, strict=True):
            decision.target = store.pk
    return write(StoreMapping, "store", decisions)
