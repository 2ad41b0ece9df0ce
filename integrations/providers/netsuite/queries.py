"""The SuiteQL the NetSuite streams send (provider-facts 3.3). The sandbox serves exactly these shapes.

Dates: SuiteQL returns dates formatted by the user's preferences ("11/28/2026 3:04 pm"), so every date is read
through ``TO_CHAR`` in one fixed format and compared through ``TO_TIMESTAMP`` in the same format. Both happen in
the session's time zone, which ``connection.settings["timezone"]`` names (default UTC), so the round trip is
exact whatever that zone is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from .suiteql import KeyedQuery, sql_in, sql_int, sql_text

TIMESTAMP_FORMAT = "YYYY-MM-DD HH24:MI:SS"  # SuiteQL (Oracle) format
PY_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"  # the same, for Python
DATE_FORMAT = "YYYY-MM-DD"

DEFAULT_ITEM_TYPES = ("InvtPart", "Assembly")
DEFAULT_SALE_TYPES = ("CashSale", "CustInvc")
SALES_ORDER = "SalesOrd"


def char_timestamp(column: str, alias: str) -> str:
    return f"TO_CHAR({column}, '{TIMESTAMP_FORMAT}') AS {alias}"


def modified_since(column: str, local_since: datetime) -> str:
    """``column >= TO_TIMESTAMP(...)``; ``local_since`` is already in the session's zone (naive)."""
    stamp = local_since.strftime(PY_TIMESTAMP_FORMAT)
    return f"{column} >= TO_TIMESTAMP({sql_text(stamp)}, '{TIMESTAMP_FORMAT}')"


def locations() -> KeyedQuery:
    return KeyedQuery(
        select="l.id, l.name, l.fullname, l.isinactive, BUILTIN.DF(l.mainaddress) AS address, "
        + char_timestamp("l.lastmodifieddate", "lastmodified"),
        source="location l",
        key=(("l.id", "id"),),
    )


def items(item_types: Sequence[str], local_since: datetime | None) -> KeyedQuery:
    conditions = [sql_in("i.itemtype", item_types)]
    if local_since is not None:
        conditions.append(modified_since("i.lastmodifieddate", local_since))
    return KeyedQuery(
        select="i.id, i.itemid, i.upccode, i.displayname, i.isinactive, i.itemtype, "
        + char_timestamp("i.lastmodifieddate", "lastmodified"),
        source="item i",
        key=(("i.id", "id"),),
        conditions=tuple(conditions),
    )


def stock(item_types: Sequence[str]) -> KeyedQuery:
    """Stock by location. ``inventoryitemlocations`` has no modification date, so every run reads all of it."""
    return KeyedQuery(
        select="iil.item, iil.location, i.itemid AS sku, iil.quantityonhand, iil.quantityavailable, "
        "iil.quantitycommitted, iil.quantityonorder",
        source="inventoryitemlocations iil JOIN item i ON i.id = iil.item",
        key=(("iil.item", "item"), ("iil.location", "location")),
        conditions=(sql_in("i.itemtype", item_types),),
    )


def sale_headers(types: Sequence[str], local_since: datetime | None) -> KeyedQuery:
    conditions = [sql_in("t.type", types)]
    if local_since is not None:
        conditions.append(modified_since("t.lastmodifieddate", local_since))
    return KeyedQuery(
        select="t.id, t.tranid, t.type, t.status, t.voided, c.symbol AS currency, "
        f"TO_CHAR(t.trandate, '{DATE_FORMAT}') AS trandate, "
        + char_timestamp("t.lastmodifieddate", "lastmodified"),
        source="transaction t LEFT JOIN currency c ON c.id = t.currency",
        key=(("t.id", "id"),),
        conditions=tuple(conditions),
    )


def sale_lines(transaction_ids: Sequence) -> KeyedQuery:
    """Item lines of the given transactions (at most 1000 ids: Oracle's IN-list limit, and one header page)."""
    ids = ", ".join(str(sql_int(i)) for i in transaction_ids)
    return KeyedQuery(
        select="tl.transaction, tl.id, tl.item, i.itemid AS sku, tl.location, tl.quantity, tl.rate, "
        "tl.foreignamount",
        source="transactionline tl LEFT JOIN item i ON i.id = tl.item",
        key=(("tl.transaction", "transaction"), ("tl.id", "id")),
        conditions=(f"tl.transaction IN ({ids})", "tl.mainline = 'F'", "tl.taxline = 'F'", "tl.item IS NOT NULL"),
    )


# NetSuite's deleted-records log (the Deleted Record search / SOAP getDeleted data, as SuiteQL table DeletedRecord):
# one row per deleted record with its internal id, record type id, name and deletion date. Record type ids are
# SuiteScript's (``inventoryitem``, ``location``); the item types the items stream reads map to them here.
ITEM_RECORD_TYPES = {"InvtPart": "inventoryitem", "Assembly": "assemblyitem", "NonInvtPart": "noninventoryitem",
                     "Kit": "kititem", "Service": "serviceitem", "OthCharge": "otherchargeitem",
                     "GiftCert": "giftcertificateitem", "Description": "descriptionitem", "Discount": "discountitem"}
LOCATION_RECORD_TYPES = ("location",)


def deleted_records(record_types: Sequence[str], local_since: datetime | None) -> KeyedQuery:
    """Deletions of ``record_types`` since the cursor (``deleteddate``), by record id. Item ids are unique across
    item types and location ids among locations, so one query per group keeps ``recordid`` a unique key."""
    conditions = [sql_in("d.recordtypeid", record_types)]
    if local_since is not None:
        conditions.append(modified_since("d.deleteddate", local_since))
    return KeyedQuery(
        select="d.recordid, d.recordtypeid, d.name, " + char_timestamp("d.deleteddate", "deleted"),
        source="deletedrecord d",
        key=(("d.recordid", "recordid"),),
        conditions=tuple(conditions),
    )
