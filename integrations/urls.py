from django.urls import path

from . import views
from .webhooks.views import receive_webhook

urlpatterns = [
    path("portal/", views.portal_index, name="portal"),
    # Webhooks (contract): one URL per provider; a later provider adds its line here.
    path("webhooks/square/", receive_webhook, {"provider_key": "square"}, name="webhook-square"),
    path("webhooks/shopify/", receive_webhook, {"provider_key": "shopify"}, name="webhook-shopify"),
]
