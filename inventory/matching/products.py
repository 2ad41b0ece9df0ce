"""Items -> products, by evidence: GTIN (any format, validated), then normalised SKU, names only in support.

For each still-unmapped, automatic mapping of a batch (one indexed query per key kind for the whole batch, never
a comparison against the catalog):

- one product with the item's GTIN: matched (0.99; 0.9 when their SKUs differ, the GTIN being the stronger id);
- no GTIN hit, one product with the SKU: matched when the GTINs cannot disagree (one side has none) and the names
  agree (0.9); a different valid GTIN, or names that disagree, make it a suggestion instead;
- several products with the GTIN or SKU: a suggestion of the one whose name is closest;
- nothing: a new product (the first system to bring an item is its product master), unless disabled.
Matching fills a matched product's missing GTIN/SKU, so the next system's spelling finds it directly.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from inventory.models import Product, ProductMapping

from .decisions import Decision, write
from .keys import barcode_key, is_gtin, name_similarity, sku_key

NAMES_AGREE = 80  # token-set similarity (0-100) above which names support a SKU match
_CHUNK = 5000


@dataclass(slots=True)
class Candidate:
    pk: int
    sku_key: str
    barcode_key: str
    name: str


def match_products(retailer_id: int, pending, *, create_missing: bool) -> list[int]:
    """``pending``: (mapping id, barcode, sku, name) rows, already locked for the retailer. Returns ids mapped."""
    rows = [(pk, barcode_key(barcode), sku_key(sku), name or "", sku, barcode) for pk, barcode, sku, name in pending]
    by_barcode, by_sku, by_pk = _candidates(retailer_id, rows)
    decisions: list[Decision] = []
    new_groups: dict[str, list[Decision]] = {}
    new_rows: dict[str, tuple] = {}
    fill: dict[int, tuple[str, str, str, str]] = {}
    for pk, bkey, skey, name, sku, barcode in rows:
        decision = _decide(pk, bkey, skey, name, by_barcode, by_sku)
        if decision is None:
            if create_missing and (bkey or skey):
                # Same barcode (or, lacking one, same SKU) within the batch is one new product.
                group = f"b{bkey}" if bkey else f"s{skey}"
                decision = Decision(pk, confidence=1.0, reason="new product: no product has this GTIN or SKU")
                new_groups.setdefault(group, []).append(decision)
                new_rows.setdefault(group, (sku, barcode, name, skey, bkey))
                decisions.append(decision)
            else:
                decisions.append(Decision(pk, reason="no product has this GTIN or SKU; nothing created"))
            continue
        if decision.target is not None:
            target = decision.target
            candidate = by_pk[target]
            if ((bkey and not candidate.barcode_key) or (skey and not candidate.sku_key)):
                fill[target] = (sku if not candidate.sku_key else "", barcode if not candidate.barcode_key else "",
                                skey if not candidate.sku_key else "", bkey if not candidate.barcode_key else "")
        decisions.append(decision)
    if new_groups:
        created = _create_products(retailer_id, new_rows)
        for group, decisions_of_group in new_groups.items():
            for decision in decisions_of_group:
                decision.target = created[group]
    _fill_missing_keys(fill)
    return write(ProductMapping, "product", decisions)


def _decide(pk, bkey, skey, name, by_barcode, by_sku) -> Decision | None:
    barcode_hits = by_barcode.get(bkey, []) if bkey else []
    if len(barcode_hits) == 1:
        p = barcode_hits[0]
        what = "GTIN" if is_gtin(bkey) else "in-house barcode (not a valid GTIN)"
        if skey and p.sku_key and p.sku_key != skey:
            return Decision(pk, p.pk, 0.9 if is_gtin(bkey) else 0.8,
                            f"same {what} {_show(bkey)}; SKU differs ({skey} vs {p.sku_key})")
        return Decision(pk, p.pk, 0.99 if is_gtin(bkey) else 0.85,
                        f"same {what} {_show(bkey)}" + (" and SKU" if skey and skey == p.sku_key else ""))
    if len(barcode_hits) > 1:
        best, score = _closest(barcode_hits, name, skey)
        return Decision(pk, suggested=best.pk, suggestion_confidence=0.5,
                        suggestion_reason=f"{len(barcode_hits)} products share barcode {_show(bkey)}; closest name "
                                          f"({score}%)")
    sku_hits = by_sku.get(skey, []) if skey else []
    if not sku_hits:
        return None
    if len(sku_hits) > 1:
        best, score = _closest(sku_hits, name, skey)
        return Decision(pk, suggested=best.pk, suggestion_confidence=0.4,
                        suggestion_reason=f"{len(sku_hits)} products share SKU {skey}; closest name ({score}%)")
    p = sku_hits[0]
    score = name_similarity(name, p.name)
    if bkey and p.barcode_key and bkey != p.barcode_key:
        return Decision(pk, suggested=p.pk, suggestion_confidence=0.5,
                        suggestion_reason=f"same SKU {skey} but different barcodes ({_show(bkey)} vs "
                                          f"{_show(p.barcode_key)}); names {score}% alike")
    if score >= NAMES_AGREE:
        return Decision(pk, p.pk, 0.9, f"same SKU {skey}; no barcode to compare; names {score}% alike")
    if not name or not p.name:
        return Decision(pk, p.pk, 0.8, f"same SKU {skey}; no barcode or name to compare")
    return Decision(pk, suggested=p.pk, suggestion_confidence=0.6,
                    suggestion_reason=f"same SKU {skey}, no barcode to compare, but names only {score}% alike")


def _show(key: str) -> str:
    return key[2:] if key.startswith("X:") else key


def _closest(candidates: list[Candidate], name: str, skey: str) -> tuple[Candidate, int]:
    scored = [((c.sku_key == skey and bool(skey)), name_similarity(name, c.name), -c.pk, c) for c in candidates]
    best = max(scored, key=lambda s: s[:3])
    return best[3], best[1]


def _candidates(retailer_id: int, rows):
    """Two indexed lookups for the whole batch: products with any of its barcode keys, any of its SKU keys."""
    by_barcode: dict[str, list[Candidate]] = defaultdict(list)
    by_sku: dict[str, list[Candidate]] = defaultdict(list)
    seen: dict[int, Candidate] = {}
    for values, field in (({r[1] for r in rows if r[1]}, "barcode_key"), ({r[2] for r in rows if r[2]}, "sku_key")):
        values = sorted(values)
        for start in range(0, len(values), _CHUNK):
            for pk, skey, bkey, name in _lookup(retailer_id, field, values[start : start + _CHUNK]):
                if pk in seen:
                    continue
                c = seen[pk] = Candidate(pk, skey, bkey, name)
                if bkey:
                    by_barcode[bkey].append(c)
                if skey:
                    by_sku[skey].append(c)
    return by_barcode, by_sku, seen


def _create_products(retailer_id: int, new_rows: dict[str, tuple]) -> dict[str, int]:
    """One product per group (``"b"+barcode key`` or ``"s"+SKU key``: unique within the batch); returns their ids
    by group. The group is read back from the inserted keys, so nothing relies on RETURNING's row order."""
    groups = list(new_rows)
    values = [
        (new_rows[g][0][:255], (new_rows[g][1] or "").strip()[:64],
         (new_rows[g][2] or new_rows[g][0] or new_rows[g][1])[:500], new_rows[g][3], new_rows[g][4])
        for g in groups
    ]
    if connection.vendor != "postgresql":
        products = Product.objects.bulk_create(
            [Product(retailer_id=retailer_id, sku=sku, barcode=barcode, name=name, sku_key=skey, barcode_key=bkey)
             for sku, barcode, name, skey, bkey in values], batch_size=1000)
        return {g: p.pk for g, p in zip(groups, products, strict=True)}
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    created = {}
    with connection.cursor() as cursor:
        for start in range(0, len(values), _CHUNK):
            columns = [list(c) for c in zip(*values[start : start + _CHUNK], strict=True)]
            # Array parameters, like decisions.write: Django's bulk_create renders a placeholder per value.
            cursor.execute(
                f"INSERT INTO {Product._meta.db_table} (retailer_id, sku, barcode, name, sku_key, barcode_key, "
                "is_active, created_at, updated_at) "
                "SELECT %s, v.sku, v.barcode, v.name, v.sku_key, v.barcode_key, TRUE, %s, %s "
                "FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[]) "
                "AS v(sku, barcode, name, sku_key, barcode_key) RETURNING id, sku_key, barcode_key",
                [retailer_id, now, now, *columns],
            )
            for pk, skey, bkey in cursor.fetchall():
                created[f"b{bkey}" if bkey else f"s{skey}"] = pk
    return created


def _lookup(retailer_id: int, field: str, values: list[str]):
    """Active products of the retailer whose ``field`` is one of ``values`` (index scan on (retailer, field))."""
    if connection.vendor == "postgresql":
        # One array parameter rather than an IN list of thousands of placeholders (see decisions.write).
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, sku_key, barcode_key, name FROM {Product._meta.db_table} "
                f"WHERE retailer_id = %s AND is_active AND {field} = ANY(%s::text[])",
                [retailer_id, values],
            )
            return cursor.fetchall()
    return Product.objects.filter(retailer_id=retailer_id, is_active=True, **{f"{field}__in": values}).values_list(
        "pk", "sku_key", "barcode_key", "name"
    )


def _fill_missing_keys(fill: dict[int, tuple[str, str, str, str]]) -> None:
    """A product matched by SKU that had no barcode takes the item's (and vice versa), so the next system's
    spelling of the same GTIN finds it by index."""
    if not fill:
        return
    with connection.cursor() as cursor:
        for pk, (sku, barcode, skey, bkey) in fill.items():
            sets, params = [], []
            if skey:
                sets += ["sku = %s", "sku_key = %s"]
                params += [sku[:255], skey]
            if bkey:
                sets += ["barcode = %s", "barcode_key = %s"]
                params += [(barcode or "").strip()[:64], bkey]
            cursor.execute(
                f"UPDATE {Product._meta.db_table} SET {', '.join(sets)}, updated_at = %s WHERE id = %s",
                [*params, connection.ops.adapt_datetimefield_value(timezone.now()), pk],
            )
