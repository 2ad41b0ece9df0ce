"""Reading one Shopify order completely: every line item and every refund with every refund line.

The orders stream, its bulk variant and the ``refunds/create`` webhook all end here, so a sale and its refunds are
mapped by the same code whichever way they arrive (``mappers.map_order``), and ingest keys each refund line by its
own id: reading it again (overlap, re-run, redelivery, a later order update) stores it once.
"""

from __future__ import annotations

from . import mappers, queries


def _pages(client, query: str, variables: dict, path: list[str], after: str | None):
    while True:
        data = client.graphql(query, {**variables, "after": after})
        for key in path:
            data = (data or {}).get(key) or {}
        yield data.get("nodes") or []
        info = data.get("pageInfo") or {}
        if not info.get("hasNextPage"):
            return
        after = info.get("endCursor")


def all_lines(client, order: dict) -> list[dict]:
    """The order's line items; a page beyond the first is read with ``order(id:) { lineItems }``, because ingest
    replaces an order's lines with the ones it is given."""
    connection = order.get("lineItems") or {}
    lines = list(connection.get("nodes") or [])
    info = connection.get("pageInfo") or {}
    if info.get("hasNextPage"):
        for nodes in _pages(client, queries.ORDER_LINES, {"id": order["id"]}, ["order", "lineItems"],
                            info.get("endCursor")):
            lines.extend(nodes)
    return lines


def refunds(client, order: dict) -> list[dict]:
    """The order's refunds with their lines (``refundLineItems.nodes`` complete), or [] without a call when the
    order's ``refunds { id }`` is empty."""
    if not order.get("refunds"):
        return []
    data = client.graphql(queries.ORDER_REFUNDS, {"id": order["id"]})
    found = ((data or {}).get("order") or {}).get("refunds") or []
    for refund in found:
        connection = refund.get("refundLineItems") or {}
        info = connection.get("pageInfo") or {}
        if info.get("hasNextPage"):
            nodes = list(connection.get("nodes") or [])
            for more in _pages(client, queries.REFUND_LINES, {"id": refund["id"]}, ["refund", "refundLineItems"],
                               info.get("endCursor")):
                nodes.extend(more)
            refund["refundLineItems"] = {"nodes": nodes}
    return found


def sale_lines(client, order: dict, line_items: list[dict] | None = None) -> list:
    """SaleLines of an order read by a query (its sold lines and its refund lines)."""
    lines = all_lines(client, order) if line_items is None else line_items
    return mappers.map_order(order, lines, refunds(client, order))


def fetch_sale_lines(client, order_gid: str) -> list | None:
    """One order by id, in full; None when the shop no longer has it."""
    order = (client.graphql(queries.ORDER, {"id": order_gid}) or {}).get("order")
    return None if order is None else sale_lines(client, order)
