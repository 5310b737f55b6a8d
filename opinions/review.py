"""Held statements in moderation's queue: the review source opinions registers with the
forum's hooks (``forum.hooks.ReviewSource``), as budgets does for ideas."""

from __future__ import annotations

from markupsafe import escape
from sqlalchemy import select

from forum import hooks
from forum.errors import NotFound
from forum.extensions import db
from forum.i18n import lazy_gettext as _l
from forum.models import User

from .models import OpinionParticipant, OpinionRound, OpinionStatement, StatementState
from .services import KIND, decide_statement, round_path


class StatementSource:
    kind = KIND
    label = _l("Opinion map statement")

    def views(self, target_ids: list[int]) -> dict[int, hooks.ReviewView]:
        rows = db.session.execute(
            select(OpinionStatement, OpinionRound, OpinionParticipant.user_id)
            .join(OpinionRound, OpinionRound.id == OpinionStatement.round_id)
            .outerjoin(
                OpinionParticipant,
                OpinionParticipant.id == OpinionStatement.author_participant_id,
            )
            .where(OpinionStatement.id.in_(target_ids))
        ).all()
        return {
            st.id: hooks.ReviewView(
                title=st.body[:80],
                body_html=f"<p>{escape(st.body)}</p>",
                url=round_path(rnd.id),
                author_id=user_id,
                area_id=rnd.topic.area_id,
                committee_id=rnd.topic.committee_id,
                state=st.state.value,
                context=rnd.question,
            )
            for st, rnd, user_id in rows
        }

    def _statement(self, target_id: int) -> OpinionStatement:
        st = db.session.get(OpinionStatement, target_id)
        if st is None:
            raise NotFound()
        return st

    def decide(self, moderator: User, target_id: int, approve: bool, reason: str) -> int | None:
        decide_statement(moderator, self._statement(target_id), approve)
        return None

    def reinstate(self, moderator: User, target_id: int) -> None:
        st = self._statement(target_id)
        if st.state == StatementState.REJECTED:
            st.state = StatementState.PENDING
            decide_statement(moderator, st, True)
