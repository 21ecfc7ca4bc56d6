"""Learning-path use cases, by section:

- viewer.py: who is looking (a confirmed registrant, the programme's team, anyone else);
- progress.py: sessions attended (the attendance feature's standing) and modules completed;
- module_page.py: what a module page shows beyond the catalogue's public view;
- completion.py: participants open materials and complete modules;
- discussions.py: module discussions, a page of threads at a time, and their moderation;
- organiser_settings.py: how modules are completed, what the certificate needs;
- certificates.py: the completion rule, issuing, revoking, verifying;
- digests.py: email digests of new posts.

What other features call is named here.
"""

from __future__ import annotations

from .certificates import issue_by_hand
from .digests import send_digests
from .module_page import module_page
from .progress import progress_in, progress_of
from .viewer import viewer_of

__all__ = [
    "issue_by_hand",
    "module_page",
    "progress_in",
    "progress_of",
    "send_digests",
    "viewer_of",
]
