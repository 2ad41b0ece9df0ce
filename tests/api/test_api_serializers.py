"""The compiled read path renders exactly what DRF's generic serializer would, field by field."""

from decimal import Decimal

import pytest
from rest_framework import serializers

from inventory.api.serializers import (
    InventoryLevelSerializer,
    ProductSerializer,
    StoreSerializer,
    TransactionSerializer,
)
from inventory.models import InventoryLevel, Product, Store, Transaction

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "serializer_class,model",
    [
        (StoreSerializer, Store),
        (ProductSerializer, Product),
        (InventoryLevelSerializer, InventoryLevel),
        (TransactionSerializer, Transaction),
    ],
)
def test_fast_rows_equal_drf_rows(serializer_class, model, acme):
    level = acme.levels[0]
    level.committed, level.incoming, level.available = None, Decimal("-3.5"), Decimal("12345678901234.1234")
    level.save()
    rows = list(model.objects.filter(retailer=acme.retailer).select_related())
    assert rows
    fast = serializer_class(rows, many=True).data
    generic_child = serializer_class()
    generic = [serializers.ModelSerializer.to_representation(generic_child, row) for row in rows]
    assert [dict(r) for r in fast] == [dict(r) for r in generic]


@pytest.mark.parametrize("serializer_class,model", [(StoreSerializer, Store), (ProductSerializer, Product)])
def test_fast_rows_with_nested_provenance_equal_drf_rows(serializer_class, model, acme, monkeypatch):
    """``known_in`` and ``awaiting_match`` are nested plain serializers with the compiled plan too: the whole tree
    equals DRF's generic rendering, floats, nulls and counts included."""
    from inventory.api.fastread import FastReadMixin
    from inventory.api.provenance import with_provenance

    target = model._meta.model_name
    known = getattr(acme, f"{target}_mappings")
    mapped = [m for m in known if getattr(m, f"{target}_id")]
    mapped[0].match_confidence, mapped[0].match_reason = 0.93, "same barcode"
    mapped[0].save()
    type(mapped[1]).objects.filter(pk=mapped[1].pk).update(match_confidence=None)
    unmapped = [m for m in known if not getattr(m, f"{target}_id")]
    assert unmapped, "the fixture must have a record waiting for a person"
    unmapped[0].__class__.objects.filter(pk=unmapped[0].pk).update(
        **{f"suggested_{target}_id": getattr(mapped[0], f"{target}_id")},
        suggestion_confidence=0.71, suggestion_reason="similar name")

    def render():
        rows = with_provenance(model.objects.filter(retailer=acme.retailer).order_by("id"), target)
        return serializer_class(list(rows), many=True).data

    fast = render()
    assert any(row["known_in"] for row in fast) and any(row["awaiting_match"] for row in fast)
    assert any(k["match_confidence"] is None for row in fast for k in row["known_in"])
    assert any(k["match_confidence"] == 0.93 for row in fast for k in row["known_in"])
    monkeypatch.setattr(FastReadMixin, "to_representation", serializers.Serializer.to_representation)
    generic = render()
    assert [dict(r) for r in fast] == [dict(r) for r in generic]
