"""The listening service's rules. Functions add rows and outbox events to the session; the
request's session (or a job's transaction) commits them together."""

import math
import threading
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from pydantic import ValidationError
from sqlalchemy import String, case, cast, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from listening import events
from listening.faq_matching import FaqDocument, FaqMatcher
from listening.feeds import Feed
from listening.keywords import KeywordRouter, top_terms
from listening.language import UNDETERMINED, detect_language
from listening.models import (
    Alert,
    AlertPublic,
    AskCreate,
    AskResult,
    Community,
    FaqAsk,
    FaqAskPublic,
    FaqEntry,
    FaqEntryCreate,
    FaqEntryPublic,
    FaqEntryUpdate,
    FaqMatchPublic,
    FieldError,
    IngestReport,
    ItemResult,
    LabelPair,
    LanguageQuality,
    Mention,
    MentionCreate,
    MentionPublic,
    PollReport,
    Reputation,
    ReputationBucket,
    RoutingRule,
    RoutingRulePublic,
    RoutingRules,
    RoutingRuleUpdate,
    SentimentPublic,
    SentimentQuality,
    Source,
    SourceCreate,
    SourcePublic,
    new_id,
)
from listening.sentiment import Sentiment, SentimentAnalyzer
from listening.settings import Settings
from shared.errors import Conflict, NotFound, Unprocessable
from shared.outbox import enqueue, enqueue_many
from shared.pagination import Page, paginate

# Clocks of the outside world drift: a post stamped a little ahead of ours is still taken.
FUTURE_TOLERANCE = timedelta(hours=1)
# Where a person's correction contradicts the model's score, the score moves to the label's middle.
LABEL_SCORES = {"negative": -0.5, "neutral": 0.0, "positive": 0.5}
MAX_BUCKETS = 5_000
# Enough of a spike's mentions to name its terms and authors without reading all of them.
EXPLANATION_SAMPLE = 2_000
# Any fixed number: serialises spike checks of concurrent transactions on PostgreSQL.
_SPIKE_LOCK_KEY = 7_410_301


@lru_cache(maxsize=1)
def sentiment_analyzer() -> SentimentAnalyzer:
    """Loaded on first use: reading the lexicons takes a moment."""
    return SentimentAnalyzer()


def field_errors(error: ValidationError, prefix: str = "") -> list[FieldError]:
    return [
        FieldError(
            field=prefix + ".".join(str(part) for part in item["loc"]),
            message=item["msg"],
            type=item["type"],
        )
        for item in error.errors()
    ]


# Sources


def create_source(session: Session, *, data: SourceCreate, actor: str, now: datetime) -> Source:
    if session.scalar(select(Source.id).where(Source.name == data.name)) is not None:
        raise Conflict(f"A source named {data.name!r} already exists.")
    source = Source(**data.model_dump(), created_at=now, created_by=actor)
    session.add(source)
    session.flush()
    enqueue(
        session,
        events.SOURCE_CREATED,
        subject=str(source.id),
        data=events.SourcePayload.model_validate(source, from_attributes=True),
    )
    return source


def get_source(session: Session, source_id: uuid.UUID) -> Source:
    source = session.get(Source, source_id)
    if source is None:
        raise NotFound(f"Source {source_id} does not exist.")
    return source


def list_sources(
    session: Session,
    *,
    kind: str | None,
    community_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> Page[SourcePublic]:
    query = select(Source)
    if kind:
        query = query.where(Source.kind == kind)
    if community_id:
        query = query.where(Source.community_id == community_id)
    return paginate(
        session,
        query,
        key=Source.id,
        limit=limit,
        cursor=cursor,
        to_item=SourcePublic.model_validate,
    )


def record_poll(
    session: Session,
    *,
    source_id: uuid.UUID,
    feed: Feed | None,
    error: str | None,
    settings: Settings,
    now: datetime,
) -> PollReport:
    """Ingests what a poll of the feed read, and reports the poll on the source."""
    source = get_source(session, source_id)
    items: list[dict[str, Any]] = []
    skipped = 0
    filter_ = KeywordRouter({}, source.keywords) if source.keywords else None
    for item in feed.items if feed else []:
        lang = item.lang or detect_language(item.text)
        # A feed's items are kept only when they name one of the source's keywords, if it has any.
        if filter_ is not None and not filter_.route(item.text, lang).topics:
            skipped += 1
            continue
        items.append(
            {
                "source_id": source.id,
                "external_id": item.external_id,
                "channel": "rss",
                "author": item.author,
                "text": item.text,
                "url": item.url,
                "lang": lang,
                "published_at": item.published_at or now,
            }
        )
    report = ingest_mentions(
        session, items=items, actor=f"feed:{source.id}", settings=settings, now=now
    )
    skipped += report.invalid
    source.last_polled_at = now
    source.last_error = error[:1_000] if error else None
    source.last_new_mentions = report.created
    if feed is not None and not feed.not_modified:
        source.etag = (feed.etag or "")[:300] or None
        source.modified = (feed.modified or "")[:100] or None
    session.add(source)
    return PollReport(
        source_id=source.id,
        polled_at=now,
        items=len(feed.items) if feed else 0,
        created=report.created,
        duplicates=report.duplicates,
        skipped=skipped,
        error=source.last_error,
    )


# Mentions


@dataclass
class _Candidate:
    index: int
    mention: MentionCreate
    lang: str
    reading: Sentiment
    source: Source | None = None


def ingest_mentions(
    session: Session,
    *,
    items: Sequence[object],
    actor: str,
    settings: Settings,
    now: datetime,
) -> IngestReport:
    """Stores each new mention with its language, sentiment, topics and department.

    A bad item is reported and the others land; a `(source_id, external_id)` already stored
    (or met earlier in the batch) is a duplicate and changes nothing. Texts are read before
    the database is touched: a writing transaction is held only as long as the writes take.
    """
    results: dict[int, ItemResult] = {}
    parsed: list[_Candidate] = []
    analyzer = sentiment_analyzer()
    for index, raw in enumerate(items):
        try:
            mention = raw if isinstance(raw, MentionCreate) else MentionCreate.model_validate(raw)
        except ValidationError as error:
            results[index] = _invalid(index, field_errors(error))
            continue
        if mention.published_at > now + FUTURE_TOLERANCE:
            results[index] = _invalid(
                index,
                [FieldError(field="published_at", message="is in the future", type="value_error")],
            )
            continue
        lang = mention.lang or detect_language(mention.text)
        parsed.append(_Candidate(index, mention, lang, analyzer.analyze(mention.text, lang)))
    sources = _sources(session, {candidate.mention.source_id for candidate in parsed})
    candidates = []
    for candidate in parsed:
        candidate.source = sources.get(candidate.mention.source_id)
        if candidate.source is not None:
            candidates.append(candidate)
        else:
            error = FieldError(field="source_id", message="no such source", type="unknown_source")
            results[candidate.index] = _invalid(candidate.index, [error])
    rows = _new_rows(session, candidates, results, actor=actor, settings=settings, now=now)
    inserted = _insert_new_mentions(session, [row for _, row in rows])
    raced = [(index, row) for index, row in rows if row["id"] not in inserted]
    if raced:
        # Another request stored the same items between our look-up and our insert.
        existing = _existing_ids(
            session, {(row["source_id"], row["external_id"]) for _, row in raced}
        )
        for index, row in raced:
            results[index] = ItemResult(
                index=index,
                status="duplicate",
                id=existing.get((row["source_id"], row["external_id"])),
            )
    created = [row for _, row in rows if row["id"] in inserted]
    for index, row in rows:
        if row["id"] in inserted:
            results[index] = ItemResult(index=index, status="created", id=row["id"])
    enqueue_many(
        session,
        events.MENTION_INGESTED,
        [(str(row["source_id"]), _ingested_payload(row)) for row in created],
    )
    window_start = now - timedelta(minutes=settings.spike_window_minutes)
    # Only a new negative mention of the last window can start a spike: otherwise skip the check.
    if any(
        row["sentiment_label"] == "negative" and window_start <= row["published_at"] <= now
        for row in created
    ):
        check_for_spike(session, settings=settings, now=now)
    ordered = [results[index] for index in sorted(results)]
    return IngestReport(
        created=sum(r.status == "created" for r in ordered),
        duplicates=sum(r.status == "duplicate" for r in ordered),
        invalid=sum(r.status == "invalid" for r in ordered),
        items=ordered,
    )


def ingest_mention(
    session: Session, *, data: MentionCreate, actor: str, settings: Settings, now: datetime
) -> tuple[Mention, bool]:
    """One mention: the stored one (created or already there) and whether it was created."""
    report = ingest_mentions(session, items=[data], actor=actor, settings=settings, now=now)
    [result] = report.items
    if result.status == "invalid":
        errors = [error.model_dump() for error in result.errors or []]
        raise Unprocessable("The mention is invalid.", errors=errors)
    return get_mention(session, result.id), result.status == "created"  # type: ignore[arg-type]


def _invalid(index: int, errors: list[FieldError]) -> ItemResult:
    return ItemResult(index=index, status="invalid", errors=errors)


def _sources(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, Source]:
    if not ids:
        return {}
    return {s.id: s for s in session.scalars(select(Source).where(col(Source.id).in_(ids)))}


def _existing_ids(
    session: Session, keys: set[tuple[uuid.UUID, str | None]]
) -> dict[tuple[uuid.UUID, str], uuid.UUID]:
    by_source: dict[uuid.UUID, list[str]] = {}
    for source_id, external_id in keys:
        if external_id is not None:
            by_source.setdefault(source_id, []).append(external_id)
    found = {}
    for source_id, external_ids in by_source.items():
        for start in range(0, len(external_ids), 500):
            query = select(Mention.external_id, Mention.id).where(
                Mention.source_id == source_id,
                col(Mention.external_id).in_(external_ids[start : start + 500]),
            )
            found.update({(source_id, ext): id_ for ext, id_ in session.execute(query)})
    return found


def _new_rows(
    session: Session,
    candidates: list[_Candidate],
    results: dict[int, ItemResult],
    *,
    actor: str,
    settings: Settings,
    now: datetime,
) -> list[tuple[int, dict[str, Any]]]:
    """The rows to insert, read and routed; duplicates are reported in `results`."""
    existing = _existing_ids(
        session, {(c.mention.source_id, c.mention.external_id) for c in candidates}
    )
    rules = _rules(session)
    owners = _community_owners(session, {c.source.community_id for c in candidates if c.source})
    rows = []
    for candidate in candidates:
        mention, source, lang, reading = (
            candidate.mention,
            candidate.source,
            candidate.lang,
            candidate.reading,
        )
        assert source is not None
        key = (mention.source_id, mention.external_id)
        if mention.external_id is not None and key in existing:
            results[candidate.index] = ItemResult(
                index=candidate.index, status="duplicate", id=existing[key]
            )
            continue
        routing = _router(rules, tuple(source.keywords)).route(mention.text, lang)
        published_at = mention.published_at.astimezone(UTC)
        row = {
            "id": new_id(),
            "source_id": source.id,
            "external_id": mention.external_id,
            "channel": mention.channel,
            "author": mention.author,
            "text": mention.text,
            "url": mention.url,
            "lang": lang,
            "model_score": reading.score,
            "model_label": reading.label,
            "sentiment_score": reading.score,
            "sentiment_label": reading.label,
            "topics": routing.topics,
            "department_id": routing.department_id
            or owners.get(source.community_id)
            or settings.default_department_id,
            "community_id": source.community_id,
            "published_at": published_at,
            "published_hour": int(published_at.timestamp()) // 3600,
            "ingested_at": now,
            "ingested_by": actor,
        }
        if mention.external_id is not None:
            existing[key] = row["id"]  # a later copy in the same batch is a duplicate
        rows.append((candidate.index, row))
    return rows


def _rules(session: Session) -> tuple[tuple[str, tuple[str, ...]], ...]:
    rules = session.scalars(select(RoutingRule).order_by(RoutingRule.department_id))
    return tuple((rule.department_id, tuple(rule.keywords)) for rule in rules)


@lru_cache(maxsize=64)
def _router(
    rules: tuple[tuple[str, tuple[str, ...]], ...], topics: tuple[str, ...]
) -> KeywordRouter:
    # Rules change rarely: a router is built once per set of rules and source keywords.
    return KeywordRouter(dict(rules), topics)


def _community_owners(session: Session, ids: set[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {id_ for id_ in ids if id_ is not None}
    if not wanted:
        return {}
    query = select(Community.id, Community.owner_department_id).where(
        col(Community.id).in_(wanted), Community.owner_department_id != ""
    )
    return {community_id: owner for community_id, owner in session.execute(query)}


def _insert_new_mentions(session: Session, rows: list[dict[str, Any]]) -> set[uuid.UUID]:
    """Inserts the rows in one statement; returns the ids of those not already stored."""
    if not rows:
        return set()
    table = Mention.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        dialect_insert(table)
        .on_conflict_do_nothing(index_elements=["source_id", "external_id"])
        .returning(table.c.id)
    )
    return set(session.scalars(statement, rows))


def _ingested_payload(row: dict[str, Any]) -> events.MentionIngestedPayload:
    return events.MentionIngestedPayload.model_validate(row)


def get_mention(session: Session, mention_id: uuid.UUID, *, for_update: bool = False) -> Mention:
    mention = session.get(Mention, mention_id, with_for_update=for_update)
    if mention is None:
        raise NotFound(f"Mention {mention_id} does not exist.")
    return mention


def list_mentions(
    session: Session,
    *,
    since: datetime | None,
    until: datetime | None,
    sentiment: str | None,
    department_id: str | None,
    community_id: uuid.UUID | None,
    source_id: uuid.UUID | None,
    lang: str | None,
    q: str | None,
    limit: int,
    cursor: str | None,
    order: str = "asc",
) -> Page[MentionPublic]:
    query = select(Mention)
    if since is not None:
        query = query.where(Mention.published_at >= _utc(since))
    if until is not None:
        query = query.where(Mention.published_at < _utc(until))
    if sentiment:
        query = query.where(Mention.sentiment_label == sentiment)
    if department_id:
        query = query.where(Mention.department_id == department_id)
    if community_id:
        query = query.where(Mention.community_id == community_id)
    if source_id:
        query = query.where(Mention.source_id == source_id)
    if lang:
        query = query.where(Mention.lang == lang)
    if q and q.strip():
        query = query.where(func.lower(Mention.text).contains(q.strip().lower(), autoescape=True))
    return paginate(
        session, query, key=Mention.id, limit=limit, cursor=cursor, to_item=to_public, order=order
    )


def relabel_mention(
    session: Session, *, mention_id: uuid.UUID, label: str, actor: str, now: datetime
) -> Mention:
    """A person corrects the model: the mention counts as they say, and keeps both labels."""
    mention = get_mention(session, mention_id, for_update=True)
    if mention.human_label == label:
        return mention
    mention.human_label = mention.sentiment_label = label
    same_reading = mention.model_label == label
    mention.sentiment_score = mention.model_score if same_reading else LABEL_SCORES[label]
    mention.relabelled_by, mention.relabelled_at = actor, now
    session.add(mention)
    enqueue(
        session,
        events.MENTION_RELABELLED,
        subject=str(mention.id),
        data=events.MentionRelabelledPayload(
            id=mention.id,
            lang=mention.lang,
            model_label=mention.model_label,
            human_label=label,
            community_id=mention.community_id,
            department_id=mention.department_id,
            relabelled_by=actor,
        ),
    )
    return mention


def to_public(mention: Mention) -> MentionPublic:
    return MentionPublic(
        **mention.model_dump(
            include={
                "id",
                "source_id",
                "external_id",
                "channel",
                "author",
                "text",
                "url",
                "lang",
                "topics",
                "department_id",
                "community_id",
                "published_at",
                "ingested_at",
            }
        ),
        sentiment=SentimentPublic(
            score=mention.sentiment_score,
            label=mention.sentiment_label,
            source="human" if mention.human_label else "model",
            model_label=mention.model_label,
            model_score=mention.model_score,
        ),
    )


# Routing rules


def routing_rules(session: Session, *, default_department_id: str) -> RoutingRules:
    rules = session.scalars(select(RoutingRule).order_by(RoutingRule.department_id))
    return RoutingRules(
        default_department_id=default_department_id,
        rules=[RoutingRulePublic.model_validate(rule) for rule in rules],
    )


def set_routing_rule(
    session: Session, *, department_id: str, data: RoutingRuleUpdate, actor: str, now: datetime
) -> RoutingRule:
    """Sets the keywords that route mentions to a department (new mentions; the past stays)."""
    rule = session.get(RoutingRule, department_id, with_for_update=True)
    if rule is not None and rule.keywords == data.keywords:
        return rule
    if rule is None:
        rule = RoutingRule(department_id=department_id, updated_at=now, updated_by=actor)
    rule.keywords, rule.updated_at, rule.updated_by = data.keywords, now, actor
    session.add(rule)
    enqueue(
        session,
        events.ROUTING_RULE_UPDATED,
        subject=department_id,
        data=events.RoutingRulePayload(department_id=department_id, keywords=data.keywords),
    )
    return rule


# Sentiment quality


def sentiment_quality(session: Session) -> SentimentQuality:
    """How often people agreed with the model when they looked at a mention, per language."""
    query = (
        select(Mention.lang, Mention.model_label, Mention.human_label, func.count())
        .where(col(Mention.human_label).is_not(None))
        .group_by(Mention.lang, Mention.model_label, Mention.human_label)
        .order_by(Mention.lang, Mention.model_label, Mention.human_label)
    )
    pairs: dict[str, list[LabelPair]] = {}
    for lang, model_label, human_label, count in session.execute(query):
        pairs.setdefault(lang, []).append(
            LabelPair(model_label=model_label, human_label=human_label, mentions=count)
        )
    languages = [_quality(lang, lang_pairs) for lang, lang_pairs in pairs.items()]
    corrections = sum(q.corrections for q in languages)
    agreements = sum(q.agreements for q in languages)
    return SentimentQuality(
        corrections=corrections,
        agreements=agreements,
        agreement=round(agreements / corrections, 4) if corrections else None,
        languages=languages,
    )


def _quality(lang: str, pairs: list[LabelPair]) -> LanguageQuality:
    corrections = sum(p.mentions for p in pairs)
    agreements = sum(p.mentions for p in pairs if p.model_label == p.human_label)
    return LanguageQuality(
        lang=lang,
        corrections=corrections,
        agreements=agreements,
        agreement=round(agreements / corrections, 4),
        pairs=pairs,
    )


# Reputation


def reputation(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    bucket: str,
    department_id: str | None,
    community_id: uuid.UUID | None,
) -> Reputation:
    """Mentions and their sentiment per hour or day (UTC), empty buckets included."""
    start, end = _utc(start), _utc(end)
    size = 3600 if bucket == "hour" else 86_400
    first = math.floor(start.timestamp() / size)
    last = math.ceil(end.timestamp() / size)  # up to the bucket holding `end`, if one does
    if end <= start:
        raise Unprocessable(
            "`to` must come after `from`.", errors=[{"field": "to", "message": "before from"}]
        )
    if last - first > MAX_BUCKETS:
        raise Unprocessable(
            f"That is more than {MAX_BUCKETS} buckets; choose a shorter period or larger buckets.",
            errors=[{"field": "from", "message": "period too long for the bucket"}],
        )
    is_negative = case((Mention.sentiment_label == "negative", 1), else_=0)
    query = (
        select(
            Mention.published_hour,
            func.count(),
            func.sum(Mention.sentiment_score),
            func.sum(is_negative),
        )
        .where(
            Mention.published_at >= datetime.fromtimestamp(first * size, UTC),
            Mention.published_at < end,
        )
        .group_by(Mention.published_hour)
    )
    if department_id:
        query = query.where(Mention.department_id == department_id)
    if community_id:
        query = query.where(Mention.community_id == community_id)
    totals: dict[int, list[float]] = {}
    for hour, count, score_sum, negatives in session.execute(query):
        slot = totals.setdefault(hour * 3600 // size, [0, 0.0, 0])
        slot[0] += count
        slot[1] += score_sum or 0.0
        slot[2] += negatives or 0
    buckets = [
        _bucket(index * size, *totals.get(index, [0, 0.0, 0])) for index in range(first, last)
    ]
    overall = _bucket(
        first * size,
        sum(b.mentions for b in buckets),
        sum(totals[i][1] for i in totals),
        sum(b.negative_mentions for b in buckets),
    )
    return Reputation(
        from_=start,
        to=end,
        bucket=bucket,
        mentions=overall.mentions,
        sentiment_avg=overall.sentiment_avg,
        negative_share=overall.negative_share,
        buckets=buckets,
    )


def _bucket(start: int, mentions: float, score_sum: float, negatives: float) -> ReputationBucket:
    return ReputationBucket(
        start=datetime.fromtimestamp(start, UTC),
        mentions=int(mentions),
        negative_mentions=int(negatives),
        sentiment_avg=round(score_sum / mentions, 4) if mentions else None,
        negative_share=round(negatives / mentions, 4) if mentions else None,
    )


def _utc(moment: datetime) -> datetime:
    """A time without an offset is read as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# Alerts


def check_for_spike(session: Session, *, settings: Settings, now: datetime) -> Alert | None:
    """Raises an alert when negative mentions of the last window outgrow the hours before it.

    A spike is one alert: while checks keep seeing it (each within a window of the last),
    the alert raised for it stands and no other is raised.
    """
    window = timedelta(minutes=settings.spike_window_minutes)
    window_start = now - window
    baseline_start = window_start - timedelta(hours=settings.spike_baseline_hours)
    negatives = _negative_count(session, window_start, now)
    if negatives < settings.spike_min_negative_mentions:
        return None
    baseline = _negative_count(session, baseline_start, window_start, end_inclusive=False)
    baseline_per_hour = baseline / settings.spike_baseline_hours
    expected = baseline_per_hour * window / timedelta(hours=1)
    if negatives < settings.spike_ratio * expected:
        return None
    _one_spike_check_at_a_time(session)
    latest = session.scalar(select(Alert).order_by(col(Alert.raised_at).desc()).limit(1))
    if latest is not None and latest.last_seen_at >= window_start:
        latest.last_seen_at = max(latest.last_seen_at, now)
        session.add(latest)
        return None
    explanation = _explain(
        session,
        window_start=window_start,
        now=now,
        baseline_start=baseline_start,
        negatives=negatives,
        baseline=baseline,
        baseline_per_hour=baseline_per_hour,
        settings=settings,
    )
    alert = Alert(
        status="open",
        department_id=explanation["departments"][0]["department_id"],
        window_start=window_start,
        window_end=now,
        negative_mentions=negatives,
        baseline_per_hour=round(baseline_per_hour, 4),
        explanation=explanation,
        raised_at=now,
        last_seen_at=now,
    )
    session.add(alert)
    session.flush()
    enqueue(
        session,
        events.ALERT_RAISED,
        subject=str(alert.id),
        data=events.AlertRaisedPayload(
            id=alert.id,
            department_id=alert.department_id,
            window_start=window_start,
            window_end=now,
            negative_mentions=negatives,
            baseline_per_hour=alert.baseline_per_hour,
            top_terms=explanation["top_terms"],
        ),
    )
    return alert


def _one_spike_check_at_a_time(session: Session) -> None:
    """Two checks at once (an ingest, the periodic job) must not both raise the same spike.

    SQLite runs one writing transaction at a time already; PostgreSQL takes a lock held
    until the transaction ends, after which the other check sees the alert.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SPIKE_LOCK_KEY})


def _negative_count(
    session: Session, start: datetime, end: datetime, *, end_inclusive: bool = True
) -> int:
    before_end = Mention.published_at <= end if end_inclusive else Mention.published_at < end
    query = select(func.count()).where(
        Mention.sentiment_label == "negative", Mention.published_at >= start, before_end
    )
    return session.scalar(query) or 0


def _explain(
    session: Session,
    *,
    window_start: datetime,
    now: datetime,
    baseline_start: datetime,
    negatives: int,
    baseline: int,
    baseline_per_hour: float,
    settings: Settings,
) -> dict[str, Any]:
    """What a person needs to judge the spike without running a query."""
    in_window = (
        Mention.sentiment_label == "negative",
        Mention.published_at >= window_start,
        Mention.published_at <= now,
    )
    by_department = session.execute(
        select(Mention.department_id, func.count())
        .where(*in_window)
        .group_by(Mention.department_id)
    ).all()
    departments = sorted(by_department, key=lambda row: (-row[1], row[0]))
    sample = session.execute(
        select(Mention.id, Mention.author, Mention.text, Mention.sentiment_score)
        .where(*in_window)
        .order_by(col(Mention.published_at).desc())
        .limit(EXPLANATION_SAMPLE)
    ).all()
    background = session.scalars(
        select(Mention.text)
        .where(Mention.published_at >= baseline_start, Mention.published_at < window_start)
        .order_by(col(Mention.published_at).desc())
        .limit(EXPLANATION_SAMPLE)
    ).all()
    authors = Counter(row.author for row in sample if row.author)
    most_negative = sorted(sample, key=lambda row: (row.sentiment_score, str(row.id)))
    mentions_in_window = session.scalar(
        select(func.count()).where(
            Mention.published_at >= window_start, Mention.published_at <= now
        )
    )
    return {
        "window": {"start": window_start.isoformat(), "end": now.isoformat()},
        "baseline": {
            "start": baseline_start.isoformat(),
            "end": window_start.isoformat(),
            "negative_mentions": baseline,
            "per_hour": round(baseline_per_hour, 4),
        },
        "negative_mentions": negatives,
        "mentions": mentions_in_window,
        "ratio_to_baseline": round(
            negatives / (baseline_per_hour * settings.spike_window_minutes / 60), 2
        )
        if baseline
        else None,
        "thresholds": {
            "min_negative_mentions": settings.spike_min_negative_mentions,
            "ratio": settings.spike_ratio,
        },
        "departments": [{"department_id": d, "negative_mentions": n} for d, n in departments],
        "top_terms": top_terms([row.text for row in sample], background),
        "top_authors": [
            {"author": author, "mentions": count}
            for author, count in sorted(authors.items(), key=lambda a: (-a[1], a[0]))[:5]
        ],
        "sample_mention_ids": [str(row.id) for row in most_negative[:5]],
    }


def get_alert(session: Session, alert_id: uuid.UUID, *, for_update: bool = False) -> Alert:
    alert = session.get(Alert, alert_id, with_for_update=for_update)
    if alert is None:
        raise NotFound(f"Alert {alert_id} does not exist.")
    return alert


def list_alerts(
    session: Session,
    *,
    status: str | None,
    department_id: str | None,
    limit: int,
    cursor: str | None,
    order: str = "asc",
) -> Page[AlertPublic]:
    query = select(Alert)
    if status:
        query = query.where(Alert.status == status)
    if department_id:
        query = query.where(Alert.department_id == department_id)
    return paginate(
        session,
        query,
        key=Alert.id,
        limit=limit,
        cursor=cursor,
        to_item=AlertPublic.model_validate,
        order=order,
    )


def acknowledge_alert(session: Session, *, alert_id: uuid.UUID, actor: str, now: datetime) -> Alert:
    alert = get_alert(session, alert_id, for_update=True)
    if alert.status == "acknowledged":
        raise Conflict(f"The alert was already acknowledged by {alert.acknowledged_by}.")
    alert.status, alert.acknowledged_at, alert.acknowledged_by = "acknowledged", now, actor
    session.add(alert)
    enqueue(
        session,
        events.ALERT_ACKNOWLEDGED,
        subject=str(alert.id),
        data=events.AlertAcknowledgedPayload(
            id=alert.id, department_id=alert.department_id, acknowledged_by=actor
        ),
    )
    return alert


# FAQ


def create_faq_entry(
    session: Session, *, data: FaqEntryCreate, actor: str, now: datetime
) -> FaqEntry:
    entry = FaqEntry(
        **data.model_dump(), created_at=now, created_by=actor, updated_at=now, updated_by=actor
    )
    session.add(entry)
    session.flush()
    enqueue(session, events.FAQ_ENTRY_CREATED, subject=str(entry.id), data=_entry_payload(entry))
    return entry


def get_faq_entry(session: Session, entry_id: uuid.UUID, *, for_update: bool = False) -> FaqEntry:
    entry = session.get(FaqEntry, entry_id, with_for_update=for_update)
    if entry is None:
        raise NotFound(f"FAQ entry {entry_id} does not exist.")
    return entry


def update_faq_entry(
    session: Session, *, entry_id: uuid.UUID, data: FaqEntryUpdate, actor: str, now: datetime
) -> FaqEntry:
    entry = get_faq_entry(session, entry_id, for_update=True)
    changes = data.model_dump(exclude_unset=True)
    emptied = sorted(field for field, value in changes.items() if value is None)
    if emptied:
        raise Unprocessable(
            f"{', '.join(emptied)} cannot be emptied.",
            errors=[{"field": field, "message": "cannot be null"} for field in emptied],
        )
    changed = [field for field, value in changes.items() if getattr(entry, field) != value]
    if not changed:
        return entry
    for field in changed:
        setattr(entry, field, changes[field])
    entry.updated_at, entry.updated_by = now, actor
    entry.revision += 1
    session.add(entry)
    enqueue(session, events.FAQ_ENTRY_UPDATED, subject=str(entry.id), data=_entry_payload(entry))
    return entry


def list_faq_entries(
    session: Session,
    *,
    lang: str | None,
    department_id: str | None,
    tag: str | None,
    limit: int,
    cursor: str | None,
) -> Page[FaqEntryPublic]:
    query = select(FaqEntry)
    if lang:
        query = query.where(FaqEntry.lang == lang)
    if department_id:
        query = query.where(FaqEntry.department_id == department_id)
    if tag:
        # Tags are plain words, so their JSON text holds each one as `"tag"`.
        quoted = f'"{tag.strip().lower()}"'
        query = query.where(cast(FaqEntry.tags, String).contains(quoted, autoescape=True))
    return paginate(
        session,
        query,
        key=FaqEntry.id,
        limit=limit,
        cursor=cursor,
        to_item=FaqEntryPublic.model_validate,
    )


def _entry_payload(entry: FaqEntry) -> events.FaqEntryPayload:
    return events.FaqEntryPayload(
        id=entry.id, lang=entry.lang, department_id=entry.department_id, tags=entry.tags
    )


@dataclass(frozen=True)
class _IndexedEntry:
    question: str
    answer: str
    lang: str
    department_id: str


class FaqIndex:
    """The matcher over the FAQ entries, rebuilt when they change (whichever replica changed them).

    Each ask compares the entries' count and revisions with those the matcher was built
    from: one cheap query, and a rebuild only after a change.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: tuple[Any, ...] | None = None
        self._matcher = FaqMatcher([])
        self._entries: dict[str, _IndexedEntry] = {}

    def current(self, session: Session) -> tuple[FaqMatcher, dict[str, _IndexedEntry]]:
        version = tuple(session.execute(select(func.count(), func.sum(FaqEntry.revision))).one())
        with self._lock:
            if version != self._version:
                entries = list(session.scalars(select(FaqEntry)))
                self._matcher = FaqMatcher(
                    FaqDocument(str(e.id), e.question, e.answer, e.lang, tuple(e.tags))
                    for e in entries
                )
                self._entries = {
                    str(e.id): _IndexedEntry(e.question, e.answer, e.lang, e.department_id)
                    for e in entries
                }
                self._version = version
            return self._matcher, self._entries


def ask_faq(
    session: Session, *, data: AskCreate, index: FaqIndex, settings: Settings, now: datetime
) -> AskResult:
    """Answers a customer from the FAQ; a question nothing answers well goes to a department."""
    matcher, entries = index.current(session)
    lang = data.lang or _language_of(data.question)
    languages = {entry.lang for entry in entries.values()}
    matches = matcher.match(data.question, lang if lang in languages else None, limit=3)
    best = matches[0] if matches else None
    answered = best is not None and best.score >= settings.faq_answer_threshold
    if answered:
        department_id = entries[best.id].department_id  # type: ignore[union-attr]
    else:
        department_id = _owner_of_question(session, data.question, lang, best, entries, settings)
    ask = FaqAsk(
        question=data.question,
        lang=lang,
        answered=answered,
        entry_id=uuid.UUID(best.id) if answered and best else None,
        score=best.score if best else 0.0,
        department_id=department_id,
        escalated=not answered,
        asked_at=now,
    )
    session.add(ask)
    session.flush()
    enqueue(
        session,
        events.FAQ_ASKED,
        subject=str(ask.id),
        data=events.FaqAskedPayload(
            ask_id=ask.id,
            lang=lang,
            answered=answered,
            entry_id=ask.entry_id,
            score=ask.score,
            department_id=department_id,
            asked_at=now,
        ),
    )
    if not answered:
        enqueue(
            session,
            events.FAQ_UNANSWERED,
            subject=str(ask.id),
            data=events.FaqUnansweredPayload(
                ask_id=ask.id,
                question=data.question,
                lang=lang,
                department_id=department_id,
                asked_at=now,
            ),
        )
    return AskResult(
        answered=answered,
        matches=[
            FaqMatchPublic(
                id=uuid.UUID(m.id),
                question=entries[m.id].question,
                answer=entries[m.id].answer,
                score=m.score,
            )
            for m in matches
        ],
        ask_id=ask.id,
    )


def _language_of(question: str) -> str | None:
    lang = detect_language(question)
    return None if lang == UNDETERMINED else lang


def _owner_of_question(
    session: Session,
    question: str,
    lang: str | None,
    best: Any,
    entries: dict[str, _IndexedEntry],
    settings: Settings,
) -> str:
    """The routing rules' department, else the closest entry's, else the default one."""
    routed = _router(_rules(session), ()).route(question, lang or "").department_id
    if routed:
        return routed
    if best is not None:
        return entries[best.id].department_id
    return settings.default_department_id


def give_feedback(session: Session, *, ask_id: uuid.UUID, helpful: bool, now: datetime) -> None:
    ask = session.get(FaqAsk, ask_id, with_for_update=True)
    if ask is None:
        raise NotFound(f"Ask {ask_id} does not exist.")
    if ask.helpful is not None:
        raise Conflict("Feedback was already given for this question.")
    ask.helpful, ask.feedback_at = helpful, now
    session.add(ask)
    enqueue(
        session,
        events.FAQ_FEEDBACK,
        subject=str(ask.id),
        data=events.FaqFeedbackPayload(
            ask_id=ask.id, helpful=helpful, entry_id=ask.entry_id, department_id=ask.department_id
        ),
    )


def list_asks(
    session: Session,
    *,
    answered: bool | None,
    department_id: str | None,
    limit: int,
    cursor: str | None,
    order: str = "asc",
) -> Page[FaqAskPublic]:
    query = select(FaqAsk)
    if answered is not None:
        query = query.where(FaqAsk.answered == answered)
    if department_id:
        query = query.where(FaqAsk.department_id == department_id)
    return paginate(
        session,
        query,
        key=FaqAsk.id,
        limit=limit,
        cursor=cursor,
        to_item=FaqAskPublic.model_validate,
        order=order,
    )
