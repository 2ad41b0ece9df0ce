from .calllog import ApiCallLog
from .connection import Connection
from .limiter import ProviderAccountState
from .oauth import OAuthSession
from .sync import SyncCursor, SyncRun, SyncSchedule
from .webhooks import WebhookEvent, WebhookRejection

__all__ = [
    "ApiCallLog",
    "Connection",
    "OAuthSession",
    "ProviderAccountState",
    "SyncCursor",
    "SyncRun",
    "SyncSchedule",
    "WebhookEvent",
    "WebhookRejection",
]
