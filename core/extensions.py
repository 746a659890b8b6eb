"""Extensions, created once and initialised in ``create_app``."""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from tenants.models import Base


class LeanSQLAlchemy(SQLAlchemy):
    """Flask-SQLAlchemy, whose end-of-request cleanup skips requests that opened no session.

    The stock teardown calls ``session.remove()``, which looks up the application context to
    find its scope even when no session exists, and most API requests open none (the key
    cache answers them). An empty registry means no session in any scope, this one included.
    """

    def _teardown_session(self, exc: BaseException | None) -> None:
        # ``ScopedRegistry.registry`` maps each scope to its session; were it ever missing,
        # every request would take the stock path.
        sessions = getattr(self.session.registry, "registry", None)
        if sessions is None or sessions:
            super()._teardown_session(exc)


db = LeanSQLAlchemy(model_class=Base)
migrate = Migrate()
