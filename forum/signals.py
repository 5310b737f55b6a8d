"""Signals the forum sends after a change has been flushed (not yet committed).

Other packages subscribe; the forum never imports them. For anything that must survive a
crash, read the event log instead: signals are for in-process reactions only.
"""

from blinker import Namespace

_signals = Namespace()

topic_created = _signals.signal("topic-created")
"""Sender: the new ``Topic`` (open or proposed)."""

post_created = _signals.signal("post-created")
"""Sender: the new ``Post``, in whatever state the moderation policy gave it."""

post_edited = _signals.signal("post-edited")
"""Sender: the edited ``Post``; its previous text is the newest ``PostRevision``."""

post_state_changed = _signals.signal("post-state-changed")
"""Sender: the ``Post``; keyword arguments ``old`` and ``new`` (``PostState``)."""

user_registered = _signals.signal("user-registered")
"""Sender: the new ``User`` who signed up through the registration form (flushed, not yet
committed; the mail package queues the verification mail in the same transaction, the
privacy package records the acknowledged debate rules and privacy notice: the form requires
the tick). Accounts
made by the admin CLI or the demo seed do not send it."""

registration_for_existing_account = _signals.signal("registration-for-existing-account")
"""Sender: the existing ``User`` whose address someone typed into the registration form.
The form answers as for a new address (no account discovery); the mail package tells the
owner by mail, in the same transaction."""

topic_proposal_decided = _signals.signal("topic-proposal-decided")
"""Sender: the ``Topic`` whose proposal a moderator accepted (now open) or declined; keyword
argument ``moderator`` (``User``). Moderation closes its queue item and audits the decision
when it was made on the forum's own proposals page."""

topic_moved = _signals.signal("topic-moved")
"""Sender: the ``Topic`` whose committee or area changed (flushed, not yet committed).
Moderation moves the topic's open queue items with it, so scoped moderators see them."""
