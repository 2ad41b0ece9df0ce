"""How staff read a stock check's drift report (``SyncRun.drift``): one line of figures, then the sample of levels
that differed (ours vs the provider's, largest difference first) and of levels missing on either side."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join

from integrations.sync.drift import SAMPLE_SIZE, summary
from inventory.stock_levels import QUANTITIES


def _quantities(values: dict | None) -> str:
    if values is None:
        return "-"
    return ", ".join(f"{q} {values[q]}" for q in QUANTITIES if values.get(q) is not None) or "none reported"


def _rows(entries: list[dict], kind: str):
    return format_html_join(
        "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        ((kind if e["ours"] is not None and e["theirs"] is not None else
          ("missing here" if e["ours"] is None else "missing at provider"),
          e["location"], e["item"], _quantities(e["ours"]), _quantities(e["theirs"]), e["difference"] or "-")
         for e in entries),
    )


def drift_html(drift: dict | None) -> str:
    if not drift:
        return "-"
    entries = list(drift.get("sample") or []) + list(drift.get("missing_at_provider_sample") or [])
    figures = format_html(
        "<p class='so-drift-figures'>{}. Checked {}, matching {}, drifted {}, missing here {}, missing at the "
        "provider {}, newer here (left alone) {}, healed {}.</p>",
        summary(drift), drift.get("checked", 0), drift.get("matching", 0), drift.get("drifted", 0),
        drift.get("missing_here", 0), drift.get("missing_at_provider", 0), drift.get("newer_here", 0),
        drift.get("healed", 0))
    if not entries:
        return figures
    return format_html(
        "{}<table class='so-drift'><thead><tr><th>what</th><th>location</th><th>item</th><th>ours</th>"
        "<th>provider's</th><th>difference</th></tr></thead><tbody>{}</tbody></table>"
        "<p class='help'>A sample: at most {} levels of each kind; the figures above count all of them.</p>",
        figures, _rows(entries, "differs"), SAMPLE_SIZE)
