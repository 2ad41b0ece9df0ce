"""Merchant portal: "items need matching" for one connection. The merchant accepts a suggestion or picks one of
their products; either is a person's decision (``inventory.matching``), and the held sales and stock attach.
Every lookup goes through the merchant's retailer: another retailer's connection, item or product is a 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from audit import actions as audit_actions
from audit import record
from inventory.mapping import map_product
from inventory.matching import queue, review
from inventory.models import Product, ProductMapping

from .models import Connection
from .providers import get_provider
from .tenancy import retailer_for_user


def _scope(request, pk: int):
    retailer = retailer_for_user(request.user)
    connection = get_object_or_404(Connection.objects.for_retailer(retailer), pk=pk)
    connection.provider_name = get_provider(connection.provider).name
    return retailer, connection


def _item(retailer, connection, item_id: int) -> ProductMapping:
    return get_object_or_404(ProductMapping, pk=item_id, retailer=retailer, provider=connection.provider,
                             external_account_id=connection.external_account_id)


@login_required
def matching_list(request, pk: int):
    retailer, connection = _scope(request, pk)
    items = queue.unmatched_items(retailer.pk, connection.provider, connection.external_account_id)
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    return render(request, "portal/matching.html",
                  {"retailer": retailer, "connection": connection, "page": page, "total": page.paginator.count})


@login_required
def matching_pick(request, pk: int, item_id: int):
    retailer, connection = _scope(request, pk)
    item = _item(retailer, connection, item_id)
    query = request.GET.get("q", "").strip()[:100] or item.sku or item.external_name
    return render(request, "portal/matching_pick.html", {
        "retailer": retailer, "connection": connection, "item": item, "query": query,
        "products": queue.search_products(retailer.pk, query) if query else [],
    })


@require_POST
@login_required
def matching_resolve(request, pk: int, item_id: int):
    retailer, connection = _scope(request, pk)
    item = _item(retailer, connection, item_id)
    chosen = request.POST.get("product", "")
    if chosen:
        if not chosen.isdigit():
            raise Http404("no such product")
        product = get_object_or_404(Product, pk=int(chosen), retailer=retailer)
        with transaction.atomic():
            attached = map_product(item, product, reason=f"picked by merchant user {request.user.pk}")
            record(audit_actions.MAPPING_SET, request=request, retailer=retailer, connection=connection,
                   mapping=item.pk, product=product.pk)
        messages.success(request, f"{item.external_name or item.external_id} is now {product.name}; "
                                  f"{attached} held sales/stock row(s) counted.")
    elif _accept(request, retailer, connection, item):
        item.refresh_from_db()
        messages.success(request, f"{item.external_name or item.external_id} is now {item.product.name}.")
    else:
        messages.error(request, "That item has no suggestion to accept any more; pick a product instead.")
    return redirect("portal-matching", pk=connection.pk)


def _accept(request, retailer, connection, item) -> int:
    with transaction.atomic():
        accepted = review.accept([item], who=f"merchant user {request.user.pk}")
        if accepted:
            record(audit_actions.MATCH_ACCEPT, request=request, retailer=retailer, connection=connection,
                   count=accepted, mappings=[item.pk])
    return accepted
