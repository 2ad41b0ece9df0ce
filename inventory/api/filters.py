"""django-filter sets. Every choice of store/product is limited to the token's retailer, so another retailer's
id is rejected exactly like an id that does not exist (400 naming the field), never revealed."""

import django_filters as df

from inventory.models import InventoryLevel, Product, ProductMapping, Store, Transaction


def _stores(request):
    return Store.objects.filter(retailer=request.user.retailer) if request else Store.objects.none()


def _products(request):
    return Product.objects.filter(retailer=request.user.retailer) if request else Product.objects.none()


def _since(help_text="Rows changed at or after this time (ISO 8601); pair with ordering=updated_at."):
    return df.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte", help_text=help_text)


class StoreFilter(df.FilterSet):
    updated_since = _since()
    code = df.CharFilter(help_text="Exact store code.")

    class Meta:
        model = Store
        fields = ["is_active"]


class ProductFilter(df.FilterSet):
    sku = df.CharFilter(help_text="Exact SKU.")
    barcode = df.CharFilter(help_text="Exact barcode (GTIN/UPC/EAN).")
    updated_since = _since()

    class Meta:
        model = Product
        fields = ["is_active"]


class InventoryLevelFilter(df.FilterSet):
    store = df.ModelChoiceFilter(queryset=_stores, help_text="Store id.")
    product = df.ModelChoiceFilter(queryset=_products, help_text="Product id.")
    source = df.CharFilter(help_text="Provider key, e.g. square, shopify, netsuite.")
    as_of_after = df.IsoDateTimeFilter(field_name="as_of", lookup_expr="gte", help_text="as_of at or after.")
    as_of_before = df.IsoDateTimeFilter(field_name="as_of", lookup_expr="lt", help_text="as_of before.")
    updated_since = _since()

    class Meta:
        model = InventoryLevel
        fields = []


class TransactionFilter(df.FilterSet):
    store = df.ModelChoiceFilter(queryset=_stores, help_text="Store id.")
    product = df.ModelChoiceFilter(queryset=_products, help_text="Product id.")
    sku = df.CharFilter(help_text="Exact SKU as sold.")
    source = df.CharFilter(help_text="Provider key, e.g. square, shopify, netsuite.")
    state = df.ChoiceFilter(choices=Transaction.State.choices)
    occurred_after = df.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", help_text="Sold at or after (ISO 8601)."
    )
    occurred_before = df.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt", help_text="Sold before.")
    updated_since = _since()

    class Meta:
        model = Transaction
        fields = []


class MappingFilter(df.FilterSet):
    mapped = df.BooleanFilter(
        field_name="product", lookup_expr="isnull", exclude=True, help_text="false: only unmapped items."
    )
    provider = df.CharFilter()
    external_account_id = df.CharFilter()
    sku = df.CharFilter()
    barcode = df.CharFilter()
    updated_since = _since()

    class Meta:
        model = ProductMapping
        fields = []
