"""Read-only API over connections and their sync runs. It lives in integrations (not inventory/api) because
inventory must not import integrations; the routes are wired in ``shelfops/api_urls.py``."""
