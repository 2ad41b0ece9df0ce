"""The sandbox's own control API under ``/_sandbox`` (not part of any provider):

- ``GET /_sandbox/health``; ``POST /_sandbox/reset`` (tokens, faults, overlays, counters, clock)
- ``GET /_sandbox/faults``; ``POST /_sandbox/faults/<provider>`` with a JSON object of ``Faults`` fields
  (``{"latency_ms": 200, "error_rate": 0.1, "fail_next": [503, 429], "plan": "plus", "token_state": "expired"}``);
  ``DELETE /_sandbox/faults/<provider>`` clears them
- ``POST /_sandbox/<provider>/<account>/sales`` ``{"location": 0, "items": [["SKU-000001", 2]]}``,
  ``.../stock`` ``{"item": "SKU-000001", "location": 0, "on_hand": 5}`` (``"silent": true``: no webhook; ``GET
  .../stock?item=SKU-000001&location=0`` reads the level the provider holds), ``.../products``
  ``{"item": "SKU-000001", "price_cents": 999}``, ``.../cancellations`` ``{"order": "gid://shopify/Order/..."}``
  , ``.../refunds`` ``{"order": 3, "items": [[0, 1]], "restock_type": "RETURN"}`` (Shopify refund/return; Square
  itemized refund order), ``.../deleted_locations`` ``{"location": 1}``
  (NetSuite); cancellations are Shopify only; account ``default`` = the provider's demo account
- ``POST /_sandbox/retailers`` ``{"seed", "accounts": {provider: account}}`` (one ground-truth catalog for those
  accounts), ``GET /_sandbox/retailers/<seed>/truth`` (which external ids are the same product/store; tests only)
- ``POST /_sandbox/webhooks/drop`` ``{"provider": "square", "count": 2}``: lose that provider's next 2 webhook events
- ``GET /_sandbox/counters``, ``GET /_sandbox/deliveries``, ``POST /_sandbox/clock`` ``{"advance": 3600}``,
  ``POST /_sandbox/webhooks`` ``{"portal_base_url": ..., "square_notification_url": ...,
  "duplicate_webhook_probability": 0.0, "webhook_retry_scale": 0.001}``
"""

from __future__ import annotations

from werkzeug.wrappers import Request

from . import catalog, changes
from .http import Route, html_page, json_response, read_json
from .state import PROVIDERS


def _body(request: Request):
    body = read_json(request)
    if body is None:
        return None, json_response({"error": "the body must be a JSON object"}, 400)
    return body, None


def health(app, request: Request):
    return json_response({"ok": True})


def index(app, request: Request):
    cfg = app.state.config
    rows = "".join(f"<li><code>{p}</code></li>" for p in (
        "/square/oauth2/authorize, /square/v2/...", "/shopify/{shop}.myshopify.com/admin/...",
        "/netsuite/{account_host}/app/app/login/oauth2/authorize.nl, /netsuite/{account_host}/suitetalk/...",
        "/_sandbox/faults, /_sandbox/counters, /_sandbox/deliveries"))
    return html_page("ShelfOps provider sandbox", f"""<h1>Provider sandbox</h1>
<p>Stand-ins for Square, Shopify and NetSuite. Webhooks go to <code>{cfg.portal_base_url}</code>.</p>
<ul>{rows}</ul>""")


def reset(app, request: Request):
    app.state.reset()
    return json_response({"ok": True})


def faults(app, request: Request, provider: str | None = None):
    if provider is not None and provider not in PROVIDERS:
        return json_response({"error": f"unknown provider {provider}"}, 404)
    if request.method == "DELETE":
        app.state.clear_faults(provider)
    elif request.method == "POST":
        body, error = _body(request)
        if error:
            return error
        try:
            app.state.set_faults(provider, **body)
        except (ValueError, TypeError) as exc:
            return json_response({"error": str(exc)}, 400)
    return json_response({p: app.state.faults[p].public() for p in ([provider] if provider else PROVIDERS)})


def change(app, request: Request, provider: str, account: str, what: str):
    if provider not in PROVIDERS:
        return json_response({"error": f"unknown provider {provider}"}, 404)
    body, error = _body(request)
    if error:
        return error
    action = {"sales": changes.create_sale, "stock": changes.change_stock, "products": changes.edit_product,
              "cancellations": changes.cancel_order, "refunds": changes.refund_order,
              "deleted_locations": changes.delete_location}[what]
    try:
        result = action(app, provider, None if account == "default" else account, **body)
    except (ValueError, TypeError) as exc:
        return json_response({"error": str(exc)}, 400)
    return json_response(result, 201)


def stock_truth(app, request: Request, provider: str, account: str):
    """``GET /_sandbox/<provider>/<account>/stock?item=SKU-000001&location=0``: the level the provider holds."""
    if provider not in PROVIDERS:
        return json_response({"error": f"unknown provider {provider}"}, 404)
    item = request.args.get("item", "0")
    try:
        result = changes.stock_truth(app, provider, None if account == "default" else account,
                                     item=int(item) if item.isdigit() else item,
                                     location=int(request.args.get("location", "0")))
    except (ValueError, TypeError) as exc:
        return json_response({"error": str(exc)}, 400)
    return json_response(result)


def drop_webhooks(app, request: Request):
    """``POST /_sandbox/webhooks/drop`` ``{"provider": "square", "count": 2}``: lose the provider's next N webhook
    events (never delivered, never retried; listed in deliveries as dropped). ``GET``: drops still pending."""
    if request.method == "POST":
        body, error = _body(request)
        if error:
            return error
        try:
            app.state.drop_webhooks(str(body.get("provider", "")), int(body.get("count", 1)))
        except (ValueError, TypeError) as exc:
            return json_response({"error": str(exc)}, 400)
    return json_response(dict(app.state.webhook_drops))


def retailers(app, request: Request):
    """``POST /_sandbox/retailers`` ``{"seed": "acme", "accounts": {"square": ..., "shopify": ..., "netsuite": ...}}``
    makes those accounts views of one ground-truth catalog (sandbox.catalog)."""
    body, error = _body(request)
    if error:
        return error
    try:
        app.state.add_retailer(str(body.get("seed") or ""), dict(body.get("accounts") or {}))
    except (ValueError, TypeError) as exc:
        return json_response({"error": str(exc)}, 400)
    return json_response({"seed": body["seed"], "accounts": app.state.config.retailers[body["seed"]]}, 201)


def retailer_truth(app, request: Request, seed: str):
    try:
        return json_response(catalog.truth(app.state, seed))
    except KeyError:
        return json_response({"error": f"unknown retailer {seed}"}, 404)


def counters(app, request: Request):
    return json_response(app.state.counters.snapshot())


def deliveries(app, request: Request):
    return json_response({"pending": app.webhooks.pending(), "deliveries": list(app.state.deliveries)})


def clock(app, request: Request):
    body, error = _body(request)
    if error:
        return error
    app.state.advance_clock(float(body.get("advance", 0)))
    return json_response({"now": app.state.now_dt().isoformat()})


def webhooks(app, request: Request):
    body, error = _body(request)
    if error:
        return error
    cfg = app.state.config
    allowed = {"portal_base_url", "square_notification_url", "duplicate_webhook_probability",
               "webhook_retry_scale"}
    if set(body) - allowed:
        return json_response({"error": f"settable: {', '.join(sorted(allowed))}"}, 400)
    if "portal_base_url" in body:
        cfg.portal_base_url = str(body["portal_base_url"]).rstrip("/")
        cfg.square_notification_url = body.get("square_notification_url") or f"{cfg.portal_base_url}/webhooks/square/"
    for key in allowed - {"portal_base_url"}:
        if key in body:
            setattr(cfg, key, type(getattr(cfg, key))(body[key]))
    return json_response({k: getattr(cfg, k) for k in sorted(allowed)})


ROUTES = [
    Route("/", index),
    Route("/_sandbox/health", health),
    Route("/_sandbox/reset", reset, ("POST",)),
    Route("/_sandbox/faults", faults),
    Route("/_sandbox/faults/<provider>", faults, ("GET", "POST", "DELETE")),
    Route("/_sandbox/<provider>/<account>/<any(sales, stock, products, cancellations, refunds, deleted_locations)"
          ":what>", change, ("POST",)),
    Route("/_sandbox/<provider>/<account>/stock", stock_truth),
    Route("/_sandbox/webhooks/drop", drop_webhooks, ("GET", "POST")),
    Route("/_sandbox/retailers", retailers, ("POST",)),
    Route("/_sandbox/retailers/<seed>/truth", retailer_truth),
    Route("/_sandbox/counters", counters),
    Route("/_sandbox/deliveries", deliveries),
    Route("/_sandbox/clock", clock, ("POST",)),
    Route("/_sandbox/webhooks", webhooks, ("POST",)),
]
