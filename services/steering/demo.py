"""The demo's steering groups, with the members the council papers name.

- Rheine (Vorlage 362/21): the constituent meeting on 26.08.2021, the 13 institutions
  listed there; the integration council's chair sits in it directly.
- Kreis Steinfurt (the same paper): Rheine and the chair of Rheine's integration council
  are voting permanent members of the district's group; the district's integration centre
  runs it. The paper gives no founding date: the demo's is 01.09.2021.
- Aachen (project outline 4.5.1): founded 12.01.2021, about ten members.

Representatives are pseudonymous token subjects of their home tenant (``kim token --tenant
rheine --role steering_member --subject rheine-integrationsrat-vorsitz``), never names.
Running it again changes nothing: a group is founded into an empty log only.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from contexts.steering.rules import RulesOfProcedure
from projections.steering import application
from runtime import context as request_context
from runtime.platform import Platform

# (institution, home tenant, role, voting, subject)
Member = tuple[str, str, str, bool, str]
RHEINE: list[Member] = [
    (name, "rheine", role, voting, subject)
    for name, role, voting, subject in [
        ("Agentur für Arbeit Rheine", "Leitung", True, "rheine-lg-arbeitsagentur"),
        ("Ausländerbehörde Stadt Rheine", "Leitung", True, "rheine-lg-auslaenderbehoerde"),
        ("Entwicklungs- und Wirtschaftsförderungsgesellschaft mbH", "Geschäftsführung", True,
         "rheine-lg-ewg"),
        ("Fachdienst Migration und Integration Caritasverband", "Fachdienstleitung", True,
         "rheine-lg-caritas"),
        ("Hilfen für Asylbewerber (Leistungsgewährung)", "Sachgebietsleitung", True,
         "rheine-lg-asyl"),
        ("Jobcenter (passiv und aktiv)", "Leitung", True, "rheine-lg-jobcenter"),
        ("KI - Kommunales Integrationszentrum Kreis Steinfurt", "Leitung", True,
         "rheine-lg-ki-kreis"),
        ("Sprachkursträger", "Vertretung", True, "rheine-lg-sprachkurse"),
        ("Team Beratung und Begleitung für Zuwanderer Stadt Rheine", "Koordinierungsstelle",
         True, "rheine-koordinierungsstelle"),
        ("Integrationsrat der Stadt Rheine", "Vorsitz", True, "rheine-integrationsrat-vorsitz"),
        ("Vertretung mit Einwanderungsgeschichte", "Mitglied", True, "rheine-lg-vertretung"),
        ("WelCome In! Wohnzimmer", "Vertretung", False, "rheine-lg-welcome-in"),
        ("Willkommenslotse Kreis Steinfurt", "Lotsin", False, "rheine-lg-willkommenslotse"),
    ]
]  # fmt: skip
KREIS: list[Member] = [
    ("Kommunales Integrationszentrum Kreis Steinfurt", "kreis-steinfurt", "Leitung", True,
     "ks-lg-ki-leitung"),
    ("Stadt Rheine, Koordinierungsstelle KIM", "rheine", "Koordinierungsstelle", True,
     "rheine-koordinierungsstelle"),
    ("Integrationsrat der Stadt Rheine", "rheine", "Vorsitz", True,
     "rheine-integrationsrat-vorsitz"),
]  # fmt: skip
AACHEN: list[Member] = [
    (name, "aachen", role, voting, subject)
    for name, role, voting, subject in [
        ("Fachbereich Wohnen, Soziales und Integration", "KI-Leitung", True, "aachen-lg-ki"),
        ("Fachbereich Wohnen, Soziales und Integration", "Vertretung", True, "aachen-lg-fb56"),
        ("Ausländer- und Einbürgerungsbehörde", "Vertretung", True, "aachen-lg-abh"),
        ("Jobcenter StädteRegion Aachen", "Vertretung", True, "aachen-lg-jobcenter"),
        ("KI StädteRegion Aachen", "Vertretung", True, "aachen-lg-ki-staedteregion"),
        ("Arbeitsplattform Migration", "Vertretung", True, "aachen-lg-arbeitsplattform"),
        ("AG Wohlfahrtspflege", "Sprecherin", True, "aachen-lg-ag-wohlfahrt"),
        ("Integrationsrat der Stadt Aachen", "Vorsitz", True, "aachen-lg-integrationsrat"),
        ("Ausschuss für Soziales, Demographie und Integration", "Vorsitz", True,
         "aachen-lg-ausschuss"),
    ]
]  # fmt: skip
GROUPS = [
    ("rheine", "Lenkungsgruppe KIM Rheine", date(2021, 8, 26), RHEINE),
    ("kreis-steinfurt", "Lenkungsgruppe KIM Kreis Steinfurt", date(2021, 9, 1), KREIS),
    ("aachen", "Lenkungsgruppe KIM Aachen", date(2021, 1, 12), AACHEN),
]


def load_steering_demo(platform: Platform) -> list[str]:
    done: list[str] = []
    directory = platform.directory(refresh=True)
    with request_context.bound(actor="kim-demo"):
        for tenant, name, founded, members in GROUPS:
            if directory.get(tenant) is None or platform.store.head(tenant, "steering") > 0:
                continue
            app = application(platform, tenant)
            (rec,) = app.found_group(name=name, founded_on=founded, rules=RulesOfProcedure())
            group_id = UUID(str(rec.notification.originator_id))
            for institution, home, role, voting, subject in members:
                app.add_member(
                    group_id, institution=institution, member_tenant=home, role=role,
                    voting=voting, permanent=True, valid_from=founded, valid_until=None,
                    subject=subject, position_id=None,
                )  # fmt: skip
            done.append(f"{name}: {len(members)} Mitglieder")
    return done
