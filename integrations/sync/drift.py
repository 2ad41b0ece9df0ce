"""Stock drift: the provider's full snapshot of stock levels compared with ours, per item and location.

Pure functions (no database, no HTTP): ``merge_snapshot`` folds the snapshot's records into one level per
(location, item), ``compare`` says which of ours differ and returns the levels to heal with, which the engine hands to
the ordinary stock ingest.

Ordering against webhooks. The snapshot is read before it is compared, and a webhook may change a level in between
(or between the comparison and the healing write). Each level carries the provider's own time (``as_of``): where ours
is newer than the snapshot's, ours came from an update the snapshot predates, so it is neither counted as drift nor
healed; and the healing write itself goes through ingest's newer-wins guard (``excluded.as_of >= stored as_of``), so
a webhook that lands after the comparison still wins over the older snapshot.

Report (``SyncRun.drift``, JSON; quantities as decimal strings)::

    {"checked": levels in the snapshot, "matching": .., "drifted": levels present on both sides that differ,
     "missing_here": in the snapshot, not stored by us (healed: created),
     "missing_at_provider": stored by us, absent from the snapshot (recorded only: the provider no longer reports
                            them, so there is nothing to heal from; deleted items/locations are not counted),
     "newer_here": ours newer than the snapshot (left alone), "healed": levels handed to ingest,
     "total_difference": sum over drifted levels of their largest absolute difference, "largest_difference": ..,
     "sample": up to SAMPLE_SIZE drifted levels, largest difference first, each {location, item, ours, theirs,
               difference}, then missing_here ones (ours null),
     "missing_at_provider_sample": up to SAMPLE_SIZE of those (theirs null)}
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from inventory.records import StockLevel
from inventory.stock_levels import QUANTITIES, StoredLevel

SAMPLE_SIZE = 20

Key = tuple[str, str, bool]  # (location id, item id, item id is the provider's secondary id)


def key_of(record: StockLevel) -> Key:
    return (record.location_external_id, record.item_external_id, bool(record.item_id_is_secondary))


def merge_snapshot(records: Iterable[StockLevel]) -> dict[Key, StockLevel]:
    """One level per key. A provider may report a key's states in several records (Square: one count per state,
    possibly on different pages): merged oldest to newest, a newer record's reported quantities win, states it did
    not report keep the older ones; ``as_of`` is the newest."""
    merged: dict[Key, StockLevel] = {}
    for record in sorted((r for r in records if r.as_of is not None), key=lambda r: r.as_of):
        held = merged.get(key_of(record))
        if held is not None:
            record = replace(record, **{q: getattr(record, q) if getattr(record, q) is not None else getattr(held, q)
                                        for q in QUANTITIES})
        merged[key_of(record)] = record
    return merged


def text(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return format(value.normalize(), "f")  # "5", "2.5", "500" (not "5E+2")


def _quantities(source) -> dict[str, str | None]:
    if isinstance(source, StoredLevel):
        return {q: text(source.quantities[q]) for q in QUANTITIES}
    return {q: text(getattr(source, q)) for q in QUANTITIES}


def difference(ours: StoredLevel, theirs: StockLevel) -> Decimal | None:
    """The largest absolute difference over the quantities the provider reported; None when they all agree. A
    quantity we never stored (null) differs from any reported value (measured from 0)."""
    largest = None
    for q in QUANTITIES:
        their_value = getattr(theirs, q)
        if their_value is None:
            continue
        our_value = ours.quantities[q]
        if our_value is not None and our_value == their_value:
            continue
        gap = abs(their_value - (our_value or Decimal(0)))
        largest = gap if largest is None or gap > largest else largest
    return largest


@dataclass
class DriftReport:
    checked: int = 0
    matching: int = 0
    drifted: int = 0
    missing_here: int = 0
    missing_at_provider: int = 0
    newer_here: int = 0
    healed: int = 0
    total_difference: Decimal = Decimal(0)
    largest_difference: Decimal = Decimal(0)
    differing: list[tuple[Decimal, dict]] = field(default_factory=list)
    missing_here_sample: list[dict] = field(default_factory=list)
    missing_at_provider_sample: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        top = sorted(self.differing, key=lambda entry: (-entry[0], entry[1]["location"], entry[1]["item"]))
        sample = [entry for _gap, entry in top[:SAMPLE_SIZE]]
        sample += self.missing_here_sample[: SAMPLE_SIZE - len(sample)]
        return {
            "checked": self.checked, "matching": self.matching, "drifted": self.drifted,
            "missing_here": self.missing_here, "missing_at_provider": self.missing_at_provider,
            "newer_here": self.newer_here, "healed": self.healed,
            "total_difference": text(self.total_difference), "largest_difference": text(self.largest_difference),
            "sample": sample, "missing_at_provider_sample": self.missing_at_provider_sample,
        }


def _entry(location: str, item: str, ours, theirs, gap: Decimal | None) -> dict:
    return {"location": location, "item": item, "ours": _quantities(ours) if ours is not None else None,
            "theirs": _quantities(theirs) if theirs is not None else None, "difference": text(gap)}


def compare(snapshot: dict[Key, StockLevel], stored: Iterable[StoredLevel]) -> tuple[DriftReport, list[StockLevel]]:
    """The drift between the provider's snapshot and our stored levels, and the snapshot levels to heal ours with
    (drifted and missing here, in key order)."""
    by_primary: dict[tuple[str, str], StoredLevel] = {}
    by_secondary: dict[tuple[str, str], StoredLevel] = {}
    for level in stored:
        by_primary[(level.location_external_id, level.item_external_id)] = level
        if level.item_secondary_id:
            by_secondary[(level.location_external_id, level.item_secondary_id)] = level
    report, heal = DriftReport(checked=len(snapshot)), []
    seen: set[int] = set()
    for key in sorted(snapshot):
        theirs = snapshot[key]
        location, item, secondary = key
        ours = (by_secondary if secondary else by_primary).get((location, item))
        if ours is None:
            report.missing_here += 1
            if len(report.missing_here_sample) < SAMPLE_SIZE:
                report.missing_here_sample.append(_entry(location, item, None, theirs, None))
            heal.append(theirs)
            continue
        seen.add(id(ours))
        if ours.as_of > theirs.as_of:
            report.newer_here += 1  # updated after the snapshot was taken (a webhook): ours is the truth now
            continue
        gap = difference(ours, theirs)
        if gap is None:
            report.matching += 1
            continue
        report.drifted += 1
        report.total_difference += gap
        report.largest_difference = max(report.largest_difference, gap)
        report.differing.append((gap, _entry(location, item, ours, theirs, gap)))
        heal.append(theirs)
    for level in by_primary.values():
        if id(level) in seen or level.deleted_at_source:
            continue
        report.missing_at_provider += 1
        if len(report.missing_at_provider_sample) < SAMPLE_SIZE:
            report.missing_at_provider_sample.append(
                _entry(level.location_external_id, level.item_external_id, level, None, None))
    report.healed = len(heal)
    return report, heal


def summary(drift: dict | None) -> str:
    """One line for run lists: "2 of 40 levels differed (total 9, largest 5); 1 missing here"."""
    if not drift:
        return ""
    if not (drift.get("drifted") or drift.get("missing_here") or drift.get("missing_at_provider")):
        return f"no drift in {drift.get('checked', 0)} levels"
    words = f"{drift['drifted']} of {drift['checked']} levels differed"
    if drift["drifted"]:
        words += f" (total {drift['total_difference']}, largest {drift['largest_difference']})"
    if drift.get("missing_here"):
        words += f"; {drift['missing_here']} missing here"
    if drift.get("missing_at_provider"):
        words += f"; {drift['missing_at_provider']} missing at the provider"
    return words + (f"; {drift['healed']} healed" if drift.get("healed") else "")
