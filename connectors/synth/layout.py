"""Each agency's extract layout and mapping file, and the place file, as TOML."""

import json
import re
import uuid
from pathlib import Path
from typing import Any

from connectors.synth import catalogue as cat
from connectors.synth import styles as st

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
NOTES = (
    "Spoke to client, agreed plan.",
    'Client said "not today", will call back',
    "Visited, no answer.\nCard left at door, will try again Thursday",
    "Concerns re: rent arrears, food bank voucher given",
    "Follow-up booked; mum present, kids at school",
    "Discussed options:\n- advice line\n- drop-in, Tuesdays",
    "Phoned twice, left voicemail",
    "Referral discussed at MDT, outcome to follow",
    'Said she is "coping, just about"',
    "Interpreter used (Polish), all agreed",
)  # fmt: skip
ENVELOPE = ("ref", "version", "nhs", "name", "dob", "address", "locality", "time", "type")


def toml_text(doc: dict[str, Any]) -> str:
    """A small TOML writer for strings, numbers, lists, tables and arrays of tables."""
    return "\n".join(_lines(doc, ())).strip("\n") + "\n"


def _lines(doc: dict[str, Any], path: tuple[str, ...]) -> list[str]:
    lines = [f"{_key(k)} = {_value(v)}" for k, v in doc.items() if not _is_table(v)]
    for k, v in doc.items():
        here = (*path, k)
        name = ".".join(_key(p) for p in here)
        if isinstance(v, dict):
            # A table holding only tables needs no header of its own.
            header = ["", f"[{name}]"] if any(not _is_table(x) for x in v.values()) else []
            lines += [*header, *_lines(v, here)]
        elif _is_table(v):
            for item in v:
                lines += ["", f"[[{name}]]", *_lines(item, here)]
    return lines


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # also a valid TOML basic string


def _is_table(value: Any) -> bool:
    return isinstance(value, dict) or (
        isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)
    )


def quote(text: str, delimiter: str) -> str:
    """A CSV field, quoted only where it must be (as the csv module's minimal quoting)."""
    if delimiter in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


class Layout:
    """One agency's extract: column order and headers, and each kind's pre-quoted values."""

    def __init__(self, style: st.Style) -> None:
        self.style, self.kinds = style, st.kinds(style.slug)
        self.names = names = st.column_names(style)
        wanted = set(ENVELOPE)
        for kind in self.kinds:
            wanted |= {f for f in st.FIELDS[kind] if f not in style.constants.get(kind, {})}
        if style.notes:
            wanted.add("notes")
        self.keys = [k for k in names if k in wanted]
        self.index = {k: i for i, k in enumerate(self.keys)}
        self.codes = {t: st.vocabulary(t, f) for t, f in style.vocab.items()}
        self.fields = {
            kind: [f for f in st.FIELDS[kind] if f not in style.constants.get(kind, {})]
            for kind in self.kinds
        }
        self.types = {kind: st.type_value(style, kind) for kind in self.kinds}
        if style.contact_by_channel:
            self.contact_types = {c: f"Contact - {v}" for c, v in self.codes["channel"].items()}
        # What the writer needs per row, computed once: positions and quoted values.
        delimiter = style.delimiter
        self.end = "\r\n" if style.crlf else "\n"
        self.header = delimiter.join(quote(names[k], delimiter) for k in self.keys) + self.end
        quoted = {t: {p: quote(a, delimiter) for p, a in c.items()} for t, c in self.codes.items()}
        self.localities = [quoted["locality"][code] for code, _ in cat.LOCALITIES]
        self.writers = {
            kind: [
                (f, self.index[f], quoted.get(st.CODE_TABLE.get(f, f) or ""))
                for f in self.fields[kind]
            ]
            for kind in self.kinds
        }
        self.type_text = {k: quote(v, delimiter) for k, v in self.types.items()}
        if style.contact_by_channel:
            self.type_by_channel = {c: quote(v, delimiter) for c, v in self.contact_types.items()}
        self.notes = [quote(n, delimiter) for n in NOTES]
        self.blank = [""] * (len(self.keys) - len(ENVELOPE))
        self.hub_types = {kind: f"hub.{kind}.v1" for kind in self.kinds}
        self.constants = {kind: style.constants.get(kind, {}) for kind in self.kinds}

    def mapping(self) -> dict[str, Any]:
        """The mapping file that reads exactly this extract."""
        s, n = self.style, self.names
        formats = [s.time_format] + ([s.alt_time_format] if s.alt_time_format else [])
        doc: dict[str, Any] = {"agency": s.slug, "time_formats": formats}
        if s.delimiter != ",":
            doc["delimiter"] = s.delimiter
        doc["columns"] = {
            "record_ref": n["ref"], "record_version": n["version"], "identifier": n["nhs"],
            "time": n["time"], "locality": n["locality"], "event_type": n["type"],
        }  # fmt: skip
        event_types = {}
        for kind in self.kinds:
            if kind == "contact.recorded" and s.contact_by_channel:
                for value in self.contact_types.values():
                    event_types[value] = f"hub.{kind}.v1"
            else:
                event_types[self.types[kind]] = f"hub.{kind}.v1"
        doc["event_types"] = event_types
        doc["fields"] = {
            f"hub.{k}.v1": {f: n[f] for f in self.fields[k]} for k in self.kinds if self.fields[k]
        }
        if s.constants:
            doc["constants"] = {f"hub.{k}.v1": dict(v) for k, v in s.constants.items()}
        used = {st.CODE_TABLE.get(f, f) for k in self.kinds for f in self.fields[k]}
        doc["codes"] = {
            table: {agency: place for place, agency in self.codes[table].items()}
            for table in ["locality", *sorted(t for t in self.codes if t != "locality")]
            if table == "locality" or table in used
        }
        return doc


def hsds_id(code: str) -> str:
    """A made-up but stable Open Referral (HSDS) service id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://directory.northbridge.example/{code}"))


def place_document() -> dict[str, Any]:
    """The place file's content as TOML-ready data."""
    services = []
    for s in cat.SERVICES:
        entry: dict[str, Any] = {
            "code": s.code,
            "name": s.name,
            "agency": s.agency,
            "needs": list(s.needs),
        }
        if s.hsds:
            entry["hsds_id"] = hsds_id(s.code)
        services.append(entry)
    return {
        "name": cat.PLACE_NAME,
        "slug": cat.PLACE_SLUG,
        "timezone": cat.TIMEZONE,
        "key_version": 1,
        "agencies": [{"slug": p.slug, "name": p.name, "sector": p.sector} for p in cat.PROFILES],
        "localities": [{"code": c, "name": n} for c, n in cat.LOCALITIES],
        "needs": [{"code": c, "name": n} for c, n in cat.NEEDS],
        "purposes": [{"code": c, "name": c.replace("-", " ").capitalize()} for c in cat.PURPOSES],
        "assessment_domains": [
            {"code": c, "name": c.replace("-", " ").capitalize()} for c in cat.DOMAINS
        ],
        "instruments": [{"code": i[0], "name": i[1]} for i in cat.INSTRUMENTS],
        "services": services,
        "outcomes": [
            {
                "code": o.code,
                "name": o.name,
                "target_percent": o.target,
                "period_months": o.period,
                "cohort": {
                    "events": list(o.events),
                    "needs": list(o.needs),
                    "sectors": list(o.sectors),
                },
                "attainment": {
                    "min_value": o.min_value,
                    "within_days": o.within_days,
                    "reported_by": ["practitioner", "person"],
                },
            }
            for o in cat.OUTCOMES
        ],
        "partnership": {
            "name": "Northbridge Together",
            "partners": [c[0] for c in cat.COMMITMENTS],
            "outcomes": [o.code for o in cat.OUTCOMES],
            "commitments": [
                {"partner": p, "outcome": o, "contribution": c, "measure": m, "target": t}
                for p, o, c, m, t in cat.COMMITMENTS
            ],
        },
        "disclosure": {"threshold": 7, "rounding_base": 5, "min_group_for_percentiles": 8},
    }


def write_place(path: Path) -> None:
    """The place file."""
    path.write_text(toml_text(place_document()), encoding="utf-8")


def write_mappings(folder: Path) -> None:
    """One mapping file per agency."""
    folder.mkdir(parents=True, exist_ok=True)
    for style in st.STYLES:
        text = toml_text(Layout(style).mapping())
        (folder / f"{style.slug}.toml").write_text(text, encoding="utf-8")
