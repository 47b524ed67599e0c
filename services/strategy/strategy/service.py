"""The strategy view's figures: the matrix, ratios, experts, community health, staffing risks,
reputation, the FAQ, and the programs that steer by them."""

import hashlib
import math
import re
import statistics
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Select, func, select
from sqlmodel import Session, col

from shared.auth import Principal
from shared.consumer import ConsumerPosition, EventConsumer, ParkedEvent
from shared.errors import NotFound, Unprocessable
from shared.outbox import enqueue
from strategy import events
from strategy.models import (
    AlertView,
    CommunityActivity,
    CommunityHealth,
    CommunityView,
    DepartmentSummary,
    DepartmentView,
    Escalation,
    Evidence,
    Expert,
    ExpertReasons,
    Experts,
    FaqAskView,
    FaqFigures,
    Interaction,
    KpiPublic,
    Lag,
    ManagerDeparture,
    ManagerView,
    Matrix,
    MemberView,
    MentionCorrection,
    MentionView,
    Overview,
    PartitionLagPublic,
    PersonView,
    Program,
    ProgramCreate,
    ProgramKpi,
    ProgramPublic,
    QuestionView,
    Reputation,
    ReputationDay,
    SkillView,
    StaffingRisk,
    TrendPoint,
)
from strategy.settings import Settings

# A person's correction moves a mention's score to the middle of the new label, as the listening
# service does.
LABEL_SCORE = {"negative": -0.5, "neutral": 0.0, "positive": 0.5}
# How much each kind of demonstrated help weighs, before it fades with age.
EVIDENCE_WEIGHTS = {"answer": 1.0, "accepted_answer": 3.0, "practice_adopted": 2.0}
# Community health: each component is 0..1; the score is their weighted sum, times 100.
HEALTH_WEIGHTS = {
    "members": 0.20,
    "liveliness": 0.20,
    "content": 0.15,
    "interaction": 0.15,
    "responsiveness": 0.15,
    "diversity": 0.15,
}
MANAGER_LEFT_DAYS = 90
KPI_METRIC = re.compile(
    r"^(cross_silo_ratio(:(?P<department>[a-z0-9-]+))?"
    r"|help:(?P<helper>[a-z0-9-]+)->(?P<helped>[a-z0-9-]+)"
    r"|community_health:(?P<community>[0-9a-f-]{36})"
    r"|faq_deflection_rate|sentiment_avg)$"
)


class Window:
    """The period interactions are counted over."""

    def __init__(self, start: datetime, end: datetime) -> None:
        if start >= end:
            raise Unprocessable("`from` must be before `to`.")
        self.start, self.end = start, end

    @classmethod
    def of(cls, settings: Settings, start: datetime | None, end: datetime | None) -> "Window":
        end = _utc(end) if end else datetime.now(UTC)
        return cls(_utc(start) if start else end - timedelta(days=settings.window_days), end)

    def public(self) -> dict[str, datetime]:
        return {"from": self.start, "to": self.end}


# The matrix and the cross-silo ratios


def _pairs(session: Session, window: Window) -> Counter[tuple[str, str]]:
    """Interactions in the window: (helped department, helper department) -> count."""
    query = (
        select(Interaction.helped_department_id, Interaction.helper_department_id, func.count())
        .where(Interaction.occurred_at >= window.start, Interaction.occurred_at < window.end)
        .group_by(Interaction.helped_department_id, Interaction.helper_department_id)
    )
    return Counter({(helped, helper): count for helped, helper, count in session.execute(query)})


def _ratio(cross: int, total: int) -> float | None:
    return round(cross / total, 4) if total else None


def cross_silo_ratio(
    pairs: Counter[tuple[str, str]], department_id: str | None = None
) -> float | None:
    """Interactions between two different departments / all interactions (of one department)."""
    relevant = {
        pair: count
        for pair, count in pairs.items()
        if department_id is None or department_id in pair
    }
    cross = sum(count for (helped, helper), count in relevant.items() if helped != helper)
    return _ratio(cross, sum(relevant.values()))


def _department_ids(session: Session, pairs: Iterable[tuple[str, str]]) -> list[str]:
    known = set(session.scalars(select(DepartmentView.id)))
    involved = {department for pair in pairs for department in pair}
    return sorted(known | involved)


def matrix(session: Session, *, window: Window, department_id: str | None = None) -> Matrix:
    pairs = _pairs(session, window)
    departments = _department_ids(session, pairs)
    index = {department: i for i, department in enumerate(departments)}
    cells = [[0] * len(departments) for _ in departments]
    for (helped, helper), count in pairs.items():
        if department_id is None or department_id in (helped, helper):
            cells[index[helped]][index[helper]] = count
    return Matrix(departments=departments, cells=cells, window=window.public())


def departments(
    session: Session, *, window: Window, department_id: str | None = None
) -> list[DepartmentSummary]:
    pairs = _pairs(session, window)
    headcounts = dict(
        session.execute(
            select(PersonView.department_id, func.count())
            .where(col(PersonView.active))
            .group_by(PersonView.department_id)
        ).all()
    )
    names = dict(session.execute(select(DepartmentView.id, DepartmentView.name)).all())
    summaries = []
    for id_ in sorted(names):
        if department_id is not None and id_ != department_id:
            continue
        summaries.append(
            DepartmentSummary(
                id=id_,
                name=names[id_] or id_,
                headcount=headcounts.get(id_, 0),
                cross_silo_ratio=cross_silo_ratio(pairs, id_),
                interactions_in=sum(c for (helped, _), c in pairs.items() if helped == id_),
                interactions_out=sum(c for (_, helper), c in pairs.items() if helper == id_),
            )
        )
    if department_id is not None and not summaries:
        raise NotFound(f"Department {department_id!r} is not in the view.")
    return summaries


def trend(
    session: Session, *, weeks: int = 12, department_id: str | None = None
) -> list[TrendPoint]:
    """The cross-silo ratio week by week (weeks start on Monday), oldest first."""
    today = datetime.now(UTC).date()
    this_week = today - timedelta(days=today.weekday())
    points = []
    for back in range(weeks - 1, -1, -1):
        start_day = this_week - timedelta(weeks=back)
        start = datetime.combine(start_day, datetime.min.time(), UTC)
        pairs = _pairs(session, Window(start, start + timedelta(weeks=1)))
        relevant = sum(
            c for pair, c in pairs.items() if department_id is None or department_id in pair
        )
        points.append(
            TrendPoint(
                week_start=start_day,
                cross_silo_ratio=cross_silo_ratio(pairs, department_id),
                interactions=relevant,
            )
        )
    return points


# Experts


def experts(
    session: Session,
    *,
    topic: str,
    settings: Settings,
    limit: int = 10,
    exclude_department_id: str | None = None,
) -> Experts:
    """People ranked by declared level plus demonstrated help, which halves every half-life."""
    topic = topic.strip().lower()
    now = datetime.now(UTC)
    declared = dict(
        session.execute(
            select(SkillView.person_id, SkillView.level).where(SkillView.skill == topic)
        ).all()
    )
    evidence = session.scalars(select(Evidence).where(Evidence.topic == topic)).all()
    demonstrated: defaultdict[uuid.UUID, float] = defaultdict(float)
    counts: defaultdict[uuid.UUID, Counter[str]] = defaultdict(Counter)
    helped: defaultdict[uuid.UUID, set[str]] = defaultdict(set)
    for item in evidence:
        age_days = max((now - _utc(item.occurred_at)).total_seconds() / 86400, 0)
        fading = 0.5 ** (age_days / settings.expertise_half_life_days)
        demonstrated[item.person_id] += EVIDENCE_WEIGHTS.get(item.kind, 0) * fading
        counts[item.person_id][item.kind] += 1
        if item.helped_department_id:
            helped[item.person_id].add(item.helped_department_id)
    candidates = set(declared) | set(demonstrated)
    people = {
        person.id: person
        for person in session.scalars(select(PersonView).where(col(PersonView.id).in_(candidates)))
        if person.active
    }
    ranked = []
    for person_id, person in people.items():
        if exclude_department_id is not None and person.department_id == exclude_department_id:
            continue
        others_helped = sorted(helped[person_id] - {person.department_id})
        score = declared.get(person_id, 0) + demonstrated[person_id]
        ranked.append(
            Expert(
                person_id=person_id,
                name=person.name,
                department_id=person.department_id,
                score=round(score, 3),
                reasons=ExpertReasons(
                    declared_level=declared.get(person_id),
                    answers=counts[person_id]["answer"],
                    accepted_answers=counts[person_id]["accepted_answer"],
                    practices_adopted=counts[person_id]["practice_adopted"],
                    departments_helped=others_helped,
                    demonstrated=round(demonstrated[person_id], 3),
                ),
            )
        )
    ranked.sort(key=lambda expert: (-expert.score, expert.name))
    return Experts(topic=topic, items=ranked[:limit])


def escalations(
    session: Session, *, settings: Settings, department_id: str | None = None
) -> list[Escalation]:
    """Questions nobody answered in time, each with experts from other departments."""
    query = select(QuestionView).where(col(QuestionView.escalated_at).is_not(None))
    if department_id is not None:
        query = query.where(QuestionView.author_department_id == department_id)
    result = []
    for question in session.scalars(query.order_by(col(QuestionView.escalated_at).desc())):
        suggested: dict[uuid.UUID, Expert] = {}
        for tag in question.tags:
            found = experts(
                session,
                topic=tag,
                settings=settings,
                limit=3,
                exclude_department_id=question.author_department_id,
            )
            for expert in found.items:
                if (
                    expert.person_id not in suggested
                    or suggested[expert.person_id].score < expert.score
                ):
                    suggested[expert.person_id] = expert
        result.append(
            Escalation(
                question_id=question.id,
                title=question.title,
                tags=question.tags,
                author_department_id=question.author_department_id,
                asked_at=question.asked_at,
                escalated_at=question.escalated_at,  # type: ignore[arg-type]
                suggested_experts=sorted(suggested.values(), key=lambda e: -e.score)[:3],
            )
        )
    return result


# Community health


def communities_health(
    session: Session, *, department_id: str | None = None, community_id: uuid.UUID | None = None
) -> list[CommunityHealth]:
    """Members, liveliness, content, interaction, responsiveness and diversity, in the spirit of
    Khoros's Community Health Index; the score's formula is in the README."""
    now = datetime.now(UTC)
    month_ago = now - timedelta(days=30)
    query = select(CommunityView).where(col(CommunityView.archived).is_(False))
    if department_id is not None:
        query = query.where(CommunityView.owner_department_id == department_id)
    if community_id is not None:
        query = query.where(CommunityView.id == community_id)
    communities = list(session.scalars(query.order_by(CommunityView.name)))
    ids = [c.id for c in communities]
    members: defaultdict[uuid.UUID, list[MemberView]] = defaultdict(list)
    for member in session.scalars(select(MemberView).where(col(MemberView.community_id).in_(ids))):
        members[member.community_id].append(member)
    active = Counter(
        session.scalars(
            select(CommunityActivity.community_id).where(
                col(CommunityActivity.community_id).in_(ids),
                CommunityActivity.last_active_at >= month_ago,
            )
        )
    )
    questions: defaultdict[uuid.UUID, list[QuestionView]] = defaultdict(list)
    for question in session.scalars(
        select(QuestionView).where(col(QuestionView.community_id).in_(ids))
    ):
        questions[question.community_id].append(question)  # type: ignore[index]
    by_community: defaultdict[uuid.UUID, list[float]] = defaultdict(list)
    recent = select(MentionView).where(
        col(MentionView.community_id).in_(ids), MentionView.published_at >= month_ago
    )
    for mention, label in _with_corrections(session, recent):
        by_community[mention.community_id].append(_score(mention, label))  # type: ignore[index]
    mentions = {
        community: (len(scores), sum(scores) / len(scores))
        for community, scores in by_community.items()
    }
    return [
        _health(
            community,
            members[community.id],
            active[community.id],
            questions[community.id],
            mentions.get(community.id),
            month_ago,
        )
        for community in communities
    ]


def _health(
    community: CommunityView,
    members: list[MemberView],
    active_30d: int,
    questions: list[QuestionView],
    mentions: tuple[int, float] | None,
    month_ago: datetime,
) -> CommunityHealth:
    people = [m for m in members if m.person_id is not None]
    with_department = [m for m in people if m.department_id]
    cross_share = (
        sum(m.department_id != community.owner_department_id for m in with_department)
        / len(with_department)
        if with_department
        else None
    )
    answered = [q for q in questions if q.first_answer_at is not None]
    answer_rate = len(answered) / len(questions) if questions else None
    waits = [
        (_utc(q.first_answer_at) - _utc(q.asked_at)).total_seconds() / 3600  # type: ignore[arg-type]
        for q in answered
    ]
    median_wait = statistics.median(waits) if waits else None
    external = community.kind == "external"
    mention_count, sentiment = mentions if mentions else (0, None)
    recent_questions = sum(_utc(q.asked_at) >= month_ago for q in questions)
    components = {
        "members": min(len(members) / 25, 1.0),
        "liveliness": active_30d / len(people) if people else 0.0,
        "content": min(mention_count / 50, 1.0) if external else min(recent_questions / 10, 1.0),
        "interaction": answer_rate or 0.0,
        "responsiveness": _responsiveness(median_wait),
        # External communities are mostly outsiders: what they say replaces who they are.
        "diversity": ((sentiment + 1) / 2 if sentiment is not None else 0.0)
        if external
        else (cross_share or 0.0),
    }
    score = 100 * sum(HEALTH_WEIGHTS[name] * min(value, 1.0) for name, value in components.items())
    return CommunityHealth(
        community_id=community.id,
        name=community.name,
        kind=community.kind,
        owner_department_id=community.owner_department_id,
        members=len(members),
        active_members_30d=active_30d,
        cross_department_member_share=_round(cross_share),
        questions=len(questions),
        answer_rate=_round(answer_rate),
        median_time_to_first_answer_hours=_round(median_wait),
        mentions_30d=mention_count if external else None,
        sentiment_avg_30d=_round(sentiment) if external else None,
        score=round(score, 1),
    )


def _responsiveness(median_hours: float | None) -> float:
    """1 for a first answer within 4 hours, 0 at 72 hours or more (or none), linear between."""
    if median_hours is None:
        return 0.0
    return 1 - min(max((median_hours - 4) / (72 - 4), 0.0), 1.0)


# Staffing risks


def staffing(
    session: Session, *, settings: Settings, department_id: str | None = None
) -> list[StaffingRisk]:
    """Communities without a manager, external ones voiced only by juniors, managers who left."""
    query = select(CommunityView).where(col(CommunityView.archived).is_(False))
    if department_id is not None:
        query = query.where(CommunityView.owner_department_id == department_id)
    communities = list(session.scalars(query.order_by(CommunityView.name)))
    managers: defaultdict[uuid.UUID, list[PersonView | None]] = defaultdict(list)
    manager_rows = session.execute(
        select(ManagerView.community_id, PersonView)
        .outerjoin(PersonView, PersonView.id == ManagerView.person_id)
        .where(col(ManagerView.community_id).in_([c.id for c in communities]))
    )
    for community_id, person in manager_rows:
        managers[community_id].append(person)
    since = datetime.now(UTC) - timedelta(days=MANAGER_LEFT_DAYS)
    departures: defaultdict[uuid.UUID, list[ManagerDeparture]] = defaultdict(list)
    for departure in session.scalars(
        select(ManagerDeparture).where(ManagerDeparture.left_at >= since)
    ):
        departures[departure.community_id].append(departure)
    names = dict(session.execute(select(PersonView.id, PersonView.name)).all())
    risks = []
    for community in communities:
        people = [p for p in managers[community.id] if p is not None]
        current = [p for p in people if p.active]
        listed = [_manager(p) for p in people]

        def risk(
            kind: str, detail: str, listed: list[dict] = listed, c: CommunityView = community
        ) -> StaffingRisk:
            return StaffingRisk(
                kind=kind,  # type: ignore[arg-type]
                community_id=c.id,
                community_name=c.name,
                owner_department_id=c.owner_department_id,
                detail=detail,
                managers=listed,
            )

        if not current:
            risks.append(risk("no_manager", "Nobody manages this community."))
        elif community.kind == "external" and all(
            p.community_experience_years < settings.staffing_min_years for p in current
        ):
            risks.append(
                risk(
                    "junior_managers",
                    f"The company's voice here has less than {settings.staffing_min_years:g} years "
                    "of community experience.",
                )
            )
        gone = [p for p in people if not p.active]
        for departure in departures[community.id]:
            risks.append(
                risk(
                    "manager_left",
                    f"{names.get(departure.person_id, 'A manager')} left the company on "
                    f"{_utc(departure.left_at).date().isoformat()}.",
                )
            )
        for person in gone:
            risks.append(
                risk("manager_left", f"{person.name} left the company and still manages it.")
            )
    return risks


def _manager(person: PersonView) -> dict:
    return {
        "person_id": str(person.id),
        "name": person.name,
        "department_id": person.department_id,
        "community_experience_years": person.community_experience_years,
        "active": person.active,
    }


# E-reputation and the FAQ


def reputation(session: Session, *, days: int = 30, department_id: str | None = None) -> Reputation:
    now = datetime.now(UTC)
    since = now - timedelta(days=days)
    query = select(MentionView).where(MentionView.published_at >= since)
    if department_id is not None:
        query = query.where(MentionView.department_id == department_id)
    by_day: defaultdict[date, list[tuple[str, float]]] = defaultdict(list)
    for mention, label in _with_corrections(session, query):
        by_day[_utc(mention.published_at).date()].append((label, _score(mention, label)))
    series = []
    for back in range(days - 1, -1, -1):
        day = (now - timedelta(days=back)).date()
        series.append(_reputation_day(day, by_day.get(day, [])))
    week = [m for day, ms in by_day.items() if day > (now - timedelta(days=7)).date() for m in ms]
    open_alerts = Counter(
        alert.department_id or "unrouted"
        for alert in session.scalars(
            select(AlertView).where(col(AlertView.acknowledged_at).is_(None))
        )
        if department_id is None or alert.department_id == department_id
    )
    summary = _reputation_day(now.date(), week)
    return Reputation(
        days=series,
        mentions_7d=len(week),
        sentiment_avg_7d=summary.sentiment_avg,
        net_sentiment_7d=summary.net_sentiment,
        open_alerts=dict(open_alerts),
    )


def _reputation_day(day: date, mentions: list[tuple[str, float]]) -> ReputationDay:
    """`mentions`: (label, score) of each mention of the day."""
    if not mentions:
        return ReputationDay(day=day, mentions=0, sentiment_avg=None, net_sentiment=None)
    positive = sum(label == "positive" for label, _ in mentions)
    negative = sum(label == "negative" for label, _ in mentions)
    return ReputationDay(
        day=day,
        mentions=len(mentions),
        sentiment_avg=round(sum(score for _, score in mentions) / len(mentions), 4),
        net_sentiment=round((positive - negative) / len(mentions), 4),
    )


def sentiment_average(session: Session, *, days: int = 30) -> float | None:
    since = datetime.now(UTC) - timedelta(days=days)
    recent = select(MentionView).where(MentionView.published_at >= since)
    scores = [_score(mention, label) for mention, label in _with_corrections(session, recent)]
    return _round(sum(scores) / len(scores)) if scores else None


def _with_corrections(session: Session, query: Select) -> list[tuple[MentionView, str]]:
    """Each mention with its effective label: a person's correction, or the model's."""
    query = query.add_columns(MentionCorrection.label).outerjoin(
        MentionCorrection, MentionCorrection.id == MentionView.id
    )
    return [(mention, corrected or mention.label) for mention, corrected in session.execute(query)]


def _score(mention: MentionView, label: str) -> float:
    return mention.score if label == mention.label else LABEL_SCORE.get(label, mention.score)


def faq(session: Session, *, department_id: str | None = None) -> FaqFigures:
    query = select(FaqAskView.answered, func.count()).group_by(FaqAskView.answered)
    if department_id is not None:
        query = query.where(FaqAskView.department_id == department_id)
    counts = dict(session.execute(query).all())
    asked = sum(counts.values())
    deflected = counts.get(True, 0)
    return FaqFigures(asked=asked, deflected=deflected, deflection_rate=_ratio(deflected, asked))


# Programs


def create_program(
    session: Session, view: Session, *, data: ProgramCreate, actor: Principal, settings: Settings
) -> ProgramPublic:
    owner = view.get(PersonView, data.owner_id)
    if owner is None or not owner.active:
        raise Unprocessable(
            "The owner must be an active person.",
            errors=[{"field": "owner_id", "message": "unknown or inactive person"}],
        )
    for index, kpi in enumerate(data.kpis):
        if not KPI_METRIC.match(kpi.metric):
            raise Unprocessable(
                f"Unknown metric {kpi.metric!r}.",
                errors=[{"field": f"kpis.{index}.metric", "message": "unknown metric"}],
            )
    window = Window.of(settings, None, None)
    program = Program(
        name=data.name,
        objective=data.objective,
        owner_id=data.owner_id,
        budget=data.budget,
        created_by=actor.subject,
        created_at=datetime.now(UTC),
    )
    session.add(program)
    session.flush()
    for kpi in data.kpis:
        session.add(
            ProgramKpi(
                program_id=program.id,
                metric=kpi.metric,
                target=kpi.target,
                deadline=kpi.deadline,
                baseline=kpi_value(view, kpi.metric, window=window) or 0.0,
            )
        )
    session.flush()
    public = program_public(session, view, program, window=window)
    enqueue(
        session,
        events.PROGRAM_CREATED,
        subject=str(program.id),
        data=events.ProgramPayload(
            id=program.id,
            name=program.name,
            objective=program.objective,
            owner_id=program.owner_id,
            budget=program.budget,
            created_by=actor.subject,
            kpis=[
                events.KpiPayload(metric=k.metric, target=k.target, deadline=k.deadline)
                for k in data.kpis
            ],
        ),
    )
    return public


def programs(session: Session, view: Session, *, settings: Settings) -> list[ProgramPublic]:
    window = Window.of(settings, None, None)
    return [
        program_public(session, view, program, window=window)
        for program in session.scalars(select(Program).order_by(Program.created_at))
    ]


def program(
    session: Session, view: Session, *, program_id: uuid.UUID, settings: Settings
) -> ProgramPublic:
    found = session.get(Program, program_id)
    if found is None:
        raise NotFound(f"Program {program_id} does not exist.")
    return program_public(session, view, found, window=Window.of(settings, None, None))


def program_public(
    session: Session, view: Session, program: Program, *, window: Window
) -> ProgramPublic:
    kpis = session.scalars(
        select(ProgramKpi).where(ProgramKpi.program_id == program.id).order_by(ProgramKpi.metric)
    )
    return ProgramPublic(
        id=program.id,
        name=program.name,
        objective=program.objective,
        owner_id=program.owner_id,
        budget=program.budget,
        created_at=program.created_at,
        kpis=[_kpi_public(view, kpi, window) for kpi in kpis],
    )


def _kpi_public(view: Session, kpi: ProgramKpi, window: Window) -> KpiPublic:
    current = kpi_value(view, kpi.metric, window=window)
    return KpiPublic(
        metric=kpi.metric,
        target=kpi.target,
        deadline=kpi.deadline,
        baseline=kpi.baseline,
        current=current,
        progress=_progress(kpi.baseline, kpi.target, current),
    )


def _progress(baseline: float, target: float, current: float | None) -> float:
    """How far from the baseline to the target the metric has moved, 0..1 (either direction)."""
    if current is None:
        return 0.0
    if math.isclose(target, baseline):
        return 1.0 if (current >= target if target >= 0 else current <= target) else 0.0
    return round(min(max((current - baseline) / (target - baseline), 0.0), 1.0), 4)


def kpi_value(view: Session, metric: str, *, window: Window) -> float | None:
    """The current value of a program's metric, read from the view."""
    match = KPI_METRIC.match(metric)
    if match is None:
        raise Unprocessable(f"Unknown metric {metric!r}.")
    if metric.startswith("cross_silo_ratio"):
        return cross_silo_ratio(_pairs(view, window), match["department"])
    if metric.startswith("help:"):
        return float(_pairs(view, window).get((match["helped"], match["helper"]), 0))
    if metric.startswith("community_health:"):
        health = communities_health(view, community_id=uuid.UUID(match["community"]))
        return health[0].score if health else None
    if metric == "faq_deflection_rate":
        return faq(view).deflection_rate
    return sentiment_average(view)


# The overview


def overview(
    session: Session,
    view: Session,
    *,
    settings: Settings,
    window: Window,
    department_id: str | None,
) -> Overview:
    pairs = _pairs(view, window)
    return Overview(
        as_of=datetime.now(UTC),
        window=window.public(),
        cross_silo_ratio=cross_silo_ratio(pairs, department_id),
        departments=departments(view, window=window, department_id=department_id),
        matrix=matrix(view, window=window, department_id=department_id),
        trend=trend(view, department_id=department_id),
        communities=communities_health(view, department_id=department_id),
        reputation=reputation(view, department_id=department_id),
        faq=faq(view, department_id=department_id),
        staffing_risks=staffing(view, settings=settings, department_id=department_id),
        programs=programs(session, view, settings=settings),
    )


def overview_version(
    session: Session, view: Session, *, slot: str, now: datetime, query: str
) -> str:
    """A digest of what the overview of `query` is computed from (its answer's ETag). It changes
    once an event is applied (a partition's position moves, or the count of events waiting for
    an earlier one falls), a program is created, the other slot is swapped in, or the minute
    turns (a window ends now): a dashboard asking every second gets 304 until then, without a
    figure computed again."""
    positions, offsets = view.exec(  # type: ignore[call-overload]
        select(func.count(), func.coalesce(func.sum(ConsumerPosition.next_offset), 0))
    ).one()
    parked = view.scalar(select(func.count()).select_from(ParkedEvent))
    created = session.scalar(select(func.count()).select_from(Program))
    state = f"{query}|{slot}|{positions}|{offsets}|{parked}|{created}|{now:%Y%m%d%H%M}"
    return hashlib.blake2b(state.encode(), digest_size=12).hexdigest()


async def lag(consumer: EventConsumer | None) -> Lag:
    partitions = await consumer.lag() if consumer else []
    newest = consumer.newest_event_time if consumer else None
    return Lag(
        partitions=[
            PartitionLagPublic(
                topic=p.topic, partition=p.partition, position=p.position, end=p.end, lag=p.lag
            )
            for p in partitions
        ],
        total=sum(p.lag for p in partitions),
        newest_event_at=newest,
        newest_event_age_seconds=(datetime.now(UTC) - newest).total_seconds() if newest else None,
    )


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _round(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None
