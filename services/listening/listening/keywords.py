"""Finds keywords in mentions (their topics and department) and the top terms of a spike."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import snowballstemmer

# Keywords match by stem in the mention's language: "livraisons" finds "livraison".
STEMMERS = {"fr": "french", "en": "english"}

_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """Lower-cases and strips accents: posts often drop them ("reparation", "réparation")."""
    text = text.lower().replace("’", "'")
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


@dataclass(frozen=True)
class Routing:
    department_id: str | None
    topics: list[str]


class KeywordRouter:
    """Routes a text to the department whose keywords it mentions most, and names its topics.

    `rules` maps department ids to keywords; `topics` are keywords that only name what a text
    is about (a source's). A keyword may have several words ("mot de passe").
    """

    def __init__(self, rules: Mapping[str, Sequence[str]], topics: Sequence[str] = ()) -> None:
        self._rules = {department: tuple(keywords) for department, keywords in rules.items()}
        self._topics = tuple(topics)
        self._indexes: dict[str, _Index] = {}

    def route(self, text: str, lang: str) -> Routing:
        index = self._index(lang)
        found = index.find(words(text))
        hits: Counter[str] = Counter()
        for keyword in found:
            for department in index.departments.get(keyword, ()):
                hits[department] += 1
        # Most keywords met wins; a tie goes to the first department in id order, for stability.
        department = min(hits, key=lambda d: (-hits[d], d)) if hits else None
        return Routing(department, sorted(found))

    def _index(self, lang: str) -> _Index:
        key = lang if lang in STEMMERS else ""
        if key not in self._indexes:
            self._indexes[key] = _Index(self._rules, self._topics, key)
        return self._indexes[key]


class _Index:
    def __init__(
        self, rules: Mapping[str, Sequence[str]], topics: Sequence[str], lang: str
    ) -> None:
        self._stem = _stemmer(lang)
        self.departments: dict[str, list[str]] = {}
        self._phrases: dict[tuple[str, ...], str] = {}
        for department, keywords in rules.items():
            for keyword in keywords:
                self._add(keyword)
                self.departments.setdefault(keyword, []).append(department)
        for keyword in topics:
            self._add(keyword)
        self._longest = max((len(phrase) for phrase in self._phrases), default=0)

    def _add(self, keyword: str) -> None:
        phrase = tuple(self._stem(words(keyword)))
        if phrase:
            self._phrases.setdefault(phrase, keyword)

    def find(self, text_words: list[str]) -> set[str]:
        if not self._phrases:
            return set()
        stems = self._stem(text_words)
        found = set()
        for start in range(len(stems)):
            for size in range(1, min(self._longest, len(stems) - start) + 1):
                keyword = self._phrases.get(tuple(stems[start : start + size]))
                if keyword is not None:
                    found.add(keyword)
        return found


@lru_cache(maxsize=4)
def _stemmer(lang: str):  # type: ignore[no-untyped-def]
    if lang not in STEMMERS:
        return list
    return snowballstemmer.stemmer(STEMMERS[lang]).stemWords


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    folder = resources.files(__package__).joinpath("data")
    found: set[str] = set()
    for lang in STEMMERS:
        text = folder.joinpath(f"stopwords_{lang}.txt").read_text(encoding="utf-8")
        found.update(fold(w.strip()) for w in text.splitlines() if w.strip() and w[0] != "#")
    return frozenset(found)


def top_terms(texts: Sequence[str], background: Sequence[str] = (), limit: int = 8) -> list[str]:
    """The words that characterise `texts` against `background`: what a spike is about.

    A word ranks by the share of texts using it, weighted by its rarity in the background
    (TF-IDF's smoothed inverse document frequency): the brand every post names falls behind
    "delivery" or "broken". Function words are left out; a word must appear twice.
    """
    spike, usual = _document_frequency(texts), _document_frequency(background)
    rarity = len(background) + 1
    scores = {
        term: count / len(texts) * (math.log(rarity / (usual.get(term, 0) + 1)) + 1)
        for term, count in spike.items()
        if count >= min(2, len(texts))
    }
    ranked = sorted(scores.items(), key=lambda item: (-item[1], -spike[item[0]], item[0]))
    return [term for term, _ in ranked][:limit]


def _document_frequency(texts: Iterable[str]) -> Counter[str]:
    skip = _stopwords()
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({w for w in words(text) if len(w) > 2 and not w.isdigit() and w not in skip})
    return counts
