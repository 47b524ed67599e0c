"""Checks sentiment accuracy on the labelled mentions and the scoring rules social posts rely on."""

import csv
from pathlib import Path

import pytest

from listening.sentiment import Sentiment, SentimentAnalyzer

EVAL_SET = Path(__file__).resolve().parents[2] / "data" / "sentiment_eval.csv"
TARGET_ACCURACY = 0.85


@pytest.fixture(scope="module")
def analyzer() -> SentimentAnalyzer:
    return SentimentAnalyzer()


def _mentions() -> list[dict[str, str]]:
    with EVAL_SET.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_evaluation_set_is_large_balanced_and_split() -> None:
    mentions = _mentions()
    assert len(mentions) >= 240
    assert {m["label"] for m in mentions} == {"negative", "neutral", "positive"}
    french = sum(m["lang"] == "fr" for m in mentions)
    assert 0.4 <= french / len(mentions) <= 0.6
    test_share = sum(m["split"] == "test" for m in mentions) / len(mentions)
    assert 0.5 <= test_share <= 0.7


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_accuracy_on_clear_test_mentions(analyzer: SentimentAnalyzer, lang: str) -> None:
    mentions = [
        m for m in _mentions() if m["lang"] == lang and m["split"] == "test" and m["clear"] == "1"
    ]
    misses = [m["text"] for m in mentions if analyzer.analyze(m["text"], lang).label != m["label"]]
    accuracy = 1 - len(misses) / len(mentions)
    assert accuracy >= TARGET_ACCURACY, f"{lang} accuracy {accuracy:.3f}, missed: {misses}"


@pytest.mark.parametrize(
    ("text", "lang", "label"),
    [
        ("pas terrible ce four", "fr", "negative"),
        ("pas mal du tout ce four", "fr", "positive"),
        ("Je ne suis pas content", "fr", "negative"),
        ("ça marche pas", "fr", "negative"),
        ("not bad at all", "en", "positive"),
        ("not good", "en", "negative"),
        ("never again", "en", "negative"),
        ("plus jamais", "fr", "negative"),
    ],
)
def test_negation(analyzer: SentimentAnalyzer, text: str, lang: str, label: str) -> None:
    assert analyzer.analyze(text, lang).label == label


def test_negation_flips_the_same_word(analyzer: SentimentAnalyzer) -> None:
    for lang, plain, negated in (("fr", "c'est bon", "c'est pas bon"), ("en", "good", "not good")):
        assert analyzer.analyze(plain, lang).score > 0 > analyzer.analyze(negated, lang).score


def test_emojis_carry_sentiment_and_count(analyzer: SentimentAnalyzer) -> None:
    assert analyzer.analyze("👍", "en").label == "positive"
    assert analyzer.analyze("😍", "fr").label == "positive"
    assert analyzer.analyze("🙄", "fr").label == "negative"
    one, two = analyzer.analyze("livraison 😡", "fr"), analyzer.analyze("livraison 😡😡", "fr")
    assert two.score < one.score < 0


def test_emojis_are_read_in_any_language(analyzer: SentimentAnalyzer) -> None:
    assert analyzer.analyze("Gracias por todo 👍👍", "es").label == "positive"
    assert analyzer.analyze("Lieferung 😡", "und").label == "negative"


@pytest.mark.parametrize(
    ("plain", "emphatic", "lang"),
    [
        ("bien", "très bien", "fr"),
        ("nul", "vraiment nul", "fr"),
        ("good", "really good", "en"),
        ("good", "sooo good", "en"),
        ("Livraison nul", "Livraison NUL", "fr"),
        ("great service", "great service!!!", "en"),
    ],
)
def test_intensifiers_caps_and_elongations_strengthen(
    analyzer: SentimentAnalyzer, plain: str, emphatic: str, lang: str
) -> None:
    emphatic_score = analyzer.analyze(emphatic, lang).score
    assert abs(emphatic_score) > abs(analyzer.analyze(plain, lang).score) > 0


def test_elongated_words_are_recognised(analyzer: SentimentAnalyzer) -> None:
    assert analyzer.analyze("trooop bien", "fr").label == "positive"
    assert analyzer.analyze("nuuul", "fr").label == "negative"


def test_french_without_accents_scores_like_french(analyzer: SentimentAnalyzer) -> None:
    assert analyzer.analyze("tres decu", "fr") == analyzer.analyze("très déçu", "fr")


def test_but_shifts_weight_to_what_follows(analyzer: SentimentAnalyzer) -> None:
    assert analyzer.analyze("Livraison rapide mais frigo cassé", "fr").label == "negative"
    assert analyzer.analyze("A bit slow, but the result is excellent", "en").label == "positive"


def test_mentions_and_links_carry_no_opinion(analyzer: SentimentAnalyzer) -> None:
    silent = analyzer.analyze("@HestiaHelp https://example.com/great", "en")
    assert silent == Sentiment(0.0, "neutral")


def test_neutral_and_empty_texts(analyzer: SentimentAnalyzer) -> None:
    assert analyzer.analyze("", "fr") == Sentiment(0.0, "neutral")
    assert analyzer.analyze("Quels sont les horaires du magasin ?", "fr").label == "neutral"
    assert analyzer.analyze("Delivery scheduled on Thursday", "en").label == "neutral"


def test_regional_language_tags_use_the_base_language(analyzer: SentimentAnalyzer) -> None:
    assert analyzer.analyze("génial", "fr-FR") == analyzer.analyze("génial", "fr")


def test_scores_stay_within_bounds(analyzer: SentimentAnalyzer) -> None:
    for text in ("NUL NUL NUL 😡😡😡😡😡!!!!", "GÉNIAL PARFAIT SUPER 😍😍😍😍!!!!"):
        score = analyzer.analyze(text, "fr").score
        assert -1.0 <= score <= 1.0
