"""The two demo programmes of the source material, with dates relative to today.

Facts (titles, hosts, partners, speakers and their positions, topic, format, modules, texts)
come from shared/seeds/programmes-source.txt. Session times are invented but plausible: the
webinar in Chengdu's afternoon, the Resilient City sessions in Seoul's afternoon.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ..accounts.models import ProgrammeTeamMember, User
from ..accounts.services import set_password
from ..catalogue import models as catalogue
from ..extensions import db
from ..registration.models import Registration
from ..storage import storage
from ..types import utcnow

GUIDEBOOK = Path(__file__).with_name("resilient-city-guidebook.pdf")
ORGANISER_EMAIL = "organiser@learnhub.example.org"
ORGANISER_PASSWORD = "learnhub-organiser"
ADMIN_EMAIL = "admin@learnhub.example.org"
ADMIN_PASSWORD = "learnhub-admin"
PARTICIPANT_EMAIL = "participant@learnhub.example.org"

NET_ZERO_DESCRIPTION = """\
Metropolis Learning Hub Chengdu with the support of C40 and Chengdu’s Municipal Commission for \
Urban and Rural Community Development and Management organised a session which sought to provide \
knowledge on how to design good public policies to help foster favourable climate for green \
transition and guidelines that help grass-root communities navigate their way to net zero \
transition. This session had speakers from C40, Chengdu and Madrid.

## Contents

Working towards the 2030 peaking goal and long-term carbon neutrality China's national goal, local \
governments have a critical role to play in helping to implement policies on the ground and \
establishing an enabling environment for stakeholders to increase contributions to net-zero.

To achieve peaking and carbon neutrality goals, and explore a near-net-zero solution that adapts to \
local conditions, the city of Chengdu released the Work Plan for Pilot Near-Net-Zero Communities in \
March 2022, targeting to create 10 near-net-zero communities in 2022 and 30 more by the end of 2025.

In July 2022, Chengdu joins hands with C40’s Green and Thriving Neighbourhoods Network. The two \
parties, together with the Science and Technology and Industrialisation Development Centre of \
China’s Ministry of Housing and Urban-Rural Development, will work jointly on a pilot net zero \
community project in Chengdu.

On the eve of the COP27, Metropolis Learning Hub Chengdu with the support of C40 and Chengdu’s \
Municipal Commission for Urban and Rural Community Development and Management organised a webinar \
under the title "Pathways to Near-Net-Zero Communities", a way to address climate change not only a \
local and neighbourhood level.

The objective of the session was to provide knowledge on how to design good public policies to help \
foster favourable climate for green transition and guidelines that help grass-root communities \
navigate their way to net zero transition. That is exactly what Luke Sherlock from C40 Cities \
pre-recorded video message was meant to: providing 5 key elements to make urban public space \
accessible, inclusive, cohesive and green and so to harness for low carbon urban development.

On the other hand, Chengdu representatives presented its initiatives at the neighbourhood scale such \
as "Chengdu’s Near-net-zero Initiative at Community Scale" and "Chengdu’s low-carbon programme \
within the framework of Park City Initiative, featuring complete neighbourhoods and the 15-minute \
city".

On the European side, Madrid presented the Madrid 360 Environmental Sustainability Strategy and how \
private and public transport modes are being changed to reduce emissions and to return public space \
to the people.

For more information, you can read the programme and watch the recording of the event.
"""

RESILIENT_SUMMARY = (
    "In collaboration with UCLG, UCLG-ASPAC, and the SHRDC as MITI HQ, we organised a Learning "
    'Program on "Resilient City", which provided various e-learning contents and diverse policy '
    "cases with active discussions among the participants."
)

RESILIENT_DESCRIPTION = """\
## Contents

More than half of the world’s population resides in urban and metropolitan areas, and cities have \
experienced rapid growth and urbanization. The local governments have to endure the threats and \
vulnerabilities as a result. Thus, strategic disaster risk reduction and response measures are \
critical for the sustainability. However, resilience is about more than natural disasters. It \
should incorporate a holistic perspective that covers social, economic, and climate dimensions, as \
well.

The Sendai Framework, adopted at the Third UN World Conference in Disaster Risk Reduction, \
recognizes the need for improved understanding of disaster risk, the strengthening of disaster risk \
governance, and the mobilization of risk sensitive investment to reduce natural and social risks \
and to support the vulnerable.

You can consult the guidebook of the programme below, under Materials.

During the second live session of this training program, we explored the concept "Resilient City" \
as well as the three dimensions of resilience: climate, economic and social.
"""

MODULES = [
    (
        "Climate resilience",
        "Climate",
        "Climate hazards, exposure and adaptation of infrastructure and public space.",
        "Cities face heat, floods and drought. This module maps climate hazards and the people and "
        "assets exposed to them, and looks at how cities adapt infrastructure and public space "
        "while protecting the most vulnerable first.",
    ),
    (
        "Economic resilience",
        "Economic",
        "Keeping the local economy and public services running through shocks.",
        "This module looks at diversifying the local economy, supporting small businesses and "
        "keeping services running through shocks, and at the mobilisation of risk-sensitive "
        "investment that the Sendai Framework calls for.",
    ),
    (
        "Social resilience",
        "Social",
        "Trust, networks and inclusive services that help communities recover together.",
        "Resilience is social too: this module looks at how trust, community networks and "
        "inclusive public services help residents prepare, respond and recover together, with "
        "support for the vulnerable.",
    ),
]


def _at(day: date, clock: time, tz: str) -> datetime:
    return datetime.combine(day, clock, tzinfo=ZoneInfo(tz))


def _organisation(name: str, short_name: str | None = None, website: str | None = None):
    found = db.session.query(catalogue.Organisation).filter_by(name=name).one_or_none()
    if found is None:
        found = catalogue.Organisation(name=name, short_name=short_name, website=website)
        db.session.add(found)
    return found


def _link(programme: catalogue.Programme, **roles: list[catalogue.Organisation]) -> None:
    """The programme's organisations by role, each role's in the order given."""
    for role, organisations in roles.items():
        for position, organisation in enumerate(organisations):
            programme.organisation_links.append(
                catalogue.ProgrammeOrganisation(
                    organisation=organisation, role=role, position=position
                )
            )


VIDEOS = "https://video.example.org/learnhub-demo"
FILES = "https://files.example.org/learnhub-demo"
#: What both demo programmes are: published, online, in English.
PUBLISHED_ONLINE_IN_ENGLISH = {"format": "online", "language": "English", "status": "published"}


def _user(email: str, name: str, role: str, works_at: tuple[str, str, str] | None = None) -> User:
    """A demo account; `works_at` is its organisation, city and country."""
    user = User(email=email, full_name=name, role=role, timezone="UTC")
    user.organisation_name, user.city, user.country = works_at or (None, None, None)
    return user


def load_demo(today: date | None = None) -> dict[str, str]:
    """Load both programmes, an organiser and a participant; returns the logins."""
    today = today or utcnow().date()
    topic = (
        db.session.query(catalogue.Topic)
        .filter_by(slug="sustainability-and-climate-change")
        .one_or_none()
    )
    if topic is None:
        topic = catalogue.Topic(
            slug="sustainability-and-climate-change", name="Sustainability and climate change"
        )
        db.session.add(topic)

    metropolis = _organisation("Metropolis", "Metropolis", "https://www.metropolis.org")
    hub_chengdu = _organisation("Metropolis Learning Hub Chengdu", "Learning Hub Chengdu")
    c40 = _organisation("C40 Cities", "C40", "https://www.c40.org")
    chengdu_commission = _organisation(
        "Chengdu’s Municipal Commission for Urban and Rural Community Development and Management"
    )
    chengdu_fao = _organisation("Chengdu Foreign Affairs Office")
    chengdu_cpc = _organisation(
        "Commission for Urban-Rural Community Development and Governance of CPC Chengdu "
        "Municipal Committee"
    )
    chengdu_planning = _organisation("Chengdu Planning and Design Institute")
    madrid = _organisation("Madrid City Council", "Madrid")
    uclg = _organisation("United Cities and Local Governments", "UCLG", "https://www.uclg.org")
    uclg_aspac = _organisation(
        "United Cities and Local Governments Asia-Pacific", "UCLG-ASPAC", "https://uclg-aspac.org"
    )
    shrdc = _organisation("Seoul Human Resources Development Center (SHRDC), MITI HQ", "SHRDC")

    webinar = catalogue.Programme(
        slug="creating-a-net-zero-community",
        kind="webinar",
        capacity=300,
        title="Creating a Net Zero Community",
        summary=(
            "How to design good public policies that foster a favourable climate for green "
            "transition, and guidelines that help grass-root communities navigate their way to "
            "net zero. With speakers from C40, Chengdu and Madrid."
        ),
        description=NET_ZERO_DESCRIPTION,
        topic=topic,
        timezone="Asia/Shanghai",
        **PUBLISHED_ONLINE_IN_ENGLISH,
    )
    _link(
        webinar, host=[hub_chengdu], supporter=[c40, chengdu_commission], alliance=[metropolis, c40]
    )
    webinar_day = today + timedelta(days=12)
    webinar_session = catalogue.Session(
        title="Pathways to Near-Net-Zero Communities",
        description=(
            "A pre-recorded video message from C40 on 5 key elements to make urban public space "
            "accessible, inclusive, cohesive and green; Chengdu’s Near-net-zero Initiative at "
            "Community Scale; Chengdu’s low-carbon programme within the framework of Park City "
            "Initiative, featuring complete neighbourhoods and the 15-minute city; and the Madrid "
            "360 Environmental Sustainability Strategy."
        ),
        starts_at=_at(webinar_day, time(16, 0), "Asia/Shanghai"),
        ends_at=_at(webinar_day, time(18, 0), "Asia/Shanghai"),
        timezone="Asia/Shanghai",
        join_url="https://meet.example.org/learnhub-demo/net-zero-community",
    )
    webinar.sessions.append(webinar_session)
    speakers = [
        ("Ms.", "Li Li", "Vice Director General", chengdu_fao, None),
        ("Mr.", "Lei Ke", "Vice-Director", chengdu_cpc, None),
        (
            "Mr.",
            "Luke Sherlock",
            "C40 Director of Urban Planning & Design",
            c40,
            "Pre-recorded video message: 5 key elements to make urban public space accessible, "
            "inclusive, cohesive and green",
        ),
        ("Ms.", "Yao Nan", "Deputy chief engineer", chengdu_planning, None),
        (
            None,
            "Lola Ortiz Sánchez",
            "General Director of Mobility Planning and Infrastructures",
            madrid,
            "Madrid 360 Environmental Sustainability Strategy",
        ),
        ("Mr.", "Jordi Vaquer", "Secretary General", metropolis, None),
    ]
    for position, (honorific, name, role, organisation, contribution) in enumerate(speakers):
        person = catalogue.Person(
            honorific=honorific, full_name=name, position=role, organisation=organisation
        )
        webinar_session.speaker_links.append(
            catalogue.SessionSpeaker(
                person=person, role="speaker", contribution=contribution, position=position
            )
        )
    for position, (kind, title, url) in enumerate(
        [
            ("programme", "Programme of the event", f"{FILES}/net-zero-community-programme.pdf"),
            ("recording", "Recording of the event", f"{VIDEOS}/net-zero-community-recording"),
        ]
    ):
        webinar.materials.append(
            catalogue.Material(
                kind=kind, title=title, url=url, visibility="public", position=position
            )
        )

    resilient = catalogue.Programme(
        slug="resilient-city-2nd-edition",
        kind="programme",
        capacity=60,
        title="On-line training program on Resilient City",
        edition="2nd edition",
        summary=RESILIENT_SUMMARY,
        description=RESILIENT_DESCRIPTION,
        topic=topic,
        timezone="Asia/Seoul",
        **PUBLISHED_ONLINE_IN_ENGLISH,
    )
    _link(resilient, host=[shrdc], partner=[uclg, uclg_aspac], alliance=[metropolis])
    modules = []
    for position, (title, theme, summary, body) in enumerate(MODULES, start=1):
        module = catalogue.Module(
            position=position,
            title=title,
            theme=theme,
            summary=summary,
            body=body,
            # the economic module completes by opening its recording and policy case; the
            # others when the participant marks them complete
            completion_mode="items" if position == 2 else "manual",
        )
        resilient.modules.append(module)
        modules.append(module)
    mayor = catalogue.Person(
        honorific=None, full_name="Sello Enoch Morero", position="Executive Mayor"
    )
    first_day = today + timedelta(days=7)
    session_plan = [
        ("Opening session: why resilient cities", None),
        ('Live session 2: the "Resilient City" concept and its three dimensions', modules[0]),
        ("Live session 3: economic resilience and policy cases", modules[1]),
        ("Live session 4: social resilience and closing", modules[2]),
    ]
    for week, (title, session_module) in enumerate(session_plan):
        day = first_day + timedelta(weeks=week)
        session = catalogue.Session(
            title=title,
            starts_at=_at(day, time(15, 0), "Asia/Seoul"),
            ends_at=_at(day, time(16, 30), "Asia/Seoul"),
            timezone="Asia/Seoul",
            join_url=f"https://meet.example.org/learnhub-demo/resilient-city-{week + 1}",
            module=session_module,
        )
        if week == 0:
            session.speaker_links.append(
                catalogue.SessionSpeaker(person=mayor, role="speaker", position=0)
            )
        resilient.sessions.append(session)

    stored_name = "demo-resilient-city-guidebook.pdf"
    storage().save(stored_name, GUIDEBOOK.read_bytes(), "application/pdf")
    resilient.materials.append(
        catalogue.Material(
            kind="guidebook",
            title="Resilient City guidebook",
            file_name=stored_name,
            download_name="resilient-city-guidebook.pdf",
            content_type="application/pdf",
            size_bytes=GUIDEBOOK.stat().st_size,
            visibility="public",
            position=0,
        )
    )
    for index, (module, (_, theme, _, _)) in enumerate(zip(modules, MODULES, strict=True)):
        slug = theme.lower()
        for offset, (kind, title, url) in enumerate(
            [
                ("recording", "lecture recording", f"{VIDEOS}/resilient-city-{slug}"),
                (
                    "policy_case",
                    "policy case for discussion",
                    f"{FILES}/resilient-city-{slug}-policy-case",
                ),
            ]
        ):
            resilient.materials.append(
                catalogue.Material(
                    module=module,
                    kind=kind,
                    title=f"{module.title}: {title}",
                    url=url,
                    visibility="registered",
                    position=10 + index * 2 + offset,
                )
            )
    db.session.add_all([webinar, resilient])

    organiser = _user(
        ORGANISER_EMAIL, "Olivia Organiser", "organiser", ("Metropolis", "Barcelona", "Spain")
    )
    organiser.timezone = "Europe/Madrid"
    set_password(organiser, ORGANISER_PASSWORD)
    participant = _user(
        PARTICIPANT_EMAIL,
        "Paula Participante",
        "participant",
        ("Prefeitura de São Paulo", "São Paulo", "Brazil"),
    )
    participant.timezone = "America/Sao_Paulo"
    admin = _user(ADMIN_EMAIL, "Ada Administrator", "admin")
    set_password(admin, ADMIN_PASSWORD)
    db.session.add_all([organiser, participant, admin])
    db.session.flush()
    for programme in (webinar, resilient):
        db.session.add(ProgrammeTeamMember(programme_id=programme.id, user_id=organiser.id))
    now = utcnow()
    db.session.add(
        Registration(
            programme_id=resilient.id,
            user_id=participant.id,
            status="confirmed",
            confirmed_at=now,
            consent_at=now,
        )
    )
    db.session.commit()
    return {
        "organiser": f"{ORGANISER_EMAIL} / password {ORGANISER_PASSWORD}",
        "administrator": f"{ADMIN_EMAIL} / password {ADMIN_PASSWORD}",
        "participant": f"{PARTICIPANT_EMAIL} (sign in with an emailed link, see /dev/mailbox)",
    }
