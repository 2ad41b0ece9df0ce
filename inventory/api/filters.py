"""django-filter sets. Every choice of store/product is limited to the token's retailer, so another retailer's
id is rejected exactly like an id that does not exist (400 naming the field), never revealed."""

from datetime import UTC

import django_filters as df
from django import forms
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField

from inventory.models import InventoryLevel, Product, ProductMapping, Store, StoreMapping, Transaction


def _stores(request):
    return Store.objects.filter(retailer=request.user.retailer) if request else Store.objects.none()


def _products(request):
    return Product.objects.filter(retailer=request.user.retailer) if request else Product.objects.none()


class StrictFilterSet(df.FilterSet):
    """A parameter given with an empty value is an error, not "no filter": ``?store=`` most likely means a
    client bug, and silently returning every row would hide it."""

    def is_valid(self):
        valid = super().is_valid()
        for name in self.filters:
            if name in self.data and self.data.get(name) == "" and name not in self.form.errors:
                self.form.add_error(
                    name, ValidationError("Must not be empty; leave the parameter out to not filter by it.", "empty")
                )
                valid = False
        return valid


class UtcDateTimeField(IsoDateTimeField):
    """ISO 8601, converted to UTC before it reaches the database: PostgreSQL refuses offsets beyond +-15:59
    (Python accepts up to 24 h), which would otherwise turn a strange but parseable value into a 500."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValidationError("Enter a date/time between years 1 and 9999.", "invalid")


class UtcDateTimeFilter(df.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class StrictBooleanField(forms.Field):
    widget = forms.TextInput  # the raw value, not NullBooleanSelect's "unknown means None"

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value not in ("true", "false"):
            raise ValidationError("Must be true or false.", "invalid")
        return value == "true"


class StrictBooleanFilter(df.BooleanFilter):
    """django-filter's BooleanFilter silently ignores a value it does not understand (returning unfiltered
    rows); this one rejects it with a 400."""

    field_class = StrictBooleanField


def strict_bool(field_name, help_text="", **kwargs):
    return StrictBooleanFilter(field_name=field_name, help_text=help_text, **kwargs)


def _since(help_text="Rows changed at or after this time (ISO 8601); pair with ordering=updated_at."):
    return UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte", help_text=help_text)


class StoreFilter(StrictFilterSet):
    updated_since = _since()
    code = df.CharFilter(help_text="Exact store code.")
    is_active = strict_bool("is_active")

    class Meta:
        model = Store
        fields = []


class ProductFilter(StrictFilterSet):
    sku = df.CharFilter(help_text="Exact SKU.")
    barcode = df.CharFilter(help_text="Exact barcode (GTIN/UPC/EAN).")
    updated_since = _since()
    is_active = strict_bool("is_active")

    class Meta:
        model = Product
        fields = []


class InventoryLevelFilter(StrictFilterSet):
    store = df.ModelChoiceFilter(queryset=_stores, help_text="Store id.")
    product = df.ModelChoiceFilter(queryset=_products, help_text="Product id.")
    source = df.CharFilter(help_text="Provider key, as in the connection's `provider`.")
    as_of_after = UtcDateTimeFilter(field_name="as_of", lookup_expr="gte", help_text="as_of at or after.")
    as_of_before = UtcDateTimeFilter(field_name="as_of", lookup_expr="lt", help_text="as_of before.")
    updated_since = _since()

    class Meta:
        model = InventoryLevel
        fields = []


class TransactionFilter(StrictFilterSet):
    store = df.ModelChoiceFilter(queryset=_stores, help_text="Store id.")
    product = df.ModelChoiceFilter(queryset=_products, help_text="Product id.")
    sku = df.CharFilter(help_text="Exact SKU as sold.")
    source = df.CharFilter(help_text="Provider key, as in the connection's `provider`.")
    state = df.ChoiceFilter(choices=Transaction.State.choices)
    occurred_after = UtcDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", help_text="Sold at or after (ISO 8601)."
    )
    occurred_before = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="lt", help_text="Sold before.")
    updated_since = _since()

    class Meta:
        model = Transaction
        fields = []


class MappingFilter(StrictFilterSet):
    mapped = strict_bool("product", lookup_expr="isnull", exclude=True, help_text="false: only unmapped items.")
    provider = df.CharFilter()
    external_account_id = df.CharFilter()
    sku = df.CharFilter()
    barcode = df.CharFilter()
    updated_since = _since()

    class Meta:
        model = ProductMapping
        fields = []


class StoreMappingFilter(StrictFilterSet):
    mapped = strict_bool("store", lookup_expr="isnull", exclude=True, help_text="false: only unmapped locations.")
    provider = df.CharFilter()
    external_account_id = df.CharFilter()
    updated_since = _since()

    class Meta:
        model = StoreMapping
        fields = []
