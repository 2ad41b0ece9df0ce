"""Provider sandbox: local stand-ins for Square, Shopify and NetSuite that speak their real protocols.

Written from ``provider-facts.md``, never from the portal's client code, so it checks that code. No models and no
use of the portal's database: its state lives in memory (``sandbox.state``). ``sandbox.data`` is the deterministic
data generator, usable on its own (benchmarks).
"""
