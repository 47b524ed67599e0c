"""The words a text is indexed under and a search looks for: stems, accents, stop words."""

from collaboration import search


def matches(query: str, *texts: str) -> bool:
    held = search.document_forms(*texts)
    groups = search.query_forms(query)
    return bool(groups) and all(group & held for group in groups)


def test_accents_and_case_are_ignored():
    assert matches("QUALITE", "La qualité avant tout")
    assert matches("qualité", "QUALITE")
    assert matches("coeur", "Le cœur du problème")


def test_french_and_english_word_forms_meet():
    assert matches("réparation", "Comment réparer un four ?")
    assert matches("réparabilité", "Indice de reparabilite")
    assert matches("machines", "Une machine à laver")
    assert matches("running", "The pump runs dry")
    assert matches("escalated", "We escalate after 24 hours")


def test_stop_words_are_left_out_of_a_search_while_other_words_remain():
    assert [len(group) > 0 for group in search.query_forms("comment réparer le four")] == [
        True,
        True,
    ]
    assert matches("comment réparer le four", "Réparer un four")
    assert matches("the", "Who is the owner?")
    assert not matches("the", "Réglage du four")


def test_nothing_searchable_finds_nothing():
    assert search.query_forms("   ") == []
    assert search.query_forms("!!! ???") == []
    assert not matches("!!!", "anything")


def test_forms_are_ascii_and_bounded():
    forms = search.document_forms("Ça coûte 12,50 € ½ " + "x" * 100)
    assert all(form.isascii() and form.isalnum() for form in forms)
    assert max(map(len, forms)) <= search.MAX_FORM_LENGTH
