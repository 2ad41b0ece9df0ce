"""Second factor gate: after the password, a user who must pass a second factor (see ``twofactor``) reaches
nothing but the two-factor pages, logout and static files until they have. Runs after django-otp's
OTPMiddleware, which marks ``request.user.is_verified()``."""

from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse

from .twofactor import second_factor_required

OPEN_PREFIXES = ("/accounts/two-factor/", "/accounts/logout/", "/admin/logout/", "/static/", "/healthz", "/readyz")


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and not request.path.startswith(OPEN_PREFIXES)
                and not user.is_verified() and second_factor_required(user)):
            return redirect(f"{reverse('two-factor')}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
