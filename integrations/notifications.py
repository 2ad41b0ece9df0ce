"""E-mail when a connection's health changes: to the retailer's users and to staff (``ADMINS``), once per change.

``integrations.health.store_health`` decides *when* (a change of state, or a new problem such as a freshness
breach while the state holds), under a row lock, so this module only says *what*: what happened, in words, and a
link to the page where the merchant can act. Sent with Django's mail backends (locmem in tests).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, mail_admins
from django.urls import reverse

log = logging.getLogger(__name__)


def connection_url(connection) -> str:
    base = str(getattr(settings, "BASE_URL", "") or "").rstrip("/")
    return f"{base}{reverse('portal-connection', args=[connection.pk])}"


def recipients(connection) -> list[str]:
    users = get_user_model().objects.filter(merchant__retailer_id=connection.retailer_id, is_active=True)
    return sorted({u.email for u in users if u.email})


def compose(connection, old_state, health, new_problems) -> tuple[str, str]:
    from integrations.health import LABELS
    from integrations.providers import get_provider

    name = get_provider(connection.provider).name
    account = connection.display_name or connection.external_account_id
    if old_state and old_state != health.state:
        subject = f"{name} ({account}): {LABELS.get(old_state, old_state)} -> {health.label}"
    else:
        subject = f"{name} ({account}): {health.label}, new problem"
    lines = [f"Your {name} connection '{account}' is now: {health.label}."]
    if old_state and old_state != health.state:
        lines.append(f"It was: {LABELS.get(old_state, old_state)}.")
    if new_problems:
        lines += ["", "What changed:"] + [f"- {r.text}" for r in new_problems]
    if health.reasons:
        lines += ["", "Everything that needs attention now:"] + [f"- {r.text}" for r in health.reasons]
    else:
        lines += ["", "Nothing needs your attention: syncs are running and up to date."]
    lines += ["", f"See it and act (reconnect, resume, sync now): {connection_url(connection)}"]
    return subject, "\n".join(lines)


def notify_health_change(connection, old_state, health, new_problems) -> None:
    subject, body = compose(connection, old_state, health, new_problems)
    prefix = getattr(settings, "EMAIL_SUBJECT_PREFIX", "")
    to = recipients(connection)
    try:
        if to:
            EmailMessage(f"{prefix}{subject}", body, settings.SERVER_EMAIL, to).send()
        mail_admins(f"{connection.retailer}: {subject}", body)
    except Exception:  # noqa: BLE001 - a mail server outage must not fail the run that changed the health
        log.exception("could not send the health notification for connection %s", connection.pk)
