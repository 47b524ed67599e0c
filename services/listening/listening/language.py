"""Detects a mention's language (ISO 639-1 code, or "und") with the model bundled in py3langid."""

from __future__ import annotations

import re
from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

UNDETERMINED = "und"
# Languages a French company's mentions plausibly come in; restricting the model to them stops
# short posts from being labelled as rare languages ("Top top top" read as Nigerian Pidgin).
_LANGUAGE_CODES = "fr en de es it pt nl ca ro pl cs sv da no fi el ru uk tr ar he zh ja ko vi hi"
LANGUAGES = tuple(_LANGUAGE_CODES.split())
# Below this normalised probability the model is guessing: "ok", "lol" or a lone brand name.
MIN_CONFIDENCE = 0.2

# Links, mentions and hashtags name things; they say nothing about the writer's language.
_NOISE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+")


def detect_language(text: str) -> str:
    """Returns the language code of `text`, or "und" for text with no words or no clear language."""
    words = _NOISE.sub(" ", text)
    if not any(character.isalpha() for character in words):
        return UNDETERMINED
    language, _ = _identifier().classify(words)
    return language


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    # Loaded on first use (about 0.2 s), not at import time.
    identifier = LanguageIdentifier.from_model_file(
        MODEL_FILE, norm_probs=True, min_confidence=MIN_CONFIDENCE
    )
    identifier.set_languages(list(LANGUAGES))
    return identifier
