"""Each agency's own extract: its columns, time format, event-type values and codes."""

from dataclasses import dataclass, field

from connectors.synth import catalogue as cat

# fmt: off
KINDS = ("referral.made", "referral.accepted", "referral.declined", "contact.recorded",
         "assessment.completed", "service.started", "service.ended", "appointment.missed",
         "outcome.recorded", "supportunit.linked", "objection.recorded")
FIELDS: dict[str, tuple[str, ...]] = {
    "referral.made": ("to_agency", "need", "urgency", "service"),
    "referral.accepted": ("referral.source", "referral.recordref"),
    "referral.declined": ("referral.source", "referral.recordref", "reason", "redirect_agency"),
    "contact.recorded": ("channel", "purpose", "need"),
    "assessment.completed": ("domain", "level"),
    "service.started": ("service", "referral.source", "referral.recordref"),
    "service.ended": ("service", "reason", "referral.source", "referral.recordref"),
    "appointment.missed": ("service",),
    "outcome.recorded": ("outcome", "value", "instrument", "reported_by"),
    "supportunit.linked": ("unit", "role"),
    "objection.recorded": ("scope",),
}
# The code table that translates a field (agency references share one table; raw fields none).
CODE_TABLE = {"to_agency": "agency", "redirect_agency": "agency", "referral.source": "agency",
              "referral.recordref": None, "unit": None, "value": None}

_ENVELOPE = ("ref", "version", "nhs", "name", "dob", "address", "locality", "time", "type")
_DATA = ("to_agency", "need", "urgency", "service", "referral.source", "referral.recordref",
         "reason", "redirect_agency", "channel", "purpose", "domain", "level", "outcome", "value",
         "instrument", "reported_by", "unit", "role", "scope", "notes")
COLUMN_FAMILIES: dict[str, tuple[str, ...]] = {
    "case": ("Record ID", "Version", "NHS Number", "Full Name", "Date of Birth", "Address",
             "Ward", "Activity Date", "Activity Type", "Referred To", "Need", "Priority",
             "Service", "Referred By", "Referrer Ref", "Reason", "Redirected To",
             "Contact Method", "Purpose", "Assessment Area", "Level", "Outcome Measure", "Score",
             "Tool", "Completed By", "Family ID", "Relationship", "Opt-out Type", "Case Notes"),
    "nhs": ("ACTIVITY_ID", "REVISION", "NHS_NUMBER", "PATIENT_NAME", "DOB", "ADDRESS",
            "PCN_AREA", "EVENT_DTTM", "EVENT_CODE", "REFERRED_TO_ORG", "PRESENTING_NEED",
            "URGENCY", "SERVICE_CODE", "REFERRING_ORG", "REFERRING_REF", "REASON_CODE",
            "REDIRECT_ORG", "CONTACT_MODE", "CONTACT_PURPOSE", "ASSESSMENT_DOMAIN",
            "ASSESSMENT_LEVEL", "PROM_CODE", "PROM_SCORE", "PROM_TOOL", "RECORDED_BY",
            "UNIT_REF", "UNIT_ROLE", "OPT_OUT_SCOPE", "FREE_TEXT"),
    "police": ("Occurrence Ref", "Version", "NHS No", "Subject", "D.O.B.", "Home Address",
               "Beat", "Date/Time", "Activity", "Referred To", "Concern", "Grade", "Scheme",
               "From Agency", "Their Ref", "Result", "Passed To", "Attendance", "Purpose",
               "Risk Type", "DASH Risk", "Outcome", "Score", "Tool", "Recorded By", "Unit",
               "Role", "Objection", "Officer Notes"),
    "sheet": ("ID", "ver", "NHS no.", "Name", "DOB", "Address", "Area", "Date", "What",
              "Referred to", "Issue", "How urgent", "Activity", "Referred by", "Their ref no.",
              "Why", "Sent on to", "How", "Purpose", "Assessed", "Level", "Measure", "Score",
              "Scale", "Filled in by", "Household", "Role", "Objection", "Notes"),
}
TYPE_FAMILIES: dict[str, tuple[str, ...]] = {
    "case": ("REF-OUT", "REF-ACC", "REF-DEC", "CONTACT", "ASSESS", "SVC-START", "SVC-END",
             "DNA", "OUTCOME", "FAM-LINK", "OPT-OUT"),
    "words": ("Referral made", "Referral accepted", "Referral declined", "Contact",
              "Assessment completed", "Service started", "Service ended", "Did not attend",
              "Outcome recorded", "Family member linked", "Objection recorded"),
    "nhs": ("REFOUT", "REFACC", "REFREJ", "ENC", "ASMT", "EPSTART", "EPEND", "DNA", "PROM",
            "LINK", "NDOO"),
    "numeric": ("10", "11", "12", "20", "30", "40", "41", "42", "50", "60", "70"),
    "police": ("Referral Out", "Referral In - Accepted", "Referral In - Declined", "Incident",
               "Risk Assessment", "Scheme Start", "Scheme End", "Failed to Attend", "Outcome",
               "Link", "Objection"),
    "sheet": ("referred on", "took them on", "turned down", "chat", "assessment", "started",
              "finished", "no show", "score", "linked", "opted out"),
}
_NEED_ORDER = [c for c, _ in cat.NEEDS]
_AGENCY_ORDER = [p.slug for p in cat.PROFILES]
_VOCABS: dict[str, dict[str, tuple[str, ...]]] = {
    "need": {
        "abbr": ("HSG", "MH", "DA", "SUB", "FIN", "CW", "ATT", "PH", "ISO", "YO"),
        "icd": ("Z59.0", "F99", "T74.1", "F19", "Z59.6", "Z62.8", "Z55.8", "R69", "Z60.2",
                "Z65.3"),
        "words": tuple(n for _, n in cat.NEEDS),
        "police": ("HOMELESS", "MENTAL HEALTH", "DA", "DRUGS/ALCOHOL", "FINANCIAL",
                   "CHILD CONCERN", "TRUANCY", "MEDICAL", "VULNERABLE ADULT", "YOUTH ASB"),
        "sheet": ("housing", "mental health", "domestic abuse", "drink/drugs", "money",
                  "kids", "school", "health", "lonely", "trouble with police"),
    },
    "agency": {
        "abbr": ("CSC", "ASC", "EH", "GP", "MHT", "ED", "POLICE", "HOUSING", "SCHOOL", "CAB",
                 "PEER", "HOMECARE"),
        "names": tuple(p.name for p in cat.PROFILES),
        "ods": ("NBC01", "NBC02", "NBC03", "Y04512", "RX4", "RNB", "P31", "H0113", "E4120",
                "V0071", "V0188", "AH2230"),
        "police": ("MASH - CSC", "ASC Front Door", "Early Help", "GP", "Crisis Team",
                   "Hospital", "Police", "Housing Officer", "School", "CAB", "Peer Group",
                   "Care Agency"),
        "sheet": ("children's services", "adult social care", "early help", "GP surgery",
                  "mental health team", "hospital", "police", "Northbridge Homes", "school",
                  "Citizens Advice", "peer group", "BrightCare"),
    },
    "urgency": {"letter": ("R", "U", "E"), "words": ("Routine", "Urgent", "Emergency"),
                "grade": ("P3", "P2", "P1"), "digit": ("3", "2", "1"),
                "sheet": ("normal", "soon", "asap")},
    "reason": {  # decline reasons, then service end reasons: distinct within each agency
        "case": ("NE", "WS", "NC", "RD", "COMP", "DIS", "MOV", "TRF", "DEC"),
        "words": ("Not eligible", "Wrong service", "No capacity", "Redirected", "Completed",
                  "Disengaged", "Moved away", "Transferred", "Died"),
        "nhs": ("R01", "R02", "R03", "R04", "D01", "D02", "D03", "D04", "D05"),
        "sheet": ("not for us", "wrong place", "full", "sent elsewhere", "done",
                  "stopped coming", "moved", "passed on", "passed away"),
    },
    "channel": {"case": ("Phone", "Visit", "Walk-in", "Online", "Outreach"),
                "nhs": ("TEL", "F2F", "WALKIN", "ONLINE", "OUTREACH"),
                "police": ("Telephone", "Attended", "Front Counter", "Online Report", "Patrol"),
                "sheet": ("phone", "home visit", "drop-in", "online", "out and about")},
    "level": {"letter": ("L", "M", "H", "C"), "words": ("Low", "Medium", "High", "Critical"),
              "digit": ("1", "2", "3", "4"), "dash": ("Standard", "Medium", "High", "Very High")},
    "instrument": {"abbr": ("SWEMWBS", "HSS", "ATT%", "FSTAR", "ONS4"),
                   "names": tuple(i[1] for i in cat.INSTRUMENTS)},
    "reported_by": {"worker": ("Worker", "Self"), "letter": ("P", "S"),
                    "words": ("Practitioner", "Client")},
    "role": {"words": ("Household member", "Grandparent", "Close friend", "Peer supporter",
                       "Carer"), "code": ("HH", "GPT", "CF", "PS", "CR")},
    "scope": {"nhs": ("NDOO", "LOCAL"), "words": ("National opt-out", "Local objection")},
}
_PLACE_VALUES: dict[str, list[str]] = {
    "need": _NEED_ORDER, "agency": _AGENCY_ORDER,
    "urgency": ["routine", "urgent", "emergency"],
    "reason": ["not-eligible", "wrong-service", "no-capacity", "redirected", "completed",
               "disengaged", "moved", "transferred", "died"],
    "channel": ["phone", "visit", "walk-in", "online", "outreach"],
    "level": ["low", "medium", "high", "critical"],
    "instrument": [i[0] for i in cat.INSTRUMENTS], "reported_by": ["practitioner", "person"],
    "role": ["household", "grandparent", "close-friend", "peer-supporter", "carer"],
    "scope": ["national-opt-out", "local"],
    "locality": [c for c, _ in cat.LOCALITIES], "purpose": list(cat.PURPOSES),
    "domain": list(cat.DOMAINS), "service": [s.code for s in cat.SERVICES],
    "outcome": [o.code for o in cat.OUTCOMES],
}
_LOCALITY_TEMPLATES = {"ward": "Ward {i} {name}", "upper": "{upper}", "nb": "NB{i:02d}",
                       "pcn": "{name} PCN", "npt": "{upper} NPT", "names": "{name}",
                       "lower": "{lower}"}
# fmt: on


def _transform(kind: str, code: str, name: str) -> str:
    if kind == "upper":
        return code.upper().replace("-", "_")
    if kind == "title":
        return code.replace("-", " ").capitalize()
    return name


def vocabulary(table: str, family: str) -> dict[str, str]:
    """The place code -> agency code table of one family (e.g. need/"icd": housing -> Z59.0)."""
    places = _PLACE_VALUES[table]
    if table == "locality":
        template = _LOCALITY_TEMPLATES[family]
        return {
            code: template.format(i=i + 1, name=name, upper=name.upper(), lower=name.lower())
            for i, (code, name) in enumerate(cat.LOCALITIES)
        }
    if family in ("upper", "title", "names") and table not in _VOCABS:
        names = {s.code: s.name for s in cat.SERVICES} | {o.code: o.name for o in cat.OUTCOMES}
        return {c: _transform(family, c, names.get(c, c)) for c in places}
    return dict(zip(places, _VOCABS[table][family], strict=True))


@dataclass(frozen=True)
class Style:
    """How one agency's extract looks: refs, columns, times, NHS numbers, codes, mess."""

    slug: str
    ref_format: str
    columns: str
    types: str
    time_format: str
    vocab: dict[str, str]
    nhs: str = "plain"  # spaced, dashed, or mixed (typed any way)
    bom: bool = False
    crlf: bool = False
    delimiter: str = ","
    notes: float = 0.0  # share of rows with a free-text note
    blank_lines: float = 0.0  # share of rows followed by an empty line
    alt_time_format: str | None = None  # some rows typed with this format instead
    type_case: str = ""  # "upper" / "lower" applied to the family's type values
    contact_by_channel: bool = False  # contact rows typed "Contact - Phone" etc.
    renames: dict[str, str] = field(default_factory=dict)
    constants: dict[str, dict[str, str]] = field(default_factory=dict)


def _v(**families: str) -> dict[str, str]:
    return families


# fmt: off
STYLES: tuple[Style, ...] = (
    Style("council-childrens", "CSC{:08d}", "case", "case", "%d/%m/%Y %H:%M",
          _v(need="abbr", locality="ward", agency="abbr", urgency="words", reason="case",
             channel="case", purpose="title", domain="title", level="words", service="upper",
             outcome="names", instrument="abbr", reported_by="worker"),
          nhs="spaced", bom=True, crlf=True, notes=0.2),
    Style("council-adults", "ASC-{:06d}", "case", "words", "%d/%m/%Y",
          _v(need="words", locality="upper", agency="names", urgency="words", reason="words",
             domain="title", level="digit", service="names", outcome="upper",
             reported_by="words"),
          crlf=True, notes=0.1, renames={"name": "Service User", "locality": "Locality",
                                         "type": "Event"}),
    Style("council-early-help", "EH/{:06d}", "case", "case", "%d/%m/%Y %H:%M",
          _v(need="words", locality="ward", agency="abbr", urgency="letter", reason="words",
             channel="case", purpose="title", domain="title", level="words", service="names",
             outcome="names", instrument="names", reported_by="worker", role="words"),
          nhs="spaced", bom=True, notes=0.15, blank_lines=0.002, type_case="lower",
          contact_by_channel=True, renames={"ref": "Episode ID", "time": "Date/Time"}),
    Style("nhs-gp", "GP{:09d}", "nhs", "nhs", "%Y-%m-%d %H:%M:%S",
          _v(need="icd", locality="pcn", agency="ods", urgency="letter", reason="nhs",
             channel="nhs", purpose="upper", domain="upper", level="letter", service="upper",
             outcome="upper", instrument="abbr", reported_by="letter", scope="nhs")),
    Style("nhs-mental-health", "MH-{:07d}", "nhs", "nhs", "iso",
          _v(need="icd", locality="nb", agency="ods", urgency="digit", reason="nhs",
             channel="nhs", purpose="upper", domain="upper", level="digit", service="upper",
             outcome="upper", instrument="abbr", reported_by="letter"),
          type_case="lower", renames={"ref": "EPISODE_ACTIVITY_ID", "time": "ACTIVITY_TS",
                                      "locality": "LSOA_AREA"}),
    Style("nhs-acute", "ED{:08d}", "nhs", "numeric", "%d/%m/%Y %H:%M",
          _v(need="icd", locality="upper", agency="ods", urgency="digit", reason="nhs",
             channel="nhs", purpose="upper", domain="upper", level="letter", service="upper"),
          nhs="dashed", bom=True, crlf=True, renames={"ref": "ATTENDANCE_ID",
                                                       "locality": "RESIDENCE_AREA"}),
    Style("police-north", "POL-{:07d}", "police", "police", "%d/%m/%Y %H:%M",
          _v(need="police", locality="npt", agency="police", urgency="grade", reason="words",
             channel="police", domain="upper", level="dash", service="names"),
          nhs="spaced", crlf=True, notes=0.25,
          constants={"contact.recorded": {"purpose": "safeguarding"}}),
    Style("housing-northbridge", "HSG-{:06d}", "case", "words", "%d-%b-%Y",
          _v(need="words", locality="names", agency="names", urgency="letter", reason="case",
             channel="case", purpose="title", domain="title", level="words", service="upper",
             outcome="upper", instrument="names", reported_by="words"),
          nhs="dashed", bom=True, type_case="upper",
          renames={"name": "Tenant", "locality": "Estate/Area", "type": "Action"}),
    Style("schools-trust", "SCH{:06d}", "sheet", "words", "%d/%m/%Y",
          _v(need="words", locality="names", agency="abbr", urgency="words", reason="words",
             channel="case", purpose="title", service="names", outcome="names",
             instrument="abbr"),
          nhs="spaced", bom=True, crlf=True, notes=0.05, renames={"name": "Pupil name"},
          constants={"outcome.recorded": {"reported_by": "practitioner"}}),
    Style("vcs-advice", "VCS-{:05d}", "sheet", "words", "%d/%m/%Y",
          _v(locality="names", agency="names", urgency="words", reason="words",
             channel="sheet", reported_by="words"),
          nhs="spaced", notes=0.2, type_case="upper"),
    Style("peer-circle", "{:d}", "sheet", "sheet", "%d/%m/%Y",
          _v(need="sheet", locality="lower", agency="sheet", urgency="sheet", reason="sheet",
             channel="sheet", service="names", outcome="names", instrument="abbr"),
          nhs="mixed", notes=0.3, blank_lines=0.005, alt_time_format="%d/%m/%Y %H:%M",
          constants={"contact.recorded": {"purpose": "peer-support"},
                     "outcome.recorded": {"reported_by": "person"}}),
    Style("homecare-bright", "HC-{:06d}", "case", "case", "%Y-%m-%d %H:%M:%S",
          _v(need="abbr", locality="upper", agency="abbr", urgency="letter", reason="case",
             domain="upper", level="letter", service="upper", outcome="upper",
             instrument="abbr", reported_by="worker"),
          delimiter=";", notes=0.1, renames={"name": "Client", "type": "Visit Type"}),
)
# fmt: on
STYLE = {s.slug: s for s in STYLES}


def kinds(slug: str) -> tuple[str, ...]:
    """The event kinds an agency records, in the order of KINDS."""
    profile = cat.PROFILE[slug]
    provides = any(s.agency == slug for s in cat.SERVICES)
    have = {"referral.made"}
    if provides:
        have |= {"referral.accepted", "referral.declined", "service.started", "service.ended"}
    have |= {"appointment.missed"} if provides and profile.missed_per_month > 0 else set()
    have |= {"contact.recorded"} if profile.channels else set()
    have |= {"assessment.completed"} if profile.assesses else set()
    have |= {"outcome.recorded"} if profile.outcomes else set()
    have |= {"supportunit.linked"} if slug == "council-early-help" else set()
    have |= {"objection.recorded"} if slug == "nhs-gp" else set()
    return tuple(k for k in KINDS if k in have)


def type_value(style: Style, kind: str) -> str:
    """The value in the agency's event-type column for rows of this kind."""
    value = TYPE_FAMILIES[style.types][KINDS.index(kind)]
    return (
        value.upper()
        if style.type_case == "upper"
        else (value.lower() if style.type_case == "lower" else value)
    )


def column_names(style: Style) -> dict[str, str]:
    """Every column key (envelope, person, data fields, notes) with the agency's header."""
    keys = (*_ENVELOPE, *_DATA)
    names = dict(zip(keys, COLUMN_FAMILIES[style.columns], strict=True))
    return names | style.renames
