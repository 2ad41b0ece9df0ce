"""OAuth connect flows and the token lifecycle: state + PKCE, connect/callback views, token store, refresh under a
per-connection lock, revoke and disconnect. Providers configure the shared ``OAuthFlow`` in their ``oauth.py``."""
