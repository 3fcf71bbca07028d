"""Notifications: each subsidiary's directory of recipients, and the record of every delivery.

The directory is kept as events so that replaying the log routes every old message to
the people it went to then. Each delivery is an aggregate of its own (its id derived
from the event that caused it, the channel and the recipient): ``NotificationSent`` or
``NotificationFailed`` lands on it once, so an auditor can check from the log alone
that every reporter heard back, when, and through which channel.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from hazardloop.events.envelope import AggregateId, Event, Note, PersonRef, Token, sealed

EmailAddress = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s<>\"]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}$")
]
WebhookUrl = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000, pattern=r"^https?://[^\s]+$")]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80, pattern=r"^[^\x00-\x1f\x7f]+$")]
ErrorText = Annotated[str, StringConstraints(max_length=2000)]
WorkPlace = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80, pattern=r"^[^\x00-\x1f\x7f]+$")]


class Language(StrEnum):
    ZH_CN = "zh-CN"
    EN = "en"


class DirectoryRole(StrEnum):
    """What a person (or a group chat) is told about, beyond their own tasks."""

    SAFETY_DEPARTMENT = "safety_department"
    """New reports, missed steps of the closed loop, overdue rectifications."""
    SUBSIDIARY_LEADERSHIP = "subsidiary_leadership"
    GROUP_HQ = "group_hq"
    """Group headquarters, listed in each subsidiary's directory: last rung, referred rewards."""
    APPROVER = "approver"
    """Department heads who approve proposed rewards."""
    FINANCE = "finance"
    """Pays approved rewards."""
    MANAGER = "manager"
    """Gets the daily digest; decides extensions."""


class EndpointFormat(StrEnum):
    WEBHOOK = "webhook"
    """Our own JSON, signed with HMAC-SHA256."""
    WECOM = "wecom"
    """WeCom (企业微信) group robot."""
    DINGTALK = "dingtalk"
    """DingTalk (钉钉) custom robot."""
    FEISHU = "feishu"
    """Feishu / Lark (飞书) custom bot."""


class DeliveryChannel(StrEnum):
    INBOX = "inbox"
    EMAIL = "email"
    WEBHOOK = "webhook"


class PersonEntry(BaseModel):
    """A member of staff: how to reach them and what they hear about."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["person"] = "person"
    person: PersonRef
    """As their bearer token names them (its subject), so assignments find them."""
    name: DisplayName | None = None
    email: EmailAddress | None = None
    language: Language = Language.ZH_CN
    roles: Annotated[tuple[DirectoryRole, ...], Field(max_length=len(DirectoryRole))] = ()
    work_places: Annotated[tuple[WorkPlace, ...], Field(max_length=50)] = ()
    """The sites or areas (names as in the place catalogue) where they work; empty when not
    given. Rewards' fraud signals compare a named reporter's reports with it."""


class EndpointEntry(BaseModel):
    """A webhook or group chat robot that hears what the given roles hear."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["endpoint"] = "endpoint"
    endpoint: Token
    url: WebhookUrl
    format: EndpointFormat = EndpointFormat.WEBHOOK
    language: Language = Language.ZH_CN
    roles: Annotated[tuple[DirectoryRole, ...], Field(min_length=1, max_length=len(DirectoryRole))]


DirectoryEntry = Annotated[PersonEntry | EndpointEntry, Field(discriminator="kind")]


class DirectoryEntrySet(Event):
    """A person or endpoint was listed in (or changed in) a subsidiary's directory."""

    aggregate_type: ClassVar[str] = "directory"
    type: Literal["DirectoryEntrySet"] = "DirectoryEntrySet"
    entry: DirectoryEntry


class DirectoryEntryRemoved(Event):
    """A person or endpoint left the directory: nothing more is sent to them."""

    aggregate_type: ClassVar[str] = "directory"
    type: Literal["DirectoryEntryRemoved"] = "DirectoryEntryRemoved"
    kind: Literal["person", "endpoint"]
    name: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    """The person or endpoint removed."""


class _DeliveryOutcome(Event):
    """What every delivery record carries: what was sent, to whom, how, after what."""

    aggregate_type: ClassVar[str] = "delivery"
    kind: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")]
    channel: DeliveryChannel
    recipient: Annotated[str, StringConstraints(min_length=1, max_length=140)]
    """``reporter`` (never their pseudonym), a person, or ``endpoint:<id>``."""
    report_id: AggregateId | None = None
    source_event_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    """The event that caused the message."""
    attempts: Annotated[int, Field(ge=1, strict=True)]


class NotificationSent(_DeliveryOutcome):
    """A message was delivered: in an inbox, accepted by the mail server, or answered 2xx."""

    type: Literal["NotificationSent"] = "NotificationSent"


class NotificationFailed(_DeliveryOutcome):
    """A message could not be delivered after every retry: dead-lettered for an operator."""

    type: Literal["NotificationFailed"] = "NotificationFailed"
    error: ErrorText


class NotificationRetried(Event):
    """An operator sent a dead-lettered message on its way again."""

    aggregate_type: ClassVar[str] = "delivery"
    type: Literal["NotificationRetried"] = "NotificationRetried"
    comment: sealed(Note, "The operator's comment (sealed under the message's report, if it has one).") | None = None


class MessageRead(Event):
    """Someone read an inbox message (aggregate: the message in its inbox, so once only)."""

    aggregate_type: ClassVar[str] = "inbox"
    type: Literal["MessageRead"] = "MessageRead"
    box: Annotated[str, StringConstraints(min_length=1, max_length=140)]
    """A report id (the reporter's messages about it) or ``@<person>``."""
    message_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class RectificationReminderDue(Event):
    """The time came to remind a rectification owner of their deadline (once per deadline and lead)."""

    aggregate_type: ClassVar[str] = "reminder"
    type: Literal["RectificationReminderDue"] = "RectificationReminderDue"
    report_id: AggregateId
    owner: PersonRef
    deadline: AwareDatetime
    hours_before: Annotated[int, Field(ge=1, le=24 * 60, strict=True)]


class DigestDue(Event):
    """A subsidiary's daily digest for managers is due (aggregate id ``d-<yyyy-mm-dd>``)."""

    aggregate_type: ClassVar[str] = "digest"
    type: Literal["DigestDue"] = "DigestDue"
    day: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    since: AwareDatetime
    """The digest covers what happened from here to ``occurred_at``."""
