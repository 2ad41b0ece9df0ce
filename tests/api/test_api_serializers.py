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
