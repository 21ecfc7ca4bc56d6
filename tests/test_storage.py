"""The file store (learnhub/storage.py) against both backends with the same test bodies: the
local folder, and an S3-compatible bucket (moto's in-process S3). Also: the access check on
registered-only downloads, presigned downloads, and `flask storage move-to-store`."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import text

from learnhub.catalogue import uploads
from learnhub.extensions import db
from learnhub.storage import LocalStorage, S3Storage, StorageError, storage
from tests import factories as f

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n"
BUCKET = "learnhub-test"


@pytest.fixture
def s3() -> Iterator[object]:
    import boto3
    import moto  # a dev dependency

    with moto.mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def _s3_settings(**extra) -> dict:
    return {
        "STORAGE_BACKEND": "s3",
        "S3_BUCKET": BUCKET,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": "testing",
        "S3_SECRET_ACCESS_KEY": "testing",
        "S3_PREFIX": "uploads",
        **extra,
    }


@pytest.fixture(params=["local", "s3"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def app(app_factory, backend, request):
    settings = {}
    if backend == "s3":
        request.getfixturevalue("s3")
        settings = _s3_settings()
    app = app_factory(**settings)
    with app.app_context():
        yield app


def test_the_store_keeps_reads_copies_lists_and_deletes_a_file(app, backend):
    store = storage()
    assert store.kind == backend
    assert store.read("a1b2.pdf") is None
    assert not store.exists("a1b2.pdf")
    store.save("a1b2.pdf", PDF, "application/pdf")
    assert store.exists("a1b2.pdf")
    assert store.read("a1b2.pdf") == PDF
    assert store.copy("a1b2.pdf", "c3d4.pdf") is True
    assert store.copy("missing.pdf", "e5f6.pdf") is False
    assert sorted(store.names()) == ["a1b2.pdf", "c3d4.pdf"]
    store.delete("a1b2.pdf")
    store.delete("a1b2.pdf")  # deleting twice is no error
    assert sorted(store.names()) == ["c3d4.pdf"]
    assert store.read("c3d4.pdf") == PDF


@pytest.mark.parametrize("name", ["../secret", "a/b.pdf", "..", ".hidden", "x\x00.pdf", ""])
def test_a_name_that_could_reach_another_file_is_refused(app, name):
    with pytest.raises(StorageError):
        storage().save(name, PDF)
    with pytest.raises(StorageError):
        storage().read(name)


def test_a_file_stored_in_a_transaction_that_rolls_back_is_removed(app):
    db.session.execute(text("SELECT 1"))  # a use case's transaction is under way
    name = uploads.store(uploads.CheckedFile(PDF, ".pdf", "application/pdf", "guide.pdf"))
    assert storage().exists(name)
    db.session.rollback()
    assert not storage().exists(name)
    db.session.execute(text("SELECT 1"))
    kept = uploads.store(uploads.CheckedFile(PDF, ".pdf", "application/pdf", "guide.pdf"))
    db.session.commit()
    assert storage().read(kept) == PDF
    copy = uploads.copy_stored(kept)
    db.session.commit()
    assert copy != kept and storage().read(copy) == PDF


def test_a_store_out_of_reach_does_not_break_a_rollback(app, monkeypatch, caplog):
    db.session.execute(text("SELECT 1"))
    name = uploads.store(uploads.CheckedFile(PDF, ".pdf", "application/pdf", "guide.pdf"))

    def out_of_reach(self, name):
        raise ConnectionError("the store does not answer")

    monkeypatch.setattr(type(storage()), "delete", out_of_reach)
    db.session.rollback()
    assert f"could not remove {name} after a rollback" in caplog.text


def _registered_only_guide() -> tuple:
    programme = f.make_programme()
    storage().save("0123abcd.pdf", PDF, "application/pdf")
    material = f.make_material(
        programme,
        kind="guidebook",
        title="Guide",
        url=None,
        file_name="0123abcd.pdf",
        download_name="city guide.pdf",
        content_type="application/pdf",
        size_bytes=len(PDF),
        visibility="registered",
    )
    return programme, material


def test_a_registered_only_file_downloads_only_after_the_access_check(client, app):
    programme, material = _registered_only_guide()
    url = f"/materials/{material.id}/download"
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    outsider = f.make_user()
    f.sign_in(client, outsider)
    assert client.get(url).status_code == 403
    f.make_registration(programme, outsider)
    response = client.get(url)
    assert response.status_code == 200
    assert response.get_data() == PDF
    assert response.mimetype == "application/pdf"
    assert 'attachment; filename="city guide.pdf"' in response.headers["Content-Disposition"]


def test_a_file_missing_from_the_store_is_not_found(client, app):
    programme, material = _registered_only_guide()
    storage().delete(material.file_name)
    f.sign_in(client, f.make_registration(programme, f.make_user()).user)
    assert client.get(f"/materials/{material.id}/download").status_code == 404


def test_presigned_downloads_redirect_after_the_check_to_a_short_lived_url(app_factory, s3):
    app = app_factory(**_s3_settings(S3_DOWNLOADS="presigned", S3_PRESIGN_SECONDS="45"))
    with app.app_context():
        programme, material = _registered_only_guide()
        url = f"/materials/{material.id}/download"
        registrant = f.make_registration(programme, f.make_user()).user
    client = app.test_client()  # each request in an app context of its own
    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert "X-Amz" not in anonymous.headers["Location"]
    f.sign_in(client, registrant)
    response = client.get(url)
    assert response.status_code == 303
    assert response.headers["Cache-Control"] == "private, no-store"
    location = urlsplit(response.headers["Location"])
    query = parse_qs(location.query)
    assert location.path.endswith("/uploads/0123abcd.pdf")
    assert BUCKET in location.netloc + location.path
    assert query["X-Amz-Expires"] == ["45"]
    assert query["response-content-disposition"][0].startswith("attachment")
    import requests

    fetched = requests.get(response.headers["Location"], timeout=10)
    assert fetched.content == PDF


def test_move_to_store_moves_every_file_and_can_run_again(app_factory, s3, tmp_path):
    folder = tmp_path / "old-uploads"
    local = LocalStorage(folder)
    local.save("aaaa.pdf", PDF)
    local.save("bbbb.png", b"\x89PNG\r\n\x1a\nimage")
    app = app_factory(**_s3_settings(UPLOAD_FOLDER=str(folder)))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["storage", "move-to-store", "--keep-local"])
    assert result.exit_code == 0, result.output
    assert "2 file(s) copied to the store, 0 already there." in result.output
    assert sorted(local.names()) == ["aaaa.pdf", "bbbb.png"]
    result = runner.invoke(args=["storage", "move-to-store"])
    assert result.exit_code == 0, result.output
    assert "0 file(s) copied to the store, 2 already there." in result.output
    assert list(local.names()) == []
    with app.app_context():
        store = storage()
        assert isinstance(store, S3Storage)
        assert store.read("aaaa.pdf") == PDF
        assert store.read("bbbb.png") == b"\x89PNG\r\n\x1a\nimage"
    head = s3.head_object(Bucket=BUCKET, Key="uploads/aaaa.pdf")
    assert head["ContentType"] == "application/pdf"


def test_move_to_store_refuses_without_an_object_store(app_factory):
    app = app_factory()
    result = app.test_cli_runner().invoke(args=["storage", "move-to-store"])
    assert result.exit_code == 1
    assert "Set STORAGE_BACKEND=s3" in result.output


def test_health_names_the_file_store(client, backend):
    assert client.get("/healthz").json["storage"] == ("local" if backend == "local" else "s3: ok")


def test_health_says_when_the_bucket_does_not_answer(app_factory, s3):
    app = app_factory(**_s3_settings(S3_BUCKET="no-such-bucket"))
    response = app.test_client().get("/healthz")
    assert response.json["storage"].startswith("s3: down")
