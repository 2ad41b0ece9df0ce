from django.contrib import admin

from inventory.models import Transaction


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    list_display = ["external_order_id", "external_line_id", "retailer", "store", "product", "sku", "quantity",
                    "unit_price", "currency", "state", "occurred_at", "source"]
    list_filter = ["retailer", "source", "state"]
    search_fields = ["external_order_id", "sku", "product__name"]
    list_select_related = ["retailer", "store", "product"]
    raw_id_fields = ["store", "product", "store_mapping", "product_mapping"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False
