"""The session type the store's functions take."""

from typing import Any, TypeAlias

from sqlalchemy.orm import Session, scoped_session

DbSession: TypeAlias = Session | scoped_session[Any]
"""A ``Session``, or a ``scoped_session`` proxying one: the app passes Flask-SQLAlchemy's
``db.session`` (a ``scoped_session`` of its own ``Session`` subclass, hence ``Any``: the
proxy's type parameter is invariant), scripts and the usage flush a plain ``Session``."""
