"""Scores the sentiment of short French and English posts: per-language lexicons, VADER's rules."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

from vaderSentiment.vaderSentiment import BOOSTER_DICT as ENGLISH_BOOSTERS
from vaderSentiment.vaderSentiment import NEGATE as ENGLISH_NEGATORS
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

Label = Literal["negative", "neutral", "positive"]

# Constants from Hutto & Gilbert (2014), so that both languages keep VADER's calibration.
BOOST = 0.293
CAPS_BOOST = 0.733
NEGATION_FACTOR = -0.74
EXCLAMATION_BOOST = 0.292
NORMALIZATION_ALPHA = 15.0
# Scores inside this band read as neutral: VADER's cut-off (dev accuracy is flat from 0.02 to 0.2).
NEUTRAL_BAND = 0.05
# How many words before a sentiment word a negation or booster still reaches.
SCOPE = 3

FRENCH_NEGATORS_BEFORE = frozenset(
    {"ne", "n", "pas", "jamais", "aucun", "aucune", "sans", "ni", "guere", "nullement"}
)
# Spoken French drops "ne", so the negation often follows the verb: "ça marche pas".
FRENCH_NEGATORS_AFTER = frozenset({"pas", "plus", "jamais", "guere"})
_FRENCH_INTENSIFIERS = (
    "tres vraiment trop super hyper ultra tellement si vachement grave completement totalement"
    " absolument extremement particulierement franchement carrement archi fortement vivement"
    " beaucoup bien tout entierement encore tjrs toujours"
)
_FRENCH_SOFTENERS = "peu plutot assez moyennement legerement presque"
FRENCH_BOOSTERS = {
    **dict.fromkeys(_FRENCH_INTENSIFIERS.split(), BOOST),
    **dict.fromkeys(_FRENCH_SOFTENERS.split(), -BOOST),
}
CONTRASTS = {
    "fr": frozenset({"mais", "cependant", "pourtant", "toutefois"}),
    "en": frozenset({"but", "however", "though", "although", "yet"}),
}
# Elided French clitics ("j'", "n'", "c'") are split off so the word behind them is found.
_FRENCH_CLITICS = "j n c l d m t s qu jusqu lorsqu puisqu"
FRENCH_ELISIONS = frozenset(_FRENCH_CLITICS.split())

_TOKEN = re.compile(
    r"https?://\S+|www\.\S+"  # links carry no opinion
    r"|[@#]?\w[\w'’-]*"  # words, keeping hashtags and mentions apart below
    r"|[:;=x][-']?[()dDpP/\\|]|<3"  # ascii emoticons
    r"|[.!?;,]+"  # clause boundaries
    r"|\S",  # any other symbol, emojis included
    re.UNICODE,
)
_LONG_RUN = re.compile(r"(\w)\1{2,}")
_EMOJI_NOISE = dict.fromkeys([0xFE0F, 0x200D, *range(0x1F3FB, 0x1F400)])


@dataclass(frozen=True)
class Sentiment:
    score: float  # -1..1
    label: Label


@dataclass(frozen=True)
class _Grammar:
    lexicon: dict[str, float]
    idioms: dict[tuple[str, ...], float]
    negators_before: frozenset[str]
    negators_after: frozenset[str]
    boosters: dict[str, float]
    contrasts: frozenset[str]
    elisions: frozenset[str]
    # Words an idiom starts with, so most words skip the idiom look-up altogether.
    idiom_starts: frozenset[str] = frozenset()
    longest_idiom: int = 0


@dataclass
class _Word:
    text: str  # folded form, used for look-ups
    raw: str  # as written, to see shouting
    clause: int
    valence: float = 0.0
    is_opinion: bool = False
    shields_negation: bool = False


class SentimentAnalyzer:
    """Loads the lexicons once; `analyze` is then a pure, thread-safe function of its input."""

    def __init__(self) -> None:
        self._emojis = dict(_read_entries("emoji_sentiment.tsv"))
        # VADER's 7,500 human-rated English words, corrected and extended for customer posts.
        english = dict(SentimentIntensityAnalyzer().lexicon)
        overlay = _read_entries("sentiment_en.tsv")
        english.update((_fold_term(t, frozenset()), v) for t, v in overlay)
        french = {_fold_term(t, FRENCH_ELISIONS): v for t, v in _read_entries("sentiment_fr.tsv")}
        self._grammars = {
            "en": _grammar(
                english,
                frozenset(map(fold, ENGLISH_NEGATORS)) | {"no"},
                frozenset(),
                dict(ENGLISH_BOOSTERS),
                CONTRASTS["en"],
                frozenset(),
            ),
            "fr": _grammar(
                french,
                FRENCH_NEGATORS_BEFORE,
                FRENCH_NEGATORS_AFTER,
                FRENCH_BOOSTERS,
                CONTRASTS["fr"],
                FRENCH_ELISIONS,
            ),
        }
        # Languages without a lexicon still get their emojis and emoticons read.
        self._emoji_only = _grammar({}, frozenset(), frozenset(), {}, frozenset(), frozenset())

    def analyze(self, text: str, lang: str) -> Sentiment:
        """Scores `text` in -1..1; `lang` picks the lexicon ("fr-FR" is "fr"; others: emojis)."""
        grammar = self._grammars.get(lang.lower().split("-")[0], self._emoji_only)
        words = self._read_words(text, grammar)
        total = sum(_contrasted(words, grammar))
        if total:
            total += math.copysign(EXCLAMATION_BOOST * min(text.count("!"), 4), total)
        score = total / math.sqrt(total * total + NORMALIZATION_ALPHA)
        return Sentiment(score=round(score, 4), label=_label(score))

    def _read_words(self, text: str, grammar: _Grammar) -> list[_Word]:
        words = self._tokenize(text, grammar)
        shouting = any(w.raw.isupper() and len(w.raw) > 1 for w in words) and not all(
            w.raw.isupper() for w in words if w.raw.isalpha()
        )
        for i, word in enumerate(words):
            if not word.is_opinion:
                continue
            valence = word.valence
            if shouting and word.raw.isupper() and len(word.raw) > 1:
                valence += math.copysign(CAPS_BOOST, valence)
            if _LONG_RUN.search(word.raw):
                valence += math.copysign(BOOST, valence)
            negated = False
            for distance in range(1, SCOPE + 1):
                if i < distance or words[i - distance].clause != word.clause:
                    break
                before = words[i - distance]
                if before.is_opinion:
                    break
                if before.text in grammar.boosters:
                    fading = 1 - 0.05 * (distance - 1)
                    valence += math.copysign(grammar.boosters[before.text], valence) * fading
                if before.text in grammar.negators_before or before.text.endswith("n't"):
                    negated = True
            following = words[i + 1] if i + 1 < len(words) else None
            if following and following.clause == word.clause:
                negated = negated or following.text in grammar.negators_after
            if negated and not word.shields_negation:
                valence *= NEGATION_FACTOR
            word.valence = valence
        return words

    def _tokenize(self, text: str, grammar: _Grammar) -> list[_Word]:
        words: list[_Word] = []
        clause = 0
        for raw in _TOKEN.findall(text.replace("’", "'")):
            if raw[0] in ".!?;," and raw.strip(".!?;,") == "":
                clause += 1
                continue
            # Words never hold emoji modifiers; only symbols need them stripped.
            symbol = raw if raw[0].isalnum() else raw.translate(_EMOJI_NOISE)
            if symbol in self._emojis:
                words.append(_Word(symbol, raw, clause, self._emojis[symbol], is_opinion=True))
                continue
            if raw.startswith(("@", "http", "www.")) or not (raw[0].isalnum() or raw[0] == "#"):
                continue
            for part in _split_word(raw.lstrip("#"), grammar):
                words.append(_Word(_known_form(fold(part), grammar), part, clause))
        return _with_valences(words, grammar)


def _split_word(raw: str, grammar: _Grammar) -> list[str]:
    parts: list[str] = []
    for piece in raw.split("-"):
        if grammar.elisions and "'" in piece:
            head, _, tail = piece.partition("'")
            if fold(head) in grammar.elisions:
                parts.extend(p for p in (head, tail) if p)
                continue
        if piece:
            parts.append(piece)
    return parts


def _with_valences(words: list[_Word], grammar: _Grammar) -> list[_Word]:
    """Gives each word its lexicon valence, idioms first: "pas terrible" is not "terrible"."""
    negators = grammar.negators_before | grammar.negators_after
    merged: list[_Word] = []
    i = 0
    while i < len(words):
        longest = grammar.longest_idiom if words[i].text in grammar.idiom_starts else 0
        for size in range(min(longest, len(words) - i), 1, -1):
            key = tuple(w.text for w in words[i : i + size])
            if key in grammar.idioms and len({w.clause for w in words[i : i + size]}) == 1:
                # An idiom that holds its own negation ("pas terrible") must not be negated again.
                raw = " ".join(w.raw for w in words[i : i + size])
                shields = any(t in negators for t in key)
                valence = grammar.idioms[key]
                idiom = _Word(" ".join(key), raw, words[i].clause, valence, is_opinion=True)
                idiom.shields_negation = shields
                merged.append(idiom)
                i += size
                break
        else:
            word = words[i]
            valence = grammar.lexicon.get(word.text)
            is_booster = word.text in grammar.boosters and _next_is_opinion(words, i, grammar)
            if valence is not None and not is_booster and word.text not in grammar.negators_before:
                word.valence, word.is_opinion = valence, valence != 0.0
            merged.append(word)
            i += 1
    return merged


def _next_is_opinion(words: list[_Word], i: int, grammar: _Grammar) -> bool:
    # "super" praises alone but only strengthens in "super sympa".
    following = words[i + 1] if i + 1 < len(words) else None
    if following is None or following.clause != words[i].clause:
        return False
    return bool(grammar.lexicon.get(following.text))


def _known_form(word: str, grammar: _Grammar) -> str:
    # Elongations ("sooo", "nuuul") are squeezed back to a word the grammar knows, if any.
    if not _LONG_RUN.search(word):
        return word
    for squeezed in (_LONG_RUN.sub(r"\1\1", word), _LONG_RUN.sub(r"\1", word)):
        if any(
            squeezed in known
            for known in (grammar.lexicon, grammar.boosters, grammar.negators_before)
        ):
            return squeezed
    return word


def _contrasted(words: list[_Word], grammar: _Grammar) -> list[float]:
    # After "but"/"mais" the writer's real opinion follows (VADER's weighting).
    pivot = next((i for i, w in enumerate(words) if w.text in grammar.contrasts), None)
    if pivot is None:
        return [w.valence for w in words]
    return [w.valence * (0.5 if i < pivot else 1.5) for i, w in enumerate(words)]


def _label(score: float) -> Label:
    if score >= NEUTRAL_BAND:
        return "positive"
    if score <= -NEUTRAL_BAND:
        return "negative"
    return "neutral"


def _grammar(
    lexicon: dict[str, float],
    before: frozenset[str],
    after: frozenset[str],
    boosters: dict[str, float],
    contrasts: frozenset[str],
    elisions: frozenset[str],
) -> _Grammar:
    words = {k: v for k, v in lexicon.items() if " " not in k}
    idioms = {tuple(k.split()): v for k, v in lexicon.items() if " " in k}
    starts = frozenset(k[0] for k in idioms)
    longest = max((len(k) for k in idioms), default=0)
    return _Grammar(words, idioms, before, after, boosters, contrasts, elisions, starts, longest)


@lru_cache(maxsize=65_536)
def fold(word: str) -> str:
    """Lower-cases and strips accents, since social posts often drop them."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _read_entries(name: str) -> list[tuple[str, float]]:
    text = resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return [(term, float(valence)) for term, valence in (line.rsplit("\t", 1) for line in lines)]


def _fold_term(term: str, elisions: frozenset[str]) -> str:
    # Entries are stored as the tokenizer will see them: elisions and hyphens split, accents folded.
    parts = []
    for piece in term.replace("’", "'").split():
        for sub in piece.split("-"):
            head, sep, tail = sub.partition("'")
            pieces = (head, tail) if sep and fold(head) in elisions else (sub,)
            parts.extend(fold(p) for p in pieces if p)
    return " ".join(parts)
