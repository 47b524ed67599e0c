"""Merging the services' OpenAPI documents under their prefixes."""

from gateway.openapi import merge, under_prefix

PEOPLE = {
    "openapi": "3.1.0",
    "paths": {
        "/v1/people": {
            "get": {
                "operationId": "list_people",
                "tags": ["people"],
                "responses": {
                    "200": {
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Page_PersonPublic_"}
                            }
                        }
                    }
                },
            }
        }
    },
    "components": {
        "schemas": {
            "Page_PersonPublic_": {
                "properties": {"items": {"items": {"$ref": "#/components/schemas/PersonPublic"}}}
            },
            "PersonPublic": {"type": "object"},
        },
        "securitySchemes": {"HTTPBearer": {"type": "http", "scheme": "bearer"}},
    },
}


def test_paths_operations_and_schemas_move_under_the_service():
    part = under_prefix("people", PEOPLE)

    operation = part["paths"]["/api/people/v1/people"]["get"]
    assert operation["operationId"] == "people_list_people"
    assert operation["tags"] == ["people: people"]
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/people.Page_PersonPublic_"
    assert set(part["schemas"]) == {"people.Page_PersonPublic_", "people.PersonPublic"}
    nested = part["schemas"]["people.Page_PersonPublic_"]["properties"]["items"]["items"]
    assert nested["$ref"] == "#/components/schemas/people.PersonPublic"
    # The service's own document is left as it was (it is cached).
    assert "/v1/people" in PEOPLE["paths"]


def test_two_services_with_the_same_schema_name_do_not_collide():
    own = {"openapi": "3.1.0", "info": {"title": "Agora", "version": "1"}, "paths": {}}

    merged = merge(own, {"people": PEOPLE, "strategy": PEOPLE, "listening": None})

    schemas = merged["components"]["schemas"]
    assert {"people.PersonPublic", "strategy.PersonPublic"} <= set(schemas)
    assert merged["info"]["x-unavailable-services"] == ["listening"]
    assert {"HTTPBearer", "ApiKey"} <= set(merged["components"]["securitySchemes"])
    assert own["paths"] == {}
