"""The dashboard in a real Chromium, against the platform's processes as `make run` starts them."""

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from communities.seed import COMMUNITIES as DEMO_COMMUNITIES
from tests.e2e.platform import ROOT, SERVICES, Platform
from tests.e2e.test_platform import SEEDED
from tests.support.databases import Databases

pytestmark = pytest.mark.e2e

SCREENSHOTS = ROOT / "test-results" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Path, heading in French: every page of the navigation.
PAGES = [
    ("/", "Vue d'ensemble"),
    ("/communities", "Communautés"),
    ("/people", "Personnes et experts"),
    ("/reputation", "E-réputation"),
    ("/faq", "FAQ"),
    ("/collaboration", "Collaboration"),
    ("/programs", "Programmes"),
]
# How long a check waits for the page: the platform shares two cores with the other tests.
expect.set_options(timeout=15_000)

MAX_PAGE_JAVASCRIPT = 1_000_000


@pytest.fixture(scope="module")
def platform(tmp_path_factory) -> Iterator[Platform]:
    # The gateway serves the build; `make web` rebuilds it only when its sources changed.
    subprocess.run(["make", "--no-print-directory", "web"], cwd=ROOT, check=True)
    folder = tmp_path_factory.mktemp("dashboard")
    databases = Databases(str(folder))
    platform = Platform(databases, Path(folder) / "platform.log")
    platform.start()
    headers = platform.sign_in()
    platform.wait_for(headers, SEEDED)
    # Each page opens on a view the demo has filled: what it shows first is what is checked.
    platform.wait_for_communities(headers, len(DEMO_COMMUNITIES))
    yield platform
    if platform.process and platform.process.poll() is None:
        platform.stop()
    databases.drop_all()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda error: page.errors.append(error))  # type: ignore[attr-defined]
    yield page
    context.close()


def sign_in(page: Page, platform: Platform, email: str) -> None:
    page.goto(platform.url + "/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mot de passe").fill("demo")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Vue d'ensemble", level=1)).to_be_visible()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def javascript_bytes(page: Page) -> int:
    return page.evaluate(
        """() => performance.getEntriesByType("resource")
            .filter((entry) => entry.name.endsWith(".js"))
            .reduce((sum, entry) => sum + entry.decodedBodySize, 0)"""
    )


def headcount(page: Page, department: str) -> str:
    return page.locator(f"tr[data-department='{department}'] td.headcount").inner_text()


def test_the_cco_signs_in_and_sees_every_page(platform, page):
    started = time.perf_counter()
    page.goto(platform.url + "/")
    expect(page.get_by_role("button", name="Se connecter")).to_be_visible()
    login_seconds = time.perf_counter() - started
    page.get_by_label("E-mail").fill("cco@example.com")
    page.get_by_label("Mot de passe").fill("demo")
    started = time.perf_counter()
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("tr[data-department='rd']")).to_be_visible()
    overview_seconds = time.perf_counter() - started
    # Staffing risks in the reader's language, not the service's English `detail`.
    risk = page.locator("li.risk[data-kind='no_manager']").first
    expect(risk).to_contain_text("personne n'anime")
    print(
        f"\nfirst view: sign-in page {login_seconds * 1000:.0f} ms, "
        f"overview after sign-in {overview_seconds * 1000:.0f} ms"
    )

    for path, heading in PAGES:
        page.goto(platform.url + path)
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        expect(page.get_by_text("Chargement…")).to_have_count(0)
        size = javascript_bytes(page)
        print(f"{path}: {size / 1000:.0f} kB of JavaScript")
        assert size < MAX_PAGE_JAVASCRIPT
        screenshot(page, "cco" + (path.replace("/", "-") if path != "/" else "-overview"))

    page.get_by_role("link", name="Personnes et experts").click()
    page.get_by_role("link", name="Claire Martin").click()
    expect(page.get_by_role("heading", name="Claire Martin")).to_be_visible()
    expect(page.get_by_role("img", name="Compétences")).to_be_visible()
    screenshot(page, "cco-person")
    assert page.errors == []  # type: ignore[attr-defined]


def test_the_dashboard_speaks_english_too(platform, page):
    sign_in(page, platform, "cco@example.com")

    page.get_by_role("button", name="EN").click()

    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="People & experts")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page.locator("tr[data-department='rd']")).to_be_visible()
    expect(page.get_by_text("Loading…")).to_have_count(0)
    screenshot(page, "cco-overview-en")


def test_a_service_that_is_down_shows_as_unavailable_not_as_a_crash(platform, page):
    sign_in(page, platform, "cco@example.com")

    page.goto(platform.url + "/reputation")

    expect(page.get_by_role("heading", name="E-réputation", level=1)).to_be_visible()
    if "listening" not in SERVICES:
        expect(page.get_by_text(re.compile("Indisponible")).first).to_be_visible()
    assert page.errors == []  # type: ignore[attr-defined]


def test_an_employee_is_not_offered_what_they_may_not_do(platform, page):
    sign_in(page, platform, "mehdi.lambert@example.com")
    expect(page.get_by_text("Collaborateur")).to_be_visible()

    page.get_by_role("link", name="Personnes et experts").click()
    expect(page.get_by_role("heading", name="Annuaire")).to_be_visible()
    expect(page.get_by_role("form", name="Ajouter une personne")).to_have_count(0)
    screenshot(page, "employee-people")
    page.get_by_role("link", name="Programmes", exact=True).click()
    expect(page.get_by_role("heading", name="Programmes", level=1)).to_be_visible()
    expect(page.get_by_role("form", name="Nouveau programme")).to_have_count(0)
    screenshot(page, "employee-programs")
    page.get_by_role("link", name="Communautés").click()
    expect(page.get_by_role("form", name="Nouvelle communauté")).to_have_count(0)
    page.get_by_role("link", name="Collaboration").click()
    expect(page.get_by_role("form", name="Poser une question")).to_be_visible()
    screenshot(page, "employee-collaboration")
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_person_added_in_the_dashboard_shows_in_the_overview(platform, page):
    sign_in(page, platform, "cco@example.com")
    before = int(headcount(page, "rd"))

    page.get_by_role("link", name="Personnes et experts").click()
    form = page.get_by_role("form", name="Ajouter une personne")
    form.get_by_label("Nom").fill("Zoé Perrin")
    form.get_by_label("E-mail").fill("zoe.perrin@example.com")
    form.get_by_label("Département").select_option("rd")
    form.get_by_role("button", name="Ajouter").click()
    expect(form.get_by_role("status")).to_have_text("Enregistré.")

    page.get_by_role("link", name="Vue d'ensemble").click()
    rd = page.locator("tr[data-department='rd'] td.headcount")
    expect(rd).to_have_text(str(before + 1))
    screenshot(page, "cco-overview-after-a-write")

    # The open overview follows the view: a write from elsewhere shows without a reload.
    answer = httpx.post(
        f"{platform.url}/api/people/v1/people",
        json={"name": "Yves Marin", "email": "yves.marin@example.com", "department_id": "rd"},
        headers=platform.sign_in(),
    )
    assert answer.status_code == 201, answer.text
    expect(rd).to_have_text(str(before + 2))

    # So does any open page, within the 10 s it waits before asking again.
    page.get_by_role("link", name="Personnes et experts").click()
    directory = page.get_by_role("table", name="Annuaire")
    expect(directory).to_be_visible()
    answer = httpx.post(
        f"{platform.url}/api/people/v1/people",
        json={"name": "Xavier Roux", "email": "xavier.roux@example.com", "department_id": "it"},
        headers=platform.sign_in(),
    )
    assert answer.status_code == 201, answer.text
    expect(directory.get_by_role("link", name="Xavier Roux")).to_be_visible(timeout=25_000)


def test_the_cco_creates_a_program_and_follows_its_progress(platform, page):
    sign_in(page, platform, "cco@example.com")
    page.get_by_role("link", name="Programmes", exact=True).click()

    form = page.get_by_role("form", name="Nouveau programme")
    form.get_by_label("Nom").fill("Ponts R&D – SAV")
    form.get_by_label("Objectif").fill("Que la R&D aide le SAV chaque semaine")
    form.get_by_label("Indicateur", exact=True).select_option("cross_silo_ratio")
    form.get_by_label("Cible").fill("0.4")
    form.get_by_label("Échéance").fill("2027-06-30")
    form.get_by_role("button", name="Créer").click()

    expect(form.get_by_role("status")).to_have_text("Enregistré.", timeout=5_000)
    expect(page.get_by_role("article", name="Ponts R&D – SAV")).to_be_visible()
    page.get_by_role("link", name="Vue d'ensemble").click()
    expect(page.get_by_text("Ponts R&D – SAV")).to_be_visible()
    screenshot(page, "cco-program-created")


def test_an_employee_asks_a_question(platform, page):
    sign_in(page, platform, "mehdi.lambert@example.com")
    page.get_by_role("link", name="Collaboration").click()

    form = page.get_by_role("form", name="Poser une question")
    form.get_by_label("Titre").fill("Qui connaît la norme NF sur les lave-linge ?")
    form.get_by_label("Texte").fill("Le SAV reçoit des questions de clients sur la norme.")
    form.get_by_label("Mots-clés (séparés par des virgules)").fill("normes, sav")
    form.get_by_role("button", name="Poser une question").click()

    expect(form.get_by_role("status")).to_have_text("Enregistré.", timeout=5_000)
    expect(page.get_by_text("Qui connaît la norme NF sur les lave-linge ?")).to_be_visible()
    screenshot(page, "employee-question-asked")
