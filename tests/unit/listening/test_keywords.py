"""Checks keyword routing (stems, phrases, accents, ties) and how a spike's top terms are chosen."""

from listening.keywords import KeywordRouter, top_terms

RULES = {
    "after-sales": ["livraison", "réparation", "delivery", "sav"],
    "marketing": ["prix", "code promo"],
    "rd": ["mot de passe"],
}


def test_keywords_are_found_by_their_stem_whatever_the_accents_and_case() -> None:
    router = KeywordRouter(RULES)

    routing = router.route("Deux LIVRAISONS ratées et une reparation bâclée", "fr")

    assert routing.department_id == "after-sales"
    assert routing.topics == ["livraison", "réparation"]


def test_phrases_are_found_whole_only() -> None:
    router = KeywordRouter(RULES)

    assert router.route("J'ai un code promo", "fr").topics == ["code promo"]
    assert router.route("Le code est faux, quelle promo ?", "fr").topics == []
    assert router.route("mot de passe oublié", "fr").department_id == "rd"


def test_the_department_with_most_keywords_wins_and_ties_go_by_id() -> None:
    router = KeywordRouter(RULES)

    assert router.route("Livraison, SAV et prix", "fr").department_id == "after-sales"
    assert router.route("Le prix de la livraison", "fr").department_id == "after-sales"
    assert router.route("Le prix du code promo", "fr").department_id == "marketing"


def test_english_keywords_use_the_english_stemmer() -> None:
    router = KeywordRouter(RULES)

    assert router.route("Deliveries were late again", "en").topics == ["delivery"]


def test_other_languages_match_whole_words() -> None:
    router = KeywordRouter(RULES)

    assert router.route("Lieferung und SAV", "de").topics == ["sav"]
    assert router.route("Lieferung", "und").department_id is None


def test_topics_alone_route_nowhere() -> None:
    router = KeywordRouter({}, topics=["hestia"])

    routing = router.route("Hestia, encore Hestia", "fr")

    assert routing.department_id is None
    assert routing.topics == ["hestia"]


def test_nothing_to_find() -> None:
    assert KeywordRouter({}).route("Livraison", "fr").topics == []
    assert KeywordRouter(RULES).route("", "fr").topics == []


def test_top_terms_rank_what_sets_a_spike_apart_from_the_usual() -> None:
    spike = [
        "Hestia fridge delivered broken",
        "My Hestia fridge arrived broken, awful",
        "Broken fridge from Hestia again",
        "Hestia never answers",
    ]
    usual = ["Love my Hestia oven", "Hestia vacuum is great", "Hestia app update", "Hestia"]

    terms = top_terms(spike, usual, limit=3)

    assert terms[:2] == ["broken", "fridge"]
    assert "hestia" not in terms[:2]
    assert "the" not in top_terms(spike)


def test_top_terms_need_a_word_twice_and_handle_nothing() -> None:
    assert top_terms(["unique words here", "others there"]) == []
    assert top_terms(["only one text"]) == ["one", "only", "text"]
    assert top_terms([]) == []
