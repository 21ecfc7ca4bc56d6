"""Imports every feature's models so that the metadata (and Alembic) sees all tables."""

from .accounts.models import LoginToken, ProgrammeTeamMember, User
from .attendance.models import Attendance
from .catalogue.models import (
    Material,
    Module,
    Organisation,
    Person,
    Programme,
    ProgrammeOrganisation,
    Session,
    SessionSpeaker,
    Topic,
)
from .notifications.models import DevMailboxMessage, OutboxMessage, WorkerHeartbeat
from .registration.models import Registration, RegistrationAnswer, RegistrationQuestion

__all__ = [
    "Attendance",
    "DevMailboxMessage",
    "LoginToken",
    "Material",
    "Module",
    "Organisation",
    "OutboxMessage",
    "Person",
    "Programme",
    "ProgrammeOrganisation",
    "ProgrammeTeamMember",
    "Registration",
    "RegistrationAnswer",
    "RegistrationQuestion",
    "Session",
    "SessionSpeaker",
    "Topic",
    "User",
    "WorkerHeartbeat",
]
