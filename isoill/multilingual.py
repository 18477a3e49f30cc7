"""Text that knows itself in more than one language, for code that writes a message once
and pages, mails or a command line that show it in the reader's language.

A :class:`Said` is a ``str`` holding the text in the language its code, tests and logs
compare (English for the NACSIS side, Chinese for the CALIS library desk), with every
language it has beside it; the edge that knows its reader picks one with :func:`in_lang`.
Stored values keep every language beside the text (:func:`langs_of`, :func:`restore`), so
a page renders what was written before in its own language.
"""

from __future__ import annotations

import string
from collections.abc import Mapping


class Said(str):
    """A text (its ``str``) with the same text in other languages, by language code."""

    langs: Mapping[str, str]

    def __new__(cls, text: str, /, **langs: str) -> Said:
        made = super().__new__(cls, text)
        made.langs = langs
        return made


def in_lang(text: str, lang: str) -> str:
    """``text`` in ``lang`` when it is a :class:`Said` that has it, else as it is."""
    if isinstance(text, Said):
        return text.langs.get(lang, str(text))
    return str(text)


def said(templates: Mapping[str, str], main: str, /, **fields: object) -> Said:
    """Templates by language filled with ``fields`` (a field that is a :class:`Said` in the
    same language as the text), the text in ``main`` as the ``str``."""
    langs = {
        lang: template.format(
            **{k: in_lang(v, lang) if isinstance(v, str) else v for k, v in fields.items()}
        )
        for lang, template in templates.items()
    }
    return Said(langs[main], **langs)


def fields_of(template: str) -> set[str]:
    """The names a ``str.format`` template fills."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def langs_of(text: str) -> dict[str, str] | None:
    """The languages of ``text`` to store beside it (None: a plain string), so that what
    reads the stored ``str`` alone (an API client) reads what it always did."""
    return dict(text.langs) if isinstance(text, Said) else None


def restore(text: str, langs: Mapping[str, str] | None) -> str:
    """``text`` as stored with :func:`langs_of` (a plain string, as stored before there
    were languages, stays one)."""
    return Said(text, **langs) if langs else text
