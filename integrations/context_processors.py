"""The portal banner: the merchant's connections that need attention, from the stored health (one query)."""

from integrations.health import ATTENTION_STATES, LABELS


def health_banner(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not request.path.startswith("/portal/"):
        return {}
    merchant = getattr(user, "merchant", None)
    if merchant is None:
        return {}
    from integrations.models import Connection

    rows = (Connection.objects.filter(retailer_id=merchant.retailer_id, health_state__in=ATTENTION_STATES)
            .order_by("provider", "external_account_id").only("pk", "provider", "display_name",
                                                              "external_account_id", "health_state", "health_reasons"))
    banner = [{"pk": c.pk, "name": c.display_name or c.external_account_id, "provider": c.provider,
               "state": c.health_state, "label": LABELS.get(c.health_state, c.health_state),
               "reason": (c.health_reasons or [{}])[0].get("text", "")} for c in rows]
    return {"health_banner": banner}
