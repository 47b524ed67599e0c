"""Finds the FAQ entries answering a customer's question, French or English, even paraphrased."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import snowballstemmer

# Score (cosine similarity, 0..1) from which the best entry answers the question. Chosen on the
# dev paraphrases; raising it trades answered paraphrases for rejected off-topic questions.
ANSWER_THRESHOLD = 0.15
# The question says what an entry is about; the answer only adds vocabulary, so it counts less.
QUESTION_WEIGHT = 2
ANSWER_WEIGHT = 1

STEMMERS = {"fr": "french", "en": "english"}
DEFAULT_LANGUAGE = "en"

_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class FaqDocument:
    id: str
    question: str
    answer: str
    lang: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class FaqMatch:
    id: str
    score: float  # 0..1, higher is better, comparable to a threshold


class FaqMatcher:
    """Indexes the entries once per language; cheap enough to rebuild on every FAQ change."""

    def __init__(self, documents: Iterable[FaqDocument]) -> None:
        by_language: dict[str, list[FaqDocument]] = {}
        for document in documents:
            by_language.setdefault(document.lang, []).append(document)
        self._indexes = {lang: _LanguageIndex(lang, docs) for lang, docs in by_language.items()}

    def match(self, question: str, lang: str | None = None, limit: int = 3) -> list[FaqMatch]:
        """Returns up to `limit` entries, best first; `lang` restricts them to one language."""
        if lang is not None:
            indexes = [self._indexes[lang]] if lang in self._indexes else []
        else:
            indexes = list(self._indexes.values())
        matches = [match for index in indexes for match in index.match(question)]
        matches.sort(key=lambda m: (-m.score, m.id))
        return matches[:limit]


class _LanguageIndex:
    def __init__(self, lang: str, documents: list[FaqDocument]) -> None:
        self._analyzer = _analyzer(lang)
        self._ids = [d.id for d in documents]
        self._space = _VectorSpace([self._analyzer.terms(_indexed_text(d)) for d in documents])

    def match(self, question: str) -> list[FaqMatch]:
        similarities = self._space.similarities(self._analyzer.terms(question))
        return [
            FaqMatch(id=doc_id, score=round(s, 4))
            for doc_id, s in zip(self._ids, similarities, strict=True)
            if s > 0
        ]


class _VectorSpace:
    """TF-IDF vectors with sublinear term frequency, compared by cosine."""

    def __init__(self, documents: list[list[str]]) -> None:
        frequency = Counter(term for doc in documents for term in set(doc))
        count = len(documents)
        self._idf = {term: math.log((1 + count) / (1 + n)) + 1 for term, n in frequency.items()}
        # A word no entry uses is the rarest of all: "track a flight" must not score as "track".
        self._unknown_idf = math.log(1 + count) + 1
        self._vectors = [self._vector(doc) for doc in documents]

    def _vector(self, terms: list[str]) -> dict[str, float]:
        weights = {
            t: (1 + math.log(n)) * self._idf.get(t, self._unknown_idf)
            for t, n in Counter(terms).items()
        }
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        return {t: w / norm for t, w in weights.items()}

    def similarities(self, terms: list[str]) -> list[float]:
        query = self._vector(terms)
        return [sum(w * vector.get(t, 0.0) for t, w in query.items()) for vector in self._vectors]


class _Analyzer:
    """Turns text into the stems of its content words, plus one token per synonym group met."""

    def __init__(self, lang: str) -> None:
        self._stemmer = snowballstemmer.stemmer(STEMMERS.get(lang, STEMMERS[DEFAULT_LANGUAGE]))
        self._stopwords = frozenset(fold(w) for w in _data_lines(f"stopwords_{lang}.txt"))
        self._concepts: dict[tuple[str, ...], str] = {}
        for number, line in enumerate(_data_lines(f"faq_synonyms_{lang}.txt")):
            for term in line.split(","):
                stems = tuple(self._stemmer.stemWords(_WORD.findall(fold(term))))
                if stems:
                    self._concepts[stems] = f"~{number}"
        self._longest = max((len(k) for k in self._concepts), default=1)

    def terms(self, text: str) -> list[str]:
        words = _WORD.findall(fold(text))
        # Synonyms are sought among all words, function words too ("où en est", "mot de passe").
        stems = self._stemmer.stemWords(words)
        content = [
            s
            for w, s in zip(words, stems, strict=True)
            if w not in self._stopwords and (len(w) > 1 or w.isdigit())
        ]
        return content + self._concepts_in(stems)

    def _concepts_in(self, stems: list[str]) -> list[str]:
        # Longest phrase first, so "mode d'emploi" (manual) does not also count as "emploi" (job).
        found = []
        start = 0
        while start < len(stems):
            for size in range(min(self._longest, len(stems) - start), 0, -1):
                concept = self._concepts.get(tuple(stems[start : start + size]))
                if concept:
                    found.append(concept)
                    start += size
                    break
            else:
                start += 1
        return found


@lru_cache(maxsize=8)
def _analyzer(lang: str) -> _Analyzer:
    # Stop-word and synonym files are read once per language, not on every rebuild.
    return _Analyzer(lang if lang in STEMMERS else DEFAULT_LANGUAGE)


def _indexed_text(document: FaqDocument) -> str:
    tags = " ".join(tag.replace("-", " ") for tag in document.tags)
    return " ".join(
        [document.question] * QUESTION_WEIGHT + [tags] + [document.answer] * ANSWER_WEIGHT
    )


def fold(text: str) -> str:
    """Lower-cases and strips accents: customers type "reparation" as often as "réparation"."""
    text = text.lower().replace("’", "'")
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _data_lines(name: str) -> list[str]:
    path = resources.files(__package__).joinpath("data", name)
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]
