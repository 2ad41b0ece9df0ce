"""Match keys: what two systems' spellings of one product or store have in common.

- SKU: upper case, letters and digits only ("sku-000123 ", "SKU 000123" and "SKU000123" are one SKU).
- Barcode: a valid GTIN (UPC-A 12, EAN-13, GTIN-14, EAN-8; check digit verified by python-stdnum) becomes its
  GTIN-14; anything else that is not empty (an in-house code, a mistyped UPC) is kept as ``X:<letters/digits>``, so
  it still matches its exact twin but never a GTIN.
- Address: the street line and the city, lower case, punctuation dropped, street words abbreviated
  ("100 MAIN ST., Portland" == "100 Main Street, Portland, OR, US").
- Names: rapidfuzz token-set similarity (0-100), a supporting signal only, never a reason to match on its own.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz, utils
from stdnum import ean
from stdnum.exceptions import ValidationError

_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]+")
_STREET_WORDS = {
    "street": "st", "avenue": "ave", "av": "ave", "road": "rd", "boulevard": "blvd", "drive": "dr", "lane": "ln",
    "place": "pl", "court": "ct", "suite": "ste", "north": "n", "south": "s", "east": "e", "west": "w",
    "highway": "hwy", "parkway": "pkwy", "square": "sq",
}


def sku_key(sku: str | None) -> str:
    return _NOT_ALNUM.sub("", sku or "").upper()[:255]


def gtin14(barcode: str | None) -> str:
    """The GTIN-14 of a valid GTIN-8/12/13/14, else ""."""
    digits = (barcode or "").strip()
    if digits.isdigit() and len(digits) in (8, 12, 13, 14):
        # The usual shape: check the digit directly with stdnum's own GS1 check, skipping ``validate``'s
        # clean-up pass (a third of a sync page's matching time).
        return digits.zfill(14) if ean.calc_check_digit(digits[:-1]) == digits[-1] else ""
    try:
        compact = ean.validate(digits)
    except ValidationError:
        return ""
    return compact.zfill(14)


def barcode_key(barcode: str | None) -> str:
    gtin = gtin14(barcode)
    if gtin:
        return gtin
    raw = _NOT_ALNUM.sub("", barcode or "").upper()
    return f"X:{raw}"[:64] if raw else ""


def is_gtin(key: str) -> bool:
    return bool(key) and not key.startswith("X:")


def address_key(address: str | None) -> str:
    parts = [p for p in (address or "").split(",") if p.strip()]
    if not parts:
        return ""
    words = []
    for part in parts[:2]:  # street line and city; regions, postcodes and countries are spelled too many ways
        for word in _NOT_ALNUM.sub(" ", part).lower().split():
            words.append(_STREET_WORDS.get(word, word))
        words.append("|")
    return " ".join(words[:-1])[:255]


def name_similarity(a: str | None, b: str | None) -> int:
    if not a or not b:
        return 0
    return round(fuzz.token_set_ratio(a, b, processor=utils.default_process))
