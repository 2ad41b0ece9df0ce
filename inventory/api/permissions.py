from rest_framework.permissions import BasePermission


class IsStaffToken(BasePermission):
    """Staff-only endpoints: the token must be marked as a staff token in admin."""

    message = "This endpoint needs a staff token."

    def has_permission(self, request, view):
        return bool(getattr(request.user, "is_staff", False))
