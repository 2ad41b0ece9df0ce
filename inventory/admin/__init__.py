from . import catalog, mappings, merges, retailers, sales  # noqa: F401  (registers the model admins)
