"""A story told in events, with the producers' own payload models, published to a real broker."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from aiokafka import AIOKafkaProducer
from pydantic import BaseModel

from collaboration import events as collaboration
from communities import events as communities
from listening import events as listening
from people import events as people
from shared.events import EventType, encode, new_event
from tests.support.broker import Broker


@dataclass
class Person:
    id: uuid.UUID
    name: str
    department_id: str
    years: float


@dataclass
class Scenario:
    """Writes the events each service would publish, in order; `publish` sends them all."""

    messages: list[tuple[str, bytes, bytes]] = field(default_factory=list)
    owners: dict[uuid.UUID, str] = field(default_factory=dict)
    questions: dict[uuid.UUID, tuple[Person | None, str, list[str], uuid.UUID | None, datetime]] = (
        field(default_factory=dict)
    )
    practices: dict[uuid.UUID, tuple[Person, list[str]]] = field(default_factory=dict)

    def emit(self, event_type: EventType, subject: object, data: BaseModel) -> None:
        event = new_event(event_type, subject=str(subject), data=data, event_id=str(uuid.uuid4()))
        self.messages.append((event_type.topic, str(subject).encode(), encode(event)))

    # people

    def department(self, id_: str, name: str) -> None:
        self.emit(people.DEPARTMENT_CREATED, id_, people.DepartmentPayload(id=id_, name=name))

    def person(self, name: str, department_id: str, years: float = 0) -> Person:
        person = Person(uuid.uuid4(), name, department_id, years)
        self.emit(
            people.PERSON_REGISTERED,
            person.id,
            people.PersonPayload(
                id=person.id,
                name=name,
                email=f"{name.lower()}@example.com",
                department_id=department_id,
                title=None,
                community_experience_years=years,
                languages=["fr"],
                active=True,
            ),
        )
        return person

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

    def community(self, name: str, kind: str, owner: str, purpose: str = "practice") -> uuid.UUID:
        community_id = uuid.uuid4()
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
                topics=[],
                archived=False,
            ),
        )
        return community_id

    def manager(self, community_id: uuid.UUID, person: Person, at: datetime) -> None:
        self.emit(
            communities.MANAGER_APPOINTED,
            community_id,
            communities.ManagerAppointedPayload(
                community_id=community_id,
                person_id=person.id,
                department_id=person.department_id,
                kind="internal",
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
    ) -> None:
        self.emit(
            communities.MEMBER_JOINED,
            community_id,
            communities.MemberJoinedPayload(
                community_id=community_id,
                member_id=uuid.uuid4(),
                person_id=person.id if person else None,
                external_handle=handle,
                department_id=person.department_id if person else None,
                owner_department_id=self.owners[community_id],
                kind="internal",
                joined_at=at,
            ),
        )

    # collaboration

    def question(
        self, author: Person, tags: list[str], at: datetime, community_id: uuid.UUID | None = None
    ) -> uuid.UUID:
        question_id = uuid.uuid4()
        self.questions[question_id] = (author, author.department_id, tags, community_id, at)
        self.emit(
            collaboration.QUESTION_ASKED,
            question_id,
            collaboration.QuestionAskedPayload(
                id=question_id,
                title=f"About {', '.join(tags)}",
                tags=tags,
                community_id=community_id,
                author_id=author.id,
                author_department_id=author.department_id,
                asked_at=at,
                source="internal",
                faq_ask_id=None,
            ),
        )
        return question_id

    def answer(
        self, question_id: uuid.UUID, author: Person, at: datetime, accepted: bool = False
    ) -> uuid.UUID:
        asker, asker_department, tags, community_id, asked_at = self.questions[question_id]
        answer_id = uuid.uuid4()
        self.emit(
            collaboration.ANSWER_POSTED,
            question_id,
            collaboration.AnswerPostedPayload(
                id=answer_id,
                question_id=question_id,
                author_id=author.id,
                author_department_id=author.department_id,
                question_author_id=asker.id if asker else None,
                question_author_department_id=asker_department,
                tags=tags,
                community_id=community_id,
                question_asked_at=asked_at,
                posted_at=at,
                first_answer=False,
            ),
        )
        if accepted:
            self.emit(
                collaboration.ANSWER_ACCEPTED,
                question_id,
                collaboration.AnswerAcceptedPayload(
                    answer_id=answer_id,
                    question_id=question_id,
                    author_id=author.id,
                    author_department_id=author.department_id,
                    question_author_id=asker.id if asker else None,
                    question_author_department_id=asker_department,
                    tags=tags,
                    community_id=community_id,
                    accepted_by=asker.id if asker else author.id,
                    accepted_at=at,
                    replaces_answer_id=None,
                ),
            )
        return answer_id

    def escalated(self, question_id: uuid.UUID, at: datetime) -> None:
        asker, asker_department, tags, community_id, asked_at = self.questions[question_id]
        self.emit(
            collaboration.QUESTION_ESCALATED,
            question_id,
            collaboration.QuestionEscalatedPayload(
                question_id=question_id,
                title=f"About {', '.join(tags)}",
                tags=tags,
                community_id=community_id,
                author_id=asker.id if asker else None,
                author_department_id=asker_department,
                source="internal",
                asked_at=asked_at,
                escalated_at=at,
            ),
        )

    def practice(self, author: Person, tags: list[str], at: datetime) -> uuid.UUID:
        practice_id = uuid.uuid4()
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
                id=uuid.uuid4(),
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
        self, community_id: uuid.UUID, department_id: str, score: float, label: str, at: datetime
    ) -> uuid.UUID:
        mention_id, source_id = uuid.uuid4(), uuid.uuid4()
        self.emit(
            listening.MENTION_INGESTED,
            source_id,
            listening.MentionIngestedPayload(
                id=mention_id,
                source_id=source_id,
                community_id=community_id,
                channel="forum",
                lang="fr",
                sentiment_score=score,
                sentiment_label=label,
                department_id=department_id,
                topics=[],
                published_at=at,
            ),
        )
        return mention_id

    def relabel(self, mention_id: uuid.UUID, model: str, human: str, department_id: str) -> None:
        self.emit(
            listening.MENTION_RELABELLED,
            mention_id,
            listening.MentionRelabelledPayload(
                id=mention_id,
                lang="fr",
                model_label=model,
                human_label=human,
                community_id=None,
                department_id=department_id,
                relabelled_by="someone",
            ),
        )

    def alert(self, department_id: str, at: datetime) -> None:
        alert_id = uuid.uuid4()
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
        ask_id = uuid.uuid4()
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

    async def publish(
        self, broker: Broker, messages: list[tuple[str, bytes, bytes]] | None = None
    ) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
        await producer.start()
        try:
            for topic, key, value in self.messages if messages is None else messages:
                await producer.send(topic, value, key=key)
            await producer.flush()
        finally:
            await producer.stop()
