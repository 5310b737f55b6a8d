"""``flask setup EMAIL NAME``: the first admin of a fresh install."""

from __future__ import annotations

from sqlalchemy import func, select

from forum import services
from forum.extensions import db
from forum.models import Role, User
from tests.admin.conftest import audit_entries

PASSWORD = "a-long-admin-password"


def test_setup_creates_the_first_admin_from_stdin(app, runner, client):
    result = runner.invoke(
        args=["setup", "first@kommune.example", "Første Admin", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "first@kommune.example" in result.output
    user = services.get_user_by_email("first@kommune.example")
    assert user.role == Role.ADMIN and user.display_name == "Første Admin"
    assert user.email_verified_at is not None
    assert services.authenticate("first@kommune.example", PASSWORD) == user
    [entry] = audit_entries("admin_setup")
    assert entry.target_id == user.id and entry.to_state == "admin"
    # The new admin can log in and open the administration.
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert client.get("/admin/").status_code == 200


def test_setup_prompts_for_the_password_twice(app, runner):
    result = runner.invoke(
        args=["setup", "prompt@kommune.example", "Prompt Admin"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert services.authenticate("prompt@kommune.example", PASSWORD).role == Role.ADMIN


def test_setup_refuses_when_an_admin_exists(app, runner, make_user):
    make_user("admin")
    before = db.session.scalar(select(func.count(User.id)))
    result = runner.invoke(
        args=["setup", "second@kommune.example", "Anden Admin", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code != 0
    assert "An admin exists already" in result.output
    assert db.session.scalar(select(func.count(User.id))) == before
    assert audit_entries("admin_setup") == []


def test_setup_refuses_a_short_password_and_a_bad_address(app, runner):
    result = runner.invoke(
        args=["setup", "x@kommune.example", "Kort Kode", "--password-stdin"], input="kort\n"
    )
    assert result.exit_code != 0 and "password" in result.output
    result = runner.invoke(
        args=["setup", "ikke-en-adresse", "Ny Admin", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert result.exit_code != 0 and "email" in result.output
    assert db.session.scalar(select(func.count(User.id))) == 0
