from forum.models import PostState


def test_new_author_is_held_and_staff_is_not(topic, held, make_post, admin, in_state):
    p = held(topic)
    assert p.state == PostState.PENDING and "new_author" in p.held_reason
    assert make_post(topic, admin).state == PostState.PUBLISHED
    for s in ("published", "rejected", "hidden", "removed", "deleted"):
        in_state(s, topic)


def test_queue_page_renders(as_user, moderator, topic, held):
    held(topic)
    r = as_user(moderator).get("/moderation")
    assert r.status_code == 200, r.get_data(as_text=True)
