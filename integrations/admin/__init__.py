from . import calllog, connections, oauth, sync, webhooks  # noqa: F401  (registers the model admins)
