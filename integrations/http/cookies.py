"""Provider calls keep no cookies. The pooled session is shared by every tenant's connections in a process: a
cookie one merchant's provider answer sets (a load-balancer affinity or a session cookie) must never ride along
on another merchant's call, nor on this one's next call. Auth is the bearer token alone."""

from http.cookiejar import CookiePolicy


class RefuseAllCookies(CookiePolicy):
    """Neither stores a cookie from an answer nor adds one to a request (the session jar stays empty)."""

    netscape = True
    rfc2965 = False
    hide_cookie2 = True

    def set_ok(self, cookie, request) -> bool:
        return False

    def return_ok(self, cookie, request) -> bool:
        return False

    def domain_return_ok(self, domain, request) -> bool:
        return False

    def path_return_ok(self, path, request) -> bool:
        return False


def refuse_cookies(session) -> None:
    session.cookies.set_policy(RefuseAllCookies())
