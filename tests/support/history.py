"""A company's history written as the events each service would publish, in order.

One method a domain fact (a department, a person, a question answered, a mention...), each
writing that fact's events with the producers' own payload models, keyed by their aggregate as
the outbox relays key them. The strategy scenario tells its story with it; the rebuild benchmark
draws a large random one.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel

from collaboration import events as collaboration
from communities import events as communities
from listening import events as listening
from people import events as people
from shared.events import EventType, encode, new_event

Message = tuple[str, bytes, bytes]
"""(topic, key, value), as published."""


@dataclass
class Person:
    id: uuid.UUID
    name: str
    department_id: str
    years: float


@dataclass
class History:
    """The events written so far in `messages`; `new_id` makes every id (events' and facts')."""

    messages: list[Message] = field(default_factory=list)
    owners: dict[uuid.UUID, str] = field(default_factory=dict)
    questions: dict[uuid.UUID, tuple[Person | None, str, list[str], uuid.UUID | None, datetime]] = (
        field(default_factory=dict)
    )
    practices: dict[uuid.UUID, tuple[Person, list[str]]] = field(default_factory=dict)
    new_id: Callable[[], uuid.UUID] = uuid.uuid4
    sequences: dict[tuple[str, str], int] = field(default_factory=dict)

    def emit(self, event_type: EventType, subject: object, data: BaseModel) -> None:
        """Writes an event as an outbox would: numbered among the events about its subject."""
        place = (event_type.topic, str(subject))
        self.sequences[place] = self.sequences.get(place, 0) + 1
        event = new_event(
            event_type,
            subject=str(subject),
            data=data,
            event_id=str(self.new_id()),
            sequence=self.sequences[place],
        )
        self.messages.append((event_type.topic, str(subject).encode(), encode(event)))

    # people

    def department(self, id_: str, name: str) -> None:
        self.emit(people.DEPARTMENT_CREATED, id_, people.DepartmentPayload(id=id_, name=name))

    def person(
        self,
        name: str,
        department_id: str,
        years: float = 0,
        title: str | None = None,
        languages: list[str] | None = None,
    ) -> Person:
        person = Person(self.new_id(), name, department_id, years)
        self.emit(
            people.PERSON_REGISTERED,
            person.id,
            people.PersonPayload(
                id=person.id,
                name=name,
                email=f"{name.lower()}@example.com",
                department_id=department_id,
                title=title,
                community_experience_years=years,
                languages=languages or ["fr"],
                active=True,
            ),
        )
        return person

    def moves(self, person: Person, department_id: str) -> None:
        previous, person.department_id = person.department_id, department_id
        self.emit(
            people.PERSON_UPDATED,
            person.id,
            people.PersonUpdatedPayload(
                id=person.id,
                name=person.name,
                email=f"{person.name.lower()}@example.com",
                department_id=department_id,
                title=None,
                community_experience_years=person.years,
                languages=["fr"],
                active=True,
                changed=["department_id"],
                previous_department_id=previous,
            ),
        )

    def skill(self, person: Person, skill: str, level: int) -> None:
        self.emit(
            people.SKILL_DECLARED,
            person.id,
            people.SkillPayload(
                person_id=person.id, department_id=person.department_id, skill=skill, level=level
            ),
        )

    def leaves(self, person: Person, at: datetime) -> None:
        self.emit(
            people.PERSON_DEACTIVATED,
            person.id,
            people.PersonDeactivatedPayload(
                id=person.id, department_id=person.department_id, deactivated_at=at
            ),
        )

    # communities

    def community(
        self,
        name: str,
        kind: str,
        owner: str,
        purpose: str = "practice",
        topics: list[str] | None = None,
    ) -> uuid.UUID:
        community_id = self.new_id()
        self.owners[community_id] = owner
        self.emit(
            communities.COMMUNITY_CREATED,
            community_id,
            communities.CommunityPayload(
                id=community_id,
                name=name,
                kind=kind,
                purpose=purpose,
                owner_department_id=owner,
                description=None,
                topics=topics or [],
                archived=False,
            ),
        )
        return community_id

    def manager(
        self, community_id: uuid.UUID, person: Person, at: datetime, kind: str = "internal"
    ) -> None:
        self.emit(
            communities.MANAGER_APPOINTED,
            community_id,
            communities.ManagerAppointedPayload(
                community_id=community_id,
                person_id=person.id,
                department_id=person.department_id,
                kind=kind,
                owner_department_id=self.owners[community_id],
                community_experience_years=person.years,
                appointed_at=at,
            ),
        )

    def manager_left(self, community_id: uuid.UUID, person: Person) -> None:
        self.emit(
            communities.MANAGER_REMOVED,
            community_id,
            communities.ManagerRemovedPayload(
                community_id=community_id,
                person_id=person.id,
                department_id=person.department_id,
                reason="left_company",
            ),
        )

    def member(
        self,
        community_id: uuid.UUID,
        at: datetime,
        person: Person | None = None,
        handle: str | None = None,
        kind: str = "internal",
    ) -> None:
        self.emit(
            communities.MEMBER_JOINED,
            community_id,
            communities.MemberJoinedPayload(
                community_id=community_id,
                member_id=self.new_id(),
                person_id=person.id if person else None,
                external_handle=handle,
                department_id=person.department_id if person else None,
                owner_department_id=self.owners[community_id],
                kind=kind,
                joined_at=at,
            ),
        )

    # collaboration

    def question(
        self, author: Person, tags: list[str], at: datetime, community_id: uuid.UUID | None = None
    ) -> uuid.UUID:
        question_id = self.new_id()
        self.questions[question_id] = (author, author.department_id, tags, community_id, at)
        self.emit(
            collaboration.QUESTION_ASKED,
            question_id,
            collaboration.QuestionAskedPayload(
                asked_at=at,
                faq_ask_id=None,
                **self._question(question_id, "id"),
            ),
        )
        return question_id

    def answer(
        self,
        question_id: uuid.UUID,
        author: Person,
        at: datetime,
        accepted: bool = False,
        first: bool = False,
    ) -> uuid.UUID:
        asker, asker_department, tags, community_id, asked_at = self.questions[question_id]
        answer_id = self.new_id()
        about = {
            "question_id": question_id,
            "author_id": author.id,
            "author_department_id": author.department_id,
            "question_author_id": asker.id if asker else None,
            "question_author_department_id": asker_department,
            "tags": tags,
            "community_id": community_id,
        }
        self.emit(
            collaboration.ANSWER_POSTED,
            question_id,
            collaboration.AnswerPostedPayload(
                id=answer_id, question_asked_at=asked_at, posted_at=at, first_answer=first, **about
            ),
        )
        if accepted:
            self.emit(
                collaboration.ANSWER_ACCEPTED,
                question_id,
                collaboration.AnswerAcceptedPayload(
                    answer_id=answer_id,
                    accepted_by=asker.id if asker else author.id,
                    accepted_at=at,
                    replaces_answer_id=None,
                    **about,
                ),
            )
        return answer_id

    def escalated(self, question_id: uuid.UUID, at: datetime) -> None:
        self.emit(
            collaboration.QUESTION_ESCALATED,
            question_id,
            collaboration.QuestionEscalatedPayload(
                asked_at=self.questions[question_id][4],
                escalated_at=at,
                **self._question(question_id, "question_id"),
            ),
        )

    def _question(self, question_id: uuid.UUID, id_field: str) -> dict[str, object]:
        """What a question's asked and escalated events both say of it."""
        asker, asker_department, tags, community_id, _ = self.questions[question_id]
        return {
            id_field: question_id,
            "title": f"About {', '.join(tags)}",
            "tags": tags,
            "community_id": community_id,
            "author_id": asker.id if asker else None,
            "author_department_id": asker_department,
            "source": "internal",
        }

    def practice(self, author: Person, tags: list[str], at: datetime) -> uuid.UUID:
        practice_id = self.new_id()
        self.practices[practice_id] = (author, tags)
        self.emit(
            collaboration.PRACTICE_SHARED,
            practice_id,
            collaboration.PracticeSharedPayload(
                id=practice_id,
                title="A practice",
                tags=tags,
                department_id=author.department_id,
                author_id=author.id,
                author_department_id=author.department_id,
                shared_at=at,
            ),
        )
        return practice_id

    def adoption(self, practice_id: uuid.UUID, by: Person, at: datetime) -> None:
        author, tags = self.practices[practice_id]
        self.emit(
            collaboration.PRACTICE_ADOPTED,
            practice_id,
            collaboration.PracticeAdoptedPayload(
                id=self.new_id(),
                practice_id=practice_id,
                adopting_department_id=by.department_id,
                origin_department_id=author.department_id,
                adopted_by=by.id,
                adopted_by_department_id=by.department_id,
                note=None,
                tags=tags,
                adopted_at=at,
            ),
        )

    # listening

    def mention(
        self,
        community_id: uuid.UUID,
        department_id: str,
        score: float,
        label: str,
        at: datetime,
        source_id: uuid.UUID | None = None,
        lang: str = "fr",
    ) -> uuid.UUID:
        """A mention from its own source unless `source_id` names a shared one (the key)."""
        mention_id, source_id = self.new_id(), source_id or self.new_id()
        self.emit(
            listening.MENTION_INGESTED,
            source_id,
            listening.MentionIngestedPayload(
                id=mention_id,
                source_id=source_id,
                community_id=community_id,
                channel="forum",
                lang=lang,
                sentiment_score=score,
                sentiment_label=label,
                department_id=department_id,
                topics=[],
                published_at=at,
            ),
        )
        return mention_id

    def relabel(
        self,
        mention_id: uuid.UUID,
        model: str,
        human: str,
        department_id: str,
        community_id: uuid.UUID | None = None,
    ) -> None:
        self.emit(
            listening.MENTION_RELABELLED,
            mention_id,
            listening.MentionRelabelledPayload(
                id=mention_id,
                lang="fr",
                model_label=model,
                human_label=human,
                community_id=community_id,
                department_id=department_id,
                relabelled_by="someone",
            ),
        )

    def alert(self, department_id: str, at: datetime) -> None:
        alert_id = self.new_id()
        self.emit(
            listening.ALERT_RAISED,
            alert_id,
            listening.AlertRaisedPayload(
                id=alert_id,
                department_id=department_id,
                window_start=at,
                window_end=at,
                negative_mentions=9,
                baseline_per_hour=1.0,
                top_terms=["livraison"],
            ),
        )

    def faq_ask(self, answered: bool, department_id: str, at: datetime) -> None:
        ask_id = self.new_id()
        self.emit(
            listening.FAQ_ASKED,
            ask_id,
            listening.FaqAskedPayload(
                ask_id=ask_id,
                lang="fr",
                answered=answered,
                entry_id=None,
                score=0.9 if answered else 0.05,
                department_id=department_id,
                asked_at=at,
            ),
        )
        if not answered:
            self.emit(
                listening.FAQ_UNANSWERED,
                ask_id,
                listening.FaqUnansweredPayload(
                    ask_id=ask_id,
                    question="Où est ma pièce ?",
                    lang="fr",
                    department_id=department_id,
                    asked_at=at,
                ),
            )
