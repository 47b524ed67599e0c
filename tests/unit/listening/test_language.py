"""Checks language detection on the labelled mentions and on texts without a language."""

import csv
from pathlib import Path

import pytest

from listening.language import detect_language

EVAL_SET = Path(__file__).resolve().parents[2] / "data" / "sentiment_eval.csv"
TARGET_ACCURACY = 0.97


def test_accuracy_on_french_and_english_mentions() -> None:
    with EVAL_SET.open(encoding="utf-8") as handle:
        mentions = list(csv.DictReader(handle))
    misses = [m["text"] for m in mentions if detect_language(m["text"]) != m["lang"]]
    accuracy = 1 - len(misses) / len(mentions)
    assert accuracy >= TARGET_ACCURACY, f"accuracy {accuracy:.3f}, missed: {misses}"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hola, ¿cuándo llega mi pedido?", "es"),
        ("Wann wird meine Waschmaschine geliefert?", "de"),
        ("Il mio frigorifero non funziona più", "it"),
        ("De bezorging was erg snel", "nl"),
        ("配送が遅すぎる", "ja"),
    ],
)
def test_other_languages_get_their_code(text: str, language: str) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize("text", ["", "   ", "👍👍", "12345 !!!", "https://t.co/x1 @Hestia", "ok"])
def test_texts_without_a_clear_language_are_undetermined(text: str) -> None:
    assert detect_language(text) == "und"


def test_mentions_and_links_do_not_sway_the_language() -> None:
    assert detect_language("@HestiaHelp mon frigo est encore en panne https://t.co/abc") == "fr"
    assert detect_language("@HestiaFR my fridge is broken again #fail") == "en"
