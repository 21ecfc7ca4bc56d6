"""Material files: checked by their content, capped in size, stored under a name we choose.

A file is accepted only when its bytes are what its extension says (a PDF starts with
`%PDF-`; slides and documents are Office Open XML zips). The stored name is random, so the
name a browser sends never reaches the file system; a name with folder parts is refused.
Files live in the application's file store (learnhub/storage.py: the UPLOAD_FOLDER folder, or
an S3-compatible bucket) and are served as attachments by `catalogue.download_material` after
its access check.

A file is written before the transaction that records it commits; if that transaction rolls
back instead (a domain error, a failed write, the request's session closed), the files it
stored are removed again (`_forget_stored_on_rollback`), so no orphan stays in the store.
`init_app` (called by create_app) sets that up; a file a committed change replaced is removed
by its use case, by name (`remove_stored`), after the commit.
"""

from __future__ import annotations

import contextlib
import io
import logging
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..errors import DomainError
from ..extensions import db
from ..storage import StorageError, check_name, storage

log = logging.getLogger(__name__)

#: The largest file an organiser may upload (MAX_CONTENT_LENGTH leaves room for the form).
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
MAX_UPLOAD_LABEL = "25 MB"

_OOXML = {
    ".pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "ppt/",
    ),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "word/"),
}
ALLOWED_EXTENSIONS = (".pdf", *_OOXML)


class UploadError(DomainError):
    """A file that cannot be accepted; the message says why and what to do."""


@dataclass(frozen=True)
class CheckedFile:
    data: bytes
    extension: str
    content_type: str
    download_name: str


def _check_name(name: str) -> None:
    if "/" in name or "\\" in name or ".." in name or any(ord(c) < 32 for c in name):
        raise UploadError("The file name must not contain folders or '..'. Rename the file.")


#: The longest file name kept to download the file under (material.download_name).
MAX_NAME_LENGTH = 300


def check_upload(filename: str | None, stream: BinaryIO) -> CheckedFile:
    name = (filename or "").strip()
    if not name:
        raise UploadError("Choose a file to upload.")
    _check_name(name)
    if len(name) > MAX_NAME_LENGTH:
        raise UploadError(
            f"The file name is longer than {MAX_NAME_LENGTH} characters. Rename the file."
        )
    extension = Path(name).suffix.lower()
    if extension not in ALLOWED_EXTENSIONS:
        raise UploadError("Upload a PDF (.pdf), slides (.pptx) or a document (.docx).")
    data = stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(
            f"The file is larger than {MAX_UPLOAD_LABEL}. Make it smaller (for example, save "
            "the PDF with compressed images) or add it as a link instead."
        )
    if not data:
        raise UploadError("The file is empty.")
    if extension == ".pdf":
        if not data.startswith(b"%PDF-"):
            raise UploadError("This file is not a PDF, although its name ends in .pdf.")
        content_type = "application/pdf"
    else:
        content_type, folder = _OOXML[extension]
        if not _is_ooxml(data, folder):
            raise UploadError(f"This file is not a real {extension} file.")
    return CheckedFile(data, extension, content_type, name)


#: The largest cover image or speaker photo.
MAX_IMAGE_BYTES = 5 * 1024 * 1024
_IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", ".png", "image/png"),
    (b"\xff\xd8\xff", ".jpg", "image/jpeg"),
)


def check_image(filename: str | None, stream: BinaryIO) -> CheckedFile:
    """A cover image or photo: PNG, JPEG or WebP by content, up to 5 MB."""
    name = (filename or "").strip()
    _check_name(name)
    data = stream.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise UploadError("The image is larger than 5 MB. Use a smaller image.")
    for signature, extension, content_type in _IMAGE_SIGNATURES:
        if data.startswith(signature):
            return CheckedFile(data, extension, content_type, name)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return CheckedFile(data, ".webp", "image/webp", name)
    raise UploadError("Upload a PNG, JPEG or WebP image.")


def _is_ooxml(data: bytes, folder: str) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError):
        return False
    return "[Content_Types].xml" in names and any(n.startswith(folder) for n in names)


def store(checked: CheckedFile) -> str:
    """Write the file under a fresh random name; returns that name."""
    file_name = secrets.token_hex(16) + checked.extension
    storage().save(file_name, checked.data, checked.content_type)
    _pending(file_name)
    return file_name


def copy_stored(file_name: str) -> str | None:
    """A copy of a stored file under a new name (a new edition owns its files)."""
    try:
        check_name(file_name)
    except StorageError:
        return None
    copy = secrets.token_hex(16) + Path(file_name).suffix
    if not storage().copy(file_name, copy):
        return None
    _pending(copy)
    return copy


def remove_stored(file_name: str | None) -> None:
    if not file_name:
        return
    with contextlib.suppress(StorageError):
        storage().delete(file_name)


# --- files of a transaction that did not commit ---------------------------------------------

_STORED = "learnhub_stored_files"


def _pending(file_name: str) -> None:
    """Remember a file written for the current transaction (kept only if it commits)."""
    db.session().info.setdefault(_STORED, []).append((file_name, storage()))


def init_app(app) -> None:
    """Files stored for a transaction are kept when it commits and removed when it ends
    without a commit: two listeners on every database session (registered once a process)."""
    if not event.contains(Session, "after_commit", _keep_committed):
        event.listen(Session, "after_commit", _keep_committed)
        event.listen(Session, "after_transaction_end", _forget_stored_on_rollback)


def _keep_committed(session: Session) -> None:
    session.info.pop(_STORED, None)


def _forget_stored_on_rollback(session: Session, transaction) -> None:
    """The transaction ended without a commit (rollback or close): its files go too."""
    if transaction.parent is not None:
        return
    for file_name, store in session.info.pop(_STORED, []):
        try:
            store.delete(file_name)
        except Exception as error:  # an object store out of reach must not break the rollback
            log.warning("could not remove %s after a rollback: %s", file_name, error)
