from . import catalog, mappings, retailers, sales  # noqa: F401  (registers the model admins)
