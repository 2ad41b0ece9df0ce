"""How admin lists and pages show things: statuses as coloured badges (with the word, so colour is never the
only signal), JSON pretty-printed in a collapsible block, long text cut to fit a 1280 px list."""

from __future__ import annotations

import json

from django.utils.html import format_html

TONES = {
    # connections
    "active": "ok", "pending": "info", "needs_reconnect": "bad", "disconnected": "muted",
    # runs
    "queued": "info", "running": "info", "succeeded": "ok", "succeeded_with_errors": "warn", "failed": "bad",
    "cancelled": "muted",
    # webhook events
    "received": "info", "processing": "info", "processed": "ok", "ignored": "muted", "unmatched": "warn",
}


def badge(value: str, label: str | None = None, tone: str | None = None) -> str:
    return format_html('<span class="so-badge so-{}" data-status="{}">{}</span>', tone or TONES.get(value, "muted"),
                       value, label or value)


def status_badge(obj) -> str:
    return badge(obj.status, obj.get_status_display())


def http_status_badge(code: int | None) -> str:
    if code is None:
        return badge("error", "no answer", "bad")
    tone = "ok" if code < 300 else ("warn" if code == 429 or code < 500 else "bad")
    return badge(str(code), str(code), tone)


def pretty_json(value, *, summary: str = "JSON", open_: bool = False) -> str:
    """A collapsible, indented JSON block; bytes are decoded and parsed when they hold JSON."""
    if isinstance(value, bytes | memoryview):
        raw = bytes(value).decode("utf-8", "replace")
        try:
            value = json.loads(raw)
        except ValueError:
            return format_html('<details class="so-json"{}><summary>{} ({} bytes, not JSON)</summary><pre>{}</pre>'
                               "</details>", " open" if open_ else "", summary, len(raw), raw)
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return format_html('<details class="so-json"{}><summary>{} ({} lines)</summary><pre>{}</pre></details>',
                       " open" if open_ else "", summary, text.count("\n") + 1, text)


def cut(text: str, length: int = 60) -> str:
    text = text or ""
    if len(text) <= length:
        return text
    return format_html('<span title="{}">{}…</span>', text, text[: length - 1])
