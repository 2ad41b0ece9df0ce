"""What one connected system has that still needs matching: its live items with no product, each with its
suggestion (if any) and the sales lines and stock levels held for it. Read by the merchant portal."""

from __future__ import annotations

from django.db.models import Count, Q

from inventory.models import Product, ProductMapping

from .provenance import awaiting_mappings


def unmatched_items(retailer_id: int, provider: str, account: str):
    return (
        awaiting_mappings("product")
        .filter(retailer_id=retailer_id, provider=provider, external_account_id=account)
        .select_related("suggested_product")
        .order_by("-held_sales_lines", "external_name", "pk")
    )


def count_unmatched_items(retailer_id: int, provider: str, account: str) -> int:
    return ProductMapping.objects.filter(retailer_id=retailer_id, provider=provider, external_account_id=account,
                                         product__isnull=True, deleted_at_source=False).count()


def unmatched_counts(retailer_id: int) -> dict[tuple[str, str], int]:
    """(provider, account) -> live items with no product, for every system of the retailer in one query (for a
    connection list or the health model's "unmatched items" reason)."""
    rows = (
        ProductMapping.objects.filter(retailer_id=retailer_id, product__isnull=True, deleted_at_source=False)
        .values_list("provider", "external_account_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {(provider, account): n for provider, account, n in rows}


def search_products(retailer_id: int, query: str, limit: int = 25):
    """The retailer's products whose name, SKU or barcode contains every word of ``query``."""
    products = Product.objects.filter(retailer_id=retailer_id, is_active=True)
    for word in query.split()[:5]:
        products = products.filter(Q(name__icontains=word) | Q(sku__icontains=word) | Q(barcode__icontains=word))
    return products.order_by("name", "pk")[:limit]
