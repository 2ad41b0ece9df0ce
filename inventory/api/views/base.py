from rest_framework import viewsets

from ..pagination import KeysetPagination


class RetailerScopedMixin:
    """Every queryset starts from the token's retailer: other retailers' rows do not exist for the caller
    (lists, details -> 404, filters, counts). Subclasses implement ``scoped_queryset(retailer)``."""

    pagination_class = KeysetPagination
    ordering_fields: tuple[str, ...] = ("id",)
    default_ordering = "id"

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
