"""The one shell of the gateway's HTML pages, built with :mod:`twisted.web.template`: the
operations pages (``/``, ``/transactions/...``) and the libraries' reader and staff pages all
come out of :func:`page`, with the same head, header, nav and main, and the same security
headers.

Why a template engine rather than strings: what the pages show comes from readers, peers,
records and the configuration (titles, names, library labels, transaction ids), and the
engine escapes every string it is given, as text and as an attribute value alike. Markup is
only ever a :class:`~twisted.web.template.Tag` built in code, so there is no escape to forget.

Nothing here knows about libraries or operators: what frames one kind of page (its language,
its heading, its nav, its CSP, whether it runs the script) is a :class:`Chrome` that the
kind's module builds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from twisted.python.failure import Failure
from twisted.web.server import Request
from twisted.web.template import Flattenable, Tag, flatten, tags

#: One stylesheet for every page. It is inline (each CSP allows inline styles, nothing else
#: from outside) and, being the text of a ``<style>`` element, it is escaped like any text:
#: so it holds no ``<``, ``>`` or ``&``, which CSS would then read as entities.
STYLE = (
    "body{font-family:'Noto Sans CJK SC','WenQuanYi Zen Hei',sans-serif;margin:0;color:#222}"
    "header{background:#5a2d82;color:#fff;padding:.6em 1.2em;display:flex;"
    "justify-content:space-between;align-items:center}header a{color:#fff}"
    "nav{background:#eee;padding:.4em 1.2em}nav a,nav form{margin-right:1.2em;display:inline}"
    "main{padding:1em 1.2em}table{border-collapse:collapse;margin:.5em 0 1em}"
    "td,th{border:1px solid #bbb;padding:.3em .6em;text-align:left;vertical-align:top}"
    "th{background:#f0ecf5;white-space:nowrap}fieldset{margin-bottom:1em;border:1px solid #ccc}"
    "legend{font-weight:bold}.row label:first-child{display:inline-block;min-width:9em}"
    ".row{margin:.35em 0}.hint{color:#666;font-size:90%}.req{color:#c00}"
    ".problems{border:1px solid #c00;background:#fee;padding:.5em 1em}"
    ".message{border:1px solid #393;background:#efe;padding:.5em 1em}"
    "button{cursor:pointer}input.bad,select.bad,textarea.bad{border:2px solid #c00}"
    "code{font-size:90%}"
)
if set(STYLE) & set("<>&"):  # pragma: no cover - a guard for whoever edits the stylesheet
    raise ValueError("the stylesheet would be escaped: keep <, > and & out of it")


@dataclass(frozen=True)
class Chrome:
    """What frames one kind of page around its title and body."""

    #: The ``lang`` of the document: ``zh-CN`` or ``en``.
    lang: str
    #: The header's heading: whose pages these are.
    heading: str
    #: The Content-Security-Policy: what the page may load and run, whatever it shows.
    csp: bytes
    #: The nav bar's items (links, the logout form, who is logged in); none, no nav.
    nav: tuple[Flattenable, ...] = ()
    #: The header's link to the same page in the other language, if the kind has one.
    switch: Tag | None = None
    #: The address of the page's one script, for kinds whose CSP lets it run.
    script: str = ""


def render(root: Flattenable) -> bytes:
    """Flatten a page now. Page handlers answer bytes, and everything they give is already
    at hand (no Deferreds), so flattening finishes before :func:`flatten` returns; a failure
    is raised here, where the handler's own error handling answers it."""
    out: list[bytes] = []
    outcome: list[Failure | None] = []
    flatten(None, root, out.append).addCallbacks(lambda _: outcome.append(None), outcome.append)
    if not outcome:
        raise RuntimeError("a page waited for something: pages are rendered at once")
    failure = outcome[0]
    if failure is not None:
        failure.raiseException()
    return b"".join(out)


def page(
    request: Request, chrome: Chrome, title: str, body: Flattenable, *, status: int = 200
) -> bytes:
    """A whole page with its headers: the pages show readers' personal data and text from
    other systems, so none is cached, framed, sniffed as something else or told where it
    was linked from, and each runs nothing but what its CSP allows."""
    request.setResponseCode(status)
    request.setHeader(b"content-type", b"text/html; charset=utf-8")
    request.setHeader(b"content-security-policy", chrome.csp)
    request.setHeader(b"x-frame-options", b"DENY")
    request.setHeader(b"x-content-type-options", b"nosniff")
    request.setHeader(b"referrer-policy", b"same-origin")
    request.setHeader(b"cache-control", b"no-store")
    head: list[Flattenable] = [
        tags.meta(charset="utf-8"),
        tags.meta(name="viewport", content="width=device-width, initial-scale=1"),
        tags.title(title),
        tags.style(STYLE),
    ]
    if chrome.script:
        head.append(tags.script(src=chrome.script, defer=""))
    document = tags.html(lang=chrome.lang)(
        tags.head(head),
        tags.body(
            tags.header(tags.strong(chrome.heading), chrome.switch or ""),
            tags.nav(chrome.nav) if chrome.nav else "",
            Tag("main")(tags.h1(title), body),
        ),
    )
    return b"<!doctype html>" + render(document)


def table(head: Sequence[str], rows: Iterable[Sequence[Flattenable]], *, id: str = "") -> Tag:
    """A table: a cell that is a string is text (escaped), a tag is markup."""
    found = tags.table(tags.thead(tags.tr([tags.th(h) for h in head])))
    if id:
        found(id=id)
    return found(tags.tbody([tags.tr([tags.td(cell) for cell in row]) for row in rows]))


def problems_box(heading: str, problems: Sequence[str]) -> Flattenable:
    """What is wrong with what was sent, one item a problem; nothing when nothing is."""
    if not problems:
        return ""
    return tags.div(class_="problems", role="alert")(
        heading, tags.ul([tags.li(p) for p in problems])
    )


def message_box(text: str) -> Flattenable:
    """What was just done; nothing when nothing was."""
    return tags.p(class_="message", role="status")(text) if text else ""


def link(href: str, text: Flattenable, **attributes: str) -> Tag:
    return tags.a(href=href, **attributes)(text)
