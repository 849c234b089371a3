"""The language of a request, as the server sees it: for `<html lang>`, the page title and the
language store's first value, so the server's HTML already agrees with what the page shows.

In order: `?lang=` in the URL; the language store's value when the request is Dash's routing
callback (that is how a switch reaches the page title); the cookie the language switch sets;
the browser's Accept-Language, if it prefers one of ours; the operator's default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from dashboard import i18n, ids
from dashboard.i18n import t
from stadtpuls.links import LANGUAGE_COOKIE

COOKIE = LANGUAGE_COOKIE
COOKIE_MAX_AGE_S = 365 * 24 * 3600


def request_language(default: str = i18n.DEFAULT) -> str:
    from flask import has_request_context, request

    if not has_request_context():
        return default
    wanted = request.args.get("lang")
    if wanted in i18n.LANGUAGES:
        return str(wanted)
    if request.method == "POST":
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            found = _lang_input(body)
            if found:
                return found
    cookie = request.cookies.get(COOKIE)
    if cookie in i18n.LANGUAGES:
        return str(cookie)
    best = request.accept_languages.best_match(i18n.LANGUAGES)
    return best if best in i18n.LANGUAGES else default


def _flat(items: Any) -> Iterable[Any]:
    if isinstance(items, list):
        for item in items:
            yield from _flat(item)
    elif isinstance(items, dict):
        yield items


def _lang_input(body: dict[str, Any]) -> str | None:
    for item in (*_flat(body.get("inputs")), *_flat(body.get("state"))):
        if item.get("id") == ids.LANG and item.get("property") == "data":
            value = item.get("value")
            return value if isinstance(value, str) and value in i18n.LANGUAGES else None
    return None


def default_language() -> str:
    """The operator's default (`--language`), inside a request of a dashboard app."""
    from dashboard import runtime

    try:
        return runtime.source().settings.default_language
    except RuntimeError:
        return i18n.DEFAULT


def page_title(key: str) -> Callable[..., str]:
    """A Dash page `title` callable: "<page> – Stadtpuls" in the request's language."""

    def title(**_: Any) -> str:
        return f"{t(key, request_language(default_language()))} – {t('app.name', 'de')}"

    return title
