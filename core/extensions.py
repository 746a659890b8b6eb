"""Extensions, created once and initialised in ``create_app``."""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from core.authfailures import AuthFailureLimitService
from core.consolelimit import ConsoleWriteLimitService
from core.headers import SecurityHeaders
from core.ratelimit import RateLimiterService
from core.services import (
    KeyStoreService,
    SignInService,
    UsageBufferService,
    WebhookStoreService,
)
from tenants.models import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
security_headers = SecurityHeaders()
keystore = KeyStoreService()
usage_buffer = UsageBufferService()
rate_limiter = RateLimiterService()
auth_failures = AuthFailureLimitService()
console_writes = ConsoleWriteLimitService()
webhooks = WebhookStoreService()
sign_in = SignInService()
