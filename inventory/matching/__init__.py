"""The matching service: one catalog per retailer, whatever system a record came from.

``inventory.mapping`` calls it for every ingest batch (syncs and webhooks alike), under the retailer's lock;
staff and merchants resolve what it could not decide through ``review``.
"""

from .products import match_products
from .stores import match_stores

__all__ = ["match_products", "match_stores"]
