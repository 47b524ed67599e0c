"""The demo company's communities: scattered across its silos, and not all of them well staffed."""

from sqlmodel import Session, select

from communities import service
from communities.models import (
    Community,
    CommunityCreate,
    KnownDepartment,
    KnownPerson,
    MembershipCreate,
)
from shared.auth import Principal, Role

# name, kind, purpose, owner department, description, topics, managers, members (emails of
# people of the company, or outside handles). Other services' demo data refer to these names.
COMMUNITIES = [
    (
        "Python & data",
        "internal",
        "practice",
        "it",
        "Scripts, notebooks et pipelines de données : l'entraide entre la R&D et la DSI.",
        ["python", "data", "sql", "machine-learning"],
        ["mehdi.lambert@example.com", "manon.chevalier@example.com"],
        [
            "manon.chevalier@example.com",
            "mehdi.lambert@example.com",
            "ines.lefevre@example.com",
            "julie.andre@example.com",
            "camille.roux@example.com",
        ],
    ),
    (
        "Qualité & réparabilité",
        "internal",
        "practice",
        "rd",
        "Des appareils qui se réparent : la R&D et le SAV partagent pannes, pièces et retours.",
        ["repairs", "materials", "quality", "energy-efficiency"],
        ["antoine.dubois@example.com", "sebastien.blanc@example.com"],
        [
            "hugo.mercier@example.com",
            "ines.lefevre@example.com",
            "nadia.benali@example.com",
            "lucas.garnier@example.com",
        ],
    ),
    (
        "Onboarding RH",
        "internal",
        "support",
        "hr",
        "Accueillir les nouveaux arrivants : parrainage, premiers pas, questions pratiques.",
        ["onboarding"],
        ["sophie.petit@example.com"],
        [
            "karim.haddad@example.com",
            "hugo.mercier@example.com",
            "maxime.rousseau@example.com",
            "lea.fontaine@example.com",
        ],
    ),
    (
        "Retours terrain",
        "internal",
        "practice",
        "sales",
        "Les ventes et le SAV partagent ce que les clients disent en magasin.",
        ["customer-insight", "negotiation"],
        # Nobody runs it since it started: a staffing risk for the strategy view.
        [],
        [
            "chloe.faure@example.com",
            "maxime.rousseau@example.com",
            "lucas.garnier@example.com",
            "sebastien.blanc@example.com",
        ],
    ),
    (
        "Club Utilisateurs",
        "external",
        "support",
        "after-sales",
        "La communauté des clients : entraide, tutoriels de réparation, questions au SAV.",
        ["customer-support", "repairs", "iot", "spare-parts"],
        ["sebastien.blanc@example.com", "nadia.benali@example.com"],
        [
            "lucas.garnier@example.com",
            "ines.lefevre@example.com",
            "@marie_bricole",
            "@jp_electro",
            "forum:repair-cafe-lyon",
        ],
    ),
    (
        "Ambassadeurs de la marque",
        "external",
        "reputation",
        "communication",
        "Clients et fans qui parlent de nos appareils : veille e-réputation et relais de marque.",
        ["e-reputation", "social-media", "brand"],
        ["thomas.moreau@example.com", "elodie.laurent@example.com"],
        [
            "lea.fontaine@example.com",
            "nicolas.girard@example.com",
            "@fan_de_cuisine",
            "@techaddict_fr",
            "instagram:maison.durable",
        ],
    ),
    (
        "Talents",
        "external",
        "recruitment",
        "hr",
        "Candidats, anciens et écoles : le vivier de recrutement et la marque employeur.",
        ["recruitment", "employer-branding", "linkedin"],
        # Run by a recruiter new to communities alone: a staffing risk for the strategy view.
        ["karim.haddad@example.com"],
        [
            "sophie.petit@example.com",
            "mehdi.lambert@example.com",
            "manon.chevalier@example.com",
            "linkedin:camille-dev",
            "@jeunes_ingenieurs",
            "school:insa-lyon",
        ],
    ),
    (
        "Idées Clients",
        "external",
        "innovation",
        "marketing",
        "Innovation ouverte : les clients proposent, votent et testent les idées de produits.",
        ["open-innovation", "customer-insight", "product-marketing"],
        ["camille.roux@example.com"],
        [
            "antoine.dubois@example.com",
            "nicolas.girard@example.com",
            "chloe.faure@example.com",
            "nadia.benali@example.com",
            "@innovatrice",
            "@bricoleur_du_dimanche",
        ],
    ),
]

# The demo company's people, by email; the other members are outside handles.
EMAILS = sorted(
    {
        name
        for *_, managers, members in COMMUNITIES
        for name in managers + members
        if name.endswith("@example.com")
    }
)


def seed_demo(session: Session) -> bool:
    """Creates the demo communities once the people they name have arrived from `people.events`."""
    if session.scalar(select(Community.id).limit(1)) is not None:
        return True
    people = {
        person.email: person
        for person in session.scalars(select(KnownPerson).where(KnownPerson.email.in_(EMAILS)))
        if person.active
    }
    owners = {owner for _, _, _, owner, *_ in COMMUNITIES}
    known_owners = set(
        session.scalars(select(KnownDepartment.id).where(KnownDepartment.id.in_(owners)))
    )
    if len(people) < len(EMAILS) or known_owners != owners:
        return False
    seeder = Principal(subject="demo-seed", roles=frozenset({Role.CCO}))
    for name, kind, purpose, owner, description, topics, managers, members in COMMUNITIES:
        community = service.create_community(
            session,
            data=CommunityCreate(
                name=name,
                kind=kind,
                purpose=purpose,
                owner_department_id=owner,
                description=description,
                topics=topics,
            ),
            actor=seeder,
        )
        for email in managers:
            service.appoint_manager(
                session, community_id=community.id, person_id=people[email].id, actor=seeder
            )
        for member in members:
            person = people.get(member)
            service.add_member(
                session,
                community_id=community.id,
                data=MembershipCreate(person_id=person.id)
                if person
                else MembershipCreate(external_handle=member),
                actor=seeder,
            )
    return True
