"""django-filter sets. Every store/product id is checked against the token's retailer, so another retailer's id
is rejected exactly like an id that does not exist (400 naming the field), never revealed."""

from datetime import UTC

import django_filters as df
from django import forms
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField
from django_filters.filters import QuerySetRequestMixin
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions

from inventory.models import InventoryLevel, Product, ProductMapping, Store, StoreMapping, Transaction

MAX_ID = 2**63 - 1  # a bigint; a larger id would make the database fail instead of answer


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, keeping the filterset on the view (``view.filterset``) for the ids it deferred
    (``TenantIdFilter``)."""

    def get_filterset(self, request, queryset, view):
        view.filterset = super().get_filterset(request, queryset, view)
        return view.filterset


class TenantIdField(forms.IntegerField):
    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


class TenantIdFilter(df.Filter):
    """The id of one of the token's retailer's ``model`` rows (a store, a product).

    Not looked up before the query, unlike django-filter's ModelChoiceFilter: the list is already filtered by the
    retailer and this id, so a page with rows proves the id is the retailer's, and the look-up would be one more
    query on every request of the API's busiest path. Only when the rows come back empty does
    ``StrictFilterSet.check_tenant_ids`` look it up, to tell "none yet" from "not yours" (a 400, the same as for an
    id that does not exist)."""

    field_class = TenantIdField

    def __init__(self, *, model, **kwargs):
        super().__init__(**kwargs)
        self.tenant_model = model


class StrictFilterSet(df.FilterSet):
    """A parameter given with an empty value is an error, not "no filter": ``?store=`` most likely means a
    client bug, and silently returning every row would hide it."""

    NOT_YOURS = "Select a valid choice. That choice is not one of the available choices."

    def get_form_class(self):
        # django-filter builds a new form class, and a form field per filter, for every request. Once per filterset
        # class is enough unless a filter's choices depend on the request (a ModelChoiceFilter's retailer queryset).
        cls = type(self)
        if any(isinstance(f, QuerySetRequestMixin) for f in self.filters.values()):
            return super().get_form_class()
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class

    def check_tenant_ids(self):
        """400 naming each ``TenantIdFilter`` parameter whose id is not one of the retailer's rows."""
        if not self.form.is_bound or self.form.errors:
            return
        errors = {}
        for name, filter_ in self.filters.items():
            value = self.form.cleaned_data.get(name)
            if isinstance(filter_, TenantIdFilter) and value is not None:
                retailer = self.request.user.retailer
                if not filter_.tenant_model.objects.filter(retailer=retailer, pk=value).exists():
                    errors[name] = [self.NOT_YOURS]
        if errors:
            raise exceptions.ValidationError(errors)

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
    store = TenantIdFilter(model=Store, help_text="Store id.")
    product = TenantIdFilter(model=Product, help_text="Product id.")
    source = df.CharFilter(help_text="Provider key, as in the connection's `provider`.")
    as_of_after = UtcDateTimeFilter(field_name="as_of", lookup_expr="gte", help_text="as_of at or after.")
    as_of_before = UtcDateTimeFilter(field_name="as_of", lookup_expr="lt", help_text="as_of before.")
    updated_since = _since()

    class Meta:
        model = InventoryLevel
        fields = []


class TransactionFilter(StrictFilterSet):
    store = TenantIdFilter(model=Store, help_text="Store id.")
    product = TenantIdFilter(model=Product, help_text="Product id.")
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
