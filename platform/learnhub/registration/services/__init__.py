"""Registration use cases: one function per use case, one transaction each (rules 2 and 5).

Every write use case starts by locking the programme row (`seats.lock_programme`): seats are
counted and the waiting list is served under that lock, so two transactions never decide about
the same seat at once. `seats.Seats` makes every such decision (a seat, the end of the queue,
how many to promote), whichever use case asks. Every state transition raises the
registration's `version` and writes the transition's email into the outbox in the same
transaction (`transitions`). Whenever a seat may have been freed or added,
`transitions.fill_free_seats` promotes from the head of the waiting list before the commit.

The modules follow the callers: `registering` (anyone), `participant` (a person's own
registrations), `organiser` (a programme's team), `reading`; this package names what they offer.
"""

from ...accounts.services import ParticipantDetails
from ..errors import AnswersRefused, RegistrationError, RegistrationNotFound
from ..models import ACTIVE_STATUSES
from .organiser import (
    RegistrationSettings,
    approve,
    change_capacity,
    move_registration,
    reject,
    update_registration_settings,
)
from .participant import (
    cancel,
    cancel_with_link,
    edit_answers,
    leave_waiting_list,
    registration_for_link,
    release_places_of_deleted_account,
)
from .reading import (
    Standing,
    own_registration,
    questions_of,
    registrations_of,
    standing_in,
    viewer_can_access_registered_material,
    viewer_is_confirmed,
    waitlist_places,
)
from .registering import RegistrationInput, RegistrationResult, register
from .seats import Placement, Seats, lock_programme, seats_of, waitlist_place
from .window import registration_is_open

__all__ = [
    "ACTIVE_STATUSES",
    "AnswersRefused",
    "ParticipantDetails",
    "Placement",
    "RegistrationError",
    "RegistrationInput",
    "RegistrationNotFound",
    "RegistrationResult",
    "RegistrationSettings",
    "Seats",
    "Standing",
    "approve",
    "cancel",
    "cancel_with_link",
    "change_capacity",
    "edit_answers",
    "leave_waiting_list",
    "lock_programme",
    "move_registration",
    "own_registration",
    "questions_of",
    "register",
    "registration_for_link",
    "registration_is_open",
    "registrations_of",
    "reject",
    "release_places_of_deleted_account",
    "seats_of",
    "standing_in",
    "update_registration_settings",
    "viewer_can_access_registered_material",
    "viewer_is_confirmed",
    "waitlist_place",
    "waitlist_places",
]
