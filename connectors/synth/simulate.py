"""Each person's life in the place as a stream of true events at the agencies."""

import bisect
import heapq
import math
import random
from dataclasses import dataclass
from typing import Any

from connectors.synth import catalogue as cat
from connectors.synth.dice import Weighted, poisson
from connectors.synth.people import DAY, Person
from connectors.synth.styles import STYLE

MORNING, EVENING = 8 * 3600, 20 * 3600  # no event falls in a DST-ambiguous hour
URGENCIES = ("routine", "urgent", "emergency")
_WAIT_FACTOR = {"routine": 1.0, "urgent": 0.3, "emergency": 0.05}
_URGENCY = {
    True: Weighted(zip(URGENCIES, (0.4, 0.45, 0.15), strict=True)),
    False: Weighted(zip(URGENCIES, (0.75, 0.22, 0.03), strict=True)),
}
_DECLINES = ("not-eligible", "no-capacity", "redirected", "wrong-service")
# Complex lives are passed on more often: more redirections, and so ping-pong.
_DECLINE = {
    True: Weighted(zip(_DECLINES, (0.3, 0.25, 0.5, 0.1), strict=True)),
    False: Weighted(zip(_DECLINES, (0.3, 0.25, 0.35, 0.1), strict=True)),
}
_CHANNELS = {p.slug: Weighted(p.channels) for p in cat.PROFILES if p.channels}
_ROLES_OUT = ("close-friend", "peer-supporter")
_LEVELS = ("low", "medium", "high", "critical")
_PROVIDERS = tuple(dict.fromkeys(s.agency for s in cat.SERVICES))
_MAX_EVENTS = 400  # a runaway chain of transfers stops here
_URGENT_NEEDS = ("child-welfare", "domestic-abuse")


@dataclass(slots=True)
class Event:
    """One true activity record at an agency, before it is written into the extract."""

    t: int  # local time in seconds since the start of the period
    seq: int
    person: Person
    agency: str
    kind: str
    ref: str
    data: dict[str, Any]
    locality: int = 0


class Simulator:
    """Turns households into time-ordered true events, household by household."""

    def __init__(self, rng: random.Random, horizon_days: int, months: int) -> None:
        self.rng, self.horizon, self.years = rng, horizon_days * DAY, months / 12
        self.counters = {p.slug: 0 for p in cat.PROFILES}
        self.seq = 0
        self.out: list[Event] = []
        self.constants = {s.slug: s.constants for s in STYLE.values()}

    # -- time -------------------------------------------------------------------------------
    def later(self, t: int, days: float) -> int:
        """A working-hours time `days` whole days after t (same day: shortly after t)."""
        days_on, tod = max(0, int(days)), t % DAY
        if days_on == 0 and tod >= MORNING:
            tod += self.rng.randint(300, 5_400)
            if tod < EVENING:
                return t - t % DAY + tod
            days_on = 1
        return (t // DAY + days_on) * DAY + MORNING + self.rng.randrange(EVENING - MORNING)

    def anytime(self) -> int:
        """A working-hours time anywhere in the period."""
        return self.later(self.rng.randrange(self.horizon // DAY) * DAY, 0)

    # -- records ----------------------------------------------------------------------------
    def add(self, p: Person, agency: str, kind: str, t: int, data: dict[str, Any]) -> "Event":
        """Record an event at an agency under its next record reference."""
        fixed = self.constants[agency].get(kind)
        if fixed:
            data.update(fixed)
        self.counters[agency] += 1
        self.seq += 1
        ref = STYLE[agency].ref_format.format(self.counters[agency])
        event = Event(t, self.seq, p, agency, kind, ref, data)
        self.out.append(event)
        return event

    def household(self, members: list[Person], previous: list[Person]) -> list[Event]:
        """Every event about the household's members (and a friend's link), in time order."""
        self.out = []
        for person in members:
            self.life(person)
        self.support_unit(members, previous)
        kept = [
            e
            for e in self.out
            if e.t < self.horizon and (e.person.death_at is None or e.t <= e.person.death_at)
        ]
        for event in kept:
            event.locality = event.person.locality_at(event.t)
        kept.sort(key=lambda e: (e.t, e.seq))
        return kept

    def life(self, p: Person) -> None:
        """A person's episodes of need, handled in order of when they start."""
        rng = self.rng
        queue: list[tuple[int, int, str]] = []
        needs: list[str] = []
        for _ in range(poisson(rng, p.complexity * self.years)):
            # Complex lives return to the same need: repeat demand, not only new needs.
            need = rng.choice(needs) if needs and rng.random() < 0.3 else self.pick_need(p.age)
            needs.append(need)
            heapq.heappush(queue, (self.anytime(), len(queue), need))
        if rng.random() < 0.015:
            scope = "national-opt-out" if rng.random() < 0.6 else "local"
            self.add(p, "nhs-gp", "objection.recorded", self.anytime(), {"scope": scope})
        handled = 0
        while queue and handled < 40:
            t, _, need = heapq.heappop(queue)
            handled += 1
            if t < self.horizon and len(self.out) < _MAX_EVENTS:
                self.episode(p, t, need, queue)

    def pick_need(self, age: int) -> str:
        """A need fitting the person's age."""
        return cat.needs_at(age).draw(self.rng)

    def repeat(self, queue: list[tuple[int, int, str]], t: int, need: str) -> None:
        """The same need coming back within 90 days (failure demand when help failed)."""
        heapq.heappush(queue, (self.later(t, self.rng.randint(10, 85)), len(queue) + 1000, need))

    # -- pathways ---------------------------------------------------------------------------
    def episode(self, p: Person, t: int, need: str, queue: list[tuple[int, int, str]]) -> None:
        """A need comes to light at a front door, then is helped there, referred on, or not."""
        rng, c = self.rng, p.complexity
        entry = cat.doors(need, p.age).draw(rng)
        self.contact(p, entry, t, need)
        for _ in range(poisson(rng, min(c, 6.0) * 0.25)):
            self.contact(p, entry, self.later(t, rng.uniform(3, 80)), need)
        if entry in ("police-north", "nhs-acute") and rng.random() < 0.4:
            self.assessment(p, entry, self.later(t, 0), need)
        t = self.later(t, rng.choice((0, 0, 1, 2, 5)))
        own = cat.service_at(entry, need, p.age)
        if own is not None and rng.random() < 0.45:
            self.service(p, entry, own, t, {}, need, "routine", queue)
        elif rng.random() < min(0.9, 0.3 + 0.12 * c + (0.3 if need in _URGENT_NEEDS else 0)):
            self.refer(p, entry, t, need, queue)

    def contact(self, p: Person, agency: str, t: int, need: str) -> None:
        """A contact at an agency about a need."""
        prof, rng = cat.PROFILE[agency], self.rng
        channel = _CHANNELS[agency].draw(rng)
        data = {"channel": channel, "purpose": rng.choice(prof.purposes), "need": need}
        self.add(p, agency, "contact.recorded", t, data)

    def assessment(self, p: Person, agency: str, t: int, need: str) -> None:
        """An assessment whose level rises with the person's complexity."""
        level = _LEVELS[bisect.bisect((0.6, 1.6, 3.5), p.complexity + self.rng.gauss(0, 0.7))]
        data = {"domain": cat.NEED_DOMAIN[need], "level": level}
        self.add(p, agency, "assessment.completed", t, data)

    def provider(self, need: str, age: int, exclude: str) -> str | None:
        """Another agency with a service for the need and age."""
        options = [a for a in cat.providers(need, age) if a != exclude]
        return self.rng.choice(options) if options else None

    def refer(
        self, p: Person, src: str, t: int, need: str, queue: list[tuple[int, int, str]]
    ) -> None:
        """A referral and its fate: accepted into a service, declined, or passed on (redirected)."""
        rng, c = self.rng, p.complexity
        urgent = need in _URGENT_NEEDS
        urgency = _URGENCY[urgent].draw(rng)
        target = self.provider(need, p.age, src)
        if rng.random() < 0.12:  # sent to the wrong door
            wrong = [a for a in _PROVIDERS if a != src and not cat.service_at(a, need, p.age)]
            target = rng.choice(wrong) if wrong else target
        for _ in range(6):
            if target is None or len(self.out) >= _MAX_EVENTS:
                return
            svc = cat.service_at(target, need, p.age)
            data: dict[str, Any] = {"to_agency": target, "need": need, "urgency": urgency}
            if svc is not None and rng.random() < 0.6:
                data["service"] = svc.code
            made = self.add(p, src, "referral.made", t, data)
            t = self.later(t, rng.randint(1, 3) if urgency != "routine" else rng.randint(1, 14))
            link = {"referral.source": src, "referral.recordref": made.ref}
            accept = cat.PROFILE[target].accept * (0.7 if c > 2 else 1.0)
            if svc is not None and rng.random() < accept:
                self.add(p, target, "referral.accepted", t, dict(link))
                self.service(p, target, svc, t, link, need, urgency, queue)
                return
            if svc is None:
                reason = "redirected" if rng.random() < 0.5 else "wrong-service"
            else:
                reason = _DECLINE[c > 2].draw(rng)
            onward = self.provider(need, p.age, target) if reason == "redirected" else None
            if reason == "redirected" and onward is None:
                reason = "not-eligible"  # nowhere else to send them
            declined = dict(link, reason=reason)
            if onward is not None:
                declined["redirect_agency"] = onward
            self.add(p, target, "referral.declined", t, declined)
            if onward is None:
                if rng.random() < 0.45:
                    self.repeat(queue, t, need)
                return
            src, target, t = target, onward, self.later(t, 0)

    def service(
        self, p: Person, agency: str, svc: cat.ServiceDef, t: int, link: dict[str, str],
        need: str, urgency: str, queue: list[tuple[int, int, str]],
    ) -> None:  # fmt: skip
        """A service from start to end, with assessments, missed appointments and outcomes."""
        rng, prof, c = self.rng, cat.PROFILE[agency], p.complexity
        if link:
            median = prof.wait_days * _WAIT_FACTOR[urgency]
            t = self.later(t, max(1.0, rng.lognormvariate(math.log(median), 0.7)))
        start = t
        self.add(p, agency, "service.started", start, {"service": svc.code, **link})
        if prof.assesses and rng.random() < 0.8:
            self.assessment(p, agency, self.later(start, rng.randint(0, 14)), need)
        outcome = cat.NEED_OUTCOME.get(need) if prof.outcomes else None
        if outcome is not None and rng.random() < 0.8:
            self.outcome(p, agency, self.later(start, rng.randint(0, 7)), outcome, None)
        end = self.later(start, max(1.0, rng.lognormvariate(math.log(prof.duration_days), 0.6)))
        if p.move_at is not None and start < p.move_at < end and rng.random() < 0.6:
            reason, end = "moved", self.later(p.move_at, rng.randint(0, 14))
        else:
            died = 0.002 + (0.05 if p.age > 75 else 0.0)
            weights = (0.72 - 0.03 * min(c, 4), 0.14 + 0.04 * min(c, 4), 0.07, died)
            reason = rng.choices(("completed", "disengaged", "transferred", "died"), weights)[0]
        if prof.missed_per_month > 0:
            months = (end - start) / (30 * DAY) * (2.5 if reason == "disengaged" else 1.0)
            for _ in range(poisson(rng, prof.missed_per_month * months)):
                missed = self.later(start + rng.randrange(max(1, end - start)), 0)
                self.add(p, agency, "appointment.missed", missed, {"service": svc.code})
        self.add(p, agency, "service.ended", end, {"service": svc.code, "reason": reason, **link})
        if outcome is not None and (
            (reason == "completed" and rng.random() < 0.9)
            or (reason == "disengaged" and rng.random() < 0.3)
        ):
            self.outcome(p, agency, self.later(end, 0), outcome, reason == "completed")
        if reason == "died":
            p.death_at = end if p.death_at is None else min(p.death_at, end)
        elif reason == "transferred" and rng.random() < 0.7:
            self.refer(p, agency, self.later(end, 0), need, queue)
        elif (reason == "disengaged" and rng.random() < 0.35) or (
            reason == "completed" and rng.random() < 0.05
        ):
            self.repeat(queue, end, need)

    def outcome(
        self, p: Person, agency: str, t: int, oc: cat.OutcomeDef, improved: bool | None
    ) -> None:
        """An outcome score on the instrument's scale: low at the start, higher after help."""
        rng = self.rng
        _, _, lo, hi, decimals = cat.INSTRUMENT[oc.instrument]
        threshold = oc.min_value
        if improved is None:  # a baseline, mostly below the outcome's threshold
            x = rng.uniform(lo, threshold) if rng.random() < 0.85 else rng.uniform(threshold, hi)
        elif improved:
            x = rng.uniform(threshold, hi) if rng.random() < 0.7 else rng.uniform(lo, threshold)
        else:
            x = rng.uniform(lo, threshold) if rng.random() < 0.85 else rng.uniform(threshold, hi)
        by = "person" if rng.random() < cat.PROFILE[agency].person_share else "practitioner"
        data = {"outcome": oc.code, "value": float(round(x, decimals)), "instrument": oc.instrument,
                "reported_by": by}  # fmt: skip
        self.add(p, agency, "outcome.recorded", t, data)

    def support_unit(self, members: list[Person], previous: list[Person]) -> None:
        """Early help links a family it works with (and sometimes a friend) as a support unit."""
        rng = self.rng
        helper, kind = "council-early-help", "supportunit.linked"
        starts = [e.t for e in self.out if e.agency == helper and e.kind == "service.started"]
        if not starts or rng.random() < 0.25:
            return
        t, unit = min(starts), f"FAM{members[0].household:07d}"
        has_children = any(m.age < 18 for m in members)
        for m in members:
            role = "grandparent" if m.age >= 55 and has_children else "household"
            if m.age >= 18 and rng.random() < 0.1:
                role = "carer"
            self.add(
                m, helper, kind, self.later(t, rng.randint(0, 10)), {"unit": unit, "role": role}
            )
        # A friend from the household before (no kin) sometimes joins the family's unit.
        adults = [m for m in previous if m.age >= 16]
        if adults and rng.random() < 0.3:
            data = {"unit": unit, "role": rng.choice(_ROLES_OUT)}
            self.add(rng.choice(adults), helper, kind, self.later(t, 3), data)
