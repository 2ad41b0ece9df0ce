"""``/accounts/two-factor/``: enrol an authenticator app (TOTP) and get recovery codes, or, once enrolled, enter
a code after the password. Wrong codes are throttled by django-otp (growing delay per device)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token, user_has_device

from audit import actions as audit_actions
from audit import record

from .models import AuthenticatorDevice
from .twofactor import confirm_enrolment, pending_device


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return target
    return "/admin/" if request.user.is_staff else "/portal/"


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request):
    # Enrolled and not yet past the second step: ask for a code. Otherwise (first enrolment, or a verified user
    # replacing their phone) set up an authenticator app.
    if user_has_device(request.user) and not request.user.is_verified():
        return _verify(request)
    return _enrol(request)


def _verify(request):
    error = None
    if request.method == "POST":
        device = match_token(request.user, request.POST.get("token", "").strip().replace(" ", ""))
        if device is not None:
            otp_login(request, device)
            if not AuthenticatorDevice.objects.filter(user=request.user, confirmed=True).exists():
                # In with a recovery code after the phone's device was removed: set up the new phone now.
                return redirect(f"{reverse('two-factor')}?{urlencode({'next': _next(request)})}")
            return redirect(_next(request))
        record(audit_actions.OTP_FAILED, request=request, retailer=_retailer(request.user), outcome="failure")
        error = "That code did not match. Use the current code from your app, or one of your recovery codes."
    return render(request, "accounts/two_factor_verify.html", {"error": error, "next": _next(request)},
                  status=400 if error else 200)


def _enrol(request):
    device = pending_device(request.user)
    error = None
    if request.method == "POST":
        if device.verify_token(request.POST.get("token", "").strip().replace(" ", "")):
            codes = confirm_enrolment(device)
            otp_login(request, device)
            record(audit_actions.OTP_ENROLLED, request=request, retailer=_retailer(request.user))
            messages.success(request, "Two-factor sign-in is on.")
            return render(request, "accounts/two_factor_codes.html", {"codes": codes, "next": _next(request)})
        error = "That code did not match. Check the time on your phone and enter the current code."
    context = {"secret": device.secret_b32, "otpauth": device.config_url,
               "error": error, "next": _next(request)}
    return render(request, "accounts/two_factor_enrol.html", context, status=400 if error else 200)


def _retailer(user):
    merchant = getattr(user, "merchant", None)
    return merchant.retailer if merchant is not None else None
