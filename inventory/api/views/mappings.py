import logging

from django.db import transaction
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins

from audit import actions as audit_actions
from audit import audited
from inventory.models import ProductMapping, StoreMapping

from ..filters import MappingFilter, StoreMappingFilter
from ..serializers import ProductMappingSerializer, StoreMappingSerializer
from .base import RetailerScopedReadOnlyViewSet, default_changes_ordering

logger = logging.getLogger(__name__)


class MappingViewSetBase(mixins.UpdateModelMixin, RetailerScopedReadOnlyViewSet):
    """Read provider ids and their targets; PATCH sets the target (a manual choice from then on)."""

    target = ""  # "product" or "store"
    ordering_fields = ("id", "updated_at")
    default_ordering = default_changes_ordering("id")
    http_method_names = ["get", "patch", "head", "options"]

    def scoped_queryset(self, retailer):
        return self.queryset_model.objects.filter(retailer=retailer)

    def perform_update(self, serializer):
        before = getattr(serializer.instance, f"{self.target}_id")
        with audited(audit_actions.MAPPING_SET, atomic=True, request=self.request,
                     retailer=serializer.instance.retailer, mapping=serializer.instance.pk, kind=self.target,
                     previous=before) as entry, transaction.atomic():
            mapping = serializer.save(automatically_generated=False)
            entry.note(target=getattr(mapping, f"{self.target}_id"))
            # Lazy: the ingest area's service copies the new target onto the held levels and sales (and bumps
            # their updated_at, so clients following changes see them move).
            from inventory.mapping import attach_held_rows

            attach_held_rows(mapping)
        logger.info(
            "%s mapping %s set to %s by API token %s",
            self.target, mapping.pk, getattr(mapping, f"{self.target}_id"), self.request.auth.pk,
        )


@extend_schema_view(
    list=extend_schema(
        summary="List provider items and their products",
        description="Every provider item seen for your retailer. `mapped=false` lists the unmapped ones, whose "
        "levels and sales are held until you set their product.",
    ),
    retrieve=extend_schema(summary="One provider item mapping"),
    partial_update=extend_schema(
        summary="Set the product of a provider item",
        description="Body `{\"product\": <id>}` (one of your products) or `{\"product\": null}`. The choice is "
        "manual from then on (automatic matching never overrides it) and the held levels and sales attach.",
        examples=[OpenApiExample("Map to product 42", value={"product": 42}, request_only=True)],
    ),
)
class ProductMappingViewSet(MappingViewSetBase):
    target = "product"
    queryset_model = ProductMapping
    serializer_class = ProductMappingSerializer
    filterset_class = MappingFilter


@extend_schema_view(
    list=extend_schema(
        summary="List provider locations and their stores",
        description="Every provider location seen for your retailer. `mapped=false` lists the unmapped ones, "
        "whose levels and sales are held until you set their store.",
    ),
    retrieve=extend_schema(summary="One provider location mapping"),
    partial_update=extend_schema(
        summary="Set the store of a provider location",
        description="Body `{\"store\": <id>}` (one of your stores) or `{\"store\": null}`; manual from then on.",
        examples=[OpenApiExample("Map to store 7", value={"store": 7}, request_only=True)],
    ),
)
class StoreMappingViewSet(MappingViewSetBase):
    target = "store"
    queryset_model = StoreMapping
    serializer_class = StoreMappingSerializer
    filterset_class = StoreMappingFilter
