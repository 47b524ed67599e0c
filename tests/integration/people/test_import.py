"""The CSV import of an HR export: good rows land, bad rows are reported by line."""

import json

import pytest

from people.main import create_app
from people.settings import Settings
from tests.support.apps import running

pytestmark = pytest.mark.integration

HEADER = "name,email,department_id,title,community_experience_years,skills\n"


@pytest.fixture
async def departments(api):
    await api.department("rd", "R&D")
    await api.department("hr", "RH")


async def post_csv(api, text: str | bytes, content_type: str = "text/csv", headers=None):
    body = text.encode() if isinstance(text, str) else text
    return await api.client.post(
        "/v1/people/import",
        content=body,
        headers={**(headers or api.cco), "content-type": content_type},
    )


async def test_good_rows_land_and_bad_rows_are_reported_by_line(api, departments):
    existing = await api.person("sophie@example.com", "hr", name="Sophie Petit")
    csv = HEADER + (
        "Inès Lefèvre,ines@example.com,rd,Ingénieure,2,embedded-c:5;python:3\n"  # line 2: new
        "Bad Email,not-an-email,rd,,,\n"  # line 3
        "Nobody,nobody@example.com,nowhere,,,\n"  # line 4
        "Sophie Petit,SOPHIE@example.com,hr,Responsable RH,4,recruitment\n"  # line 5: update
        "Bad Level,bad@example.com,rd,,,python:9\n"  # line 6
        '"Doe, Jane",jane@example.com,hr,,abc,\n'  # line 7
        "Hugo Mercier,hugo@example.com,rd,,0,\n"  # line 8: new
    )

    response = await post_csv(api, csv)

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["updated"]) == (2, 1)
    assert [error["line"] for error in report["errors"]] == [3, 4, 6, 7]
    assert "email" in report["errors"][0]["error"]
    assert "nowhere" in report["errors"][1]["error"]
    people = (await api.client.get("/v1/people?limit=10", headers=api.cco)).json()["items"]
    by_email = {p["email"]: p for p in people}
    assert set(by_email) == {"sophie@example.com", "ines@example.com", "hugo@example.com"}
    assert by_email["ines@example.com"]["skills"] == [
        {"skill": "embedded-c", "level": 5},
        {"skill": "python", "level": 3},
    ]
    sophie = by_email["sophie@example.com"]
    assert sophie["id"] == existing["id"]
    assert sophie["title"] == "Responsable RH" and sophie["community_experience_years"] == 4
    assert sophie["skills"] == [{"skill": "recruitment", "level": 3}]
    types = [json.loads(e.value)["type"] for e in api.events()]
    assert types.count("people.person.registered.v1") == 3
    assert types.count("people.person.updated.v1") == 1


async def test_a_file_without_the_required_columns_changes_nothing(api, departments):
    before = api.snapshot()

    response = await post_csv(api, "fullname,mail\nX,x@example.com\n")

    assert response.status_code == 422
    assert "department_id" in response.json()["detail"]
    assert api.snapshot() == before


async def test_the_import_takes_csv_only(api, departments):
    before = api.snapshot()

    as_json = await post_csv(api, '{"name": "x"}', content_type="application/json")
    not_utf8 = await post_csv(api, (HEADER + "Zoé,zoe@example.com,rd,,,\n").encode("utf-16"))

    assert as_json.status_code == 415
    assert not_utf8.status_code == 422
    assert api.snapshot() == before


async def test_the_import_is_for_the_cco_and_hr_systems(api, departments):
    csv = HEADER + "Zoé,zoe@example.com,rd,,,\n"

    employee = await post_csv(api, csv, headers=api.as_("employee"))
    system = await post_csv(api, csv, headers=api.as_("system", subject="hr-sync"))

    assert employee.status_code == 403
    assert system.status_code == 200 and system.json()["created"] == 1


async def test_oversized_and_overlong_files_are_refused(databases, shared_broker):
    from tests.support.apps import service_settings

    settings = service_settings(
        Settings, databases, shared_broker, import_max_bytes=2_000, import_max_rows=3
    )
    async with running(create_app(settings)) as client:
        cco = {"Authorization": api_token(settings), "content-type": "text/csv"}
        await client.post(
            "/v1/departments",
            json={"id": "rd", "name": "R&D"},
            headers=cco | {"content-type": "application/json"},
        )
        big = HEADER + "".join(f"P{i},p{i}@example.com,rd,,,\n" for i in range(100))
        long = HEADER + "".join(f"P{i},p{i}@example.com,rd,,,\n" for i in range(5))

        too_big = await client.post("/v1/people/import", content=big.encode(), headers=cco)
        too_long = await client.post("/v1/people/import", content=long.encode(), headers=cco)

    assert too_big.status_code == 413
    assert too_long.status_code == 200
    report = too_long.json()
    assert report["created"] == 3
    assert report["errors"] == [{"line": 5, "error": "over 3 rows; not read"}]


def api_token(settings: Settings) -> str:
    from tests.support.apps import bearer

    return bearer(settings, "cco")["Authorization"]
