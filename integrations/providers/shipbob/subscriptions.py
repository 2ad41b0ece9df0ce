"""Webhook subscriptions at connect: ``POST /webhook`` with the topics, our per-subscription URL
(``<BASE_URL>/webhooks/shipbob/<segment>/``) and a secret we generate (``whsec_`` + base64 of 32 random bytes, the
Standard Webhooks format), kept encrypted in ``WebhookSubscription``. A reconnect replaces the old subscription."""

from __future__ import annotations

import base64
import logging
import secrets

from django.conf import settings

logger = logging.getLogger("integrations.providers.shipbob")


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def subscribe(connection, topics: list[str]) -> None:
    from integrations.http import client_for
    from integrations.http.errors import ProviderError
    from integrations.models import WebhookSubscription

    client = client_for(connection)
    unsubscribe(connection)
    segment = secrets.token_urlsafe(24)
    secret = new_secret()
    url = f"{settings.BASE_URL}/webhooks/shipbob/{segment}/"
    try:
        answer = client.post("/webhook", json={"topics": topics, "url": url, "secret": secret,
                                               "description": "ShelfOps shipments"}).json() or {}
    except ProviderError as exc:
        logger.warning("shipbob connection %s: webhook subscription failed (%s)", connection.pk, exc)
        connection.settings = {**(connection.settings or {}), "webhooks": {"registered": [], "failed": topics}}
        connection.save(update_fields=["settings", "updated_at"])
        return
    WebhookSubscription.objects.create(connection=connection, provider="shipbob", segment=segment,
                                       external_id=str(answer.get("id") or ""), topics=topics, secret=secret)
    connection.settings = {**(connection.settings or {}), "webhooks": {"registered": topics, "failed": []}}
    connection.save(update_fields=["settings", "updated_at"])


def unsubscribe(connection) -> None:
    """Delete the connection's subscriptions at ShipBob and here (best effort at ShipBob: gone already, or
    ShipBob down, the row goes either way and deliveries to its URL then fail verification)."""
    from integrations.http import client_for
    from integrations.http.errors import ProviderError
    from integrations.models import WebhookSubscription

    client = client_for(connection)
    for old in WebhookSubscription.objects.filter(connection=connection):
        try:
            if old.external_id:
                client.request("DELETE", f"/webhook/{old.external_id}")
        except ProviderError as exc:
            logger.info("shipbob connection %s: could not delete subscription (%s)", connection.pk, exc)
        old.delete()
