"""Extensions, created once and initialised in ``create_app``."""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from core.headers import SecurityHeaders
from tenants.models import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
security_headers = SecurityHeaders()
