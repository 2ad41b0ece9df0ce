"""Small HTTP helpers shared by the provider modules: JSON answers, redirects, the consent page, routes."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
from werkzeug.wrappers import Request, Response


@dataclass(frozen=True)
class Route:
    """One URL rule. ``provider`` routes are counted and subject to faults (unless ``faults=False``)."""

    path: str
    handler: Callable
    methods: tuple[str, ...] = ("GET",)
    provider: str = ""
    faults: bool = True


def json_response(data, status: int = 200, headers: dict | None = None) -> Response:
    # orjson: a page of 1000 Square orders is ~2 MB of JSON, and the stdlib encoder was a fifth of the sandbox's
    # time per page. Same compact output; anything orjson refuses (an int beyond 64 bits) falls back to json.
    try:
        body = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        body = json.dumps(data, separators=(",", ":"))
    return Response(body, status=status, headers=headers or {}, content_type="application/json")


def read_json(request: Request) -> dict | None:
    """The JSON object body, or None when the body is not a JSON object (callers answer 400)."""
    try:
        data = orjson.loads(request.get_data() or b"{}")
    except ValueError:  # orjson.JSONDecodeError is a ValueError
        return None
    return data if isinstance(data, dict) else None


def redirect_with(uri: str, params: dict) -> Response:
    """302 to ``uri`` with ``params`` appended to its query (keeping any query it already has)."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + [(k, v) for k, v in params.items() if v is not None]
    return Response(status=302, headers={"Location": urlunsplit(parts._replace(query=urlencode(query)))})


def html_page(title: str, body: str, status: int = 200) -> Response:
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#222}}
.box{{border:1px solid #ccc;border-radius:8px;padding:1.5rem}} button{{font-size:1rem;padding:.5rem 1.5rem;
margin-right:1rem;border-radius:6px;border:1px solid #888;cursor:pointer}} .allow{{background:#1a7f37;color:#fff}}
.note{{color:#666;font-size:.85rem}}</style></head><body><div class="box">{body}</div>
<p class="note">ShelfOps provider sandbox: a local stand-in, not the real provider.</p></body></html>"""
    return Response(page, status=status, content_type="text/html; charset=utf-8")


def consent_page(provider_name: str, app_name: str, account: str, scopes: list[str], action: str,
                 hidden: dict[str, str]) -> Response:
    """The page a person clicks: "Allow" or "Deny", posted back with the original request's parameters."""
    fields = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in hidden.items() if v
    )
    scope_list = "".join(f"<li>{html.escape(s)}</li>" for s in scopes) or "<li>(default scopes)</li>"
    body = f"""<h1>{html.escape(provider_name)}</h1>
<p><strong>{html.escape(app_name)}</strong> wants to access <strong>{html.escape(account)}</strong>:</p>
<ul>{scope_list}</ul>
<form method="post" action="{html.escape(action)}">{fields}
<button type="submit" name="decision" value="allow" class="allow" id="allow">Allow</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button></form>"""
    return html_page(f"{provider_name}: authorize {app_name}", body)


def error_page(title: str, reason: str, status: int = 400) -> Response:
    return html_page(title, f"<h1>{html.escape(title)}</h1><p>{html.escape(reason)}</p>", status=status)


def bearer_token(request: Request) -> str:
    auth = request.headers.get("Authorization", "")
    return auth[7:].strip() if auth[:7].lower() == "bearer " else ""


def loopback_or_portal(uri: str, portal_base_url: str, allowed: list[str]) -> bool:
    """Whether an app accepts this redirect URI. Configured URIs must match exactly; otherwise any http(s) URI
    on the portal's own host or a loopback host is accepted (tests run the portal on random ports)."""
    if allowed:
        return uri in allowed
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    return parts.hostname in ("127.0.0.1", "localhost", "::1") or parts.hostname == urlsplit(portal_base_url).hostname


def encode_cursor(data: dict) -> str:
    """An opaque cursor (providers' cursors are opaque; ours is base64 JSON so it survives restarts)."""
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(value: str) -> dict | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (ValueError, TypeError):
        return None
    return data if isinstance(data, dict) else None
