"""What every list of the reader and staff pages shows around its table: a search box and a
state filter (a GET form, so a search is a link that can be kept), how many rows match, and
上一页/下一页 between pages of :data:`~isoill.library.lists.PAGE_SIZE`. The rows themselves
come a page at a time from :mod:`isoill.library.lists`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import urlencode

from twisted.web.server import Request
from twisted.web.template import Flattenable, Tag, tags

from isoill.gateway.pages import link, table
from isoill.library.lists import Found, Query
from isoill.library.pages_common import Words, options

State = TypeVar("State", bound=StrEnum)

#: The most of a search text that is searched for.
MAX_SEARCH = 100


def choices(words: Words, labels: Mapping[State, tuple[str, str]]) -> list[tuple[str, str]]:
    """A state filter's choices: each state, in the page's words."""
    return [(state.value, words.pick(label)) for state, label in labels.items()]


def read_query(request: Request) -> Query:
    """The list's ``?q=&state=&page=``; a page that is not a positive number is the first."""
    args = request.args or {}

    def arg(name: bytes) -> str:
        value: bytes = args.get(name, [b""])[0]
        return value.decode("utf-8", "replace").strip()

    page = arg(b"page")
    number = int(page) if page.isascii() and page.isdigit() else 1
    return Query(arg(b"q")[:MAX_SEARCH], arg(b"state")[:40], max(1, min(number, 10**6)))


def _href(path: str, query: Query, page: int) -> str:
    asked = {"q": query.text, "state": query.state}
    kept = {k: v for k, v in asked.items() if v}
    return f"{path}?{urlencode({**kept, 'page': page})}"


def search_form(
    words: Words, path: str, query: Query, states: Sequence[tuple[str, str]], hint: str
) -> Tag:
    """Search text (``hint`` says what is searched) and state (``(value, label)``, or any)
    for the list at ``path``."""
    return tags.form(method="get", action=path, class_="search", role="search")(
        tags.input(
            type="search",
            name="q",
            value=query.text,
            maxlength=str(MAX_SEARCH),
            placeholder=hint,
            **{"aria-label": words("search")},
        ),
        " ",
        tags.select(name="state", **{"aria-label": words("state")})(
            options([("", words("all_states")), *states], query.state)
        ),
        " ",
        tags.button(type="submit")(words("search")),
    )


def pager(words: Words, path: str, found: Found[Any]) -> Tag:
    """How many rows match, which page this is, and the links to the pages beside it."""
    page = found.query.page
    parts: list[Flattenable] = [words("count").format(total=found.total)]
    if page <= found.pages:
        parts += [" ", words("page_of").format(page=page, pages=found.pages)]
    if page > 1:
        # Past the last page (the list got shorter), "previous" is the last one.
        back = min(page - 1, found.pages)
        parts += [" ", link(_href(path, found.query, back), words("previous_page"))]
    if page < found.pages:
        parts += [" ", link(_href(path, found.query, page + 1), words("next_page"))]
    return tags.p(class_="pager")(parts)


def listing(
    words: Words,
    path: str,
    found: Found[Any],
    head: Sequence[str],
    rows: Sequence[Sequence[Flattenable]],
    *,
    id: str,
    states: Sequence[tuple[str, str]],
    empty: str = "",
    hint: str = "",
) -> list[Flattenable]:
    """A list with its search box (``hint``: what is searched; by default a request's
    fields), count and pages. Nothing at all says ``empty`` (by default 无); nothing that
    matches a search or filter says so."""
    empty, hint = empty or words("none"), hint or words("search_hint")
    shown: Flattenable
    if rows:
        shown = table(list(head), [list(r) for r in rows], id=id)
    else:
        asked = found.query.text or found.query.state or found.query.page > 1
        shown = tags.p(class_="empty", id=f"{id}-empty")(words("no_match") if asked else empty)
    form = search_form(words, path, found.query, states, hint)
    return [form, shown, pager(words, path, found)]
