"""Moderation's write operations: holding, deciding, flags, appeals, suspensions, modes,
watched words, debate rules and reminders.

Each function checks permission, validates, writes its rows, an event row and an audit
entry, and flushes; the caller (view or CLI) commits once. Post states change only through
``forum.states.transition`` (or ``forum.services.publish_post``, which uses it).

Two moderators never act twice on the same thing: a decision first re-checks the post's
state with a guarded ``UPDATE … WHERE state = <what we saw>`` and then takes the queue item
with ``UPDATE … WHERE status = 'open' AND <not claimed by someone else>``; when either
matches no row, nothing is written and ``Conflict`` (409) says what the state is now.

One module per subject (the sections of the former single module); everything public is
importable from here (``from moderation import services``). A test that replaces a function
patches the module that looks it up (e.g. ``moderation.services.decisions``).
"""

from ._common import (
    APPEALABLE,
    ITEM_ACTIONS,
    POST_ACTIONS,
    RULE_REQUIRED,
    SOURCE_ACTIONS,
    STATE_LABELS,
    TEXT_MAX,
    audit,
    enabled,
    get_rule,
    item_actions,
    source_for,
    source_view,
    until_text,
)
from .appeals import appeal_decision, appealable_entry
from .decisions import BulkResult, bulk_decide, decide_item, moderate_post
from .desks import Desk, SourceQueue
from .flags import report_post, reporter_weight
from .holding import (
    on_post_created,
    on_post_edited,
    on_post_state_changed,
    on_topic_created,
    on_topic_moved,
    on_topic_proposal_decided,
)
from .modes import set_mode
from .queue import claim_item, get_item, release_item
from .reminders import record_denial, send_reminders
from .rules import add_watched_word, ensure_default_rules, remove_watched_word, save_rule
from .suspensions import (
    active_suspension,
    lift_suspension,
    require_user_in_scope,
    restriction,
    suspend_user,
    suspension_message,
    user_in_scope,
    written_in_clause,
)

__all__ = [
    "APPEALABLE",
    "BulkResult",
    "Desk",
    "ITEM_ACTIONS",
    "POST_ACTIONS",
    "RULE_REQUIRED",
    "SOURCE_ACTIONS",
    "STATE_LABELS",
    "SourceQueue",
    "TEXT_MAX",
    "active_suspension",
    "add_watched_word",
    "appeal_decision",
    "appealable_entry",
    "audit",
    "bulk_decide",
    "claim_item",
    "decide_item",
    "enabled",
    "ensure_default_rules",
    "get_item",
    "get_rule",
    "item_actions",
    "lift_suspension",
    "moderate_post",
    "on_post_created",
    "on_post_edited",
    "on_post_state_changed",
    "on_topic_created",
    "on_topic_moved",
    "on_topic_proposal_decided",
    "record_denial",
    "release_item",
    "remove_watched_word",
    "report_post",
    "reporter_weight",
    "require_user_in_scope",
    "restriction",
    "save_rule",
    "send_reminders",
    "set_mode",
    "source_for",
    "source_view",
    "suspend_user",
    "suspension_message",
    "until_text",
    "user_in_scope",
    "written_in_clause",
]
