"""Over generated histories, every statement adds up: its totals are the sums of its lines.

Each history (a seeded random one, reproducible by its seed) has a notice with a rate of
its own, maybe an amendment changing FTE and rate mid-year, flat and capped contracts,
positions with part-time staffing, vacancies, costs per month or per year, own and
third-party funds.
"""

from __future__ import annotations

import contextlib
import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from contexts.coordination.application import CoordinationApplication
from contexts.coordination.domain import OrganisationKind
from contexts.coordination.funding import AmountRule, PositionType, RecipientKind
from contexts.coordination.statement import Statement, VacancyRule, statement
from contexts.shared.errors import DomainError
from runtime.eventstore.memory import MemoryEventLogStore

D = Decimal
CM = PositionType.CASE_MANAGEMENT
YEAR = 2024


def history(app: CoordinationApplication, rng: random.Random) -> None:
    granted = D(rng.choice(["2.0", "3.5", "5.0"]))
    (rec,) = app.issue_notice(
        grantor="Bezirksregierung Köln", reference="N", baustein=2,
        period_start=date(YEAR, rng.choice([1, 3]), 1), period_end=date(YEAR, 12, 31),
        grants={CM: granted}, rates={CM: D(rng.randrange(50_000, 70_000, 500))},
        issued_on=date(YEAR - 1, 12, 1),
    )  # fmt: skip
    notice = rec.domain_event.originator_id
    (org,) = app.register_organisation("Träger", OrganisationKind.WELFARE_PROVIDER)
    provider = str(org.domain_event.originator_id)
    funding: list[tuple[str, object]] = [("notice", notice)]
    left = granted
    for _ in range(rng.randint(0, 2)):
        share = min(left, D(rng.choice(["0.5", "1.0", "1.5"])))
        if share <= 0:
            break
        left -= share
        start = date(YEAR, rng.randint(3, 9), 1)
        try:
            *_, contract = app.conclude_contract(
                notice_id=notice, recipient_kind=RecipientKind.PROVIDER, recipient=provider,
                position_type=CM, fte_share=share, amount_rule=rng.choice(list(AmountRule)),
                amount_per_year=share * D(rng.randrange(40_000, 60_000, 1000)),
                start=start, end=date(YEAR, 12, 31),
            )  # fmt: skip
        except DomainError:
            continue
        funding.append(("contract", contract.domain_event.originator_id))
    if rng.random() < 0.6:
        with contextlib.suppress(DomainError):  # may fall below what is forwarded
            app.amend_notice(
                notice, reference="N-Ä1", issued_on=date(YEAR, 5, 1),
                effective_from=date(YEAR, rng.randint(4, 11), rng.choice([1, 15])),
                period_end=date(YEAR, 12, 31), grants={CM: granted + 1},
                rates={CM: D(rng.randrange(50_000, 70_000, 500))},
                material_costs_per_year=D(rng.choice([0, 12_000])), reason="Änderung",
            )  # fmt: skip
    for n in range(rng.randint(1, 4)):
        kind, funder = rng.choice(funding)
        fte = D(rng.choice(["0.5", "1.0"]))
        (p,) = app.create_position(
            title=f"Stelle {n}", position_type=CM, fte_share=fte, employer_kind="provider",
            employer=provider, funding_kind=kind, funding_id=funder,  # type: ignore[arg-type]
            work_tenant=app.tenant,
        )  # fmt: skip
        pid = p.domain_event.originator_id
        start = date(YEAR, 1, 1) + timedelta(days=rng.randint(0, 300))
        app.start_staffing(pid, staff_id=f"S-{n}-1", fte_share=fte / 2, start=start)
        if rng.random() < 0.7:
            app.end_staffing(pid, staff_id=f"S-{n}-1", end=start + timedelta(rng.randint(0, 90)))
            later = start + timedelta(days=rng.randint(91, 200))
            if later.year == YEAR:
                app.start_staffing(pid, staff_id=f"S-{n}-2", fte_share=fte, start=later)
        if rng.random() < 0.5:
            app.record_year_cost(pid, year=YEAR, amount=D(rng.randrange(0, 80_000)))
        else:
            for month in rng.sample(range(1, 13), rng.randint(0, 12)):
                amount = D(rng.randrange(0, 700_000)) / 100
                app.record_staff_cost(pid, month=f"{YEAR}-{month:02d}", amount=amount)
        for kind_ in rng.sample(["own_funds", "third_party"], rng.randint(0, 2)):
            app.record_contribution(
                pid, year=YEAR, kind=kind_, contributor="kreis-x", source="Haushalt",
                amount=D(rng.randrange(0, 10_000)),
            )  # fmt: skip


def the_statement(app: CoordinationApplication, rule: VacancyRule) -> Statement:
    ids = {n.originator_id for n in app.recorder.select_notifications(start=None, limit=10_000)}
    aggregates: list[Any] = [app.repository.get(UUID(str(i))) for i in ids]
    notices = [a for a in aggregates if type(a).__name__ == "FundingNotice"]
    contracts = [a for a in aggregates if type(a).__name__ == "ForwardingContract"]
    positions = [a for a in aggregates if type(a).__name__ == "Position"]
    return statement(notices[0], contracts, positions, YEAR, {}, rule)


def assert_adds_up(s: Statement) -> None:
    t = {line.label: line.value for line in s.totals}
    assert t["granted"] == sum(g.value for g in s.granted)
    own = [p for p in s.positions if p.contract_id is None]
    assert t["recognised_staff_cost"] == sum(p.grant_use or 0 for p in own)
    for p in s.positions:
        if p.grant_use is not None:
            assert p.grant_use == min(p.cap, p.actual_cost)
            assert p.uncovered == p.actual_cost - p.grant_use - p.own_funds - p.third_party
    for c in s.contracts:
        mine = [p for p in s.positions if p.contract_id == c.contract_id]
        assert c.reported_cost == sum(p.actual_cost for p in mine)
        if c.amount_rule == "flat":
            assert c.grant_use == c.limit
        else:
            assert c.positions_use == sum(p.grant_use or 0 for p in mine)
            assert c.reduction >= 0
            assert c.grant_use == c.positions_use - c.reduction
            assert c.grant_use <= c.limit
    assert t["forwarded"] == sum(c.grant_use for c in s.contracts)
    assert t["used"] == t["recognised_staff_cost"] + t["forwarded"] + t["material_costs"]
    assert t["unused"] == t["granted"] - t["used"]
    assert t["staff_cost"] == sum(p.actual_cost for p in own) + sum(
        c.reported_cost for c in s.contracts
    )
    assert t["staff_grant_use"] == t["recognised_staff_cost"] + t["forwarded"]
    assert t["staff_cost"] == (
        t["staff_grant_use"] + t["own_funds"] + t["third_party"] + t["uncovered"]
    )
    assert t["own_funds"] == sum(p.own_funds for p in s.positions)


@pytest.mark.parametrize("seed", range(60))
def test_every_generated_statement_adds_up(seed: int, memory_store: MemoryEventLogStore) -> None:
    app = CoordinationApplication("kreis-x", memory_store.recorder)
    history(app, random.Random(seed))
    for rule in VacancyRule:
        assert_adds_up(the_statement(app, rule))
