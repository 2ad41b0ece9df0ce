"""The sandbox's whole state, in memory: registered apps, grants and tokens, merchants, faults, counters.

Nothing here touches the portal's database. Tokens are optionally persisted as JSON under
``VAR_DIR/sandbox/`` so that restarting ``runsandbox`` does not force every local connection to reconnect.
The clock is ``time.time()`` plus an offset that tests move forward (``advance_clock``) to expire codes and
tokens without sleeping.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .catalog import RetailerCatalog
from .data import DEFAULT_ANCHOR, Merchant, Sizes
from .faults import Faults

PROVIDERS = ("square", "shopify", "netsuite", "shipbob")


@dataclass
class SandboxConfig:
    """Registered apps and where webhooks go. ``from_django_settings`` reads the portal's local defaults."""

    square_client_id: str = "sq0idp-shelfops-local"
    square_client_secret: str = "sq0csp-shelfops-local-secret"
    square_signature_key: str = "shelfops-local-square-signature-key"
    shopify_client_id: str = "shelfops-local-shopify-app"
    shopify_client_secret: str = "shpss_shelfops_local_secret"
    netsuite_client_id: str = "shelfops-local-netsuite-client"
    netsuite_client_secret: str = "shelfops-local-netsuite-secret"
    shipbob_client_id: str = "shelfops-local-shipbob-app"
    shipbob_client_secret: str = "shelfops-local-shipbob-secret"
    portal_base_url: str = "http://127.0.0.1:8000"
    # The exact URL string the Square subscription was registered with: Square signs it byte for byte.
    square_notification_url: str = ""
    # Redirect URIs the apps accept; empty = any http(s) URI on the portal's host or a loopback host.
    redirect_uris: list[str] = field(default_factory=list)
    seed: str = "shelfops"
    sizes: Sizes = field(default_factory=Sizes)
    anchor: datetime = DEFAULT_ANCHOR
    duplicate_webhook_probability: float = 0.05
    # Multiplies the providers' real retry schedules (Square 1, 2, 4... min; Shopify 8 tries over 4 h).
    webhook_retry_scale: float = 1.0
    persist_dir: str = ""
    # Retailers whose accounts share one ground-truth catalog (sandbox.catalog): seed -> {provider: account}.
    retailers: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self):
        self.portal_base_url = self.portal_base_url.rstrip("/")
        if not self.square_notification_url:
            self.square_notification_url = f"{self.portal_base_url}/webhooks/square/"

    @property
    def shopify_webhook_url(self) -> str:
        return f"{self.portal_base_url}/webhooks/shopify/"

    @classmethod
    def from_django_settings(cls, **overrides) -> SandboxConfig:
        from django.conf import settings

        values = dict(
            square_client_id=settings.SQUARE_CLIENT_ID or cls.square_client_id,
            square_client_secret=settings.SQUARE_CLIENT_SECRET or cls.square_client_secret,
            square_signature_key=settings.SQUARE_WEBHOOK_SIGNATURE_KEY or cls.square_signature_key,
            shopify_client_id=settings.SHOPIFY_CLIENT_ID or cls.shopify_client_id,
            shopify_client_secret=settings.SHOPIFY_CLIENT_SECRET or cls.shopify_client_secret,
            netsuite_client_id=settings.NETSUITE_CLIENT_ID or cls.netsuite_client_id,
            netsuite_client_secret=settings.NETSUITE_CLIENT_SECRET or cls.netsuite_client_secret,
            shipbob_client_id=getattr(settings, "SHIPBOB_CLIENT_ID", "") or cls.shipbob_client_id,
            shipbob_client_secret=getattr(settings, "SHIPBOB_CLIENT_SECRET", "") or cls.shipbob_client_secret,
            portal_base_url=settings.BASE_URL,
        )
        values.update(overrides)
        return cls(**values)


@dataclass
class Grant:
    """An authorization code: single use, short-lived, bound to the redirect URI and PKCE challenge."""

    provider: str
    account: str
    client_id: str
    redirect_uri: str
    scopes: list[str]
    expires_at: float
    code_challenge: str = ""
    code_challenge_method: str = ""
    used: bool = False


@dataclass
class Token:
    provider: str
    account: str
    client_id: str
    kind: str  # access | refresh
    expires_at: float | None  # None = never expires (Square code-flow refresh tokens)
    scopes: list[str] = field(default_factory=list)
    revoked: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class Counters:
    """Request counts, in-flight and max-in-flight per provider (and per account), token-endpoint calls."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        with self._lock:
            self.requests: dict[str, int] = defaultdict(int)
            self.in_flight: dict[str, int] = defaultdict(int)
            self.max_in_flight: dict[str, int] = defaultdict(int)
            self.token_calls: dict[str, int] = defaultdict(int)
            self.statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
            self.events: dict[str, int] = defaultdict(int)  # e.g. "shopify:app_uninstall"

    def enter(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self.requests[key] += 1
                self.in_flight[key] += 1
                self.max_in_flight[key] = max(self.max_in_flight[key], self.in_flight[key])

    def leave(self, status: int, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self.in_flight[key] -= 1
                self.statuses[key][status] += 1

    def count_token_call(self, provider: str, grant_type: str) -> None:
        with self._lock:
            self.token_calls[provider] += 1
            self.token_calls[f"{provider}:{grant_type}"] += 1

    def count_event(self, name: str) -> None:
        with self._lock:
            self.events[name] += 1

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "requests": dict(self.requests),
                "in_flight": dict(self.in_flight),
                "max_in_flight": dict(self.max_in_flight),
                "token_calls": dict(self.token_calls),
                "statuses": {k: dict(v) for k, v in self.statuses.items()},
                "events": dict(self.events),
            }


def account_key(provider: str, account: str) -> str:
    """How the provider modules name an account (NetSuite: ``TSTDRV_1`` and host ``tstdrv-1`` are one)."""
    account = account.lower()
    return account.replace("_", "-") if provider == "netsuite" else account


class SandboxState:
    def __init__(self, config: SandboxConfig):
        self.config = config
        self.lock = threading.RLock()
        self.clock_offset = 0.0
        self.frozen_at: float | None = None
        self.counters = Counters()
        self.shutdown = threading.Event()  # wakes requests sleeping in an injected timeout
        self.reset()

    # --- lifecycle -------------------------------------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            self.clock_offset = 0.0
            self.frozen_at: float | None = None
            self.merchants: dict[tuple[str, str], Merchant] = {}
            self.grants: dict[str, Grant] = {}
            self.tokens: dict[str, Token] = {}
            self.faults: dict[str, Faults] = {p: Faults(seed=f"{self.config.seed}:{p}") for p in PROVIDERS}
            self.shopify_buckets: dict[str, Any] = {}
            self.square_buckets: dict[str, tuple[float, float]] = {}
            self.shopify_subscriptions: dict[str, list[dict]] = defaultdict(list)
            self.shopify_bulk_ops: dict[int, Any] = {}  # BulkOperation number -> sandbox.shopify.bulk.BulkOperation
            self.storage_key = secrets.token_bytes(32)  # signs the bulk result URLs (the "storage" host's key)
            self.netsuite_query_cache: dict[tuple, Any] = {}
            self.netsuite_certificates: dict[tuple[str, str], Any] = {}  # M2M: (account, certificate id) -> key
            self.deliveries: deque[dict] = deque(maxlen=2000)
            # Webhooks still to be lost, per provider (``/_sandbox/webhooks/drop``): the provider's data changes,
            # the portal never hears of it, which is what a stock check has to find.
            self.webhook_drops: dict[str, int] = dict.fromkeys(PROVIDERS, 0)
            # ShipBob: sliding-window logs per user + application, webhook subscriptions per (user, application),
            # inventory history events per user.
            self.shipbob_windows: dict[str, deque] = {}
            self.shipbob_subscriptions: dict[tuple[str, str], list[dict]] = {}
            self.shipbob_next_subscription = 0
            self.shipbob_history: dict[str, list[dict]] = {}
            self.shipbob_next_event = 0
            # (user:application, time) of every request the window let through, newest last (benchmarks read it).
            self.shipbob_accepted: deque[tuple[str, float]] = deque(maxlen=200_000)
            self.counters.reset()
            self._load_tokens()

    def drop_webhooks(self, provider: str, count: int) -> int:
        if provider not in PROVIDERS:
            raise ValueError(f"unknown provider {provider}")
        if count < 0:
            raise ValueError("count must be 0 or more")
        with self.lock:
            self.webhook_drops[provider] = count
            return count

    def take_webhook_drop(self, provider: str) -> bool:
        """Whether the next webhook event of ``provider`` is to be lost (and count it as lost)."""
        with self.lock:
            if self.webhook_drops.get(provider, 0) <= 0:
                return False
            self.webhook_drops[provider] -= 1
        self.counters.count_event(f"{provider}:webhook_dropped")
        return True

    def now(self) -> float:
        if self.frozen_at is not None:
            return self.frozen_at + self.clock_offset
        return time.time() + self.clock_offset

    def freeze_clock(self) -> None:
        """Stop the sandbox clock (only ``advance_clock`` moves it): tests of budgets need no wall-clock timing."""
        self.frozen_at = time.time()

    def now_dt(self) -> datetime:
        return datetime.fromtimestamp(self.now(), tz=UTC)

    def advance_clock(self, seconds: float) -> None:
        with self.lock:
            self.clock_offset += seconds

    # --- data ------------------------------------------------------------------------------------------------
    def merchant(self, provider: str, account: str) -> Merchant:
        """The generated merchant for an account, seeded by provider + account so every shop/account differs."""
        key = (provider, account.lower())
        with self.lock:
            if key not in self.merchants:
                retailer = self.retailer_of(provider, account)
                view = RetailerCatalog(retailer, self.config.sizes.variants_per_product).view(provider) \
                    if retailer else None
                self.merchants[key] = Merchant(f"{self.config.seed}:{provider}:{account.lower()}",
                                               self.config.sizes, anchor=self.config.anchor, view=view)
            return self.merchants[key]

    def retailer_of(self, provider: str, account: str) -> str | None:
        wanted = account_key(provider, account)
        for seed, accounts in self.config.retailers.items():
            if account_key(provider, accounts.get(provider, "")) == wanted:
                return seed
        return None

    def add_retailer(self, seed: str, accounts: dict[str, str]) -> None:
        """Make these accounts (one per provider) views of one retailer's catalog; their data is regenerated."""
        unknown = set(accounts) - set(PROVIDERS)
        if not seed or unknown or not accounts:
            raise ValueError(f"a seed and accounts of {', '.join(PROVIDERS)} are needed")
        with self.lock:
            self.config.retailers[seed] = {p: str(a) for p, a in accounts.items()}
            for provider, account in accounts.items():
                self.merchants.pop((provider, str(account).lower()), None)
                self.merchants.pop((provider, account_key(provider, str(account))), None)

    # --- OAuth grants and tokens ------------------------------------------------------------------------------
    def issue_code(self, grant: Grant, prefix: str = "") -> str:
        code = prefix + secrets.token_urlsafe(24)
        with self.lock:
            self.grants[code] = grant
        return code

    def issue_token(self, provider: str, account: str, client_id: str, kind: str, lifetime: float | None,
                    prefix: str = "", scopes: list[str] | None = None, value: str | None = None, **extra) -> str:
        value = value or prefix + secrets.token_urlsafe(32)
        expires = None if lifetime is None else self.now() + lifetime
        with self.lock:
            self.tokens[value] = Token(provider, account, client_id, kind, expires, list(scopes or []), extra=extra)
            self._save_tokens()
        return value

    def token(self, value: str, provider: str, kind: str = "access") -> Token | None:
        token = self.tokens.get(value or "")
        if token is None or token.provider != provider or token.kind != kind:
            return None
        return token

    def token_expired(self, token: Token) -> bool:
        return token.expires_at is not None and token.expires_at <= self.now()

    def revoke(self, predicate) -> int:
        with self.lock:
            hits = [t for t in self.tokens.values() if not t.revoked and predicate(t)]
            for token in hits:
                token.revoked = True
            self._save_tokens()
            return len(hits)

    def _token_file(self) -> Path | None:
        return Path(self.config.persist_dir) / "tokens.json" if self.config.persist_dir else None

    def _save_tokens(self) -> None:
        path = self._token_file()
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({k: asdict(t) for k, t in self.tokens.items()}))
        os.chmod(tmp, 0o600)
        tmp.replace(path)

    def _load_tokens(self) -> None:
        path = self._token_file()
        if path is None or not path.exists():
            return
        try:
            self.tokens = {k: Token(**v) for k, v in json.loads(path.read_text()).items()}
        except (ValueError, TypeError):
            self.tokens = {}  # a corrupt file only costs local reconnects

    # --- faults ----------------------------------------------------------------------------------------------
    def set_faults(self, provider: str, **changes) -> Faults:
        with self.lock:
            faults = self.faults[provider]
            faults.update(**changes)
            return faults

    def clear_faults(self, provider: str | None = None) -> None:
        with self.lock:
            for p in [provider] if provider else PROVIDERS:
                self.faults[p] = Faults(seed=f"{self.config.seed}:{p}")
