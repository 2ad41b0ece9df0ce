from .calllog import ApiCallLog
from .connection import Connection
from .limiter import ProviderAccountState
from .oauth import OAuthSession
from .rollups import HourlyRollup, RolledHour
from .sync import SyncCursor, SyncRun, SyncSchedule
from .webhooks import WebhookEvent, WebhookRejection, WebhookSubscription

__all__ = [
    "ApiCallLog",
    "Connection",
    "HourlyRollup",
    "OAuthSession",
    "ProviderAccountState",
    "RolledHour",
    "SyncCursor",
    "SyncRun",
    "SyncSchedule",
    "WebhookEvent",
    "WebhookRejection",
    "WebhookSubscription",
]
