"""Full-text search of titles and bodies, in French and English, with accents and case ignored.

Each word is reduced to its forms: its Snowball stems in both languages (snowballstemmer),
taken with and without its accents and transliterated to ASCII (anyascii). A text is indexed
as the set of its words' forms, in a table (`search_term`) with one row per form; a search
finds the texts holding, for each of its words, at least one of that word's forms. The
language work is the libraries'; the lookup is an indexed equality the same on SQLite and
PostgreSQL, so both answer a search alike, and the schema is exactly what the models declare.
"""

import re
from functools import cache
from importlib.resources import files

import snowballstemmer
from anyascii import anyascii

_WORD = re.compile(r"\w+")
_FORM = re.compile(r"[a-z0-9]+")
# Longer forms are cut: they still find the text, and the column stays bounded.
MAX_FORM_LENGTH = 60


@cache
def _stemmers() -> tuple[snowballstemmer.stemmer, ...]:
    return snowballstemmer.stemmer("french"), snowballstemmer.stemmer("english")


@cache
def _stop_words() -> frozenset[str]:
    words: set[str] = set()
    for language in ("fr", "en"):
        text = files("collaboration").joinpath(f"data/stopwords_{language}.txt").read_text("utf-8")
        for line in text.splitlines():
            if line.strip() and not line.startswith("#"):
                words.add(_fold(line.strip().lower()))
    return frozenset(words)


def _fold(text: str) -> str:
    return anyascii(text).lower()


@cache
def forms(word: str) -> frozenset[str]:
    """A lower-case word's stems in French and English, with and without accents, in ASCII."""
    found: set[str] = set()
    for stemmer in _stemmers():
        for variant in {word, _fold(word)}:
            found.update(
                form[:MAX_FORM_LENGTH] for form in _FORM.findall(_fold(stemmer.stemWord(variant)))
            )
    return frozenset(found)


def document_forms(*texts: str) -> set[str]:
    """Every form of every word of the texts: what the index holds for them."""
    found: set[str] = set()
    for word in _WORD.findall(" ".join(texts).lower()):
        found |= forms(word)
    return found


def query_forms(query: str) -> list[frozenset[str]]:
    """A search's words, each as the forms any of which may match.

    Stop words ("le", "the", "comment") are left out while other words remain, so that
    "comment réparer le lave-linge" finds "Réparer un lave-linge".
    """
    words = list(dict.fromkeys(_WORD.findall(query.lower())))
    meaningful = [word for word in words if _fold(word) not in _stop_words() and len(word) > 1]
    return [group for group in map(forms, meaningful or words) if group]
