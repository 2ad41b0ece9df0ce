"""Resolving what the matcher left for people: accept or reject suggestions, one, many, or all above a confidence.

Accepting maps the mapping to its suggested product/store as a person's decision (``automatically_generated``
False, so matching never changes it again) and attaches its held sales and stock. Rejecting also records a
person's decision: the mapping stays unmapped, without a suggestion, in the "needs matching" list until someone
picks or creates the right product/store; the matcher does not suggest it again.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet

from inventory.models import ProductMapping


def target_of(mapping) -> str:
    return "product" if isinstance(mapping, ProductMapping) else "store"


def pending_suggestions(model, retailer_id: int) -> QuerySet:
    """Mappings waiting for a person: unmapped, live, with a suggestion."""
    target = "product" if model is ProductMapping else "store"
    return model.objects.filter(
        retailer_id=retailer_id, deleted_at_source=False, **{f"{target}__isnull": True,
                                                            f"suggested_{target}__isnull": False}
    )


def accept(mappings: Iterable, *, who: str = "staff") -> int:
    """Accept each mapping's suggestion; returns how many were accepted (mappings without one are skipped)."""
    from inventory.mapping import map_product, map_store

    accepted = 0
    with transaction.atomic():
        for mapping in mappings:
            target = target_of(mapping)
            suggested = getattr(mapping, f"suggested_{target}")
            if suggested is None or getattr(mapping, f"{target}_id") is not None:
                continue
            reason = f"suggestion accepted by {who}: {mapping.suggestion_reason}"
            (map_product if target == "product" else map_store)(mapping, suggested, reason=reason)
            accepted += 1
    return accepted


def accept_above(model, retailer_id: int, threshold: float, *, who: str = "staff") -> int:
    """Accept every pending suggestion of the retailer whose confidence is at least ``threshold``."""
    target = "product" if model is ProductMapping else "store"
    mappings = pending_suggestions(model, retailer_id).filter(suggestion_confidence__gte=threshold)
    return accept(mappings.select_related(f"suggested_{target}"), who=who)


def reject(mappings: Iterable, *, who: str = "staff") -> int:
    rejected = 0
    with transaction.atomic():
        for mapping in mappings:
            target = target_of(mapping)
            if getattr(mapping, f"suggested_{target}_id") is None:
                continue
            setattr(mapping, f"suggested_{target}", None)
            mapping.automatically_generated = False
            mapping.suggestion_reason = f"suggestion rejected by {who}: {mapping.suggestion_reason}"[:255]
            mapping.suggestion_confidence = None
            mapping.save(update_fields=[f"suggested_{target}", "automatically_generated", "suggestion_reason",
                                        "suggestion_confidence", "updated_at"])
            rejected += 1
    return rejected


__all__ = ["accept", "accept_above", "pending_suggestions", "reject"]
