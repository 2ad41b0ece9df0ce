"""Where a product or store comes from: the systems it is known in (provider, account, external id, and why it
was matched), and the records of other systems still waiting for a person to confirm it, with the sales lines
and stock levels held for them. One prefetch per page, never a query per row."""

from __future__ import annotations

from django.db.models import Prefetch
from rest_framework import serializers

from inventory.matching.provenance import awaiting_mappings, known_mappings

from .fastread import FastReadMixin


class KnownInSerializer(FastReadMixin, serializers.Serializer):
    provider = serializers.CharField()
    external_account_id = serializers.CharField()
    external_id = serializers.CharField()
    external_name = serializers.CharField()
    match_confidence = serializers.FloatField(allow_null=True)
    match_reason = serializers.CharField()
    automatically_generated = serializers.BooleanField()
    deleted_at_source = serializers.BooleanField()


class AwaitingMatchSerializer(FastReadMixin, serializers.Serializer):
    provider = serializers.CharField()
    external_account_id = serializers.CharField()
    external_id = serializers.CharField()
    external_name = serializers.CharField()
    suggestion_confidence = serializers.FloatField(allow_null=True)
    suggestion_reason = serializers.CharField()
    held_sales_lines = serializers.IntegerField(help_text="Sales lines stored for this record, not yet counted.")
    held_stock_levels = serializers.IntegerField(help_text="Stock levels stored for this record, not yet counted.")


def with_provenance(queryset, target: str):
    """``queryset`` of products or stores with their ``known`` mappings and ``awaiting`` records prefetched. Both
    into lists (``to_attr``): prefetching into the related manager makes Django build a queryset per row, which
    cost more than the rest of a 100-product page."""
    return queryset.prefetch_related(
        Prefetch("mappings", queryset=known_mappings(target), to_attr="known_prefetched"),
        Prefetch("suggested_mappings", queryset=awaiting_mappings(target), to_attr="awaiting_prefetched"),
    )
