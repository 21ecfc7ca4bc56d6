"""Imports every feature's models so that the metadata (and Alembic) sees all tables."""

from .accounts.models import LoginToken, ProgrammeTeamMember, User
from .attendance.models import Attendance, AttendanceImport, CheckIn, CheckInAttempt
from .catalogue.models import (
    AuditEntry,
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
from .learning.models import (
    Certificate,
    DigestSubscription,
    DiscussionLock,
    DiscussionPost,
    MaterialView,
    ModuleCompletion,
)
from .notifications.models import (
    Announcement,
    CalendarFeed,
    DevMailboxMessage,
    NotificationPreference,
    OutboxMessage,
    ReminderPolicy,
    ReminderRun,
    WorkerHeartbeat,
)
from .registration.models import Registration, RegistrationAnswer, RegistrationQuestion

__all__ = [
    "Announcement",
    "CalendarFeed",
    "NotificationPreference",
    "ReminderPolicy",
    "ReminderRun",
    "Attendance",
    "AuditEntry",
    "AttendanceImport",
    "CheckIn",
    "CheckInAttempt",
    "Certificate",
    "DigestSubscription",
    "DiscussionLock",
    "DiscussionPost",
    "MaterialView",
    "ModuleCompletion",
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
