"""The demo exchange `make run` starts with: weeks of questions, practices and ideas across silos.

It refers to the demo people (by email) and communities (by name) of the people and
communities services, and waits for them to arrive as events. A community still unknown
after `seed_community_wait_seconds` is left out rather than holding the rest back.
"""

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from collaboration import service
from collaboration.models import (
    AdoptionCreate,
    AnswerCreate,
    Community,
    Idea,
    IdeaCreate,
    IdeaStatusChange,
    Person,
    Practice,
    PracticeCreate,
    Question,
    QuestionCreate,
)
from shared.auth import Principal, Role

log = logging.getLogger(__name__)

CCO = "cco@example.com"
PYTHON = "Python & data"
QUALITY = "Qualité & réparabilité"
USERS_CLUB = "Club Utilisateurs"
CUSTOMER_IDEAS = "Idées Clients"
COMMUNITIES = (PYTHON, QUALITY, USERS_CLUB, CUSTOMER_IDEAS)


@dataclass(frozen=True)
class DemoAnswer:
    by: str
    hours_later: float
    body: str
    votes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoQuestion:
    by: str
    days_ago: float
    title: str
    body: str
    tags: list[str]
    community: str | None = None
    answers: list[DemoAnswer] = field(default_factory=list)
    # Answers accepted in turn by the asker, hours after the question: a later one replaces.
    accepted: list[tuple[int, float]] = field(default_factory=list)


@dataclass(frozen=True)
class DemoPractice:
    by: str
    days_ago: float
    title: str
    body: str
    tags: list[str]
    # By whom, days later, for which department, with which note.
    adoptions: list[tuple[str, float, str, str | None]] = field(default_factory=list)


@dataclass(frozen=True)
class DemoIdea:
    by: str
    days_ago: float
    title: str
    body: str
    tags: list[str]
    community: str | None = None
    voters: list[str] = field(default_factory=list)
    # Status, days after the proposal, outcome; decided by the CCO.
    steps: list[tuple[str, float, str | None]] = field(default_factory=list)


QUESTIONS = [
    DemoQuestion(
        by="nadia.benali@example.com",
        days_ago=20,
        title="Code erreur E21 sur le lave-linge LX500 après la mise à jour du firmware",
        body="Depuis la mise à jour 3.2 du firmware, plusieurs clients signalent un code E21 en "
        "fin d'essorage. Le diagnostic habituel (pompe de vidange) ne donne rien. Quelqu'un de "
        "la R&D sait ce qui a changé ?",
        tags=["firmware", "diagnostics", "repairs"],
        community=QUALITY,
        answers=[
            DemoAnswer(
                "ines.lefevre@example.com",
                5,
                "La 3.2 a durci le seuil du capteur de niveau d'eau : un E21 sans défaut de pompe "
                "vient presque toujours d'un tuyau de pressostat pincé. Recalibrez par le menu "
                "service (Départ + Option pendant 5 s) ; le correctif arrive avec la 3.2.1.",
                {
                    "nadia.benali@example.com": 1,
                    "lucas.garnier@example.com": 1,
                    "sebastien.blanc@example.com": 1,
                },
            ),
            DemoAnswer(
                "hugo.mercier@example.com",
                9,
                "Vérifiez aussi le joint du pressostat : sur les séries de 2023 le caoutchouc "
                "durcit et fausse la mesure.",
                {"nadia.benali@example.com": 1},
            ),
        ],
        accepted=[(0, 26)],
    ),
    DemoQuestion(
        by="ines.lefevre@example.com",
        days_ago=16,
        title="Accéder à l'entrepôt de données SAV depuis un notebook Python",
        body="Je voudrais croiser les retours SAV avec les journaux des appareils connectés. "
        "Comment interroger l'entrepôt depuis un notebook, sans extraire de CSV à la main ?",
        tags=["python", "sql", "data"],
        community=PYTHON,
        answers=[
            DemoAnswer(
                "manon.chevalier@example.com",
                2,
                "J'utilise pandas.read_sql avec une connexion SQLAlchemy ; il faut demander un "
                "accès en lecture à la DSI.",
                {"ines.lefevre@example.com": 1},
            ),
            DemoAnswer(
                "mehdi.lambert@example.com",
                6,
                "La DSI fournit un compte de service en lecture seule et une vue `sav_retours` "
                "déjà nettoyée ; le module interne `agora_data.warehouse` donne la connexion en "
                "une ligne. Je t'ai ouvert l'accès.",
                {
                    "ines.lefevre@example.com": 1,
                    "manon.chevalier@example.com": 1,
                    "julie.andre@example.com": 1,
                },
            ),
        ],
        accepted=[(0, 3), (1, 24)],
    ),
    DemoQuestion(
        by="lucas.garnier@example.com",
        days_ago=12,
        title="Quelles pièces détachées garder en stock pour le lave-vaisselle DW300 ?",
        body="Nos délais de réparation explosent sur le DW300 faute de pièces. Quelles pièces "
        "lâchent le plus souvent d'après vos essais d'endurance ?",
        tags=["spare-parts", "repairs"],
        community=QUALITY,
        answers=[
            DemoAnswer(
                "hugo.mercier@example.com",
                20,
                "D'après nos essais d'endurance : la pompe de cyclage, la résistance et la carte "
                "de puissance (condensateurs C12 et C14). Les bras de lavage cassent rarement.",
                {"lucas.garnier@example.com": 1, "nadia.benali@example.com": 1},
            )
        ],
    ),
    DemoQuestion(
        by="maxime.rousseau@example.com",
        days_ago=9,
        title="How do we explain the repairability index to key accounts?",
        body="Two retail buyers asked why our repairability score dropped on the oven range. "
        "Is there a short explanation we can give them, and who can join a call?",
        tags=["repairability", "key-accounts"],
        answers=[
            DemoAnswer(
                "sebastien.blanc@example.com",
                4,
                "The score fell because spare-part prices were updated, not because the ovens "
                "got harder to repair. I can join the call with the teardown sheet: our repair "
                "times actually improved.",
                {"maxime.rousseau@example.com": 1, "chloe.faure@example.com": 1},
            )
        ],
        accepted=[(0, 8)],
    ),
    DemoQuestion(
        by="mehdi.lambert@example.com",
        days_ago=7,
        title="Le capteur d'humidité du sèche-linge donne-t-il des données exploitables ?",
        body="Pour le tableau de bord énergie, nous voulons estimer la durée des cycles. Les "
        "trames du capteur d'humidité sont-elles fiables ?",
        tags=["iot", "data", "energy-efficiency"],
        community=PYTHON,
        answers=[
            DemoAnswer(
                "ines.lefevre@example.com",
                3,
                "Oui, à 2 % près après les cinq premières minutes ; ignorez les trames du "
                "préchauffage. Je te passe le décodeur.",
                {"mehdi.lambert@example.com": 1, "manon.chevalier@example.com": 1},
            ),
            DemoAnswer(
                "nadia.benali@example.com",
                28,
                "Côté SAV, les capteurs des appareils de plus de trois ans sont souvent encrassés "
                ": filtrez-les.",
                {"mehdi.lambert@example.com": 1, "julie.andre@example.com": 1},
            ),
        ],
        accepted=[(0, 6)],
    ),
    DemoQuestion(
        by="karim.haddad@example.com",
        days_ago=4,
        title="Qui peut animer un atelier Python pour les nouveaux arrivants ?",
        body="Nous accueillons six alternants en data le mois prochain. Quelqu'un pourrait-il "
        "animer une demi-journée d'initiation à Python ?",
        tags=["python", "onboarding"],
        community=PYTHON,
    ),
    DemoQuestion(
        by="chloe.faure@example.com",
        days_ago=2,
        title="Peut-on proposer une extension de garantie sur les appareils reconditionnés ?",
        body="Plusieurs enseignes nous demandent deux ans de garantie sur le reconditionné. Le "
        "SAV peut-il suivre ?",
        tags=["warranty", "refurbished"],
        answers=[
            DemoAnswer(
                "sebastien.blanc@example.com",
                6,
                "Oui pour les lave-linge et lave-vaisselle, dont nous avons les pièces ; pas "
                "encore pour les fours des séries d'avant 2020.",
                {"chloe.faure@example.com": 1},
            )
        ],
    ),
    DemoQuestion(
        by="camille.roux@example.com",
        days_ago=0.125,
        title="Retours sur l'application mobile : qui centralise les bugs ?",
        body="Les membres du Club Utilisateurs remontent des bugs de l'application (appairage "
        "Wi-Fi). Qui les centralise, côté R&D ou DSI ?",
        tags=["iot", "mobile-app"],
        community=USERS_CLUB,
    ),
]

PRACTICES = [
    DemoPractice(
        by="sebastien.blanc@example.com",
        days_ago=25,
        title="Diagnostic à distance avant tout déplacement de technicien",
        body="Un appel vidéo de dix minutes avec le client, guidé par une check-list, évite un "
        "déplacement sur trois. La check-list et le script d'appel sont dans l'espace SAV.",
        tags=["diagnostics", "customer-support"],
        adoptions=[
            ("chloe.faure@example.com", 6, "sales", "Utilisé avant chaque devis de reprise."),
            ("antoine.dubois@example.com", 11, "rd", "Repris pour les tests terrain."),
        ],
    ),
    DemoPractice(
        by="antoine.dubois@example.com",
        days_ago=22,
        title="Revue de conception orientée réparabilité",
        body="Avant chaque gel de conception, un technicien SAV démonte le prototype et note "
        "chaque vis, clip ou colle qui gêne la réparation ; les points bloquants passent en "
        "priorité.",
        tags=["repairability", "design-review"],
        adoptions=[
            (
                "sebastien.blanc@example.com",
                3,
                "after-sales",
                "Nos techniciens participent à chaque revue.",
            )
        ],
    ),
    DemoPractice(
        by="julie.andre@example.com",
        days_ago=18,
        title="Notebooks partagés et versionnés pour les analyses",
        body="Chaque analyse vit dans un dépôt Git avec son environnement figé, et se relit "
        "comme du code. Fini les fichiers « final_v3.xlsx ».",
        tags=["python", "data"],
        adoptions=[
            ("manon.chevalier@example.com", 2, "rd", "Nos analyses de fiabilité y sont passées."),
            ("camille.roux@example.com", 8, "marketing", None),
        ],
    ),
    DemoPractice(
        by="thomas.moreau@example.com",
        days_ago=10,
        title="Répondre aux avis clients en moins de 24 heures",
        body="Chaque matin, le community manager répartit les avis négatifs de la veille ; le "
        "service concerné répond dans la journée, avec un modèle de réponse validé.",
        tags=["e-reputation", "customer-support"],
    ),
    DemoPractice(
        by="sophie.petit@example.com",
        days_ago=6,
        title="Parrainage croisé entre services pour les nouveaux arrivants",
        body="Chaque nouvel arrivant a un parrain d'un autre service pendant trois mois : il "
        "sait à qui poser ses questions hors de son équipe.",
        tags=["onboarding"],
        adoptions=[("julie.andre@example.com", 1, "it", None)],
    ),
]

IDEAS = [
    DemoIdea(
        by="camille.roux@example.com",
        days_ago=30,
        title="Programme de reprise des anciens appareils",
        body="Reprendre l'ancien appareil à la livraison du neuf, le reconditionner ou le "
        "recycler, et offrir un bon d'achat.",
        tags=["circular-economy", "open-innovation"],
        community=CUSTOMER_IDEAS,
        voters=[
            "nicolas.girard@example.com",
            "chloe.faure@example.com",
            "antoine.dubois@example.com",
            "sebastien.blanc@example.com",
            "nadia.benali@example.com",
        ],
        steps=[
            ("reviewing", 3, None),
            ("accepted", 10, "Pilote validé en Île-de-France."),
            ("implemented", 24, "Lancé dans 40 magasins : 1 200 appareils repris le premier mois."),
        ],
    ),
    DemoIdea(
        by="nadia.benali@example.com",
        days_ago=21,
        title="Tutoriels vidéo de réparation pour les clients",
        body="Filmer les réparations simples (joints, filtres, résistances) et les publier dans "
        "le Club Utilisateurs.",
        tags=["repairs", "customer-support"],
        community=USERS_CLUB,
        voters=[
            "lucas.garnier@example.com",
            "sebastien.blanc@example.com",
            "thomas.moreau@example.com",
            "camille.roux@example.com",
        ],
        steps=[
            ("reviewing", 2, None),
            ("accepted", 9, "Les cinq pannes les plus fréquentes d'abord."),
        ],
    ),
    DemoIdea(
        by="hugo.mercier@example.com",
        days_ago=15,
        title="Pièces imprimées en 3D pour les modèles anciens",
        body="Imprimer à la demande les pièces plastiques qui ne sont plus fabriquées.",
        tags=["spare-parts", "materials"],
        community=QUALITY,
        voters=["lucas.garnier@example.com", "ines.lefevre@example.com"],
        steps=[
            ("reviewing", 2, None),
            (
                "rejected",
                6,
                "Tenue thermique insuffisante des polymères testés ; à revoir avec d'autres "
                "matériaux.",
            ),
        ],
    ),
    DemoIdea(
        by="mehdi.lambert@example.com",
        days_ago=11,
        title="Un assistant interne pour les questions SAV fréquentes",
        body="Indexer les réponses acceptées ici pour que le SAV retrouve en un instant ce que "
        "la R&D a déjà expliqué.",
        tags=["customer-support", "data"],
        voters=[
            "lucas.garnier@example.com",
            "julie.andre@example.com",
            "nadia.benali@example.com",
        ],
        steps=[("reviewing", 4, None)],
    ),
    DemoIdea(
        by="lucas.garnier@example.com",
        days_ago=2,
        title="Un badge « a aidé un autre service »",
        body="Montrer sur le profil de chacun les services qu'il a aidés ce trimestre.",
        tags=["recognition"],
        voters=["maxime.rousseau@example.com"],
    ),
]


def _emails() -> set[str]:
    emails = {CCO}
    for question in QUESTIONS:
        emails.add(question.by)
        for answer in question.answers:
            emails |= {answer.by, *answer.votes}
    for practice in PRACTICES:
        emails |= {practice.by, *(by for by, *_ in practice.adoptions)}
    for idea in IDEAS:
        emails |= {idea.by, *idea.voters}
    return emails


class DemoSeed:
    """The seed hook: False until the demo people (and, for a while, communities) are known."""

    def __init__(self, *, community_wait_seconds: float) -> None:
        self.community_wait_seconds = community_wait_seconds
        self._people_known_since: float | None = None

    def __call__(self, session: Session) -> bool:
        if _seeded(session):
            return True
        emails = _emails()
        people = {
            person.email: person
            for person in session.scalars(
                select(Person).where(Person.email.in_(emails), Person.active)
            )
        }
        if set(people) != emails:
            return False
        communities = {
            community.name: community
            for community in session.scalars(
                select(Community).where(Community.name.in_(COMMUNITIES), ~Community.archived)
            )
        }
        if len(communities) < len(COMMUNITIES):
            if self._people_known_since is None:
                self._people_known_since = time.monotonic()
            if time.monotonic() - self._people_known_since < self.community_wait_seconds:
                return False
            log.warning(
                "seeding the demo exchange without some communities",
                extra={"missing": sorted(set(COMMUNITIES) - set(communities))},
            )
        _seed(session, people, {name: c.id for name, c in communities.items()})
        return True


def _seeded(session: Session) -> bool:
    """Anything written by people means the exchange is not empty (FAQ asks do not count)."""
    return bool(
        session.scalar(select(Question.id).where(Question.source == "internal").limit(1))
        or session.scalar(select(Practice.id).limit(1))
        or session.scalar(select(Idea.id).limit(1))
    )


def _seed(session: Session, people: dict[str, Person], communities: dict[str, uuid.UUID]) -> None:
    def actor(email: str) -> Principal:
        person = people[email]
        roles = {Role.CCO} if email == CCO else {Role.EMPLOYEE}
        return Principal(
            subject=str(person.id), roles=frozenset(roles), department=person.department_id
        )

    now = datetime.now(UTC)
    for demo in QUESTIONS:
        asked_at = now - timedelta(days=demo.days_ago)
        question = service.ask_question(
            session,
            data=QuestionCreate(
                title=demo.title,
                body=demo.body,
                tags=demo.tags,
                community_id=communities.get(demo.community),
            ),
            actor=actor(demo.by),
            at=asked_at,
        )
        answers = []
        for reply in demo.answers:
            posted_at = asked_at + timedelta(hours=reply.hours_later)
            answer = service.post_answer(
                session,
                question_id=question.id,
                data=AnswerCreate(body=reply.body),
                actor=actor(reply.by),
                at=posted_at,
            )
            answers.append(answer)
            for voter, value in reply.votes.items():
                service.vote_on_answer(
                    session,
                    answer_id=answer.id,
                    value=value,
                    actor=actor(voter),
                    at=posted_at + timedelta(hours=1),
                )
        for index, hours_later in demo.accepted:
            service.accept_answer(
                session,
                answer_id=answers[index].id,
                actor=actor(demo.by),
                at=asked_at + timedelta(hours=hours_later),
            )
    for demo in PRACTICES:
        shared_at = now - timedelta(days=demo.days_ago)
        practice = service.share_practice(
            session,
            data=PracticeCreate(title=demo.title, body=demo.body, tags=demo.tags),
            actor=actor(demo.by),
            at=shared_at,
        )
        for by, days_later, department_id, note in demo.adoptions:
            service.adopt_practice(
                session,
                practice_id=practice.id,
                data=AdoptionCreate(department_id=department_id, note=note),
                actor=actor(by),
                at=shared_at + timedelta(days=days_later),
            )
    for demo in IDEAS:
        proposed_at = now - timedelta(days=demo.days_ago)
        idea = service.propose_idea(
            session,
            data=IdeaCreate(
                title=demo.title,
                body=demo.body,
                tags=demo.tags,
                community_id=communities.get(demo.community),
            ),
            actor=actor(demo.by),
            at=proposed_at,
        )
        for position, voter in enumerate(demo.voters):
            service.vote_for_idea(
                session,
                idea_id=idea.id,
                actor=actor(voter),
                at=proposed_at + timedelta(hours=2 + position),
            )
        for status, days_later, outcome in demo.steps:
            service.change_idea_status(
                session,
                idea_id=idea.id,
                data=IdeaStatusChange(status=status, outcome=outcome),
                actor=actor(CCO),
                at=proposed_at + timedelta(days=days_later),
            )
