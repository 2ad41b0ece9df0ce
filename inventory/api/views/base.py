from rest_framework import viewsets
from rest_framework.exceptions import ValidationError

from ..export.columns import json_row
from ..pagination import KeysetPagination


class RetailerScopedMixin:
    """Every queryset starts from the token's retailer: other retailers' rows do not exist for the caller
    (lists, details -> 404, filters, counts). Subclasses implement ``scoped_queryset(retailer)``."""

    pagination_class = KeysetPagination
    ordering_fields: tuple[str, ...] = ("id",)
    default_ordering = "id"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttling first
        self.reject_unknown_parameters(request)

    def reject_unknown_parameters(self, request):
        """``?stor=5`` (a typo) would otherwise return every row as if unfiltered: name it in a 400 instead."""
        known = set()
        if self.action in ("list", "export"):
            filterset = getattr(self, "filterset_class", None)
            known = set(filterset.base_filters) if filterset else set()
        if self.action == "list":
            known |= {KeysetPagination.cursor_query_param, KeysetPagination.page_size_query_param,
                      KeysetPagination.ordering_query_param}
        elif self.action == "export":
            known.add("format")
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            hint = f"known: {', '.join(sorted(known))}" if known else "this endpoint takes no query parameters"
            raise ValidationError({name: [f"Unknown query parameter ({hint})."] for name in unknown})

    def rendered_rows(self):
        """The list's rows as database-rendered JSON (``export.columns.json_row``), or None to serialize in Python."""
        serializer_class = self.get_serializer_class()
        return json_row(serializer_class(context=self.get_serializer_context()))

    def check_filter_ids(self):
        """The store/product ids the filterset deferred (filters.TenantIdFilter): a 400 if not the retailer's."""
        filterset = getattr(self, "filterset", None)
        if filterset is not None and hasattr(filterset, "check_tenant_ids"):
            filterset.check_tenant_ids()

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        if not page:  # rows prove the filter's ids are the retailer's; no rows may mean an id that is not
            self.check_filter_ids()
        if self.paginator.rendered:
            return self.paginator.get_rendered_response(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no token
            return self.queryset_model.objects.none()
        return self.scoped_queryset(self.request.user.retailer)


class RetailerScopedReadOnlyViewSet(RetailerScopedMixin, viewsets.ReadOnlyModelViewSet):
    pass


def default_changes_ordering(fallback):
    """Follow changes by default when the client asks for them with ``updated_since``."""

    def choose(request):
        return "updated_at" if "updated_since" in request.query_params else fallback

    choose.fallback = fallback
    return staticmethod(choose)  # a plain function as a class attribute would be bound as a method
