"""Admin for location/item mappings: staff resolve unmapped items right in the list ("map to product" column),
create products/stores for a selection, and see how many rows are held for each unmapped entry.

Every change goes through ``inventory.mapping`` so a staff choice is marked manual (auto-matching never touches
it again) and the rows held for the mapping attach at once. Lists stay fast on big tables: autocomplete pickers (no
giant dropdowns), no full result count, and held counts computed only for the unmapped rows on the page.
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import Case, Count, IntegerField, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce

from audit import actions as audit_actions
from audit import audited, common_retailer
from inventory.mapping import create_products_for, create_stores_for, map_product, map_store
from inventory.models import InventoryLevel, ProductMapping, StoreMapping, Transaction

from .review import ReviewQueueMixin, SuggestionFilter


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


def _held(target: str, row_model):
    """Rows held for an unmapped mapping; CASE keeps the count query off mapped rows (which hold nothing)."""
    count = (
        row_model.objects.filter(**{f"{target}_mapping": OuterRef("pk"), f"{target}__isnull": True})
        .order_by()
        .values(f"{target}_mapping")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Case(
        When(**{f"{target}__isnull": True}, then=Coalesce(Subquery(count, output_field=IntegerField()), 0)),
        default=Value(0),
        output_field=IntegerField(),
    )


class SameRetailerForm(forms.ModelForm):
    """The target must belong to the mapping's retailer: tenants are walls, in admin too."""

    target = ""

    def clean(self):
        cleaned = super().clean()
        chosen = cleaned.get(self.target)
        if chosen is not None and chosen.retailer_id != self.instance.retailer_id:
            self.add_error(self.target, f"This {self.target} belongs to another retailer.")
        return cleaned


class ProductMappingForm(SameRetailerForm):
    target = "product"


class StoreMappingForm(SameRetailerForm):
    target = "store"


class MappingAdmin(admin.ModelAdmin):
    target = ""
    map_service = None
    list_per_page = 100
    show_full_result_count = False
    list_select_related = ["retailer"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(self.target)
            .annotate(
                held_transactions=_held(self.target, Transaction), held_levels=_held(self.target, InventoryLevel)
            )
        )

    def has_add_permission(self, request):
        return False  # mappings come from ingest; staff choose their targets

    def get_changelist_form(self, request, **kwargs):
        kwargs.setdefault("form", self.form)
        return super().get_changelist_form(request, **kwargs)

    @admin.display(description="held sales")
    def held_sales(self, obj):
        return obj.held_transactions

    @admin.display(description="held stock")
    def held_stock(self, obj):
        return obj.held_levels

    def save_model(self, request, obj, form, change):
        if change and self.target in form.changed_data:
            with audited(audit_actions.MAPPING_SET, request=request, retailer=obj.retailer, mapping=obj.pk,
                         kind=self.target, previous=form.initial.get(self.target),
                         target=getattr(obj, f"{self.target}_id")):
                attached = type(self).map_service(obj, getattr(obj, self.target))
            if attached:
                self.message_user(request, f"{obj.external_id}: {attached} held row(s) attached.")
            return
        super().save_model(request, obj, form, change)


@admin.register(StoreMapping)
class StoreMappingAdmin(ReviewQueueMixin, MappingAdmin):
    target = "store"
    map_service = staticmethod(map_store)
    form = StoreMappingForm
    list_display = ["external_id", "external_name", "provider", "external_account_id", "store", "decision",
                    "suggestion", "held_sales", "held_stock"]
    review_list_display = ["external_id", "provider", "store", "evidence", "held_sales", "held_stock"]
    list_editable = ["store"]
    list_filter = [SuggestionFilter, StoreMappedFilter, "provider", "retailer", "automatically_generated"]
    search_fields = ["external_id", "external_name", "external_account_id", "store__name"]
    autocomplete_fields = ["store"]
    readonly_fields = ["retailer", "provider", "external_account_id", "external_id", "created_at", "updated_at",
                       "match_confidence", "match_reason", "suggested_store", "suggestion_confidence",
                       "suggestion_reason"]
    actions = ["accept_suggestions", "reject_suggestions", "create_stores"]

    def evidence_rows(self, obj, store):
        return [("name", obj.external_name, store.name), ("address", obj.external_address, store.address),
                ("timezone", obj.external_timezone, store.timezone)]

    @admin.action(description="Create stores for selected unmapped locations")
    def create_stores(self, request, queryset):
        with audited(audit_actions.MAPPING_CREATE_TARGETS, request=request, kind="store",
                     retailer=common_retailer(queryset)) as entry:
            created = create_stores_for(queryset.filter(store__isnull=True).order_by("pk"))
            entry.note(created=created)
        self.message_user(request, f"Created {created} store(s).", messages.SUCCESS)


@admin.register(ProductMapping)
class ProductMappingAdmin(ReviewQueueMixin, MappingAdmin):
    target = "product"
    map_service = staticmethod(map_product)
    form = ProductMappingForm
    list_display = ["external_id", "external_name", "sku", "barcode", "provider", "product", "decision",
                    "suggestion", "held_sales", "held_stock"]
    review_list_display = ["external_id", "provider", "product", "evidence", "held_sales", "held_stock"]
    list_editable = ["product"]
    list_filter = [SuggestionFilter, ProductMappedFilter, "provider", "retailer", "automatically_generated",
                   "deleted_at_source"]
    search_fields = ["external_id", "external_name", "sku", "barcode", "external_account_id"]
    autocomplete_fields = ["product"]
    readonly_fields = ["retailer", "provider", "external_account_id", "external_id", "secondary_id",
                       "source_updated_at", "created_at", "updated_at", "match_confidence", "match_reason",
                       "suggested_product", "suggestion_confidence", "suggestion_reason"]
    actions = ["accept_suggestions", "reject_suggestions", "create_products"]

    def evidence_rows(self, obj, product):
        return [("name", obj.external_name, product.name), ("SKU", obj.sku, product.sku),
                ("barcode", obj.barcode, product.barcode)]

    @admin.action(description="Create products for selected unmapped items")
    def create_products(self, request, queryset):
        with audited(audit_actions.MAPPING_CREATE_TARGETS, request=request, kind="product",
                     retailer=common_retailer(queryset)) as entry:
            created = create_products_for(queryset.filter(product__isnull=True).order_by("pk"))
            entry.note(created=created)
        self.message_user(request, f"Created {created} product(s).", messages.SUCCESS)
