"""REST API routes (/api/v1/). Wired here, outside both apps, because the connection and sync-run views live in
integrations and inventory must not import integrations."""

from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from integrations.api.views import ApiCallLogViewSet, ConnectionViewSet, SyncRunViewSet
from inventory.api.errors import json_not_found
from inventory.api.views.levels import InventoryLevelViewSet
from inventory.api.views.mappings import ProductMappingViewSet, StoreMappingViewSet
from inventory.api.views.products import ProductViewSet
from inventory.api.views.stores import StoreViewSet
from inventory.api.views.transactions import TransactionViewSet

router = SimpleRouter()
router.register("stores", StoreViewSet, basename="store")
router.register("products", ProductViewSet, basename="product")
router.register("inventory-levels", InventoryLevelViewSet, basename="inventory-level")
router.register("transactions", TransactionViewSet, basename="transaction")
router.register("mappings", ProductMappingViewSet, basename="mapping")
router.register("store-mappings", StoreMappingViewSet, basename="store-mapping")
router.register("connections", ConnectionViewSet, basename="connection")
router.register("sync-runs", SyncRunViewSet, basename="sync-run")
router.register("api-calls", ApiCallLogViewSet, basename="api-call")

urlpatterns = [
    path("api/v1/", include((router.urls, "api"), namespace="api")),
    # Unknown API paths answer in the API's JSON error shape, not with Django's HTML 404 page.
    re_path(r"^api/", json_not_found),
]
