"""Words for the keyword index: lowercased, stopwords dropped, Indonesian affixes stemmed (Sastrawi).

The same function serves documents and queries, so "kerja sama", "bekerja sama" and "kerjasama"
style variants meet on one stem; English words pass through Sastrawi mostly unchanged.
"""
from __future__ import annotations

import re
from functools import lru_cache

from core.language import detect_language, question_language  # noqa: F401  (re-exported)

_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*", re.UNICODE)

STOPWORDS = frozenset("""
a an and are as at be been but by can could did do does for from had has have how i if in into is it its
of on or so than that the their them then there these they this those to was were what when where which
who whom why will with would about after before between also not no yes you your we our he she his her
yang dan di ke dari ini itu apa apakah mengapa kenapa siapa kapan mana bagaimana berapa adalah ialah
dengan untuk pada dalam tidak bukan akan sudah telah juga atau oleh karena sebagai ada mereka kami kita
saya anda para antara tentang bisa dapat lebih serta agar sehingga tersebut namun tetapi jika bahwa
yaitu saat masih hanya sangat setelah sebelum secara bagi hingga sejak per pun lah kah nya se
""".split())


@lru_cache(maxsize=1)
def _stemmer():
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return StemmerFactory().create_stemmer()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Sastrawi stem of one lowercased word; numbers and short words are kept as they are."""
    if len(word) <= 3 or not word.isalpha():
        return word
    return _stemmer().stem(word) or word


def terms(text: str) -> list[str]:
    """Index terms of a text, in order, with repeats (BM25 needs term frequencies)."""
    out = []
    for word in _WORD.findall(text.lower()):
        for part in word.split("-") if "-" in word else (word,):
            if part and part not in STOPWORDS:
                out.append(stem(part))
    return out


def text_language(text: str) -> str:
    """'en' or 'id', as the answer pipeline detects it (core/language.py)."""
    return detect_language(text)


# acronyms of 3+ letters ("JSR", "ASML"; "AI", "EU" are too common to pick a passage) and mixed-case brands ("PayPal")
_NAME_WORD = re.compile(r"\b(?:[A-Z][A-Z0-9]{2,}|[A-Z][a-z]+[A-Z]\w*)\b")


def spelt_alike_names(question: str) -> set[str]:
    """Acronyms and mixed-case brand names of a question ("JSR", "ASML", "McKinsey"): written the same in every
    language, so a keyword hit on one counts across languages too."""
    return set(_NAME_WORD.findall(question))


def mentions_any(text: str, names: set[str]) -> bool:
    """The text has one of the names as a whole word, case kept."""
    return any(re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) for name in names)
