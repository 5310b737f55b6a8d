"""The API's resources as marshmallow schemas: they shape every answer (``dump``) and are the
source of the OpenAPI description (``api/openapi.py``: apispec reads them), so the document
cannot drift from what the endpoints send."""

from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import Schema, fields, validate


class UtcDateTime(fields.DateTime):
    """ISO 8601 with the zone: stored times are naive UTC, written with "+00:00"."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.isoformat(timespec="seconds")


class Base(Schema):
    class Meta:
        ordered = True


class ErrorBody(Base):
    code = fields.String(required=True, metadata={"description": "A stable machine code."})
    message = fields.String(required=True, metadata={"description": "English explanation."})


class Error(Base):
    error = fields.Nested(ErrorBody, required=True)


class PlaceRef(Base):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)


class Committee(Base):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    description_html = fields.String(required=True)
    open_topics = fields.Integer(required=True)
    archived = fields.Boolean(required=True)
    url = fields.String(required=True)


class Area(Committee):
    pass


class Person(Base):
    """How a contribution's author is shown: their display name; politicians with their
    party."""

    name = fields.String(required=True)
    role = fields.String(
        required=True, validate=validate.OneOf(["citizen", "politician", "staff", "former"])
    )
    party = fields.String(allow_none=True, required=True)


class OutcomeRef(Base):
    status = fields.String(required=True)
    deciding_body = fields.String(required=True)
    updated_on = fields.Date(required=True)
    url = fields.String(required=True)


class Topic(Base):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    intro_html = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["open", "closed", "archived"]))
    committee = fields.Nested(PlaceRef, allow_none=True, required=True)
    area = fields.Nested(PlaceRef, allow_none=True, required=True)
    author = fields.Nested(Person, required=True)
    deadline = UtcDateTime(allow_none=True, required=True)
    created_at = UtcDateTime(required=True)
    last_activity_at = UtcDateTime(required=True)
    post_count = fields.Integer(required=True, metadata={"description": "Published posts."})
    outcome = fields.Nested(OutcomeRef, allow_none=True, required=True)
    url = fields.String(required=True)


class Post(Base):
    id = fields.Integer(required=True)
    topic_id = fields.Integer(required=True)
    parent_id = fields.Integer(
        allow_none=True,
        required=True,
        metadata={
            "description": "The post this replies to; null for a top-level post and for "
            "a reply to a post that is not public."
        },
    )
    depth = fields.Integer(required=True)
    stance = fields.String(allow_none=True, required=True)
    body_html = fields.String(required=True)
    supports = fields.Integer(required=True)
    author = fields.Nested(Person, required=True)
    created_at = UtcDateTime(required=True)
    edited_at = UtcDateTime(allow_none=True, required=True)
    url = fields.String(required=True)


class QAItem(Base):
    id = fields.Integer(required=True)
    body_html = fields.String(required=True)
    author = fields.Nested(Person, required=True)
    created_at = UtcDateTime(required=True)
    votes = fields.Integer(required=True)
    status = fields.String(required=True)
    answers = fields.List(fields.Nested(lambda: QAAnswer()), required=True)


class QAAnswer(Base):
    id = fields.Integer(required=True)
    body_html = fields.String(required=True)
    author = fields.Nested(Person, required=True)
    created_at = UtcDateTime(required=True)


class QASession(Base):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    description_html = fields.String(required=True)
    state = fields.String(required=True)
    starts_at = UtcDateTime(required=True)
    ends_at = UtcDateTime(required=True)
    committee = fields.Nested(PlaceRef, allow_none=True, required=True)
    area = fields.Nested(PlaceRef, allow_none=True, required=True)
    politicians = fields.List(fields.Nested(Person), required=True)
    url = fields.String(required=True)
    ics_url = fields.String(required=True)


class QASessionDetail(QASession):
    questions = fields.List(fields.Nested(QAItem), required=True)
    statements = fields.List(fields.Nested(QAAnswer), required=True)


class BudgetProject(Base):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    cost = fields.Integer(required=True)
    votes = fields.Integer(allow_none=True, required=True)
    selected = fields.Boolean(allow_none=True, required=True)


class Budget(Base):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    phase = fields.String(required=True)
    total = fields.Integer(required=True)
    url = fields.String(required=True)
    pabulib_url = fields.String(allow_none=True, required=True)


class BudgetDetail(Budget):
    projects = fields.List(fields.Nested(BudgetProject), required=True)


class SearchHit(Base):
    # "post", "topic" or a registered search source's kind ("meeting", "outcome")
    kind = fields.String(required=True)
    id = fields.Integer(required=True)
    topic_id = fields.Integer(required=True, allow_none=True)  # None for a meeting
    title = fields.String(required=True)
    excerpt = fields.String(required=True)
    created_at = UtcDateTime(required=True)
    url = fields.String(required=True)


class Transparency(Base):
    period_days = fields.Integer(required=True)
    figures = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


def page_schema(name: str, item: type[Schema]) -> type[Schema]:
    """A page of ``item``s with the cursor of the next page (null on the last)."""
    return type(
        name,
        (Base,),
        {
            "items": fields.List(fields.Nested(item), required=True),
            "next_cursor": fields.String(allow_none=True, required=True),
        },
    )


CommitteePage = page_schema("CommitteePage", Committee)
AreaPage = page_schema("AreaPage", Area)
TopicPage = page_schema("TopicPage", Topic)
PostPage = page_schema("PostPage", Post)
QASessionPage = page_schema("QASessionPage", QASession)
BudgetPage = page_schema("BudgetPage", Budget)
SearchPage = page_schema("SearchPage", SearchHit)


# What counts as a visible character: not a space and not a control character (the API drops
# those as the site's forms do, forum/text.py).
_VISIBLE = r"[^\s\x00-\x1f\x7f-\x9f]"
_BLANK = r"[\s\x00-\x1f\x7f-\x9f]"


class NewTopic(Base):
    """A topic a key publishes (the municipality's case system opening a debate)."""

    # The forum's rules (forum/services.py, TITLE_MIN/MAX and BODY_MAX): at least 5 visible
    # characters in the title, some in the introduction; no NUL (the database cannot store it).
    # Control characters are dropped before the forum sees the text (views.create_topic).
    title = fields.String(
        required=True,
        validate=[
            validate.Length(max=200),
            validate.Regexp(
                rf"^{_BLANK}*{_VISIBLE}({_BLANK}*{_VISIBLE}){{4}}[^\x00]*$",
                error="At least 5 visible characters, no NUL.",
            ),
        ],
    )
    intro = fields.String(
        required=True,
        validate=[
            validate.Length(max=10000),
            validate.Regexp(rf"^[^\x00]*{_VISIBLE}[^\x00]*$", error="Some text, no NUL."),
        ],
    )
    committee = fields.String(load_default=None, allow_none=True)
    area = fields.String(load_default=None, allow_none=True)
