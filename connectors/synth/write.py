"""Writing the extracts and the ground truth, row by row, as households are simulated."""

import csv
import random
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from zoneinfo import ZoneInfo

import orjson

from connectors.synth import catalogue as cat
from connectors.synth import styles as st
from connectors.synth.layout import Layout, quote
from connectors.synth.people import DAY, Person, mistype, written
from connectors.synth.simulate import Event
from schemas.base import format_rfc3339

CORRECTED, REFUSED = 0.02, 0.001  # shares of records corrected later, and of mistyped rows
_LOCALITY_CODES = [code for code, _ in cat.LOCALITIES]
# Every clock time of a day as text, indexed by the second: formatting each time is slower.
_SECONDS = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(DAY)]


class Clock:
    """Writes local times (seconds since the start) in one agency time format, quickly."""

    _PATTERN = re.compile(r"(?P<date>[^HMS]*?)(?:(?P<sep>[ T])%H:%M(?P<sec>:%S)?)?")

    def __init__(self, fmt: str, start: datetime) -> None:
        match = self._PATTERN.fullmatch("%Y-%m-%dT%H:%M:%S" if fmt == "iso" else fmt)
        if match is None:
            raise ValueError(f"unsupported time format {fmt!r}")
        self.start, self.date_format, self.sep = start, match["date"], match["sep"] or ""
        # Precision in seconds: what a reader of the written text can get back.
        self.precision = 1 if match["sec"] else (60 if match["sep"] else DAY)
        self._days: dict[int, str] = {}

    def text(self, t: int) -> tuple[str, int]:
        """The written time, and the time (seconds since the start) a reader gets back."""
        day, tod = divmod(t, DAY)
        date_text = self._days.get(day)
        if date_text is None:
            date_text = (self.start + timedelta(days=day)).strftime(self.date_format)
            self._days[day] = date_text
        if self.precision == DAY:
            return date_text, t - tod
        if self.precision == 60:
            return date_text + self.sep + _SECONDS[tod][:5], t - tod % 60
        return date_text + self.sep + _SECONDS[tod], t


class Extracts:
    """The open extract and truth files; rows are written as households are simulated."""

    def __init__(self, out_dir: Path, rng: random.Random, start: datetime, zone: ZoneInfo) -> None:
        self.rng, self.start, self.zone = rng, start, zone
        self.layouts = {s.slug: Layout(s) for s in st.STYLES}
        self.rows = {slug: 0 for slug in self.layouts}
        self.refused = 0
        self.files: list[IO[Any]] = []
        self.agencies: dict[str, tuple[Layout, st.Style, IO[str], Clock, Clock | None]] = {}
        for slug, layout in self.layouts.items():
            s = layout.style
            f = self._open(out_dir / "extracts" / f"{slug}.csv")
            f.write(("\ufeff" if s.bom else "") + layout.header)
            alt = Clock(s.alt_time_format, start) if s.alt_time_format else None
            self.agencies[slug] = (layout, s, f, Clock(s.time_format, start), alt)
        self.people = csv.writer(self._open(out_dir / "truth" / "people.csv"), lineterminator="\n")
        self.people.writerow(
            ["person", "nhs_number", "name", "birth_date", "household", "complexity"]
        )
        self.truth: IO[bytes] = open(out_dir / "truth" / "events.jsonl", "wb")  # noqa: SIM115
        self.files.append(self.truth)
        self._births: dict[tuple[str, date], str] = {}
        self._days: dict[tuple[int, bool], tuple[str, str]] = {}

    def _open(self, path: Path) -> IO[str]:
        path.parent.mkdir(parents=True, exist_ok=True)
        f = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115
        self.files.append(f)
        return f

    def __enter__(self) -> "Extracts":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for f in self.files:
            f.close()

    def person(self, p: Person) -> None:
        """One row of truth/people.csv."""
        birth = p.birth.isoformat()
        self.people.writerow([p.index, p.nhs, p.name, birth, p.household, f"{p.complexity:.3f}"])

    def household(self, events: list[Event]) -> None:
        """A household's events in time order; corrections (version 2) follow the household."""
        rng, corrections = self.rng, []
        for event in events:
            if rng.random() < CORRECTED:
                self.row(self._mistaken(event), 1)
                corrections.append(event)
            else:
                self.row(event, 1)
        for event in corrections:
            self.row(event, 2)

    def _mistaken(self, e: Event) -> Event:
        """The event as first (wrongly) recorded: one field differs from the truth."""
        rng = self.rng
        wrong = Event(e.t, e.seq, e.person, e.agency, e.kind, e.ref, dict(e.data))
        wrong.locality = e.locality
        if "need" in e.data:
            wrong.data["need"] = rng.choice([n for n, _ in cat.NEEDS if n != e.data["need"]])
        elif rng.random() < 0.3:
            wrong.locality = rng.choice([i for i in range(len(cat.LOCALITIES)) if i != e.locality])
        else:
            shift = rng.randint(1, 3) * DAY
            wrong.t = e.t - shift if e.t - shift >= 0 else e.t + shift
        return wrong

    def row(self, e: Event, version: int) -> None:
        """Write one extract row and its truth line."""
        rng, p, data, kind = self.rng, e.person, e.data, e.kind
        layout, style, f, clock, alt_clock = self.agencies[e.agency]
        if alt_clock is not None and rng.random() < 0.2:
            clock = alt_clock
        text, t = clock.text(e.t)
        nhs, refused = p.nhs, None
        if rng.random() < REFUSED:
            nhs, refused = mistype(p.nhs, rng), "nhs-check-digit"
            self.refused += 1
        delimiter = style.delimiter
        if style.contact_by_channel and kind == "contact.recorded":
            type_text = layout.type_by_channel[data["channel"]]
        else:
            type_text = layout.type_text[kind]
        # The envelope and person columns always come first, in ENVELOPE order.
        row = [
            e.ref, str(version), written(nhs, style.nhs, rng), quote(p.name, delimiter),
            self.birth_text(p, clock.date_format), quote(p.address_at(e.t), delimiter),
            layout.localities[e.locality], text, type_text, *layout.blank,
        ]  # fmt: skip
        truth_data: dict[str, Any] = {}
        for name, i, table in layout.writers[kind]:
            value = data.get(name)
            if value is None:
                continue
            if name == "referral.recordref":
                truth_data["referral"] = {"source": data["referral.source"], "record_ref": value}
            elif name != "referral.source":
                truth_data[name] = value
            if table is not None:
                row[i] = table[value]
            else:
                row[i] = format(value, "g") if name == "value" else value
        if style.notes and rng.random() < style.notes:
            row[-1] = rng.choice(layout.notes)
        f.write(delimiter.join(row) + layout.end)
        if style.blank_lines and rng.random() < style.blank_lines:
            f.write(layout.end)
        self.rows[e.agency] += 1
        truth_data.update(layout.constants[kind])
        truth = {
            "agency": e.agency, "record_ref": e.ref, "record_version": version,
            "type": layout.hub_types[kind], "time": self.rfc3339(t), "person": p.index,
            "nhs_number": nhs, "locality": _LOCALITY_CODES[e.locality], "data": truth_data,
            "refused": refused,
        }  # fmt: skip
        self.truth.write(orjson.dumps(truth) + b"\n")

    def birth_text(self, p: Person, date_format: str) -> str:
        """A birth date as the agency writes dates (cached: strftime is slow)."""
        key = (date_format, p.birth)
        text = self._births.get(key)
        if text is None:
            if len(self._births) > 50_000:  # keep memory bounded
                self._births.clear()
            text = self._births[key] = p.birth.strftime(date_format)
        return text

    def rfc3339(self, t: int) -> str:
        """The RFC 3339 text of a local time t (seconds since the start) in the place's zone."""
        day, tod = divmod(t, DAY)
        # The offset depends only on the day and on being midnight or not: events never fall
        # between 01:00 and 02:00, when the clocks change.
        key = (day, tod == 0)
        cached = self._days.get(key)
        if cached is None:
            local = self.start + timedelta(days=day, hours=0 if tod == 0 else 12)
            offset = format_rfc3339(local.replace(tzinfo=self.zone))[19:]
            cached = self._days[key] = (local.strftime("%Y-%m-%dT"), offset)
        return cached[0] + _SECONDS[tod] + cached[1]
