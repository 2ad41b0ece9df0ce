"""Login throttling backend: django-axes's, for web logins only."""

from axes.backends import AxesStandaloneBackend


class LoginThrottleBackend(AxesStandaloneBackend):
    """axes refuses an ``authenticate()`` without a request; such calls (the shell, ``Client.login`` in tests,
    scripts) are not a web form anyone can hammer, so they pass through unthrottled instead of crashing."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
