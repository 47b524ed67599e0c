"""Full-text search of questions: French and English words, accents, case and word forms."""

import pytest

pytestmark = pytest.mark.integration


async def test_questions_are_found_by_their_words_in_french_and_english(api):
    nadia, maxime, ines = api.member("after-sales"), api.member("sales"), api.member("rd")
    e21 = await api.ask(
        nadia,
        title="Code erreur E21 sur le lave-linge LX500",
        body="Depuis la mise à jour du firmware, l'essorage s'arrête. Réparation impossible ?",
    )
    index = await api.ask(
        maxime,
        title="How do we explain the repairability index to key accounts?",
        body="Buyers asked why our score dropped on the ovens.",
    )
    notebook = await api.ask(
        ines,
        title="Accéder à l'entrepôt de données depuis un notebook",
        body="Sans extraire de CSV à la main.",
    )

    async def found(q: str) -> list[str]:
        return await api.ids(f"/v1/questions?q={q}", ines)

    # Accents and case are ignored; word forms meet (réparer, réparation; oven, ovens).
    assert await found("REPARER") == [e21["id"]]
    assert await found("lave linge") == [e21["id"]]
    assert await found("Entrepot") == [notebook["id"]]
    assert await found("données") == [notebook["id"]]
    assert await found("donnees") == [notebook["id"]]
    assert await found("oven") == [index["id"]]
    assert await found("explaining repairability") == [index["id"]]
    # Every meaningful word must be found; the small words of a sentence do not count.
    assert await found("comment accéder à l'entrepôt") == [notebook["id"]]
    assert await found("firmware notebook") == []
    assert await found("lessive") == []
    assert await found("%25") == []
    # With other filters.
    assert await api.ids("/v1/questions?q=firmware&department_id=rd", ines) == []
    assert await api.ids("/v1/questions?q=firmware&department_id=after-sales", ines) == [e21["id"]]


async def test_a_search_of_only_small_words_still_searches_them(api):
    ines = api.member("rd")
    the_who = await api.ask(ines, title="Who is the owner of the FAQ?", body="Anyone?")
    await api.ask(ines, title="Réglage du four", body="Température.")

    assert await api.ids("/v1/questions?q=the", ines) == [the_who["id"]]
