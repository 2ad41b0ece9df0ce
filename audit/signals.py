"""Login events into the trail: success, failure (with the username tried, never the password) and lockouts."""

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from . import actions
from .service import record


def _retailer_of(user):
    merchant = getattr(user, "merchant", None) if user is not None else None
    return merchant.retailer if merchant is not None else None


def _user_named(username):
    if not username:
        return None
    return get_user_model()._default_manager.filter(**{get_user_model().USERNAME_FIELD: username}).first()


@receiver(user_logged_in, dispatch_uid="audit-login-success")
def _logged_in(sender, request, user, **kwargs):
    record(actions.LOGIN_SUCCESS, actor=user, retailer=_retailer_of(user), request=request,
           site="admin" if request is not None and request.path.startswith("/admin/") else "portal")


@receiver(user_login_failed, dispatch_uid="audit-login-failure")
def _login_failed(sender, credentials, request=None, **kwargs):
    username = (credentials or {}).get("username", "")
    # The account tried is shown to its own retailer (a merchant can see guesses at their logins); the actor is
    # whoever typed, which nobody knows.
    record(actions.LOGIN_FAILURE, actor="anonymous", retailer=_retailer_of(_user_named(username)),
           outcome="failure", request=request, username=username[:150])


@receiver(user_locked_out, dispatch_uid="audit-lockout")
def _locked_out(sender, request, username, ip_address, **kwargs):
    record(actions.LOCKOUT, actor="anonymous", retailer=_retailer_of(_user_named(username)), outcome="denied",
           request=request, username=(username or "")[:150])
