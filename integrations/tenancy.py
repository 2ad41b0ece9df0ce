"""Resolving the retailer a logged-in merchant acts for. Tenants are walls: every portal query goes through this."""

from django.core.exceptions import PermissionDenied

from inventory.models import Retailer


def retailer_for_user(user) -> Retailer:
    merchant = getattr(user, "merchant", None) if user.is_authenticated else None
    if merchant is None:
        raise PermissionDenied("This login is not linked to a retailer.")
    return merchant.retailer
