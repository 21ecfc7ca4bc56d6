"""Imports every feature's models so that the metadata (and Alembic) sees all tables."""

from .accounts import models as accounts
from .attendance import models as attendance
from .catalogue import models as catalogue
from .learning import models as learning
from .notifications import models as notifications
from .registration import models as registration

FEATURE_MODELS = (accounts, attendance, catalogue, learning, notifications, registration)
