"""Where uploaded files live: one interface, two backends.

- `LocalStorage`: a folder (UPLOAD_FOLDER, instance/uploads by default): `make run`, tests, and
  a single machine.
- `S3Storage`: a bucket on an S3-compatible object store (AWS S3, MinIO, Ceph, Cloudflare R2,
  ...) through boto3, so every web machine and worker sees the same files. Settings:
  STORAGE_BACKEND=s3, S3_BUCKET, S3_ENDPOINT_URL (empty for AWS), S3_REGION,
  S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY (or boto3's own AWS_* variables or instance role),
  S3_PREFIX, S3_DOWNLOADS ("stream" or "presigned") and S3_PRESIGN_SECONDS.

Names are the flat random names `catalogue.uploads` chooses; a name with a folder part, dots
only or control characters is refused (`StorageError`) by both backends, so a name from the
database can never reach another key or path. `send` answers a download: the views call it
only after their access check, so a registered-only file is never reachable without it (a
presigned URL, when chosen, is made after the check and lives S3_PRESIGN_SECONDS).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from flask import Response, current_app, redirect, send_from_directory
from werkzeug.wrappers import Response as BaseResponse

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")
CHUNK_BYTES = 256 * 1024


class StorageError(Exception):
    """A name that cannot be a stored file's name, or a store that is not set up."""


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise StorageError(f"{name!r} is not a stored file's name")
    return name


class Storage(Protocol):
    kind: str

    def save(self, name: str, data: bytes, content_type: str | None = None) -> None: ...
    def read(self, name: str) -> bytes | None: ...
    def exists(self, name: str) -> bool: ...
    def delete(self, name: str) -> None: ...
    def copy(self, source: str, target: str) -> bool: ...
    def names(self) -> Iterator[str]: ...
    def send(
        self,
        name: str,
        *,
        download_name: str | None = None,
        mimetype: str | None = None,
        as_attachment: bool = False,
        allow_redirect: bool = True,
    ) -> BaseResponse: ...


class LocalStorage:
    kind = "local"

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def _path(self, name: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / check_name(name)

    def save(self, name: str, data: bytes, content_type: str | None = None) -> None:
        self._path(name).write_bytes(data)

    def read(self, name: str) -> bytes | None:
        path = self._path(name)
        return path.read_bytes() if path.is_file() else None

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def copy(self, source: str, target: str) -> bool:
        source_path = self._path(source)
        if not source_path.is_file():
            return False
        shutil.copyfile(source_path, self._path(target))
        return True

    def names(self) -> Iterator[str]:
        if not self.folder.is_dir():
            return
        for path in sorted(self.folder.iterdir()):
            if path.is_file() and _NAME.match(path.name):
                yield path.name

    def send(
        self, name, *, download_name=None, mimetype=None, as_attachment=False, allow_redirect=True
    ) -> BaseResponse:
        return send_from_directory(
            self.folder,
            check_name(name),
            as_attachment=as_attachment,
            download_name=download_name,
            mimetype=mimetype,
        )


class S3Storage:
    kind = "s3"

    def __init__(
        self,
        client,
        bucket: str,
        *,
        prefix: str = "",
        downloads: str = "stream",
        presign_seconds: int = 60,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.downloads = downloads
        self.presign_seconds = presign_seconds

    def _key(self, name: str) -> str:
        return self.prefix + check_name(name)

    def save(self, name: str, data: bytes, content_type: str | None = None) -> None:
        extra = {"ContentType": content_type} if content_type else {}
        self.client.put_object(Bucket=self.bucket, Key=self._key(name), Body=data, **extra)

    def _get(self, name: str, **options):
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(name), **options)
        except self.client.exceptions.NoSuchKey:
            return None

    def read(self, name: str) -> bytes | None:
        found = self._get(name)
        return found["Body"].read() if found else None

    def exists(self, name: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def size(self, name: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError:
            return None
        return int(head["ContentLength"])

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(name))

    def copy(self, source: str, target: str) -> bool:
        if not self.exists(source):
            return False
        self.client.copy_object(
            Bucket=self.bucket,
            Key=self._key(target),
            CopySource={"Bucket": self.bucket, "Key": self._key(source)},
        )
        return True

    def names(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                name = item["Key"][len(self.prefix) :]
                if _NAME.match(name):
                    yield name

    def send(
        self, name, *, download_name=None, mimetype=None, as_attachment=False, allow_redirect=True
    ) -> BaseResponse:
        """The file streamed through the app, or (S3_DOWNLOADS=presigned, and the caller
        allows it) a redirect to a URL valid for S3_PRESIGN_SECONDS."""
        from werkzeug.exceptions import NotFound
        from werkzeug.http import dump_header

        disposition = "attachment" if as_attachment else "inline"
        if download_name:
            disposition += "; " + dump_header({"filename": download_name})
        if self.downloads == "presigned" and allow_redirect:
            return self._presigned(name, disposition, mimetype)
        found = self._get(name)
        if found is None:
            raise NotFound()
        body = found["Body"]
        response = Response(
            body.iter_chunks(CHUNK_BYTES),
            mimetype=mimetype or found.get("ContentType") or "application/octet-stream",
            direct_passthrough=True,
        )
        response.headers["Content-Length"] = str(found["ContentLength"])
        response.headers["Content-Disposition"] = disposition
        response.call_on_close(body.close)
        return response

    def _presigned(self, name: str, disposition: str, mimetype: str | None) -> BaseResponse:
        params = {
            "Bucket": self.bucket,
            "Key": self._key(name),
            "ResponseContentDisposition": disposition,
        }
        if mimetype:
            params["ResponseContentType"] = mimetype
        url = self.client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=self.presign_seconds
        )
        response = redirect(url, 303)
        response.headers["Cache-Control"] = "private, no-store"
        return response


def s3_client(config) -> object:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=config.get("S3_ENDPOINT_URL") or None,
        region_name=config.get("S3_REGION") or None,
        aws_access_key_id=config.get("S3_ACCESS_KEY_ID") or None,
        aws_secret_access_key=config.get("S3_SECRET_ACCESS_KEY") or None,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": config.get("S3_ADDRESSING_STYLE") or "auto"},
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
        ),
    )


def build_storage(config) -> Storage:
    backend = config.get("STORAGE_BACKEND", "local")
    if backend == "local":
        return LocalStorage(config["UPLOAD_FOLDER"])
    if backend == "s3":
        if not config.get("S3_BUCKET"):
            raise StorageError("STORAGE_BACKEND=s3 needs S3_BUCKET")
        return S3Storage(
            s3_client(config),
            config["S3_BUCKET"],
            prefix=config.get("S3_PREFIX") or "",
            downloads=config.get("S3_DOWNLOADS", "stream"),
            presign_seconds=int(config.get("S3_PRESIGN_SECONDS", 60)),
        )
    raise StorageError(f"STORAGE_BACKEND must be local or s3, not {backend!r}")


def storage() -> Storage:
    """The application's file store: the folder as configured now (cheap to make), or the
    object store's client, made once per application (boto3 clients are thread-safe)."""
    config = current_app.config
    if config.get("STORAGE_BACKEND", "local") == "local":
        return LocalStorage(config["UPLOAD_FOLDER"])
    made = current_app.extensions.get("storage")
    if made is None:
        made = current_app.extensions["storage"] = build_storage(config)
    return made
