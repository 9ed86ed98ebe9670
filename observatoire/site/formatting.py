"""Numbers as each language prints them: `49,6 %` and `1 619` in French, `49.6%` and `1,619` in
English (Babel, CLDR rules: narrow no-break space as the French group separator, no-break space
before `%`).

Values are rounded once, here, from the binary double (`f"{x:.1f}"`, correctly rounded), then
handed to Babel as a `Decimal` so that Babel does not round a second time.
"""

from __future__ import annotations

from decimal import Decimal

from babel import Locale
from babel.numbers import format_decimal, format_percent

LOCALES = {"fr": "fr_FR", "en": "en_GB"}
DECIMALS = 1


def _locale(lang: str) -> Locale:
    return Locale.parse(LOCALES[lang])


def _rounded(value: float, digits: int = DECIMALS) -> Decimal:
    return Decimal(f"{value:.{digits}f}")


def number(value: float | int | None, lang: str, digits: int = DECIMALS) -> str:
    """A decimal number (`6,3`); integers when `digits` is 0 (`1 619`)."""
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(_rounded(value, digits), format=pattern, locale=_locale(lang))


def percent(share: float | None, lang: str) -> str:
    """A share 0-1 as a percentage with one decimal, the locale's way (`49,6 %` / `49.6%`)."""
    if share is None:
        return ""
    pattern = _locale(lang).percent_formats[None].pattern.replace("#,##0", "#,##0.0", 1)
    return format_percent(_rounded(100 * share) / 100, format=pattern, locale=_locale(lang))


def value(x: float | None, unit: str, lang: str) -> str:
    """An indicator value in its unit: share -> percent, mean -> one decimal, count -> integer."""
    if unit == "share":
        return percent(x, lang)
    if unit == "count":
        return number(x, lang, 0)
    return number(x, lang)


def chart_value(x: float | None, unit: str) -> float | None:
    """The value a chart plots: percent points for shares, the value otherwise."""
    if x is None:
        return None
    return 100 * x if unit == "share" else x


def signed(x: float | None, lang: str, digits: int = DECIMALS) -> str:
    """A change with its sign (`+3,2`, `−1,0` with a true minus sign in both languages)."""
    if x is None:
        return ""
    text = number(abs(x), lang, digits)
    if text == number(0, lang, digits):
        return text
    return ("+" if x > 0 else "\u2212") + text
