"""One dashboard page: its route, its layout and its callbacks, registered on one app.

Why not Dash's own pattern (a pages folder whose modules call `dash.callback`): those
callbacks wait in a process-global list until the first app serves a request, which then
takes all of them; a second app built in the same process (tests, a restarted server) got
none or a second copy. A `Page` only remembers its callbacks and hands them to each app's
`app.callback` in `register`, so every app owns its callbacks and nothing touches Dash's
private state.

The route and layout go to `dash.register_page`, whose registry is process-global by
design; every app registers the same pages, so registering again changes nothing. Layouts
are therefore shared by all apps and find their app's data through `dashboard.runtime`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import dash
from dash import Dash

from dashboard.language import page_title

F = TypeVar("F", bound=Callable[..., Any])

# Dash's register_page is not annotated; call it through this typed name.
_register_page: Callable[..., None] = dash.register_page


class Page:
    """`Page(__name__, path=..., **register_page options)`; decorate its layout and callbacks.

    `nav_key` (a navigation entry) or `title_key` name the i18n text of the page's title.
    """

    def __init__(self, module: str, **options: Any) -> None:
        self.module = module
        self.options = options
        self._layout: Callable[..., Any] | None = None
        self._callbacks: list[tuple[tuple[Any, ...], dict[str, Any], Callable[..., Any]]] = []
        self._clientside: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def layout(self, fn: F) -> F:
        """Decorator: the page's layout function (called per request, with path and query
        variables and the language)."""
        self._layout = fn
        return fn

    def callback(self, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        """Decorator taking `app.callback`'s arguments; registered on each app in `register`."""

        def remember(fn: F) -> F:
            self._callbacks.append((args, kwargs, fn))
            return fn

        return remember

    def clientside(self, script: str, *args: Any, **kwargs: Any) -> None:
        """A clientside callback (`app.clientside_callback`'s arguments), registered likewise."""
        self._clientside.append((script, args, kwargs))

    def register(self, app: Dash) -> None:
        """Route this page in `app` (built with `use_pages=True, pages_folder=""`)."""
        if self._layout is None:
            raise RuntimeError(f"page {self.module} has no layout; decorate one with @page.layout")
        options = dict(self.options)
        # The title follows the visitor's language (server HTML and after each switch).
        key = options.pop("title_key", None) or options.get("nav_key")
        if key:
            options["title"] = page_title(key)
        _register_page(self.module, layout=self._layout, **options)
        for args, kwargs, fn in self._callbacks:
            app.callback(*args, **kwargs)(fn)
        for script, args, kwargs in self._clientside:
            app.clientside_callback(script, *args, **kwargs)  # type: ignore[no-untyped-call]
