"""The people service's rules. Functions add rows and outbox events to the session; the
request's session commits them together."""

import csv
import io
import uuid
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy import exists, func, select
from sqlalchemy.orm import selectinload
from sqlmodel import Session

from people import events
from people.models import (
    Department,
    DepartmentCreate,
    DepartmentPublic,
    ImportProblem,
    ImportReport,
    Person,
    PersonCreate,
    PersonPublic,
    PersonSkill,
    PersonUpdate,
    RoleGrant,
    RoleGrantCreate,
    SkillDeclaration,
    SkillLevel,
)
from shared.auth import Principal, Role
from shared.errors import Conflict, Forbidden, NotFound, Unprocessable
from shared.outbox import enqueue
from shared.pagination import Page, paginate

# What people may change on their own record; the rest is HR's (cco or system clients).
SELF_EDITABLE = {"name", "title", "languages"}
IMPORT_COLUMNS = ["name", "email", "department_id", "title", "community_experience_years", "skills"]
REQUIRED_IMPORT_COLUMNS = {"name", "email", "department_id"}


def _now() -> datetime:
    return datetime.now(UTC)


# Departments


def create_department(session: Session, *, data: DepartmentCreate) -> Department:
    if session.get(Department, data.id) is not None:
        raise Conflict(f"Department {data.id!r} already exists.")
    department = Department(id=data.id, name=data.name, created_at=_now())
    session.add(department)
    enqueue(
        session,
        events.DEPARTMENT_CREATED,
        subject=department.id,
        data=events.DepartmentPayload(id=department.id, name=department.name),
    )
    return department


def list_departments(session: Session, *, limit: int, cursor: str | None) -> Page[DepartmentPublic]:
    return paginate(
        session,
        select(Department),
        key=Department.id,
        limit=limit,
        cursor=cursor,
        to_item=DepartmentPublic.model_validate,
    )


def _require_department(session: Session, department_id: str) -> None:
    if session.get(Department, department_id) is None:
        raise Unprocessable(
            f"Department {department_id!r} does not exist.",
            errors=[{"field": "department_id", "message": "unknown department"}],
        )


# People


def register_person(session: Session, *, data: PersonCreate) -> Person:
    _require_department(session, data.department_id)
    if _person_by_email(session, data.email) is not None:
        raise Conflict(f"A person with the email {data.email!r} already exists.")
    now = _now()
    # Empty collections, known as such: the answer needs no query for them.
    person = Person(**data.model_dump(), created_at=now, updated_at=now, skills=[], roles=[])
    session.add(person)
    session.flush()
    enqueue(session, events.PERSON_REGISTERED, subject=str(person.id), data=_payload(person))
    return person


def get_person(session: Session, person_id: uuid.UUID) -> Person:
    person = session.get(
        Person, person_id, options=[selectinload(Person.skills), selectinload(Person.roles)]
    )
    if person is None:
        raise NotFound(f"Person {person_id} does not exist.")
    return person


def list_people(
    session: Session,
    *,
    department_id: str | None,
    skill: str | None,
    role: str | None,
    email: str | None,
    q: str | None,
    include_inactive: bool,
    limit: int,
    cursor: str | None,
) -> Page[PersonPublic]:
    query = select(Person).options(selectinload(Person.skills), selectinload(Person.roles))
    if not include_inactive:
        query = query.where(Person.active)
    if department_id:
        query = query.where(Person.department_id == department_id)
    if email:
        query = query.where(Person.email == email.strip().lower())
    if q:
        needle = q.strip().lower()
        query = query.where(
            func.lower(Person.name).contains(needle, autoescape=True)
            | Person.email.contains(needle, autoescape=True)
        )
    if skill:
        query = query.where(
            exists().where(
                PersonSkill.person_id == Person.id, PersonSkill.skill == skill.strip().lower()
            )
        )
    if role == Role.EMPLOYEE:
        query = query.where(Person.active)
    elif role:
        query = query.where(
            exists().where(RoleGrant.person_id == Person.id, RoleGrant.role == role)
        )
    return paginate(session, query, key=Person.id, limit=limit, cursor=cursor, to_item=to_public)


def update_person(
    session: Session, *, person_id: uuid.UUID, data: PersonUpdate, actor: Principal
) -> Person:
    person = get_person(session, person_id)
    changes = data.model_dump(exclude_unset=True)
    if not actor.has_any(Role.SYSTEM):
        if actor.subject != str(person_id):
            raise Forbidden(
                "Only the person themselves, the CCO or HR systems may change a person."
            )
        if not set(changes) <= SELF_EDITABLE:
            raise Forbidden(f"You may change only {', '.join(sorted(SELF_EDITABLE))} yourself.")
    if not person.active:
        raise Conflict("This person has left the company; their record is kept as it was.")
    emptied = sorted(
        field for field, value in changes.items() if value is None and field != "title"
    )
    if emptied:
        raise Unprocessable(f"{', '.join(emptied)} cannot be emptied.")
    return _apply_changes(session, person, changes)


def _apply_changes(session: Session, person: Person, changes: dict) -> Person:
    if "department_id" in changes:
        _require_department(session, changes["department_id"])
    new_email = changes.get("email")
    if new_email and new_email != person.email and _person_by_email(session, new_email):
        raise Conflict(f"A person with the email {new_email!r} already exists.")
    changed = sorted(field for field, value in changes.items() if getattr(person, field) != value)
    if not changed:
        return person
    previous_department_id = person.department_id
    for field in changed:
        setattr(person, field, changes[field])
    person.updated_at = _now()
    session.add(person)
    enqueue(
        session,
        events.PERSON_UPDATED,
        subject=str(person.id),
        data=events.PersonUpdatedPayload(
            **_payload(person).model_dump(),
            changed=changed,
            previous_department_id=previous_department_id,
        ),
    )
    return person


def deactivate_person(session: Session, *, person_id: uuid.UUID) -> None:
    """A person who leaves keeps their history; they stop counting and stop signing in."""
    person = get_person(session, person_id)
    if not person.active:
        return
    person.active = False
    person.deactivated_at = person.updated_at = _now()
    session.add(person)
    enqueue(
        session,
        events.PERSON_DEACTIVATED,
        subject=str(person.id),
        data=events.PersonDeactivatedPayload(
            id=person.id, department_id=person.department_id, deactivated_at=person.deactivated_at
        ),
    )


# Skills


def _ensure_can_edit_skills(actor: Principal, person_id: uuid.UUID) -> None:
    if actor.subject != str(person_id) and not actor.has_any(Role.SYSTEM):
        raise Forbidden("Only the person themselves, the CCO or HR systems may change skills.")


def set_skill(
    session: Session, *, person_id: uuid.UUID, skill: str, level: int, actor: Principal
) -> SkillLevel:
    _ensure_can_edit_skills(actor, person_id)
    person = _active_person(session, person_id)
    return _declare_skill(session, person, skill, level)


def _declare_skill(session: Session, person: Person, skill: str, level: int) -> SkillLevel:
    current = session.get(PersonSkill, (person.id, skill))
    if current is not None and current.level == level:
        return SkillLevel(skill=skill, level=level)
    if current is None:
        current = PersonSkill(person_id=person.id, skill=skill, level=level, updated_at=_now())
    current.level, current.updated_at = level, _now()
    session.add(current)
    enqueue(
        session,
        events.SKILL_DECLARED,
        subject=str(person.id),
        data=events.SkillPayload(
            person_id=person.id, department_id=person.department_id, skill=skill, level=level
        ),
    )
    return SkillLevel(skill=skill, level=level)


def remove_skill(session: Session, *, person_id: uuid.UUID, skill: str, actor: Principal) -> None:
    _ensure_can_edit_skills(actor, person_id)
    person = _active_person(session, person_id)
    current = session.get(PersonSkill, (person_id, skill))
    if current is None:
        raise NotFound(f"{person.name} does not declare the skill {skill!r}.")
    session.delete(current)
    enqueue(
        session,
        events.SKILL_REMOVED,
        subject=str(person_id),
        data=events.SkillRemovedPayload(
            person_id=person_id, department_id=person.department_id, skill=skill
        ),
    )


# Roles


def grant_role(session: Session, *, person_id: uuid.UUID, data: RoleGrantCreate) -> RoleGrant:
    person = _active_person(session, person_id)
    if data.role == Role.DEPARTMENT_LEAD:
        if data.scope is None:
            raise Unprocessable("A department lead's scope is their department's id.")
        _require_department(session, data.scope)
    scope = data.scope or ""
    if session.scalar(
        select(RoleGrant).where(
            RoleGrant.person_id == person_id, RoleGrant.role == data.role, RoleGrant.scope == scope
        )
    ):
        raise Conflict(f"{person.name} already holds the role {data.role!r} with this scope.")
    grant = RoleGrant(person_id=person_id, role=data.role, scope=scope, granted_at=_now())
    session.add(grant)
    enqueue(
        session,
        events.ROLE_GRANTED,
        subject=str(person_id),
        data=events.RolePayload(person_id=person_id, role=data.role, scope=data.scope),
    )
    return grant


def revoke_role(session: Session, *, person_id: uuid.UUID, role: str, scope: str | None) -> None:
    """Revokes the role with that scope, or with every scope when none is given."""
    get_person(session, person_id)
    query = select(RoleGrant).where(RoleGrant.person_id == person_id, RoleGrant.role == role)
    if scope is not None:
        query = query.where(RoleGrant.scope == scope)
    grants = list(session.scalars(query))
    if not grants:
        raise NotFound(f"The person does not hold the role {role!r}.")
    for grant in grants:
        session.delete(grant)
        enqueue(
            session,
            events.ROLE_REVOKED,
            subject=str(person_id),
            data=events.RolePayload(person_id=person_id, role=role, scope=grant.scope or None),
        )


# Import of an HR export


def import_people(session: Session, *, text: str, max_rows: int) -> ImportReport:
    """Creates or updates (by email) one person per row; a bad row is reported, not fatal."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = {(name or "").strip() for name in reader.fieldnames or []}
    if not columns >= REQUIRED_IMPORT_COLUMNS:
        missing = ", ".join(sorted(REQUIRED_IMPORT_COLUMNS - columns))
        raise Unprocessable(
            f"The header must name the columns {', '.join(IMPORT_COLUMNS)}; missing: {missing}."
        )
    report = ImportReport(created=0, updated=0, errors=[])
    for index, row in enumerate(reader):
        if index >= max_rows:
            report.errors.append(
                ImportProblem(line=reader.line_num, error=f"over {max_rows} rows; not read")
            )
            break
        line = reader.line_num
        try:
            with session.begin_nested():
                created = _import_row(
                    session, {k.strip(): (v or "").strip() for k, v in row.items() if k}
                )
        except (Unprocessable, Conflict, ValueError) as error:
            report.errors.append(ImportProblem(line=line, error=_describe(error)))
            continue
        if created:
            report.created += 1
        else:
            report.updated += 1
    return report


def _import_row(session: Session, row: dict[str, str]) -> bool:
    given = {column: value for column, value in row.items() if value and column in IMPORT_COLUMNS}
    # A CSV holds text: its numbers are read as numbers here.
    data = PersonCreate.model_validate(
        {k: v for k, v in given.items() if k != "skills"}, strict=False
    )
    skills = _parse_skills(given.get("skills", ""))
    person = _person_by_email(session, data.email)
    created = person is None
    if person is None:
        person = register_person(session, data=data)
    elif not person.active:
        raise Conflict("this person has left the company")
    else:
        _apply_changes(session, person, data.model_dump(include=set(given) - {"skills"}))
    for skill, level in skills.items():
        _declare_skill(session, person, skill, level)
    return created


def _parse_skills(raw: str) -> dict[str, int]:
    """`python:4; sql:3; negotiation` (level 3 when not given)."""
    skills: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in raw.replace("|", ";").split(";"))):
        name, _, level = item.partition(":")
        parsed = SkillDeclaration.model_validate(
            {"skill": name, "level": level.strip() or 3}, strict=False
        )
        skills[parsed.skill] = parsed.level
    return skills


def _describe(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}" for e in error.errors()
        )
    return getattr(error, "detail", None) or str(error)


# Helpers


def _person_by_email(session: Session, email: str) -> Person | None:
    return session.scalar(select(Person).where(Person.email == email))


def _active_person(session: Session, person_id: uuid.UUID) -> Person:
    person = get_person(session, person_id)
    if not person.active:
        raise Conflict("This person has left the company.")
    return person


def _payload(person: Person) -> events.PersonPayload:
    return events.PersonPayload.model_validate(person, from_attributes=True)


def to_public(person: Person) -> PersonPublic:
    return PersonPublic.model_validate(person, from_attributes=True)
