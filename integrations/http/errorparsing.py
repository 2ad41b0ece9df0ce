"""Provider error bodies -> (codes, detail, flags). Each provider may ship ``providers/<key>/errors.py`` with a
``parse_error(status, payload) -> ParsedError``; this module finds it (the registry stays the only list of
providers) and falls back to the generic parser (OAuth ``error``/``error_description``, ``message``, ``errors``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import import_module


@dataclass(frozen=True)
class ParsedError:
    codes: list[str] = field(default_factory=list)
    detail: str = ""
    rate_limited: bool = False  # the provider says "slow down" (even without a 429: NetSuite RESTlets use 400)
    auth: bool = False  # the credentials are the problem (reconnect / refresh)


def _text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "; ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return "" if value is None else str(value)


def generic_parse_error(status: int | None, payload) -> ParsedError:
    if not isinstance(payload, dict):
        return ParsedError()
    if "error" in payload and isinstance(payload["error"], str):  # OAuth 2.0 (RFC 6749 section 5.2)
        return ParsedError(codes=[payload["error"]], detail=_text(payload.get("error_description", "")),
                           auth=payload["error"] in {"invalid_grant", "invalid_client", "unauthorized_client"})
    codes: list[str] = []
    errors = payload.get("errors")
    if isinstance(errors, list):
        for e in errors:
            if isinstance(e, dict):
                code = e.get("code") or (e.get("extensions") or {}).get("code")
                if code:
                    codes.append(str(code))
    detail = _text(payload.get("message") or payload.get("detail") or payload.get("title") or errors or "")
    return ParsedError(codes=codes, detail=detail, rate_limited="THROTTLED" in codes or "RATE_LIMITED" in codes)


@cache
def _provider_parser(provider_key: str):
    try:
        module = import_module(f"integrations.providers.{provider_key}.errors")
    except ModuleNotFoundError as exc:
        if exc.name != f"integrations.providers.{provider_key}.errors":
            raise
        return generic_parse_error
    return getattr(module, "parse_error", generic_parse_error)


def parse_error(provider_key: str, status: int | None, payload) -> ParsedError:
    parsed = _provider_parser(provider_key)(status, payload)
    if not parsed.codes and not parsed.detail:
        parsed = generic_parse_error(status, payload)
    detail = parsed.detail[:500]
    return ParsedError(codes=parsed.codes[:20], detail=detail, rate_limited=parsed.rate_limited, auth=parsed.auth)
