"""A small course: a past programme with two modules, a guidebook, a recording, readings."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from learnhub.catalogue.models import Material, Module, Programme, ProgrammeOrganisation
from learnhub.registration.models import Registration
from tests import factories as f

YOUTUBE = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"


@dataclass
class Course:
    programme: Programme
    manual: Module
    items: Module
    guidebook: Material
    recording: Material
    reading_a: Material
    reading_b: Material
    participant: object
    registration: Registration
    organiser: object


@pytest.fixture
def course(app, tmp_path) -> Course:
    upload = tmp_path / "uploads"
    upload.mkdir(exist_ok=True)
    (upload / "guide.pdf").write_bytes(b"%PDF-1.4 guide")
    app.config["UPLOAD_FOLDER"] = str(upload)
    host = f.make_organisation("United Cities and Local Governments Asia-Pacific")
    programme = f.past_programme(
        sessions=2,
        title="On-line training program on Resilient City",
        edition="2nd edition",
        completion_percent=50,
    )
    programme.organisation_links.append(
        ProgrammeOrganisation(organisation=host, role="host", position=0)
    )
    f.save(programme)
    manual = f.make_module(programme, 1, "Climate resilience")
    items = f.make_module(programme, 2, "Economic resilience")
    items.completion_mode = "items"
    f.save(items)
    guidebook = f.make_material(
        programme,
        kind="guidebook",
        title="Resilient City guidebook",
        file_name="guide.pdf",
        url=None,
        download_name="guidebook.pdf",
        content_type="application/pdf",
        size_bytes=14,
        visibility="registered",
        module_id=manual.id,
    )
    recording = f.make_material(
        programme,
        kind="recording",
        title="Session 1 recording",
        url=YOUTUBE,
        visibility="registered",
        module_id=manual.id,
        session_id=programme.sessions[0].id,
    )
    reading_a = f.make_material(programme, title="Reading A", module_id=items.id, required=True)
    reading_b = f.make_material(programme, title="Reading B", module_id=items.id, required=True)
    participant = f.make_user(full_name="João São Paulo", email="joao@example.org")
    registration = f.early_registration(programme, participant)
    organiser = f.make_organiser(programme)
    return Course(
        programme,
        manual,
        items,
        guidebook,
        recording,
        reading_a,
        reading_b,
        participant,
        registration,
        organiser,
    )
