"""Routing rules a community manager edits, and people correcting the sentiment model."""

import pytest

pytestmark = pytest.mark.integration


async def test_rules_are_set_listed_and_announced(api):
    response = await api.client.put(
        "/v1/routing-rules/after-sales",
        json={"keywords": ["Livraison", "SAV", "mot de passe", "sav"]},
        headers=api.as_("community_manager"),
    )

    assert response.status_code == 200, response.text
    assert response.json()["keywords"] == ["livraison", "sav", "mot de passe"]
    listed = (await api.client.get("/v1/routing-rules", headers=api.as_("employee"))).json()
    assert listed["default_department_id"] == "communication"
    assert [(r["department_id"], r["keywords"]) for r in listed["rules"]] == [
        ("after-sales", ["livraison", "sav", "mot de passe"])
    ]
    [event] = api.events("listening.routing_rule.updated.v1")
    assert event["subject"] == "after-sales"
    assert event["data"] == {
        "department_id": "after-sales",
        "keywords": ["livraison", "sav", "mot de passe"],
    }


async def test_setting_the_same_keywords_again_changes_nothing(api):
    await api.rules({"hr": ["recrutement"]})
    before = api.snapshot()

    await api.rules({"hr": ["recrutement"]})

    assert api.snapshot() == before


async def test_mentions_go_to_the_department_whose_keywords_they_use_most(api):
    await api.rules(
        {
            "after-sales": ["livraison", "réparation", "delivery"],
            "marketing": ["prix", "promo"],
            "rd": ["mot de passe", "appli"],
        }
    )
    source = await api.source()

    async def routed(text: str) -> tuple[str, list[str]]:
        body = await api.mention(source["id"], text)
        return body["department_id"], body["topics"]

    assert await routed("Les REPARATIONS et la livraison, quel cauchemar") == (
        "after-sales",
        ["livraison", "réparation"],
    )
    assert await routed("Super promo, le prix de la livraison est offert") == (
        "marketing",
        ["livraison", "prix", "promo"],
    )
    assert await routed("J'ai oublié mon mot de passe de l'appli") == (
        "rd",
        ["appli", "mot de passe"],
    )
    assert await routed("Deliveries are always late") == ("after-sales", ["delivery"])
    assert await routed("Bonjour à tous") == ("communication", [])


async def test_new_rules_route_new_mentions_only(api):
    source = await api.source()
    before = await api.mention(source["id"], "Le recrutement est lent")

    await api.rules({"hr": ["recrutement"]})
    after = await api.mention(source["id"], "Le recrutement est lent")

    assert before["department_id"] == "communication"
    assert after["department_id"] == "hr"


@pytest.mark.parametrize(
    ("department_id", "body"),
    [
        ("After Sales", {"keywords": ["x"]}),
        ("rd", {"keywords": "appli"}),
        ("rd", {"keywords": ["appli", ""]}),
        ("rd", {"keywords": ["x" * 61]}),
        ("rd", {"keywords": [f"k{n}" for n in range(101)]}),
        ("rd", {}),
        ("rd", {"keywords": [], "department_id": "hr"}),
    ],
)
async def test_bad_rules_are_refused_and_change_nothing(api, department_id, body):
    before = api.snapshot()

    response = await api.client.put(
        f"/v1/routing-rules/{department_id}", json=body, headers=api.cco
    )

    assert response.status_code == 422
    assert api.snapshot() == before


async def test_who_may_edit_rules(api):
    body = {"keywords": ["x"]}

    employee = await api.client.put("/v1/routing-rules/rd", json=body, headers=api.as_("employee"))
    voice = await api.client.put(
        "/v1/routing-rules/rd", json=body, headers=api.as_("conversation_manager")
    )

    assert (employee.status_code, voice.status_code) == (403, 403)


async def test_a_correction_keeps_both_labels_and_counts_as_said(api):
    source = await api.source()
    body = await api.mention(source["id"], "Merci pour rien, vraiment génial le SAV...")
    model_label = body["sentiment"]["label"]
    assert model_label == "positive"  # sarcasm: what the model cannot see

    response = await api.client.patch(
        f"/v1/mentions/{body['id']}",
        json={"sentiment_label": "negative"},
        headers=api.as_("conversation_manager", subject="voice-1"),
    )

    assert response.status_code == 200, response.text
    sentiment = response.json()["sentiment"]
    assert sentiment["source"] == "human"
    assert sentiment["label"] == "negative"
    assert sentiment["model_label"] == "positive"
    assert sentiment["score"] < 0 < sentiment["model_score"]
    negatives = await api.client.get("/v1/mentions?sentiment=negative", headers=api.cco)
    assert [m["id"] for m in negatives.json()["items"]] == [body["id"]]
    [event] = api.events("listening.mention.relabelled.v1")
    assert event["subject"] == body["id"]
    assert event["data"] == {
        "id": body["id"],
        "lang": "fr",
        "model_label": "positive",
        "human_label": "negative",
        "community_id": None,
        "department_id": body["department_id"],
        "relabelled_by": "voice-1",
    }


async def test_the_same_correction_twice_changes_nothing(api):
    source = await api.source()
    body = await api.mention(source["id"], "Horrible service")
    await api.client.patch(
        f"/v1/mentions/{body['id']}", json={"sentiment_label": "neutral"}, headers=api.cco
    )
    before = api.snapshot()

    again = await api.client.patch(
        f"/v1/mentions/{body['id']}", json={"sentiment_label": "neutral"}, headers=api.cco
    )

    assert again.status_code == 200
    assert api.snapshot() == before


@pytest.mark.parametrize(
    "body",
    [{"sentiment_label": "furious"}, {}, {"sentiment_label": "negative", "text": "edited"}],
)
async def test_bad_corrections_are_refused(api, body):
    source = await api.source()
    mention = await api.mention(source["id"], "Horrible service")
    before = api.snapshot()

    response = await api.client.patch(f"/v1/mentions/{mention['id']}", json=body, headers=api.cco)

    assert response.status_code == 422
    assert api.snapshot() == before


async def test_who_may_correct(api):
    source = await api.source()
    mention = await api.mention(source["id"], "Horrible service")
    body = {"sentiment_label": "neutral"}

    employee = await api.client.patch(
        f"/v1/mentions/{mention['id']}", json=body, headers=api.as_("employee")
    )
    system = await api.client.patch(f"/v1/mentions/{mention['id']}", json=body, headers=api.system)
    unknown = await api.client.patch(
        "/v1/mentions/01a21d21-3038-7611-bc61-d2f6751b2f41", json=body, headers=api.cco
    )
    manager = await api.client.patch(
        f"/v1/mentions/{mention['id']}", json=body, headers=api.as_("community_manager")
    )

    assert (employee.status_code, system.status_code, unknown.status_code) == (403, 403, 404)
    assert manager.status_code == 200


async def test_quality_is_the_agreement_of_people_with_the_model_per_language(api):
    source = await api.source()
    texts = [
        ("Service génial, merci", "fr", "positive"),  # agrees
        ("Livraison horrible", "fr", "negative"),  # agrees
        ("Four génial, enfin presque", "fr", "neutral"),  # disagrees
        ("Great oven", "en", "positive"),  # agrees
        ("Not bad", "en", "negative"),  # disagrees
    ]
    for text, lang, label in texts:
        mention = await api.mention(source["id"], text, lang=lang)
        await api.client.patch(
            f"/v1/mentions/{mention['id']}", json={"sentiment_label": label}, headers=api.cco
        )
    await api.mention(source["id"], "Pas encore relu")  # no correction: not counted

    quality = (await api.client.get("/v1/sentiment/quality", headers=api.as_("employee"))).json()

    assert (quality["corrections"], quality["agreements"], quality["agreement"]) == (5, 3, 0.6)
    by_language = {q["lang"]: q for q in quality["languages"]}
    assert (by_language["fr"]["corrections"], by_language["fr"]["agreement"]) == (3, 0.6667)
    assert (by_language["en"]["corrections"], by_language["en"]["agreement"]) == (2, 0.5)
    assert {"model_label": "positive", "human_label": "negative", "mentions": 1} in by_language[
        "en"
    ]["pairs"]


async def test_quality_without_corrections(api):
    quality = (await api.client.get("/v1/sentiment/quality", headers=api.cco)).json()

    assert quality == {"corrections": 0, "agreements": 0, "agreement": None, "languages": []}
