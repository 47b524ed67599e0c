"""The demo organisation `make run` starts with: a French appliance maker and its silos."""

from sqlmodel import Session, select

from people import service
from people.models import Department, DepartmentCreate, PersonCreate, RoleGrantCreate
from shared.auth import Principal, Role

DEPARTMENTS = [
    ("direction", "Direction générale"),
    ("hr", "Ressources humaines"),
    ("communication", "Communication"),
    ("marketing", "Marketing"),
    ("rd", "R&D"),
    ("after-sales", "Service après-vente"),
    ("sales", "Ventes"),
    ("it", "Systèmes d'information"),
]

# name, email, department, title, years of community experience, languages, skills, roles
PEOPLE = [
    (
        "Claire Martin",
        "cco@example.com",
        "direction",
        "Chief Community Officer",
        12,
        ["fr", "en"],
        {"community-management": 5, "change-management": 4},
        [("cco", None)],
    ),
    (
        "Julien Bernard",
        "julien.bernard@example.com",
        "direction",
        "Directeur général",
        2,
        ["fr", "en"],
        {"strategy": 5},
        [],
    ),
    (
        "Sophie Petit",
        "sophie.petit@example.com",
        "hr",
        "Responsable RH",
        4,
        ["fr"],
        {"recruitment": 5, "employer-branding": 4},
        [("department_lead", "hr")],
    ),
    (
        "Karim Haddad",
        "karim.haddad@example.com",
        "hr",
        "Chargé de recrutement",
        1,
        ["fr", "en", "ar"],
        {"recruitment": 4, "linkedin": 3},
        [("community_manager", None)],
    ),
    (
        "Élodie Laurent",
        "elodie.laurent@example.com",
        "communication",
        "Directrice de la communication",
        9,
        ["fr", "en"],
        {"e-reputation": 5, "crisis-communication": 5},
        [("department_lead", "communication"), ("conversation_manager", None)],
    ),
    (
        "Thomas Moreau",
        "thomas.moreau@example.com",
        "communication",
        "Community manager",
        6,
        ["fr", "en"],
        {"social-media": 5, "e-reputation": 4},
        [("community_manager", None), ("conversation_manager", None)],
    ),
    (
        "Léa Fontaine",
        "lea.fontaine@example.com",
        "communication",
        "Chargée de communication interne",
        1,
        ["fr"],
        {"internal-communication": 3, "social-media": 2},
        [("conversation_manager", None)],
    ),
    (
        "Nicolas Girard",
        "nicolas.girard@example.com",
        "marketing",
        "Directeur marketing",
        5,
        ["fr", "en"],
        {"brand": 5, "customer-insight": 4},
        [("department_lead", "marketing")],
    ),
    (
        "Camille Roux",
        "camille.roux@example.com",
        "marketing",
        "Chef de produit",
        3,
        ["fr", "en", "de"],
        {"product-marketing": 4, "customer-insight": 3, "open-innovation": 3},
        [("community_manager", None)],
    ),
    (
        "Antoine Dubois",
        "antoine.dubois@example.com",
        "rd",
        "Directeur R&D",
        4,
        ["fr", "en"],
        {"electronics": 5, "open-innovation": 4},
        [("department_lead", "rd")],
    ),
    (
        "Inès Lefèvre",
        "ines.lefevre@example.com",
        "rd",
        "Ingénieure firmware",
        2,
        ["fr", "en"],
        {"embedded-c": 5, "iot": 4, "python": 3},
        [],
    ),
    (
        "Hugo Mercier",
        "hugo.mercier@example.com",
        "rd",
        "Ingénieur matériaux",
        0,
        ["fr"],
        {"materials": 5, "energy-efficiency": 4},
        [],
    ),
    (
        "Manon Chevalier",
        "manon.chevalier@example.com",
        "rd",
        "Data scientist",
        1,
        ["fr", "en"],
        {"python": 5, "machine-learning": 4, "sql": 4},
        [],
    ),
    (
        "Sébastien Blanc",
        "sebastien.blanc@example.com",
        "after-sales",
        "Responsable SAV",
        7,
        ["fr", "en"],
        {"customer-support": 5, "repairs": 4},
        [("department_lead", "after-sales"), ("community_manager", None)],
    ),
    (
        "Nadia Benali",
        "nadia.benali@example.com",
        "after-sales",
        "Technicienne support",
        3,
        ["fr", "ar"],
        {"repairs": 5, "diagnostics": 4, "iot": 2},
        [],
    ),
    (
        "Lucas Garnier",
        "lucas.garnier@example.com",
        "after-sales",
        "Conseiller clientèle",
        1,
        ["fr", "en"],
        {"customer-support": 3, "spare-parts": 4},
        [],
    ),
    (
        "Chloé Faure",
        "chloe.faure@example.com",
        "sales",
        "Directrice commerciale",
        2,
        ["fr", "en", "es"],
        {"negotiation": 5, "key-accounts": 4},
        [("department_lead", "sales")],
    ),
    (
        "Maxime Rousseau",
        "maxime.rousseau@example.com",
        "sales",
        "Ingénieur commercial",
        0,
        ["fr", "en"],
        {"negotiation": 3, "product-marketing": 2},
        [],
    ),
    (
        "Julie André",
        "julie.andre@example.com",
        "it",
        "DSI",
        3,
        ["fr", "en"],
        {"cloud": 5, "security": 4, "sql": 4},
        [("department_lead", "it")],
    ),
    (
        "Mehdi Lambert",
        "mehdi.lambert@example.com",
        "it",
        "Développeur",
        1,
        ["fr", "en"],
        {"python": 5, "sql": 4, "cloud": 3},
        [],
    ),
]


def seed_demo(session: Session) -> bool:
    """Creates the demo organisation when the directory is empty; every write emits its event."""
    if session.scalar(select(Department).limit(1)) is not None:
        return True
    for department_id, name in DEPARTMENTS:
        service.create_department(session, data=DepartmentCreate(id=department_id, name=name))
    session.flush()
    seeder = Principal(subject="demo-seed", roles=frozenset({Role.SYSTEM}))
    for name, email, department, title, years, languages, skills, roles in PEOPLE:
        person = service.register_person(
            session,
            data=PersonCreate(
                name=name,
                email=email,
                department_id=department,
                title=title,
                community_experience_years=years,
                languages=languages,
            ),
        )
        for skill, level in skills.items():
            service.set_skill(session, person_id=person.id, skill=skill, level=level, actor=seeder)
        for role, scope in roles:
            service.grant_role(
                session, person_id=person.id, data=RoleGrantCreate(role=role, scope=scope)
            )
    return True
