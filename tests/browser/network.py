"""Cut a browser context off the network and record what it asks for.

Every request (and websocket) of the context is recorded; a request to any host other than the allowed one
is aborted, as with the cable pulled. ``file:``, ``data:``, ``blob:`` and ``about:`` URLs never leave the machine.
"""
from __future__ import annotations

from urllib.parse import urlparse

LOCAL_SCHEMES = ("data", "blob", "about", "file", "chrome-extension", "devtools")


class CutNetwork:
    """Route every request of ``context``: the ``allowed_host`` (or local schemes only, when None) passes,
    everything else is aborted and listed in :attr:`foreign`."""

    def __init__(self, context, allowed_host: str | None = None) -> None:
        self.allowed_host = allowed_host
        self.seen: list[str] = []
        self.foreign: list[str] = []
        context.on("request", lambda request: self._record(request.url))
        context.on("page", self.watch)
        for page in context.pages:
            self.watch(page)
        context.route("**/*", self._route)

    def watch(self, page) -> None:
        """Websockets are not requests to Playwright: record them from each page."""
        page.on("websocket", lambda socket: self._record(socket.url))

    def is_local(self, url: str) -> bool:
        parsed = urlparse(url)
        if parsed.scheme in LOCAL_SCHEMES:
            return True
        return self.allowed_host is not None and parsed.hostname == self.allowed_host

    def _record(self, url: str) -> None:
        self.seen.append(url)
        if not self.is_local(url):
            self.foreign.append(url)

    def _route(self, route) -> None:
        if self.is_local(route.request.url):
            route.continue_()
        else:
            route.abort("internetdisconnected")
