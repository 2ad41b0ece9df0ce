"""Password reset (Django's views) behind the same guard as the login forms: an address or account that
django-axes has locked gets the lockout page here too, and each address may ask for at most
PASSWORD_RESET_LIMIT reset e-mails per hour (so the form cannot be used to flood an inbox or probe accounts)."""

from functools import wraps

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.shortcuts import render
from django.urls import path, reverse_lazy

from audit import actions as audit_actions
from audit import record
from audit.addresses import client_ip

WINDOW_SECONDS = 3600


def _over_limit(request) -> bool:
    key = f"shelfops:password-reset:{client_ip(request)}"
    cache.add(key, 0, WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, WINDOW_SECONDS)
        count = 1
    return count > settings.PASSWORD_RESET_LIMIT


def guarded(view):
    @wraps(view)
    def inner(request, *args, **kwargs):
        if not AxesProxyHandler.is_allowed(request):
            return get_lockout_response(request)
        if request.method == "POST" and _over_limit(request):
            record(audit_actions.PASSWORD_RESET_THROTTLED, actor="anonymous", outcome="denied", request=request)
            return render(request, "registration/lockout.html", {}, status=429)
        return view(request, *args, **kwargs)

    return inner


urlpatterns = [
    path("accounts/password-reset/", guarded(auth_views.PasswordResetView.as_view(
        success_url=reverse_lazy("password_reset_done"))), name="password_reset"),
    path("accounts/password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("accounts/password-reset/<uidb64>/<token>/", guarded(auth_views.PasswordResetConfirmView.as_view()),
         name="password_reset_confirm"),
    path("accounts/password-reset/done/", auth_views.PasswordResetCompleteView.as_view(),
         name="password_reset_complete"),
]
