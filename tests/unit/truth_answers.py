"""The seven questions computed in plain Python from facts rows: an independent check on the SQL.

The definitions follow the header comments of projections/sql/<slug>.sql word for word; the
latest-version and objection rules are applied here too, without the staging views.
"""

import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from schemas.place import Place

Fact = dict[str, Any]
DAY = 86400
WINDOW = 90 * DAY
DEMAND = ("referral.made", "contact.recorded")


def slug(ref: str | None) -> str | None:
    return ref.removeprefix("urn:agency:") if ref is not None else None


def facts_from_truth(out_dir: Path, place: Place) -> list[Fact]:
    """truth/events.jsonl (rows not refused) as facts rows: person = str(index), position = line."""
    sector = {a.slug: a.sector for a in place.agencies}
    zone = ZoneInfo(place.timezone)
    rows = []
    with open(out_dir / "truth" / "events.jsonl", encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            raw = json.loads(line)
            if raw["refused"] is not None:
                continue
            data = dict(raw["data"])
            referral = data.pop("referral", None)
            agency = slug(raw["agency"])
            time = datetime.fromisoformat(raw["time"])
            row: Fact = {
                "position": line_no,
                "event_id": f"{agency}/{raw['record_ref']}/v{raw['record_version']}",
                "agency": agency,
                "sector": sector.get(agency or ""),
                "type": raw["type"].removeprefix("hub.").removesuffix(".v1"),
                "time": time,
                "local_month": time.astimezone(zone).strftime("%Y-%m"),
                "person": str(raw["person"]),
                "locality": raw["locality"],
                "recordref": raw["record_ref"],
                "recordversion": raw["record_version"],
                **data,
            }
            for name in ("to_agency", "redirect_agency"):
                if name in row:
                    row[name] = slug(row[name])
            if referral is not None:
                row["referral_agency"] = slug(referral["source"])
                row["referral_recordref"] = referral["record_ref"]
            rows.append(row)
    return rows


def current(rows: Iterable[Fact]) -> list[Fact]:
    """Latest version of each (agency, recordref); nothing of anyone with an objection."""
    latest: dict[tuple[str, str], Fact] = {}
    for r in rows:
        key = (r["agency"], r["recordref"])
        old = latest.get(key)
        if old is None or (r["recordversion"], r["position"]) > (
            old["recordversion"],
            old["position"],
        ):
            latest[key] = r
    objectors = {r["person"] for r in latest.values() if r["type"] == "objection.recorded"}
    return sorted(
        (r for r in latest.values() if r["person"] not in objectors), key=lambda r: r["position"]
    )


def quantile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (as DuckDB's quantile_cont)."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:]) - 1


def label(i: int) -> str:
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


def aggregate(
    units: Iterable[Fact],
    cols: tuple[str, ...],
    period: tuple[str, str],
    measures: dict[str, Callable[[list[Fact]], object]],
) -> dict[tuple[object, ...], dict[str, object]]:
    groups: dict[tuple[object, ...], list[Fact]] = defaultdict(list)
    for u in units:
        if period[0] <= u["month"] <= period[1]:
            groups[tuple(u[c] for c in cols)].append(u)
    if not cols and not groups:
        groups[()] = []
    return {key: {m: f(us) for m, f in measures.items()} for key, us in groups.items()}


def n(pred: Callable[[Fact], bool]) -> Callable[[list[Fact]], int]:
    return lambda us: sum(1 for u in us if pred(u))


def grid_label(month: str, period_months: int) -> str:
    """The grid period of an outcome's length holding `month`: itself, its quarter, its year."""
    if period_months == 1:
        return month
    if period_months == 3:
        return f"{month[:4]}-Q{(int(month[5:]) + 2) // 3}"
    return month[:4]


class Truth:
    """The current events of a place and the links between them, indexed once."""

    def __init__(self, rows: Iterable[Fact], place: Place) -> None:
        self.cur = current(rows)
        self.place_needs: dict[str, list[str]] = {s.code: list(s.needs) for s in place.services}
        self.place = place
        self.referrals = {
            (r["agency"], r["recordref"]): r for r in self.cur if r["type"] == "referral.made"
        }
        months = [index(r["local_month"]) for r in self.cur]
        self.months = [label(i) for i in range(min(months), max(months) + 1)]

    def referral_of(self, r: Fact) -> Fact | None:
        return self.referrals.get((r.get("referral_agency"), r.get("referral_recordref")))

    def of_type(self, *types: str) -> list[Fact]:
        return [r for r in self.cur if r["type"] in types]

    def service_needs(self, r: Fact) -> list[str | None]:
        ref = self.referral_of(r)
        if ref is not None and ref.get("need") is not None:
            return [ref["need"]]
        return list(self.place_needs.get(r.get("service") or "", [])) or [None]

    def declines(self) -> list[Fact]:
        out = []
        for d in self.of_type("referral.declined"):
            ref = self.referral_of(d)
            out.append({**d, "from": d.get("referral_agency"), "ref_need": ref and ref["need"]})
        return out

    # -- the questions: each returns {dims: measures} ---------------------------------------
    def demand(self, cols: tuple[str, ...], period: tuple[str, str]) -> dict[Any, Any]:
        units = [
            {**r, "month": r["local_month"], "is_referral": r["type"] == "referral.made"}
            for r in self.of_type(*DEMAND)
        ]
        return aggregate(
            units,
            cols,
            period,
            {
                "count_referrals": n(lambda u: u["is_referral"]),
                "count_contacts": n(lambda u: not u["is_referral"]),
            },
        )

    def repeat_demand(self, cols: tuple[str, ...], period: tuple[str, str]) -> dict[Any, Any]:
        demand = [r for r in self.of_type(*DEMAND) if r.get("need") is not None]
        by_need: dict[tuple[str, str], list[datetime]] = defaultdict(list)
        for r in demand:
            by_need[(r["person"], r["need"])].append(r["time"])
        failed: dict[tuple[str, str], list[datetime]] = defaultdict(list)
        for d in self.declines():
            if d["ref_need"] is not None:
                failed[(d["person"], d["ref_need"])].append(d["time"])
        for e in self.of_type("service.ended"):
            if e.get("reason") != "completed":
                for need in self.service_needs(e):
                    if need is not None:
                        failed[(e["person"], need)].append(e["time"])
        units: dict[tuple[str, str, str], Fact] = {}
        for r in sorted(demand, key=lambda r: (r["time"], r["position"])):
            key = (r["person"], r["need"])

            def within(times: list[datetime], t: datetime = r["time"]) -> bool:
                return any(x < t and seconds(t, x) <= WINDOW for x in times)

            is_repeat = within(by_need[key])
            is_failure = is_repeat and within(failed[key])
            unit = units.setdefault(
                (*key, r["local_month"]),
                {"need": r["need"], "month": r["local_month"], "locality": r["locality"]},
            )
            unit["is_repeat"] = unit.get("is_repeat", False) or is_repeat
            unit["is_failure"] = unit.get("is_failure", False) or is_failure
        return aggregate(
            units.values(),
            cols,
            period,
            {
                "count_people": len,
                "count_repeat": n(lambda u: u["is_repeat"]),
                "count_failure": n(lambda u: u["is_failure"]),
            },
        )

    def many_agencies(self, cols: tuple[str, ...], period: tuple[str, str]) -> dict[Any, Any]:
        people: dict[str, list[Fact]] = defaultdict(list)
        for r in self.cur:
            people[r["person"]].append(r)
        units = []
        for events in people.values():
            indexed = [(index(r["local_month"]), r) for r in events]
            for month in self.months:
                m = index(month)
                window = [r for i, r in indexed if m - 11 <= i <= m]
                if window:
                    last = max(window, key=lambda r: (r["time"], r["position"]))
                    agencies = len({r["agency"] for r in window})
                    units.append({"month": month, "locality": last["locality"], "n": agencies})
        return aggregate(
            units,
            cols,
            period,
            {"count_people": len, "count_many_agencies": n(lambda u: u["n"] >= 3)},
        )

    def waits(self, cols: tuple[str, ...], period: tuple[str, str]) -> dict[Any, Any]:
        units: list[Fact] = []
        first_start: dict[tuple[str, str], str] = {}
        for s in self.of_type("service.started"):
            ref = self.referral_of(s)
            if ref is None:
                continue
            days = seconds(s["time"], ref["time"]) / DAY
            units.append({**s, "month": s["local_month"], "wait_days": days, "started": True})
            key = (ref["agency"], ref["recordref"])
            first_start[key] = min(first_start.get(key, "9999-12"), s["local_month"])
        responses: dict[tuple[str, str], Fact] = {}
        for r in self.of_type("referral.accepted", "referral.declined"):
            key = (r["referral_agency"], r["referral_recordref"])
            if key not in responses or (r["time"], r["position"]) < (
                responses[key]["time"],
                responses[key]["position"],
            ):
                responses[key] = r
        for key, ref in self.referrals.items():
            response = responses.get(key)
            declined = response is not None and response["type"] == "referral.declined"
            for month in self.months:
                if (
                    month >= ref["local_month"]
                    and (key not in first_start or month < first_start[key])
                    and (not declined or month < response["local_month"])  # type: ignore[index]
                ):
                    units.append(
                        {
                            "month": month,
                            "agency": ref["to_agency"],
                            "service": ref.get("service"),
                            "started": False,
                        }
                    )

        def waits_of(us: list[Fact]) -> list[float]:
            return [u["wait_days"] for u in us if u["started"]]

        return aggregate(
            units,
            cols,
            period,
            {
                "count_started": n(lambda u: u["started"]),
                "median_wait_days": lambda us: quantile(waits_of(us), 0.5),
                "p90_wait_days": lambda us: quantile(waits_of(us), 0.9),
                "count_waiting": n(lambda u: not u["started"]),
            },
        )

    def bounces(self, cols: tuple[str, ...], period: tuple[str, str]) -> dict[Any, Any]:
        declines = self.declines()
        starts: dict[str, list[datetime]] = defaultdict(list)
        for s in self.of_type("service.started"):
            starts[s["person"]].append(s["time"])
        qualifying = []
        for d in declines:
            before = [t for t in starts[d["person"]] if t <= d["time"]]
            last = max(before) if before else None
            passes = sum(
                1
                for e in declines
                if e["person"] == d["person"]
                and d["ref_need"] is not None
                and e["ref_need"] == d["ref_need"]
                and (e["time"], e["position"]) <= (d["time"], d["position"])
                and (last is None or e["time"] > last)
            )
            if passes >= 3:
                qualifying.append(d)
        first: dict[tuple[str, str], Fact] = {}
        for d in sorted(qualifying, key=lambda d: (d["time"], d["position"])):
            first.setdefault((d["person"], d["local_month"]), d)
        flagged = {id(d) for d in first.values()}
        units = [
            {
                "month": d["local_month"],
                "from_agency": d["from"],
                "to_agency": d["agency"],
                "reason": d.get("reason"),
                "ping_pong": id(d) in flagged,
            }
            for d in declines
        ]
        return aggregate(
            units,
            cols,
            period,
            {
                "count_declined": len,
                "count_redirected": n(lambda u: u["reason"] == "redirected"),
                "count_people_ping_pong": n(lambda u: u["ping_pong"]),
            },
        )

    def attainment(self, cols: tuple[str, ...], period: tuple[str, str]) -> dict[Any, Any]:
        candidates = [
            {**r, "cand_need": r.get("need")}
            for r in self.of_type("referral.made", "contact.recorded", "assessment.completed")
        ] + [
            {**r, "cand_need": need}
            for r in self.of_type("service.started")
            for need in self.service_needs(r)
        ]
        recorded: dict[str, list[Fact]] = defaultdict(list)
        for r in self.of_type("outcome.recorded"):
            recorded[r["person"]].append(r)
        starts: dict[str, list[Fact]] = defaultdict(list)
        for r in self.of_type("service.started"):
            starts[r["person"]].append(r)
        plan = self.place.partnership
        commitments = plan.commitments if plan else []
        units = []
        for o in self.place.outcomes:
            kinds = {k.removeprefix("hub.") for k in o.cohort.events}
            joined: dict[str, Fact] = {}
            for c in candidates:
                if (
                    c["type"] in kinds
                    and (not o.cohort.needs or c["cand_need"] in o.cohort.needs)
                    and (not o.cohort.sectors or c["sector"] in o.cohort.sectors)
                ):
                    old = joined.get(c["person"])
                    if old is None or (c["time"], c["position"]) < (old["time"], old["position"]):
                        joined[c["person"]] = c
            limit = o.attainment.within_days * DAY
            for person, first in joined.items():
                at = first["time"]
                month = first["local_month"]
                unit = {
                    "outcome": o.code, "month": month,
                    "period": grid_label(month, o.period_months),
                    "target_percent": o.target_percent, "partner": None,
                    "attained": any(
                        r["outcome"] == o.code
                        and r["value"] >= o.attainment.min_value
                        and r["reported_by"] in o.attainment.reported_by
                        and r["time"] >= at and seconds(r["time"], at) <= limit
                        for r in recorded[person]
                    ),
                }  # fmt: skip
                units.append(unit)
                for c in commitments:
                    if c.outcome == o.code and any(
                        s["agency"] == c.partner
                        and s["time"] >= at and seconds(s["time"], at) <= limit
                        for s in starts[person]
                    ):  # fmt: skip
                        units.append({**unit, "partner": c.partner, "target_percent": c.target})
        by_partner = "partner" in cols
        units = [u for u in units if (u["partner"] is not None) == by_partner]
        return aggregate(
            units,
            cols,
            period,
            {
                "count_cohort": len,
                "count_attained": n(lambda u: u["attained"]),
                "target_percent": lambda us: max((u["target_percent"] for u in us), default=None),
            },
        )

    def journeys(self, cols: tuple[str, ...], period: tuple[str, str]) -> dict[Any, Any]:
        people: dict[str, list[Fact]] = defaultdict(list)
        for r in sorted(self.cur, key=lambda r: (r["time"], r["position"])):
            people[r["person"]].append(r)
        units = []
        for events in people.values():
            first = events[0]
            agencies = list(dict.fromkeys(r["agency"] for r in events))[:3]
            needs = [r["need"] for r in events if r["type"] in DEMAND and r.get("need")]
            started = [r["time"] for r in events if r["type"] == "service.started"]
            ended = [r for r in events if r["type"] == "service.ended"]
            units.append(
                {
                    "month": first["local_month"],
                    "year": first["local_month"][:4],
                    "locality": first["locality"],
                    "need": needs[0] if needs else None,
                    "pathway": " > ".join(agencies),
                    "days": seconds(min(started), first["time"]) / DAY if started else None,
                    "ended": len(ended),
                    "disengaged": sum(1 for r in ended if r.get("reason") == "disengaged"),
                }
            )

        def served(us: list[Fact]) -> list[float]:
            return [u["days"] for u in us if u["days"] is not None]

        return aggregate(
            units,
            cols,
            period,
            {
                "count_people": len,
                "count_served": lambda us: len(served(us)),
                "median_first_service_days": lambda us: quantile(served(us), 0.5),
                "count_services_ended": lambda us: sum(u["ended"] for u in us),
                "count_disengaged": lambda us: sum(u["disengaged"] for u in us),
            },
        )
