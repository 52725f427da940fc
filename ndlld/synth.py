"""Synthetic data: a complete ndlld data directory of any size, for benchmarks at scale.

The real data (data/) describes some twenty organizations; whether the
pipeline still works, and how fast, with a hundred thousand of them (issue
"Scale") can only be measured on data that does not exist. :func:`synthesize`
writes such data: records in the project's own YAML-LD format, shaped like the
real ones (English and Japanese names, abbreviations, founding years, areas
served, branches, the NDL's memberships as schema.org roles, counts with their
qualifiers, member countries, meeting series with dated and placed meetings,
publications), about 20 triples per organization.

The output depends on the arguments only: the same arguments give
byte-identical files (one ``random.Random(seed)``, no clock, no set or dict
ordering). With ``defects=P`` a fraction P of the organizations each carries
one deliberate SHACL violation in its own file, so that the checks can be
measured, and tested, on data that fails them.

Files are spread over numbered subdirectories (``organizations/001/org-001234.yaml``),
at most 1,000 to a directory.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path

from ndlld import links
from ndlld.links import CROCKFORD

__all__ = ["DEFECT_KINDS", "Summary", "synthesize"]

BASE = "https://example.org/synth/"
VERSION = "1.0.0"
DATE = "2026-01-01"  # dateModified and datePublished: fixed, never the clock
SOURCE = "source/synthetic"
PER_DIRECTORY = 1000
EU_COUNTRIES = "source/eu-countries"
EU_COUNTRIES_RECORD = (
    "# The table of countries the countries link to, by their ISO 3166-1 alpha-3 codes.\n"
    f"id: {EU_COUNTRIES}\ntype: CreativeWork\nname:\n  en: Countries and territories (EU Publications Office authority table)\n"
    "url:\n  - id: http://publications.europa.eu/resource/authority/country\n    source: source/eu-countries\n"
)

# The violations ``defects`` plants, one per defective organization; each is
# reported by a shape in shapes/ at the organization's own file.
DEFECT_KINDS = (
    "no-english-name",  # name only in Japanese             (common.ttl EnglishName)
    "count-without-qualifier",  # memberCount lacks countQualifier  (quantitative-value.ttl)
    "parent-is-country",  # parentOrganization names a country  (organization.ttl)
    "role-without-member",  # membership role with no 'member:'  (role.ttl MembershipRole)
    "category-not-membership",  # membershipCategory: Annual          (role.ttl MembershipRole)
)


@dataclass
class Summary:
    """What :func:`synthesize` wrote."""

    out_dir: Path
    organizations: int
    files: int
    defects: list[str] = field(default_factory=list)  # ids of the organizations made defective
    defect_kinds: dict[str, str] = field(default_factory=dict)  # id -> one of DEFECT_KINDS

    def file_of(self, org_id: str) -> Path:
        """The file that describes the organization *org_id* (``org-001234``)."""
        return self.out_dir / "organizations" / _bucket(org_id) / f"{org_id}.yaml"


# -- vocabulary to draw from ------------------------------------------------

# Syllables as (romaji, katakana): a made-up proper name and its Japanese
# transliteration come from the same draw ("Kamora" / "カモラ").
SYLLABLES = (
    ("ka", "カ"),
    ("ki", "キ"),
    ("ku", "ク"),
    ("ke", "ケ"),
    ("ko", "コ"),
    ("sa", "サ"),
    ("shi", "シ"),
    ("su", "ス"),
    ("se", "セ"),
    ("so", "ソ"),
    ("ta", "タ"),
    ("chi", "チ"),
    ("tsu", "ツ"),
    ("te", "テ"),
    ("to", "ト"),
    ("na", "ナ"),
    ("ni", "ニ"),
    ("nu", "ヌ"),
    ("ne", "ネ"),
    ("no", "ノ"),
    ("ha", "ハ"),
    ("hi", "ヒ"),
    ("fu", "フ"),
    ("he", "ヘ"),
    ("ho", "ホ"),
    ("ma", "マ"),
    ("mi", "ミ"),
    ("mu", "ム"),
    ("me", "メ"),
    ("mo", "モ"),
    ("ya", "ヤ"),
    ("yu", "ユ"),
    ("yo", "ヨ"),
    ("ra", "ラ"),
    ("ri", "リ"),
    ("ru", "ル"),
    ("re", "レ"),
    ("ro", "ロ"),
    ("wa", "ワ"),
    ("ga", "ガ"),
    ("gi", "ギ"),
    ("go", "ゴ"),
    ("za", "ザ"),
    ("ji", "ジ"),
    ("zu", "ズ"),
    ("da", "ダ"),
    ("de", "デ"),
    ("do", "ド"),
    ("ba", "バ"),
    ("bi", "ビ"),
    ("be", "ベ"),
    ("bo", "ボ"),
    ("pa", "パ"),
    ("po", "ポ"),
)
FINAL_N = ("n", "ン")

# (English, Japanese, type, may be named after a region, what it does)
KINDS = (
    ("Library Association", "図書館協会", "Organization", True, "brings together the libraries and librarians of"),
    ("National Library", "国立図書館", "Library", False, "collects and preserves the publications of"),
    ("Council of Library Directors", "図書館長協議会", "Organization", True, "gathers the heads of the major libraries of"),
    ("Association of Parliamentary Librarians", "議会図書館員協会", "Organization", True, "strengthens the services to parliaments of"),
    ("Society of Japanese Resource Specialists", "日本資料専門家協会", "Organization", True, "helps scholars of Japanese studies in"),
    ("Federation of Library Institutions", "図書館機関連盟", "Organization", True, "furthers cooperation between the libraries of"),
    (
        "Conference of Research Libraries",
        "研究図書館会議",
        "Organization",
        True,
        "coordinates the collections of the research libraries of",
    ),
    ("Foundation for Cultural Exchange", "文化交流基金", "Organization", False, "supports cultural exchange between Japan and"),
    ("Centre for Japanese Studies", "日本研究センター", "Organization", False, "supports research on Japan in"),
    ("Ministry of Culture", "文化省", "GovernmentOrganization", False, "oversees the libraries and archives of"),
)
# (English, Japanese) of a part of another organization
BRANCH_KINDS = (
    ("Committee on Preservation", "資料保存委員会"),
    ("Section on Cataloguing", "目録分科会"),
    ("Committee on International Relations", "国際交流委員会"),
    ("Working Group on Digital Libraries", "電子図書館作業部会"),
    ("Regional Office", "地域事務所"),
    ("Committee on Japanese Materials", "日本資料委員会"),
)
CATEGORIES = (
    ("AssociateMember", "associate member", "準会員"),
    ("RegularMember", "regular member", "正会員"),
    ("Member", "member", "会員"),
)
UNITS = ("members", "member libraries", "member institutions", "individual members")
FREQUENCIES = (
    ("Annual", 1, "Annual conference of", "年次大会"),
    ("Biennial", 2, "General conference of", "総会"),
    ("Triennial", 3, "Congress of", "大会"),
)
ATTENDANCE = ("participant", "presenter of reports", "sender of delegates", "observer")

# Places: (id, English, Japanese) for regions; (ISO code, English, Japanese, region) for countries.
REGIONS = (
    ("asia-oceania", "Asia and Oceania", "アジア・オセアニア"),
    ("asia-pacific", "Asia-Pacific", "アジア太平洋"),
    ("east-asia", "East Asia", "東アジア"),
    ("southeast-asia", "Southeast Asia", "東南アジア"),
    ("south-asia", "South Asia", "南アジア"),
    ("oceania", "Oceania", "オセアニア"),
    ("europe", "Europe", "ヨーロッパ"),
    ("north-america", "North America", "北アメリカ"),
    ("latin-america", "Latin America", "ラテンアメリカ"),
    ("africa", "Africa", "アフリカ"),
    ("middle-east", "Middle East", "中東"),
)
COUNTRIES = (
    ("JP", "Japan", "日本", "east-asia"),
    ("KR", "Republic of Korea", "大韓民国", "east-asia"),
    ("CN", "China", "中国", "east-asia"),
    ("MN", "Mongolia", "モンゴル", "east-asia"),
    ("BN", "Brunei", "ブルネイ", "southeast-asia"),
    ("KH", "Cambodia", "カンボジア", "southeast-asia"),
    ("ID", "Indonesia", "インドネシア", "southeast-asia"),
    ("LA", "Laos", "ラオス", "southeast-asia"),
    ("MY", "Malaysia", "マレーシア", "southeast-asia"),
    ("MM", "Myanmar", "ミャンマー", "southeast-asia"),
    ("PH", "Philippines", "フィリピン", "southeast-asia"),
    ("SG", "Singapore", "シンガポール", "southeast-asia"),
    ("TH", "Thailand", "タイ", "southeast-asia"),
    ("VN", "Vietnam", "ベトナム", "southeast-asia"),
    ("IN", "India", "インド", "south-asia"),
    ("LK", "Sri Lanka", "スリランカ", "south-asia"),
    ("NP", "Nepal", "ネパール", "south-asia"),
    ("BD", "Bangladesh", "バングラデシュ", "south-asia"),
    ("AU", "Australia", "オーストラリア", "oceania"),
    ("NZ", "New Zealand", "ニュージーランド", "oceania"),
    ("FJ", "Fiji", "フィジー", "oceania"),
    ("GB", "United Kingdom", "英国", "europe"),
    ("FR", "France", "フランス", "europe"),
    ("DE", "Germany", "ドイツ", "europe"),
    ("IT", "Italy", "イタリア", "europe"),
    ("NL", "Netherlands", "オランダ", "europe"),
    ("SE", "Sweden", "スウェーデン", "europe"),
    ("US", "United States", "アメリカ合衆国", "north-america"),
    ("CA", "Canada", "カナダ", "north-america"),
    ("MX", "Mexico", "メキシコ", "latin-america"),
    ("BR", "Brazil", "ブラジル", "latin-america"),
    ("AR", "Argentina", "アルゼンチン", "latin-america"),
    ("EG", "Egypt", "エジプト", "africa"),
    ("KE", "Kenya", "ケニア", "africa"),
    ("ZA", "South Africa", "南アフリカ", "africa"),
    ("TR", "Türkiye", "トルコ", "middle-east"),
)
CITIES = (
    ("tokyo", "Tokyo", "東京", "JP"),
    ("kyoto", "Kyoto", "京都", "JP"),
    ("seoul", "Seoul", "ソウル", "KR"),
    ("bangkok", "Bangkok", "バンコク", "TH"),
    ("canberra", "Canberra", "キャンベラ", "AU"),
    ("washington", "Washington, D.C.", "ワシントンD.C.", "US"),
    ("paris", "Paris", "パリ", "FR"),
    ("nairobi", "Nairobi", "ナイロビ", "KE"),
)
_AGGREGATES = {  # regions made of others
    "asia-oceania": ("east-asia", "southeast-asia", "south-asia", "oceania"),
    "asia-pacific": ("east-asia", "southeast-asia", "oceania"),
}
REGION_COUNTRIES = {region: tuple(c[0] for c in COUNTRIES if c[3] in _AGGREGATES.get(region, (region,))) for region, _, _ in REGIONS}
REGION_NAMES = {region: (en, ja) for region, en, ja in REGIONS}
COUNTRY_NAMES = {code: (en, ja) for code, en, ja, _ in COUNTRIES}
JAPANESE_PLACES = ("country/jp", "city/tokyo", "city/kyoto")
PLACES = (
    *(f"country/{c[0].lower()}" for c in COUNTRIES),
    *(f"city/{c[0]}" for c in CITIES),
)


# -- the organizations, as plain data before they become text ---------------


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _proper_name(rng: random.Random) -> tuple[str, str]:
    """A made-up name and its katakana: ("Kamoran", "カモラン")."""
    picked = [rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))]
    if rng.random() < 0.25:
        picked.append(FINAL_N)
    return "".join(s[0] for s in picked).capitalize(), "".join(s[1] for s in picked)


def _abbreviation(name: str) -> str:
    return "".join(w[0] for w in name.replace("-", " ").split() if w[0].isupper())


@dataclass(slots=True)
class _Count:
    """A memberCount: *qualifier* is None only where a defect is planted."""

    value: int
    qualifier: str | None
    unit: str


@dataclass(slots=True)
class _Membership:
    """The NDL's membership in an organization, as a schema.org role."""

    category: str
    name_en: str
    name_ja: str
    start: int
    has_member: bool = True
    end: int | None = None  # the year a later membership superseded it


@dataclass(slots=True)
class _Org:
    """One synthetic organization, before it is written."""

    id: str
    type: str
    en: str
    ja: str
    abbr: str | None
    description: str
    founded: int | None
    parent_org: _Org | None = None  # the organization it is a branch of
    area: str | None = None
    count: _Count | None = None
    countries: list[str] | None = None
    memberships: list[_Membership] = field(default_factory=list)
    parent: str | None = None  # the parentOrganization written: parent_org's id, or a planted country
    defect: str | None = None

    def __post_init__(self) -> None:
        self.parent = self.parent_org.id if self.parent_org else None

    @property
    def depth(self) -> int:
        """0 for an organization of its own, 1 for its branch, 2 for a branch of that."""
        return self.parent_org.depth + 1 if self.parent_org else 0


def _make_org(rng: random.Random, number: int, width: int, orgs: list[_Org]) -> _Org:
    """Organization *number*: one of its own, or a branch of one of *orgs* made before it."""
    org_id = f"org-{number:0{width}d}"
    region = rng.choice(REGIONS)[0] if rng.random() < 0.6 else None
    country = rng.choice(COUNTRIES)[0] if region is None else rng.choice(REGION_COUNTRIES[region])
    area = (f"region/{region}" if region else f"country/{country.lower()}") if rng.random() < 0.75 else None
    where = REGION_NAMES[region] if region else COUNTRY_NAMES[country]
    if orgs and rng.random() < 0.2:  # a branch of an earlier organization: never a cycle
        org = _branch(rng, org_id, _parent_for(rng, orgs), where[0])
    else:
        org = _independent(rng, org_id, region, where)
    # One draw after another, in this order: the same seed gives the same data.
    org.area = area
    org.count = _member_count(rng)
    org.countries = _member_countries(rng, region)
    org.memberships = _memberships(rng, org.founded)
    return org


def _parent_for(rng: random.Random, orgs: list[_Org]) -> _Org:
    """A recent organization, or its parent when a branch of it would be a fourth level."""
    parent = orgs[rng.randrange(max(0, len(orgs) - 200), len(orgs))]
    while parent.depth >= 2 and parent.parent_org:  # at most three levels, as in the real data (aas > ceal > ceal-cjm)
        parent = parent.parent_org
    return parent


def _branch(rng: random.Random, org_id: str, parent: _Org, where_en: str) -> _Org:
    """A committee, section or office of *parent*, named after it."""
    branch_en, branch_ja = rng.choice(BRANCH_KINDS)
    founded = min(parent.founded + rng.randint(0, 30), 2025) if parent.founded and rng.random() < 0.6 else None
    return _Org(
        org_id,
        type="Organization",
        en=f"{branch_en} of the {parent.abbr or parent.en}",
        ja=f"{parent.ja}{branch_ja}",
        abbr=None,
        description=f"A part of the {parent.en}, working on behalf of its members in {where_en}.",
        founded=min(founded, 2020) if founded else founded,  # no founding in the future of the data
        parent_org=parent,
    )


def _independent(rng: random.Random, org_id: str, region: str | None, where: tuple[str, str]) -> _Org:
    """An organization of one of the KINDS, named after its region or with a made-up name."""
    kind_en, kind_ja, type_, regional, does = rng.choice(KINDS)
    where_en, where_ja = where
    if regional and region and rng.random() < 0.5:
        en, ja = f"{kind_en} of {where_en}", f"{where_ja}{kind_ja}"
    else:
        proper_en, proper_ja = _proper_name(rng)
        en, ja = f"{proper_en} {kind_en}", f"{proper_ja}{kind_ja}"
    abbr = _abbreviation(en) if rng.random() < 0.7 else None
    founded = rng.randint(1900, 2015) if rng.random() < 0.75 else None
    since = f", founded in {founded}," if founded else ""
    return _Org(org_id, type_, en, ja, abbr, f"A synthetic {kind_en.lower()}{since} that {does} {where_en}.", founded)


def _member_count(rng: random.Random) -> _Count | None:
    if rng.random() >= 0.35:
        return None
    qualifier = rng.choice(("Exactly", "About", "MoreThan"))
    value = rng.randint(5, 2000)
    if qualifier != "Exactly":
        value = max(10, round(value, -1 if value < 200 else -2))
    return _Count(value, qualifier, rng.choice(UNITS))


def _member_countries(rng: random.Random, region: str | None) -> list[str] | None:
    if not (region and rng.random() < 0.2):
        return None
    pool = REGION_COUNTRIES[region]
    return sorted(rng.sample(pool, rng.randint(min(2, len(pool)), min(6, len(pool)))))


def _memberships(rng: random.Random, founded: int | None) -> list[_Membership]:
    if rng.random() >= 0.3:
        return []
    first = max(founded or 1950, 1948)
    start = min(rng.randint(first, first + 30), 2025)
    if rng.random() < 0.15:  # associate member first, regular member later (as the NDL in the IFLA)
        later = min(start + rng.randint(1, 15), 2025)
        return [_Membership(*CATEGORIES[0], start, end=later), _Membership(*CATEGORIES[1], later)]
    return [_Membership(*rng.choice(CATEGORIES), start)]


def _plant(org: _Org, kind: str) -> None:
    """Give *org* the violation *kind*, adding what it needs to have one."""
    org.defect = kind
    if kind == "count-without-qualifier":
        org.count = _Count(org.count.value, None, org.count.unit) if org.count else _Count(100, None, "members")
    elif kind == "parent-is-country":
        org.parent = "country/jp"
    elif kind in ("role-without-member", "category-not-membership"):
        if not org.memberships:
            org.memberships = [_Membership("Member", "member", "会員", max(org.founded or 1990, 1948))]
        if kind == "role-without-member":
            org.memberships[0].has_member = False
        else:
            org.memberships[0].category = "Annual"  # a meeting frequency, not a membership category


# -- records as YAML text ------------------------------------------------------


def _org_yaml(org: _Org) -> str:
    title = f"{org.en} ({org.abbr})" if org.abbr else org.en
    out = [f"# {title}\nid: {org.id}\ntype: {org.type}\nname:\n"]
    if org.defect != "no-english-name":
        out.append(f"  en: {org.en}\n")
    out.append(f"  ja: {org.ja}\n")
    if org.abbr:
        out.append(f'alternateName: "{org.abbr}"\n')
    out.append(f"description:\n  en: >-\n    {org.description}\n")
    if org.founded:
        out.append(f"foundingYear: {org.founded}\n")
    if org.parent:
        out.append(f"parentOrganization: {org.parent}\n")
    if org.area:
        out.append(f"areaServed: {org.area}\n")
    if org.count:
        count = org.count
        number = "minValue" if count.qualifier == "MoreThan" else "value"  # "more than n": a lower bound
        out.append(f"memberCount:\n  id: {org.id}#member-count\n  type: QuantitativeValue\n  {number}: {count.value}\n")
        if count.qualifier:
            out.append(f"  countQualifier: {count.qualifier}\n")
        out.append(f"  unitText: {count.unit}\n")
    if org.countries:
        out.append(
            f"memberCountryCount:\n  id: {org.id}#member-country-count\n  type: QuantitativeValue\n"
            f"  value: {len(org.countries)}\n  countQualifier: Exactly\n  unitText: countries\n"
            "memberCountry:\n"
        )
        out.extend(f"  - country/{code.lower()}\n" for code in org.countries)
    if org.memberships:
        out.append("\n# The NDL's membership (schema.org Role pattern).\nmember:\n")
        out.extend(_membership_yaml(org, role) for role in org.memberships)
    out.append(_links_yaml(org.id))
    out.append(f"source: {SOURCE}\n")
    return "".join(out)


def _membership_yaml(org: _Org, role: _Membership) -> str:
    """One membership role, as an item of the organization's ``member:`` list."""
    slug = role.name_en.replace(" ", "-")
    out = [f"  - id: {org.id}#ndl-{slug}\n    type: OrganizationRole\n"]
    if role.has_member:
        out.append("    member: ndl\n")
    out.append(
        f"    roleName:\n      en: {role.name_en}\n      ja: {role.name_ja}\n    membershipCategory: {role.category}\n"
        f"    startYear: {role.start}\n"
    )
    if role.end:
        out.append(f"    endYear: {role.end}\n")
    out.append(f"    source: {SOURCE}\n")
    return "".join(out)


# Made-up identifiers, one per organization number, before their check characters, of the form
# of each authority of ontology/authorities.yaml (the country table aside: countries link to it).
SYNTHETIC_IDS = {
    "wikidata": lambda n: f"Q{1_000_000 + n}",
    "viaf": lambda n: str(100_000_000 + n),
    "isni": lambda n: f"0000000{n:08d}",
    "ror": lambda n: "0" + "".join(CROCKFORD[(n * 7919 + 1_048_576) // 32**i % 32] for i in range(5, -1, -1)),
    "ndlna": lambda n: str(10_000_000 + n),
    "lcnaf": lambda n: f"n{n:08d}",
    "geonames": lambda n: str(1_000_000 + n),
}


def synthetic_link(number: int) -> str:
    """Organization *number*'s sameAs link: the authorities in turn, each identifier completed
    with its check characters."""
    key = list(SYNTHETIC_IDS)[number // 6 % len(SYNTHETIC_IDS)]
    authority = links.authority(key)
    identifier = SYNTHETIC_IDS[key](number)  # without its check characters, which follow it
    if authority.check != "none":
        identifier += links.CHECKS[authority.check][0](identifier)
    return authority.iri_of(identifier)


def _links_yaml(org_id: str) -> str:
    """One organization in six links to an authority (every authority by the 37th), another to a
    home page: chosen by number, not by the random choices, which stay those of the data before links."""
    number = int(org_id.removeprefix("org-"))
    if number % 6 == 1:
        return f"sameAs:\n  - id: {synthetic_link(number)}\n    source: {SOURCE}\n"
    if number % 6 == 4:
        return f"url:\n  - id: https://www.example.org/{org_id}/\n    source: {SOURCE}\n"
    return ""


def _events_yaml(rng: random.Random, org: _Org) -> str:
    frequency, every, name_en, name_ja = rng.choice(FREQUENCIES)
    series = f"{org.id}-meetings"
    short = org.abbr or org.en
    first = min(max(org.founded or 1960, 1950) + rng.randint(0, 10), 2024)
    last = max((2025 - first) // every + 1, 1)
    ordinals = sorted(rng.sample(range(1, last + 1), min(last, rng.randint(1, 3))))
    joined = ordinals[0]
    out = [
        f"# The meetings of the {org.en}, and the NDL's part in them.\n"
        f"id: {series}\ntype: EventSeries\nname:\n  en: {name_en} the {short}\n  ja: {org.ja}{name_ja}\n"
        f"organizer: {org.id}\nmeetingFrequency: {frequency}\n"
        f"eventSchedule:\n  id: {series}#schedule\n  type: Schedule\n  repeatFrequency: P{every}Y\n"
        f"attendee:\n  - id: {series}#ndl-participant\n    type: Role\n    attendee: ndl\n"
        f"    roleName:\n      en: {rng.choice(ATTENDANCE)}\n    startYear: {first + (joined - 1) * every}\n"
        f"    source: {SOURCE}\nsubEvent:\n"
    ]
    for n in ordinals:
        place = rng.choice(JAPANESE_PLACES) if rng.random() < 0.15 else rng.choice(PLACES)
        out.append(
            f"  - id: {series}#{n}\n    type: Event\n    name:\n      en: {_ordinal(n)} meeting of the {short}\n"
            f"    ordinal: {n}\n    startYear: {first + (n - 1) * every}\n    location: {place}\n"
        )
        if place in JAPANESE_PLACES and rng.random() < 0.5:
            out.append("    organizer: ndl\n")
        out.append(f"    source: {SOURCE}\n")
    out.append(f"source: {SOURCE}\n")
    return "".join(out)


def _publication_yaml(rng: random.Random, org: _Org) -> tuple[str, str]:
    """The id and the record of a newsletter or web site about *org*."""
    short = org.abbr or org.en
    if rng.random() < 0.5:
        work = f"{org.id}-newsletter"
        head = (
            f"id: {work}\ntype: Periodical\nname:\n  en: {short} Newsletter\n  ja: {org.ja}ニューズレター\n"
            f"description:\n  en: >-\n    The newsletter of the {org.en}.\n"
            f"about: {org.id}\npublisher: {org.id}\n"
        )
        if rng.random() < 0.3:
            head += "editor: ndl\n"
        head += f"inLanguage: {rng.choice(('en', 'ja'))}\n"
    else:
        work = f"{org.id}-website"
        head = (
            f"id: {work}\ntype: WebSite\nname:\n  en: {short} Web site\n  ja: {org.ja}ウェブサイト\n"
            f"description:\n  en: >-\n    The Web site of the {org.en}.\n"
            f"about: {org.id}\npublisher: {org.id}\nurl:\n  - id: https://www.example.org/{org.id}/\n    source: {SOURCE}\n"
        )
    return work, f"# {short}: a publication\n{head}source: {SOURCE}\n"


def _passages() -> str:
    """Passages of the synthetic source, each about some places: made-up offsets into a
    text that does not exist, so that the quads dumps have passages' graphs at every size."""
    places = [f"country/{code.lower()}" for code, *_ in COUNTRIES] + [f"region/{rid}" for rid, *_ in REGIONS]
    halves = [places[: len(places) // 2 + 1], places[len(places) // 2 :]]  # one place in both
    return "# Where in the synthetic source the places are described.\ngraph:\n" + "".join(
        f"  - id: {SOURCE}#places-{n}\n    type: SpecificResource\n    hasSource: {SOURCE}\n"
        f"    hasSelector: {{id: {SOURCE}#places-{n}-position, type: TextPositionSelector, start: {n * 100}, end: {n * 100 + 99}}}\n"
        f"    subject: [{', '.join(half)}]\n"
        for n, half in enumerate(halves)
    )


def _fixed_files(orgs: int, seed: int) -> dict[str, str]:
    """dataset.yaml, the NDL, the sources and the places: the same for every size."""
    countries = "".join(
        f"  - id: country/{code.lower()}\n    type: Country\n    name:\n      en: {en}\n      ja: {ja}\n"
        f'    countryCode: "{code}"\n    sameAs:\n      - id: {links.country_link(code)}\n'
        f"        source: [source/iso-3166-1, {EU_COUNTRIES}]\n    source: [{SOURCE}, source/iso-3166-1]\n"
        for code, en, ja, _ in COUNTRIES
    )
    regions = "".join(
        f"  - id: region/{rid}\n    type: Place\n    name:\n      en: {en}\n      ja: {ja}\n    source: {SOURCE}\n"
        for rid, en, ja in REGIONS
    )
    cities = "".join(
        f"  - id: city/{cid}\n    type: City\n    name:\n      en: {en}\n      ja: {ja}\n"
        f"    containedInPlace: country/{code.lower()}\n    source: {SOURCE}\n"
        for cid, en, ja, code in CITIES
    )
    return {
        "dataset.yaml": (
            f"# Synthetic data written by ndlld.synth for {orgs} organizations, seed {seed}.\n"
            f"base: {BASE}\n\ndataset:\n  id: dataset\n  type: Dataset\n"
            "  name:\n    en: A synthetic international cooperation network\n"
            "    ja: 合成された国際協力ネットワーク\n"
            "  description:\n    en: >-\n"
            f"      Made-up organizations ({orgs}, seed {seed}) shaped like the National Diet\n"
            "      Library's international cooperation network, for benchmarks at scale.\n"
            "      None of its facts is true.\n"
            "    ja: >-\n      大規模なデータでの性能測定のために生成した架空のデータです。事実ではありません。\n"
            "  publisher: ndl\n  license: https://creativecommons.org/licenses/by/4.0/\n"
            f"  version: {VERSION}\n  datePublished: {DATE}\n  dateModified: {DATE}\n"
            f"  inLanguage: [en, ja]\n  source: {SOURCE}\n"
        ),
        "organizations/ndl.yaml": (
            "# National Diet Library (NDL)\nid: ndl\ntype: [Library, GovernmentOrganization]\n"
            "name:\n  en: National Diet Library\n  ja: 国立国会図書館\nalternateName: NDL\n"
            "description:\n  en: >-\n    Japan's national library, here a member of made-up organizations.\n"
            f"foundingYear: 1948\nareaServed: country/jp\nsource: {SOURCE}\n"
        ),
        "sources/synthetic.yaml": (
            "# Where every synthetic fact, English or Japanese, comes from: ndlld.synth.\n"
            f"id: {SOURCE}\ntype: CreativeWork\nname:\n  en: Synthetic records written by ndlld.synth\n"
            "  ja: ndlld.synthが生成したデータ\n"
            "description:\n  en: >-\n    Made-up names (English, and Japanese from a fixed list of syllables\n"
            "    and suffixes), dates and links, for benchmarks; none of them is true.\n"
            f"inLanguage: [en, ja]\ncapturedOn: {DATE}\n"
        ),
        "sources/synthetic-passages.yaml": _passages(),
        "sources/iso-3166-1.yaml": (
            "# The international standard the country codes come from, and only they.\nid: source/iso-3166-1\n"
            'type: CreativeWork\nname:\n  en: "ISO 3166-1: Codes for the representation of names of countries '
            'and their subdivisions, Part 1: Country code"\n'
            "description:\n  en: The two-letter (alpha-2) country codes given as countryCode.\n"
            "citedFor: ndl:countryCode\n"
        ),
        "sources/eu-countries.yaml": EU_COUNTRIES_RECORD,
        "places/countries.yaml": f"# Countries, with ISO 3166-1 alpha-2 codes.\ngraph:\n{countries}",
        "places/regions.yaml": f"# Regions organizations serve.\ngraph:\n{regions}",
        "places/cities.yaml": f"# Cities where meetings are held.\ngraph:\n{cities}",
    }


# -- writing -------------------------------------------------------------------


def _width(orgs: int) -> int:
    return max(6, len(str(orgs)))


def _bucket(org_id: str) -> str:
    """The subdirectory of ``org-001234``: ``001`` (1,000 numbers to a directory)."""
    digits = org_id.removeprefix("org-")
    return digits[: len(digits) - 3]


def synthesize(out_dir: Path, orgs: int, seed: int = 0, defects: float = 0.0) -> Summary:
    """Write a data directory of *orgs* synthetic organizations into *out_dir*.

    *out_dir* must be empty or not exist yet. *defects* (0 to 1) is the
    fraction of organizations given one SHACL violation each; which ones, and
    which violation, depends only on *seed*. The graph is not built here.
    """
    out_dir = Path(out_dir)
    if orgs < 0:
        raise ValueError("orgs must be 0 or more")
    if not 0.0 <= defects <= 1.0:
        raise ValueError("defects is a fraction, from 0 to 1")
    if out_dir.exists() and any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} is not empty")

    rng = random.Random(seed)
    chooser = random.Random(f"ndlld.synth defects {seed}")  # apart, so defects do not change the rest
    defective = sorted(chooser.sample(range(1, orgs + 1), round(defects * orgs)))
    kinds = {number: chooser.choice(DEFECT_KINDS) for number in defective}
    width = _width(orgs)
    written = 0
    made: set[str] = set()

    def write(relative: str, text: str) -> None:
        nonlocal written
        path = os.path.join(out_dir, relative)
        folder = os.path.dirname(path)
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        with open(path, "wb") as f:
            f.write(text.encode("utf-8"))
        written += 1

    for relative, text in _fixed_files(orgs, seed).items():
        write(relative, text)

    made_orgs: list[_Org] = []
    summary = Summary(out_dir=out_dir, organizations=orgs, files=0)
    for number in range(1, orgs + 1):
        org = _make_org(rng, number, width, made_orgs)
        bucket = _bucket(org.id)
        if rng.random() < 0.22:
            write(f"events/{bucket}/{org.id}-meetings.yaml", _events_yaml(rng, org))
        if rng.random() < 0.06:
            work, text = _publication_yaml(rng, org)
            write(f"publications/{bucket}/{work}.yaml", text)
        if number in kinds:
            _plant(org, kinds[number])
            summary.defects.append(org.id)
            summary.defect_kinds[org.id] = kinds[number]
        write(f"organizations/{bucket}/{org.id}.yaml", _org_yaml(org))
        made_orgs.append(org)
    summary.files = written
    return summary
