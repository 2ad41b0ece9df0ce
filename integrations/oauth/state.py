"""OAuth state and PKCE.

``state`` is a random, single-use nonce naming a server-side ``OAuthSession`` row (retailer, user, provider, PKCE
verifier). It is bound to the browser: the session row stores a hash of the state keyed with a random value kept
only in that browser's Django session, so a callback opened in another browser, replayed, or late is refused.
(A customer id as state, as in the seed note, is forgeable: login CSRF.)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from oauthlib.oauth2 import WebApplicationClient

from integrations.models import OAuthSession

from .errors import OAuthFlowError

STATE_LIFETIME = timedelta(minutes=10)
BROWSER_KEY = "oauth_browser_key"


# PKCE (RFC 7636) from oauthlib: the verifier (43-128 characters of the unreserved set, drawn with a CSPRNG)
# and its S256 challenge. The state stays ours: it is bound to the browser below, which oauthlib does not do.
VERIFIER_LENGTH = 86


def new_code_verifier() -> str:
    return WebApplicationClient(None).create_code_verifier(VERIFIER_LENGTH)


def s256_challenge(verifier: str) -> str:
    return WebApplicationClient(None).create_code_challenge(verifier, "S256")


def _browser_key(request, create: bool) -> str | None:
    key = request.session.get(BROWSER_KEY)
    if key is None and create:
        key = secrets.token_urlsafe(32)
        request.session[BROWSER_KEY] = key
    return key


def _binding(browser_key: str, state: str) -> str:
    return hmac.new(browser_key.encode(), state.encode(), hashlib.sha256).hexdigest()


def start_session(request, *, provider_key: str, retailer, redirect_uri: str, extra: dict, use_pkce: bool):
    """Create the server-side session for one connect attempt; returns (session, code_challenge or None)."""
    state = secrets.token_urlsafe(32)  # 43 characters: inside NetSuite's 22-1024 rule
    verifier = new_code_verifier() if use_pkce else None
    session = OAuthSession.objects.create(
        state=state,
        provider=provider_key,
        retailer=retailer,
        user=request.user,
        browser_binding=_binding(_browser_key(request, create=True), state),
        code_verifier=verifier,
        redirect_uri=redirect_uri,
        extra=extra,
        expires_at=timezone.now() + STATE_LIFETIME,
    )
    return session, (s256_challenge(verifier) if verifier else None)


def claim_session(request, *, provider_key: str, state: str | None) -> OAuthSession:
    """Check the callback's state and mark its session used, exactly once. Raises ``OAuthFlowError``."""
    if not state:
        raise OAuthFlowError("state_missing", "The reply from the provider had no state, so it cannot be trusted.")
    session = OAuthSession.objects.select_related("retailer").filter(state=state, provider=provider_key).first()
    if session is None:
        raise OAuthFlowError("state_unknown", "This connection link is not one ShelfOps started.")
    if session.used_at is not None:
        raise OAuthFlowError("state_reused", "This connection link was already used.")
    if session.is_expired:
        _close(session, "state_expired")
        raise OAuthFlowError("state_expired", "This connection attempt took longer than 10 minutes and expired.")
    browser_key = _browser_key(request, create=False)
    same_browser = browser_key is not None and hmac.compare_digest(
        session.browser_binding, _binding(browser_key, state)
    )
    if not same_browser or session.user_id != request.user.pk:
        raise OAuthFlowError(
            "state_other_browser",
            "This connection was started in another browser or by another login.",
            advice="Start the connection again from this browser.",
        )
    # Single use even under a race (double click, replay in flight): only one UPDATE flips used_at.
    with transaction.atomic():
        claimed = OAuthSession.objects.filter(pk=session.pk, used_at__isnull=True).update(used_at=timezone.now())
    if not claimed:
        raise OAuthFlowError("state_reused", "This connection link was already used.")
    session.refresh_from_db()
    return session


def _close(session: OAuthSession, outcome: str) -> None:
    OAuthSession.objects.filter(pk=session.pk).update(
        used_at=session.used_at or timezone.now(), outcome=outcome[:255]
    )


def record_outcome(session: OAuthSession, outcome: str) -> None:
    OAuthSession.objects.filter(pk=session.pk).update(outcome=outcome[:255])


def prune_sessions(older_than: timedelta = timedelta(days=1)) -> int:
    """Expired connect attempts hold encrypted verifiers; drop them once they are no longer useful for audit."""
    deleted, _ = OAuthSession.objects.filter(expires_at__lt=timezone.now() - older_than).delete()
    return deleted
