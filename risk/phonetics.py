"""A Metaphone-like sound key for name words (the per-attribute and full-name matchers)."""

from __future__ import annotations

import re

# --- phonetic key -------------------------------------------------------------------------

# Ordered rewrites of folded (lower-case ASCII) text: spellings of one sound become one letter,
# covering common transliteration variants (Tchaikovsky / Chaikovsky, Aleksandr / Alexander,
# Ivanov / Ivanoff, Mohammed / Mohamad / Muhammet).
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"dzh|dj|zh", "j"),
        (r"chr", "kr"),  # Christina / Kristina
        (r"tsch|tch|sch|sh|ch|sz|cz", "x"),  # x now stands for the sh sound
        (r"ph|pf", "f"),
        (r"th", "t"),
        (r"kh|gh|ck|q", "k"),
        (r"c(?=[eiy])", "s"),
        (r"c", "k"),
        (r"ts|tz|z", "s"),
        (r"[vw]", "f"),
        (r"d", "t"),
        (r"(?<=.)h", ""),  # Mohammed / Muhamad, Ahmed / Amed
    )
)

_VOWELS = re.compile(r"[aeiouy]")
_REPEATS = re.compile(r"(.)\1+")


def _initial_cluster(text: str) -> str:
    # silent first letters (Knight, Gnome, Pneuma, Wright, Psyche) and initial X = S (Xavier)
    for prefix in ("kn", "gn", "pn", "wr", "ps"):
        if text.startswith(prefix):
            return text[1:]
    if text.startswith("x"):
        return "s" + text[1:]
    return text


def phonetic(token: str, *, hard_ch: bool = False) -> str:
    """A Metaphone-like sound key of one folded token: `mohammed` → `MT`, `alexander` → `ALKSNTR`.

    Vowels after the first letter are dropped and a leading vowel becomes `A`, so vowel
    spelling variants agree; repeated letters collapse. Digits are kept as they are.
    `hard_ch` reads `ch` as `k` (Michail, Nicholas) instead of `sh` (Chaikovsky, Gorbachev).
    """
    text = _initial_cluster(token)
    text = text.replace("x", "ks")
    if hard_ch:
        text = _SOFT_CH.sub(r"\1k", text)
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    if not text:
        return ""
    first, rest = text[0], text[1:]
    if _VOWELS.match(first):
        first = "a"
    rest = _VOWELS.sub("", rest)
    return _REPEATS.sub(r"\1", first + rest).upper()


# `ch` not part of `sch` / `tch`: the letters whose reading is ambiguous
_SOFT_CH = re.compile(r"(^|[^st])ch")


def sounds_of(word: str) -> tuple[str, ...]:
    """The word's sound keys: one, or two when `ch` could be read either way."""
    primary = phonetic(word)
    if _SOFT_CH.search(word):
        alternate = phonetic(word, hard_ch=True)
        if alternate != primary:
            return (primary, alternate)
    return (primary,)
