"""Webhook URLs, routed from the provider registry: ``POST /webhooks/<key>/`` for every provider whose descriptor
has a webhook receiver, and ``POST /webhooks/<key>/<subscription>/`` for receivers that sign per subscription.

The provider segment is a path converter that asks the registry at request time, so a provider added to the
registry (or registered by a test) is routed with no change here, and a key without a receiver does not match."""

from __future__ import annotations

from django.urls import path, register_converter

from .base import receiver_for
from .views import receive_webhook


class WebhookProviderConverter:
    regex = r"[a-z][a-z0-9_]*"

    def to_python(self, value: str) -> str:
        if receiver_for(value) is None:
            raise ValueError(f"no webhooks for {value!r}")
        return value

    def to_url(self, value: str) -> str:
        return value


class SubscriptionConverter:
    """Subscription ids as providers spell them (uuids, numbers, slugs); never a path separator."""

    regex = r"[A-Za-z0-9_.:-]{1,128}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(WebhookProviderConverter, "webhook_provider")
register_converter(SubscriptionConverter, "webhook_subscription")

urlpatterns = [
    path("webhooks/<webhook_provider:provider_key>/", receive_webhook, name="webhook"),
    path("webhooks/<webhook_provider:provider_key>/<webhook_subscription:subscription>/", receive_webhook,
         name="webhook-subscription"),
]
