"""Extensions, created unbound and bound in ``create_app``.

Feature code imports them from here, never from ``app.py`` (see STYLE.md).
"""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from .uow import UnitOfWorkSession

# A naming convention keeps constraint names stable across databases and migrations.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Every commit of db.session goes through the unit of work's seams (forum/uow.py).
db = SQLAlchemy(model_class=Base, session_options={"class_": UnitOfWorkSession})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


def client_address() -> str:
    """The client's address: the socket's, or the one a trusted proxy reported
    (``TRUSTED_PROXIES``: app.py puts werkzeug's ProxyFix in front, which rewrites
    ``remote_addr``; with 0 a forwarded header changes nothing)."""
    return get_remote_address()


def rate_limit_key() -> str:
    """Whose budget a request spends: a signed-in person's own (so people behind one
    address, a library or a town hall, do not share one), else the client's address."""
    from flask_login import current_user

    if current_user and current_user.is_authenticated:
        return f"user:{current_user.id}"
    return "ip:" + client_address()


limiter = Limiter(key_func=rate_limit_key, default_limits=[])
socketio = SocketIO()
