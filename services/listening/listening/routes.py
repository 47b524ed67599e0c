"""The listening service's HTTP API (`/v1/...`): thin views over `listening.service`."""

import json
import uuid
from datetime import timedelta
from typing import Annotated, Any, NoReturn

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from listening import jobs, service
from listening.models import (
    AlertPublic,
    AlertStatus,
    AskCreate,
    AskFeedback,
    AskResult,
    Bucket,
    DepartmentId,
    FaqAskPublic,
    FaqEntryCreate,
    FaqEntryPublic,
    FaqEntryUpdate,
    IngestReport,
    Language,
    MentionCreate,
    MentionPublic,
    MentionRelabel,
    PollReport,
    Reputation,
    RoutingRulePublic,
    RoutingRules,
    RoutingRuleUpdate,
    SentimentLabel,
    SentimentQuality,
    SourceCreate,
    SourceKind,
    SourcePublic,
)
from listening.settings import Settings
from shared.auth import CurrentPrincipal, Principal, Role, require_roles
from shared.db import SessionDep
from shared.errors import PayloadTooLarge, Problem, Unprocessable, UnsupportedMediaType
from shared.pagination import Cursor, Limit, Order, Page
from shared.timestamps import Timestamp

router = APIRouter(prefix="/v1")

Ingester = Annotated[Principal, Depends(require_roles(Role.SYSTEM, Role.CONVERSATION_MANAGER))]
Curator = Annotated[Principal, Depends(require_roles(Role.COMMUNITY_MANAGER))]
Moderator = Annotated[
    Principal, Depends(require_roles(Role.COMMUNITY_MANAGER, Role.CONVERSATION_MANAGER))
]
SourceId = Annotated[uuid.UUID, Path(description="The source's id.")]
MentionId = Annotated[uuid.UUID, Path(description="The mention's id.")]
AlertId = Annotated[uuid.UUID, Path(description="The alert's id.")]
EntryId = Annotated[uuid.UUID, Path(description="The FAQ entry's id.")]
AskId = Annotated[uuid.UUID, Path(description="The ask's id, as `POST /v1/faq/ask` gave it.")]


class MalformedJson(Problem):
    status, slug, title = 400, "malformed-json", "Malformed JSON"


def _settings(request: Request) -> Settings:
    return request.app.state.settings


# Sources


@router.post(
    "/sources",
    status_code=201,
    tags=["sources"],
    responses={409: {"description": "A source has this name already."}},
)
def create_source(
    data: SourceCreate, session: SessionDep, actor: Curator, request: Request
) -> SourcePublic:
    source = service.create_source(
        session, data=data, actor=actor.subject, now=_settings(request).now()
    )
    return SourcePublic.model_validate(source)


@router.get("/sources", tags=["sources"])
def list_sources(
    session: SessionDep,
    _: CurrentPrincipal,
    kind: SourceKind | None = None,
    community_id: uuid.UUID | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[SourcePublic]:
    return service.list_sources(
        session, kind=kind, community_id=community_id, limit=limit, cursor=cursor
    )


@router.get("/sources/{source_id}", tags=["sources"])
def get_source(source_id: SourceId, session: SessionDep, _: CurrentPrincipal) -> SourcePublic:
    return SourcePublic.model_validate(service.get_source(session, source_id))


@router.post(
    "/sources/{source_id}/poll",
    tags=["sources"],
    responses={409: {"description": "Not a feed (rss) source: only feeds are polled."}},
)
async def poll_source(source_id: SourceId, request: Request, _: Curator) -> PollReport:
    """Fetches the feed now and ingests its new items; a failing feed is reported, not raised."""
    return await run_in_threadpool(
        jobs.poll_source, request.app.state.database, _settings(request), source_id=source_id
    )


# Mentions

_MENTION_SCHEMA = MentionCreate.model_json_schema()
_BATCH_SCHEMA = {
    "type": "object",
    "properties": {"items": {"type": "array", "items": _MENTION_SCHEMA, "maxItems": 1000}},
    "required": ["items"],
    "additionalProperties": False,
}


@router.post(
    "/mentions",
    status_code=201,
    tags=["mentions"],
    response_model=IngestReport | MentionPublic,
    responses={
        200: {"description": "Nothing new: the mention (or every item) was already stored."},
        201: {"description": "A mention: the mention. A batch: a result for each item."},
        413: {"description": "More items than a batch may hold (1000)."},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"oneOf": [_MENTION_SCHEMA, _BATCH_SCHEMA]}}
            },
            "description": 'One mention, or `{"items": [...]}`. In a batch, bad items are '
            "reported (`invalid`, with their errors) while good ones land; an item already "
            "stored is a `duplicate`. 201 when something was created, else 200; 422 when no "
            "item is valid.",
        }
    },
)
async def ingest_mentions(request: Request, session: SessionDep, actor: Ingester) -> JSONResponse:
    body = await _json_body(request)
    settings = _settings(request)
    if isinstance(body, dict) and "items" in body:
        items = _batch_items(body, settings.ingest_max_items)
        report = await run_in_threadpool(
            service.ingest_mentions,
            session,
            items=items,
            actor=actor.subject,
            settings=settings,
            now=settings.now(),
        )
        if report.invalid == len(items):
            raise Unprocessable(
                "No item of the batch is valid.",
                errors=[
                    {**error.model_dump(), "field": f"items.{item.index}.{error.field}"}
                    for item in report.items
                    for error in item.errors or []
                ],
                items=[item.model_dump(mode="json", exclude_none=True) for item in report.items],
            )
        code = status.HTTP_201_CREATED if report.created else status.HTTP_200_OK
        return JSONResponse(report.model_dump(mode="json", exclude_none=True), status_code=code)
    try:
        data = MentionCreate.model_validate(body)
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        ) from error
    mention, created = await run_in_threadpool(
        service.ingest_mention,
        session,
        data=data,
        actor=actor.subject,
        settings=settings,
        now=settings.now(),
    )
    code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return JSONResponse(service.to_public(mention).model_dump(mode="json"), status_code=code)


async def _json_body(request: Request) -> Any:
    # This path takes larger bodies than others, so the media type is checked here.
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType("Send mentions as application/json.")
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedJson("The body is not valid JSON.") from error


def _batch_items(body: dict[str, Any], max_items: int) -> list[Any]:
    unknown = sorted(set(body) - {"items"})
    if unknown:
        raise Unprocessable(
            "A batch holds only `items`.",
            errors=[
                {"field": name, "message": "unknown field", "type": "extra_forbidden"}
                for name in unknown
            ],
        )
    items = body["items"]
    if not isinstance(items, list):
        raise Unprocessable(
            "`items` must be a list of mentions.",
            errors=[{"field": "items", "message": "must be a list", "type": "list_type"}],
        )
    if len(items) > max_items:
        raise PayloadTooLarge(
            f"A batch holds at most {max_items} mentions; this one has {len(items)}."
        )
    if not items:
        raise Unprocessable(
            "The batch is empty.",
            errors=[{"field": "items", "message": "must hold a mention", "type": "too_short"}],
        )
    return items


@router.get("/mentions", tags=["mentions"])
def list_mentions(
    session: SessionDep,
    _: CurrentPrincipal,
    since: Annotated[Timestamp | None, Query(description="Published at or after.")] = None,
    until: Annotated[Timestamp | None, Query(description="Published before.")] = None,
    sentiment: SentimentLabel | None = None,
    department_id: Annotated[str | None, Query(max_length=40)] = None,
    community_id: uuid.UUID | None = None,
    source_id: uuid.UUID | None = None,
    lang: Annotated[Language | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=200, description="Words in the text.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    order: Order = "asc",
) -> Page[MentionPublic]:
    return service.list_mentions(
        session,
        since=since,
        until=until,
        sentiment=sentiment,
        department_id=department_id,
        community_id=community_id,
        source_id=source_id,
        lang=lang,
        q=q,
        limit=limit,
        cursor=cursor,
        order=order,
    )


@router.get("/mentions/{mention_id}", tags=["mentions"])
def get_mention(mention_id: MentionId, session: SessionDep, _: CurrentPrincipal) -> MentionPublic:
    return service.to_public(service.get_mention(session, mention_id))


@router.patch("/mentions/{mention_id}", tags=["mentions"])
def relabel_mention(
    mention_id: MentionId,
    data: MentionRelabel,
    session: SessionDep,
    actor: Moderator,
    request: Request,
) -> MentionPublic:
    mention = service.relabel_mention(
        session,
        mention_id=mention_id,
        label=data.sentiment_label,
        actor=actor.subject,
        now=_settings(request).now(),
    )
    return service.to_public(mention)


@router.get("/sentiment/quality", tags=["mentions"])
def sentiment_quality(session: SessionDep, _: CurrentPrincipal) -> SentimentQuality:
    return service.sentiment_quality(session)


# Routing rules


@router.get("/routing-rules", tags=["routing"])
def routing_rules(session: SessionDep, _: CurrentPrincipal, request: Request) -> RoutingRules:
    return service.routing_rules(
        session, default_department_id=_settings(request).default_department_id
    )


@router.put("/routing-rules/{department_id}", tags=["routing"])
def set_routing_rule(
    department_id: Annotated[DepartmentId, Path()],
    data: RoutingRuleUpdate,
    session: SessionDep,
    actor: Curator,
    request: Request,
) -> RoutingRulePublic:
    rule = service.set_routing_rule(
        session,
        department_id=department_id,
        data=data,
        actor=actor.subject,
        now=_settings(request).now(),
    )
    return RoutingRulePublic.model_validate(rule)


# Reputation


@router.get("/reputation", tags=["reputation"])
def reputation(
    session: SessionDep,
    _: CurrentPrincipal,
    request: Request,
    from_: Annotated[
        Timestamp | None, Query(alias="from", description="Default: `to` - 7 days.")
    ] = None,
    to: Annotated[Timestamp | None, Query(description="Default: now.")] = None,
    bucket: Bucket = "day",
    department_id: Annotated[str | None, Query(max_length=40)] = None,
    community_id: uuid.UUID | None = None,
) -> Reputation:
    end = to or _settings(request).now()
    start = from_ or end - timedelta(days=7)
    return service.reputation(
        session,
        start=start,
        end=end,
        bucket=bucket,
        department_id=department_id,
        community_id=community_id,
    )


# Alerts


@router.get("/alerts", tags=["alerts"])
def list_alerts(
    session: SessionDep,
    _: CurrentPrincipal,
    status_: Annotated[AlertStatus | None, Query(alias="status")] = None,
    department_id: Annotated[str | None, Query(max_length=40)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    order: Order = "asc",
) -> Page[AlertPublic]:
    return service.list_alerts(
        session,
        status=status_,
        department_id=department_id,
        limit=limit,
        cursor=cursor,
        order=order,
    )


@router.get("/alerts/{alert_id}", tags=["alerts"])
def get_alert(alert_id: AlertId, session: SessionDep, _: CurrentPrincipal) -> AlertPublic:
    return AlertPublic.model_validate(service.get_alert(session, alert_id))


@router.post(
    "/alerts/{alert_id}/ack",
    tags=["alerts"],
    responses={409: {"description": "The alert was acknowledged already."}},
)
def acknowledge_alert(
    alert_id: AlertId, session: SessionDep, actor: Moderator, request: Request
) -> AlertPublic:
    alert = service.acknowledge_alert(
        session, alert_id=alert_id, actor=actor.subject, now=_settings(request).now()
    )
    return AlertPublic.model_validate(alert)


# FAQ


@router.post("/faq", status_code=201, tags=["faq"])
def create_faq_entry(
    data: FaqEntryCreate, session: SessionDep, actor: Curator, request: Request
) -> FaqEntryPublic:
    entry = service.create_faq_entry(
        session, data=data, actor=actor.subject, now=_settings(request).now()
    )
    return FaqEntryPublic.model_validate(entry)


@router.get("/faq", tags=["faq"])
def list_faq_entries(
    session: SessionDep,
    _: CurrentPrincipal,
    lang: Annotated[Language | None, Query()] = None,
    department_id: Annotated[str | None, Query(max_length=40)] = None,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[FaqEntryPublic]:
    return service.list_faq_entries(
        session, lang=lang, department_id=department_id, tag=tag, limit=limit, cursor=cursor
    )


@router.post("/faq/ask", tags=["faq"], summary="Ask the FAQ (public: no token)")
def ask_faq(data: AskCreate, session: SessionDep, request: Request) -> AskResult:
    """Customers ask here; a question nothing answers well is escalated to a department."""
    settings = _settings(request)
    return service.ask_faq(
        session, data=data, index=request.app.state.faq_index, settings=settings, now=settings.now()
    )


@router.get("/faq/asks", tags=["faq"])
def list_asks(
    session: SessionDep,
    _: CurrentPrincipal,
    answered: bool | None = None,
    department_id: Annotated[str | None, Query(max_length=40)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    order: Order = "asc",
) -> Page[FaqAskPublic]:
    return service.list_asks(
        session,
        answered=answered,
        department_id=department_id,
        limit=limit,
        cursor=cursor,
        order=order,
    )


@router.post(
    "/faq/asks/{ask_id}/feedback",
    status_code=204,
    tags=["faq"],
    summary="Say whether the answer helped (public: no token; once per ask)",
    responses={409: {"description": "Feedback was given for this ask already."}},
)
def give_feedback(
    ask_id: AskId, data: AskFeedback, session: SessionDep, request: Request
) -> Response:
    service.give_feedback(
        session, ask_id=ask_id, helpful=data.helpful, now=_settings(request).now()
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# `ask` and `asks` are never an entry's id: other methods than theirs are refused (405), not
# read as an id that is no UUID (422).
@router.api_route(
    "/faq/ask", methods=["GET", "PATCH"], include_in_schema=False, response_model=None
)
def not_an_entry() -> NoReturn:
    raise HTTPException(405, "Ask the FAQ with POST.", headers={"Allow": "POST"})


@router.api_route("/faq/asks", methods=["PATCH"], include_in_schema=False, response_model=None)
def not_entries() -> NoReturn:
    raise HTTPException(405, "The asks are read with GET.", headers={"Allow": "GET"})


@router.get("/faq/{entry_id}", tags=["faq"])
def get_faq_entry(entry_id: EntryId, session: SessionDep, _: CurrentPrincipal) -> FaqEntryPublic:
    return FaqEntryPublic.model_validate(service.get_faq_entry(session, entry_id))


@router.patch("/faq/{entry_id}", tags=["faq"])
def update_faq_entry(
    entry_id: EntryId, data: FaqEntryUpdate, session: SessionDep, actor: Curator, request: Request
) -> FaqEntryPublic:
    entry = service.update_faq_entry(
        session, entry_id=entry_id, data=data, actor=actor.subject, now=_settings(request).now()
    )
    return FaqEntryPublic.model_validate(entry)
