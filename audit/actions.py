"""The action names the trail uses (one place, so admin filters and the portal list read the same words)."""

CONNECT = "connection.connect"
DISCONNECT = "connection.disconnect"
TOKEN_REFRESH = "connection.token_refresh"
TEST_CONNECTION = "connection.test"
KEY_ROTATION = "keys.rotate"
WEBHOOK_REPLAY = "webhooks.replay"
SYNC_NOW = "sync.now"
FULL_RESYNC = "sync.full_resync"
SYNC_PAUSE = "sync.pause"
SYNC_RESUME = "sync.resume"
MAPPING_SET = "mapping.set"
MAPPING_CREATE_TARGETS = "mapping.create_targets"
API_TOKEN_CREATED = "api_token.create"
API_TOKEN_REVOKED = "api_token.revoke"
LOGIN_SUCCESS = "login.success"
LOGIN_FAILURE = "login.failure"
LOCKOUT = "login.lockout"
LOCKOUT_LIFTED = "login.unlock"
OTP_ENROLLED = "otp.enrol"

LABELS = {
    CONNECT: "Connected a system",
    DISCONNECT: "Disconnected a system",
    TOKEN_REFRESH: "Refreshed access",
    TEST_CONNECTION: "Tested a connection",
    KEY_ROTATION: "Rotated encryption keys",
    WEBHOOK_REPLAY: "Replayed webhook events",
    SYNC_NOW: "Sync now",
    FULL_RESYNC: "Full resync",
    SYNC_PAUSE: "Paused a sync schedule",
    SYNC_RESUME: "Resumed a sync schedule",
    MAPPING_SET: "Changed a mapping",
    MAPPING_CREATE_TARGETS: "Created products/stores from mappings",
    API_TOKEN_CREATED: "Created an API token",
    API_TOKEN_REVOKED: "Revoked an API token",
    LOGIN_SUCCESS: "Logged in",
    LOGIN_FAILURE: "Failed login",
    LOCKOUT: "Login locked out",
    LOCKOUT_LIFTED: "Lockout lifted",
    OTP_ENROLLED: "Enrolled two-factor",
}
OTP_FAILED = "otp.failure"
LABELS[OTP_FAILED] = "Wrong two-factor code"
PASSWORD_RESET_THROTTLED = "password_reset.throttled"
LABELS[PASSWORD_RESET_THROTTLED] = "Too many password reset requests"
OTP_DEVICE_REMOVED = "otp.device_removed"
LABELS[OTP_DEVICE_REMOVED] = "Two-factor device removed by ShelfOps staff"
MATCH_ACCEPT = "mapping.accept"
LABELS[MATCH_ACCEPT] = "Accepted matching suggestions"
MATCH_REJECT = "mapping.reject"
LABELS[MATCH_REJECT] = "Rejected matching suggestions"
CATALOG_MERGE = "catalog.merge"
LABELS[CATALOG_MERGE] = "Merged two products or stores"
CATALOG_MERGE_UNDO = "catalog.merge_undo"
LABELS[CATALOG_MERGE_UNDO] = "Undid a merge"
