"""ShipBob stand-in (WMS): ``{SANDBOX_URL}/shipbob/auth`` = ``https://auth.shipbob.com`` (``authstage`` for
ShipBob's sandbox), ``{SANDBOX_URL}/shipbob`` = ``https://api.shipbob.com`` (dated versions in the path)."""
