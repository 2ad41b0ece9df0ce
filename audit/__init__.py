"""The audit trail: who did what to which retailer's systems, from where, and how it ended.

Other areas call ``audit.record(...)`` (or wrap an action in ``audit.audited(...)``); nothing else writes entries.
"""


def record(*args, **kwargs):
    # Lazy: this package is imported while apps load; the service imports models.
    from .service import record as _record

    return _record(*args, **kwargs)


def audited(*args, **kwargs):
    from .service import audited as _audited

    return _audited(*args, **kwargs)


def common_retailer(*args, **kwargs):
    from .service import common_retailer as _common_retailer

    return _common_retailer(*args, **kwargs)
