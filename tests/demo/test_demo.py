"""The demo data carries every fact of the source material onto the two programme pages."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import func, select

from learnhub.catalogue.models import Programme
from learnhub.extensions import db

NET_ZERO_FACTS = [
    "Creating a Net Zero Community",
    "Webinar",
    "Online",
    "Metropolis Learning Hub Chengdu",
    "C40",
    "Chengdu’s Municipal Commission for Urban and Rural Community Development and Management",
    "Pathways to Near-Net-Zero Communities",
    "COP27",
    "2030 peaking goal and long-term carbon neutrality",
    "Work Plan for Pilot Near-Net-Zero Communities in March 2022",
    "10 near-net-zero communities in 2022 and 30 more by the end of 2025",
    "In July 2022, Chengdu joins hands with C40’s Green and Thriving Neighbourhoods Network",
    "Science and Technology and Industrialisation Development Centre of China’s Ministry of "
    "Housing and Urban-Rural Development",
    "5 key elements to make urban public space accessible, inclusive, cohesive and green",
    "Chengdu’s Near-net-zero Initiative at Community Scale",
    "Park City Initiative, featuring complete neighbourhoods and the 15-minute city",
    "Madrid 360 Environmental Sustainability Strategy",
    "return public space to the people",
    "This session had speakers from C40, Chengdu and Madrid",
    "Ms. Li Li",
    "Vice Director General",
    "Chengdu Foreign Affairs Office",
    "Mr. Lei Ke",
    "Vice-Director",
    "Commission for Urban-Rural Community Development and Governance of CPC Chengdu Municipal "
    "Committee",
    "Mr. Luke Sherlock",
    "C40 Director of Urban Planning & Design",
    "Ms. Yao Nan",
    "Deputy chief engineer",
    "Chengdu Planning and Design Institute",
    "Lola Ortiz Sánchez",
    "General Director of Mobility Planning and Infrastructures",
    "Madrid City Council",
    "Mr. Jordi Vaquer",
    "Secretary General",
    "Metropolis",
    "Sustainability and climate change",
    "Hosted by",
    "Related alliances",
    "Session date",
    "Programme of the event",
    "Recording of the event",
]

RESILIENT_FACTS = [
    "On-line training program on Resilient City",
    "2nd edition",
    "Online",
    "In collaboration with UCLG, UCLG-ASPAC, and the SHRDC as MITI HQ",
    "e-learning contents and diverse policy cases with active discussions among the participants",
    "More than half of the world’s population resides in urban and metropolitan areas",
    "strategic disaster risk reduction and response measures are critical",
    "social, economic, and climate dimensions",
    "The Sendai Framework, adopted at the Third UN World Conference in Disaster Risk Reduction",
    "mobilization of risk sensitive investment",
    "guidebook",
    "During the second live session of this training program",
    'the concept "Resilient City"',
    "Climate resilience",
    "Economic resilience",
    "Social resilience",
    "UCLG-ASPAC",
    "SHRDC",
    "Sello Enoch Morero",
    "Executive Mayor",
    "Sustainability and climate change",
    "Hosted by",
    "Related alliances",
    "Session date",
    "Resilient City guidebook",
]


@pytest.fixture
def demo(app, runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "organiser@learnhub.example.org" in result.output
    return result


def page_text(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("slug", "facts"),
    [
        ("creating-a-net-zero-community", NET_ZERO_FACTS),
        ("resilient-city-2nd-edition", RESILIENT_FACTS),
    ],
)
def test_every_fact_appears_on_the_programme_page(client, demo, slug, facts):
    text = page_text(client, f"/programmes/{slug}")
    missing = [fact for fact in facts if fact not in text]
    assert missing == []


def test_catalogue_lists_both_demo_programmes_as_upcoming(client, demo):
    text = page_text(client, "/")
    upcoming = text[: text.index("Past programmes")]
    assert "Creating a Net Zero Community" in upcoming
    assert "On-line training program on Resilient City" in upcoming


def test_resilient_city_has_three_modules_several_sessions_and_a_real_guidebook(client, demo):
    programme = db.session.scalar(
        select(Programme).where(Programme.slug == "resilient-city-2nd-edition")
    )
    assert [m.title for m in programme.modules] == [
        "Climate resilience",
        "Economic resilience",
        "Social resilience",
    ]
    assert len(programme.sessions) >= 3
    assert {s.timezone for s in programme.sessions} == {"Asia/Seoul"}
    guidebook = next(m for m in programme.materials if m.kind == "guidebook")
    response = client.get(f"/materials/{guidebook.id}/download")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF-")
    assert b"%%EOF" in response.data[-32:]
    recordings = [m for m in programme.materials if m.kind == "recording"]
    assert recordings and all(m.url for m in recordings)
    module_page = page_text(client, "/programmes/resilient-city-2nd-edition/modules/2")
    assert "Economic resilience" in module_page


def test_loading_twice_is_refused_and_if_empty_skips(runner, demo):
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code != 0
    assert "already has programmes" in again.output
    skip = runner.invoke(args=["demo", "load", "--if-empty"])
    assert skip.exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(Programme)) == 2


def test_the_printed_demo_logins_work(client, demo):
    """The organiser signs in with the printed password; the participant gets a link."""
    from learnhub.demo.data import (
        ORGANISER_EMAIL,
        ORGANISER_PASSWORD,
        PARTICIPANT_EMAIL,
    )
    from learnhub.notifications.models import OutboxMessage

    response = client.post(
        "/login/password", data={"email": ORGANISER_EMAIL, "password": ORGANISER_PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/organiser/"
    assert "On-line training program on Resilient City" in page_text(client, "/organiser/")
    client.post("/logout")
    from learnhub.demo.data import ADMIN_EMAIL, ADMIN_PASSWORD

    client.post("/login/password", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert client.get("/admin/outbox").status_code == 200
    client.post("/logout")
    assert client.post("/login/link", data={"email": PARTICIPANT_EMAIL}).status_code == 200
    assert (
        db.session.scalar(
            select(OutboxMessage.to_address).where(OutboxMessage.kind == "magic_link")
        )
        == PARTICIPANT_EMAIL
    )
