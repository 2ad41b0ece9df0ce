from django.contrib import admin

from inventory.models import ProductMapping, StoreMapping


class MappedFilter(admin.SimpleListFilter):
    title = "mapped"
    parameter_name = "mapped"
    target = ""

    def lookups(self, request, model_admin):
        return [("yes", "Mapped"), ("no", "Unmapped")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(**{f"{self.target}__isnull": False})
        if self.value() == "no":
            return queryset.filter(**{f"{self.target}__isnull": True})
        return queryset


class StoreMappedFilter(MappedFilter):
    target = "store"


class ProductMappedFilter(MappedFilter):
    target = "product"


@admin.register(StoreMapping)
class StoreMappingAdmin(admin.ModelAdmin):
    list_display = ["external_id", "external_name", "provider", "external_account_id", "store", "retailer",
                    "automatically_generated"]
    list_filter = [StoreMappedFilter, "provider", "retailer", "automatically_generated"]
    search_fields = ["external_id", "external_name", "external_account_id", "store__name"]
    list_select_related = ["retailer", "store"]
    raw_id_fields = ["store"]


@admin.register(ProductMapping)
class ProductMappingAdmin(admin.ModelAdmin):
    list_display = ["external_id", "external_name", "sku", "barcode", "provider", "product", "retailer",
                    "automatically_generated", "deleted_at_source"]
    list_filter = [ProductMappedFilter, "provider", "retailer", "automatically_generated", "deleted_at_source"]
    search_fields = ["external_id", "external_name", "sku", "barcode", "external_account_id"]
    list_select_related = ["retailer", "product"]
    raw_id_fields = ["product"]
    show_full_result_count = False
