"""The listening service's background work: polling feeds and watching for negative spikes.

Each function owns its transactions; a feed is fetched outside any, so a slow feed holds no lock.
"""

import logging
import uuid
from datetime import timedelta

from sqlalchemy import or_, select
from sqlmodel import col

from listening import feeds, service
from listening.models import PollReport, Source
from listening.settings import Settings
from shared.db import Database
from shared.errors import Conflict

log = logging.getLogger(__name__)


def poll_source(database: Database, settings: Settings, *, source_id: uuid.UUID) -> PollReport:
    """Fetches a feed now and ingests its new items; a failure is reported on the source."""
    with database.sessions() as session:
        source = service.get_source(session, source_id)
        if source.kind != "rss" or not source.url:
            raise Conflict(
                f"Source {source.name!r} is a {source.kind} source: only feeds are polled."
            )
        url, etag, modified = source.url, source.etag, source.modified
    feed, error = None, None
    try:
        feed = feeds.fetch(
            url,
            timeout=settings.feed_timeout_seconds,
            max_bytes=settings.feed_max_bytes,
            private_networks=settings.feed_private_networks,
            etag=etag,
            modified=modified,
        )
        error = feed.warning
    except feeds.FeedError as failure:
        error = str(failure)
    except Exception as failure:  # whatever a feed does, the poller reports it and goes on
        log.exception("feed poll failed", extra={"source_id": str(source_id)})
        error = f"the feed could not be read: {type(failure).__name__}"
    with database.transaction() as session:
        return service.record_poll(
            session,
            source_id=source_id,
            feed=feed,
            error=error,
            settings=settings,
            now=settings.now(),
        )


def poll_due_feeds(database: Database, settings: Settings) -> None:
    """Polls every feed not polled for a period; one failing feed does not stop the others."""
    # A little under the period, so a feed polled by hand just before is not polled twice.
    due_before = settings.now() - timedelta(seconds=settings.feed_poll_seconds * 0.9)
    with database.sessions() as session:
        due = list(
            session.scalars(
                select(Source.id).where(
                    Source.kind == "rss",
                    or_(
                        col(Source.last_polled_at).is_(None),
                        col(Source.last_polled_at) < due_before,
                    ),
                )
            )
        )
    for source_id in due:
        try:
            poll_source(database, settings, source_id=source_id)
        except Exception:
            log.exception("feed poll failed", extra={"source_id": str(source_id)})


def check_for_spike(database: Database, settings: Settings) -> None:
    with database.transaction() as session:
        service.check_for_spike(session, settings=settings, now=settings.now())
