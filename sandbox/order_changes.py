"""Run-time changes to orders that move their ``updated_at`` or give goods back: cancellation (Shopify), refunds
(Shopify: part of the order) and itemized refund orders (Square: an order of their own whose ``returns`` name the
sold lines). A mixin of ``data.Merchant``, which owns the overlay, the lock and the stock."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Refund:
    """A refund of an order (Shopify's model: part of the order): (line index, quantity) given back."""

    index: int
    order_index: int
    created_at: datetime
    lines: tuple[tuple[int, int], ...]
    restock_type: str = "RETURN"  # RETURN (a return), NO_RESTOCK, CANCEL (not handed over)


class OrderChanges:
    def cancel_order(self, index: int, at: datetime):
        """Cancel an order: state CANCELED, updated_at moves to ``at`` (so "updated after" queries see it)."""
        with self.lock:
            order = self._existing_order(index)
            if order.state == "CANCELED":
                raise ValueError("the order is already cancelled")
            cancelled, _at = self._move_updated_at(order, at, state="CANCELED")
            self.overlay.version += 1
            return cancelled

    def refund_order(self, index: int, items: list[tuple[int, int]], at: datetime, restock_type: str = "RETURN"):
        """A refund of (line index, quantity) pairs of order ``index`` (Shopify); a RETURN puts the units back
        in stock. The order's updated_at moves to the refund's time. Returns the order, the refund, stock rows."""
        with self.lock:
            order = self._check_left(self._existing_order(index), items)
            order, at = self._move_updated_at(order, at)
            refund = Refund(self.overlay.refund_count, index, at, tuple(items), restock_type)
            self.overlay.refund_count += 1
            self.overlay.refunds.setdefault(index, []).append(refund)
            changed = self._give_back(order, items, at, restock=restock_type == "RETURN")
            return order, refund, changed

    def record_return(self, index: int, items: list[tuple[int, int]], at: datetime):
        """Square's itemized refund: a new COMPLETED order whose returns give back (line index, quantity) of
        order ``index``; the units go back in stock. Returns the return order and the changed stock rows."""
        with self.lock:
            sold = self._check_left(self._existing_order(index), items)
            if self.overlay.orders and at <= self.overlay.orders[-1].updated_at:
                at = self.overlay.orders[-1].updated_at + timedelta(milliseconds=1)  # keep updated_at sorted
            ret = replace(sold, index=self.order_count, created_at=at, updated_at=at, state="COMPLETED", lines=(),
                          returns=tuple((index, k, q) for k, q in items))
            self.overlay.orders.append(ret)
            return ret, self._give_back(sold, items, at, restock=True)

    def refunds_of(self, index: int) -> list[Refund]:
        return self.overlay.refunds.get(index, [])

    def refunded(self, index: int, line_index: int) -> int:
        """Units of a sold line given back so far (refunds and return orders)."""
        return self.overlay.given_back.get((index, line_index), 0)

    # --- helpers (caller holds the lock) ---------------------------------------------------------------------
    def _existing_order(self, index: int):
        if not 0 <= index < self.order_count:
            raise ValueError(f"order index {index} out of range")
        return self.order(index)

    def _check_left(self, order, items):
        for line_index, qty in items:
            left = (order.lines[line_index].quantity - self.refunded(order.index, line_index)
                    if 0 <= line_index < len(order.lines) else 0)
            if not 0 < qty <= left:
                raise ValueError(f"line {line_index} of order {order.index} has {left} units left to give back")
        return order

    def _give_back(self, order, items, at: datetime, *, restock: bool) -> list:
        changed = []
        for line_index, qty in items:
            key = (order.index, line_index)
            self.overlay.given_back[key] = self.overlay.given_back.get(key, 0) + qty
            if restock:
                line = order.lines[line_index]
                current = self.stock(line.variant_index, order.location_index)
                changed.append(self.set_stock(line.variant_index, order.location_index, current.on_hand + qty, at))
        self.overlay.version += 1
        return changed

    def _move_updated_at(self, order, at: datetime, **changes):
        newest = [o.updated_at for o in self.overlay.cancelled.values()] + [o.updated_at for o in
                                                                             self.overlay.orders[-1:]]
        if newest and at <= max(newest):
            at = max(newest) + timedelta(milliseconds=1)
        changed = replace(order, updated_at=at, **changes)
        self.overlay.cancelled[order.index] = changed
        return changed, at
