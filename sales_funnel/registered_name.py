"""Registered business names (工商注册名称), compared as one customer.

A funnel customer is a company under its registered name. People type the
same name in several ways: full-width or half-width characters, spaces,
case, punctuation, with or without the legal form. ``registered_name_key``
reduces a name to what identifies the company; two customers with the same
key are the same customer. The key is stored on ``res.partner``
(``sales_funnel_name_key``, indexed): the funnel's refusal of a second
customer and the hand-off's duplicate check compare it in one indexed query.

A plain module, like ``funnel_terms``: one definition, used by every check.
"""

import unicodedata

# Legal forms at the end of a name, longest first. Chinese forms are written
# without spaces; Latin ones are whole words (“zinc” keeps its “inc”).
CJK_LEGAL_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司")
LATIN_LEGAL_SUFFIXES = (
    ("company", "limited"),
    ("co", "ltd"),
    ("co", "limited"),
    ("ltd",),
    ("limited",),
    ("inc",),
)


def _words(name):
    """Full-width to half-width (NFKC), case folded, punctuation and symbols
    as separators: the words of ``name``."""
    text = unicodedata.normalize("NFKC", name or "").casefold()
    return "".join(
        " " if unicodedata.category(char)[0] in "PSZC" else char for char in text
    ).split()


def _strip_legal_suffix(words):
    """``words`` without the legal form at their end (None if there is none)."""
    for suffix in LATIN_LEGAL_SUFFIXES:
        if len(words) > len(suffix) and tuple(words[-len(suffix) :]) == suffix:
            return words[: -len(suffix)]
    last = words[-1]
    for suffix in CJK_LEGAL_SUFFIXES:
        if last.endswith(suffix) and (len(last) > len(suffix) or len(words) > 1):
            rest = last[: -len(suffix)]
            return words[:-1] + ([rest] if rest else [])
    return None


def registered_name_key(name):
    """The key of a registered name: two names with the same key are one
    customer. Empty for an empty name.

    >>> registered_name_key("上海华东电力设备有限公司")
    '上海华东电力设备'
    >>> registered_name_key(" 上海华东电力设备（有限公司） ")
    '上海华东电力设备'
    >>> registered_name_key("Pearl River Logistics Co., Ltd.")
    'pearlriverlogistics'
    >>> registered_name_key("ＰＥＡＲＬ RIVER logistics inc")
    'pearlriverlogistics'
    """
    words = _words(name)
    while words:
        stripped = _strip_legal_suffix(words)
        if stripped is None:
            break
        words = stripped
    return "".join(words)
