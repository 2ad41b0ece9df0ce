from django.contrib import admin

from inventory.models import InventoryLevel, Product, Store

from .merges import merge_two


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["name", "retailer", "code", "timezone", "is_active", "updated_at"]
    list_filter = ["retailer", "is_active"]
    search_fields = ["name", "code", "address", "retailer__name"]
    list_select_related = ["retailer"]
    actions = [merge_two]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "retailer", "sku", "barcode", "is_active", "updated_at"]
    list_filter = ["retailer", "is_active"]
    search_fields = ["name", "sku", "barcode"]
    list_select_related = ["retailer"]
    show_full_result_count = False
    actions = [merge_two]


@admin.register(InventoryLevel)
class InventoryLevelAdmin(admin.ModelAdmin):
    list_display = ["product", "store", "retailer", "source", "available", "on_hand", "committed", "incoming", "as_of"]
    list_filter = ["retailer", "source"]
    search_fields = ["product__sku", "product__name", "store__name", "product_mapping__external_id"]
    list_select_related = ["retailer", "store", "product"]
    raw_id_fields = ["store_mapping", "product_mapping", "store", "product"]
    show_full_result_count = False
