"""Read and write participatory-budgeting elections in the Pabulib ``.pb`` format.

A ``.pb`` file has three sections, in this order, each introduced by a line holding only its
keyword:

``META``
    ``key;value`` rows: budget, vote_type, rule, description, ...
``PROJECTS``
    a header row naming the columns (``project_id`` and ``cost`` are required), then one row per
    project.
``VOTES``
    a header row (``voter_id`` and ``vote`` are required), then one ballot per row. ``vote`` lists
    project ids separated by commas; cumulative (and scoring) ballots carry a ``points`` column
    whose comma-separated numbers are aligned with ``vote``.

Fields are separated by semicolons and may be quoted, as the :mod:`csv` module writes them.
Anything malformed or inconsistent raises :class:`PabulibError`, with the line number where there
is one, in the user's language (gettext). The parser accepts CRLF line ends, a byte-order mark,
blank lines and rows shorter than their header (the missing trailing fields are read as empty),
which all occur in files published by Pabulib. It reads what Pabulib's own checker
(github.com/pabulib/checker, ``pabulib_helpers/fields.py``) accepts: ``selected`` 0–3, money
with decimals (as :class:`~decimal.Decimal`, never float), every vote type (approval, choose-1,
ordinal, cumulative, scoring), and a ballot naming a project twice (counted once, reported in
``Election.warnings``). META ``num_projects`` and ``num_votes`` must match the sections, so a
file cut short is refused.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from flask_babel import gettext as _

from forum import exports

__all__ = [
    "Ballot",
    "Election",
    "PabulibError",
    "Project",
    "dump",
    "load",
    "parse",
]

SECTIONS = ("META", "PROJECTS", "VOTES")
# Columns with a field of their own in Project / Ballot; every other column lands in ``extra``.
PROJECT_COLUMNS = ("project_id", "cost", "votes", "name", "selected")
BALLOT_COLUMNS = ("voter_id", "vote", "points")
# Vote types whose ballots must carry points.
POINTS_VOTE_TYPES = frozenset({"cumulative", "scoring"})
VOTE_TYPES = ("approval", "choose-1", "ordinal", "cumulative", "scoring")
# ``selected``: 0 not funded; 1 funded by the election's rule; 2 and 3 funded otherwise (by
# another rule, such as Poznań's 80 % rule, or from reserve funds), as Pabulib's checker allows.
SELECTED_VALUES = (0, 1, 2, 3)
# Ids are stored in columns of 64 characters (budget_ballots.voter_ref, budget_ideas.external_id).
MAX_ID_CHARS = 64
# Money is stored as NUMERIC(18, 2): at most two decimals, below 10^16.
MONEY_PLACES = 2
MAX_MONEY = Decimal("9999999999999999.99")


class PabulibError(ValueError):
    """A ``.pb`` file (or an election about to be written as one) is malformed or inconsistent.

    ``line`` is the 1-based line of the file where the problem was found, or ``None`` when the
    problem is not tied to one line (a missing section, say).
    """

    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        self.reason = message
        super().__init__(
            _("line %(line)s: %(message)s", line=line, message=message)
            if line is not None
            else message
        )


@dataclass
class Project:
    """One project on the ballot. ``votes`` and ``selected`` are ``None`` when the file has no such
    column (or leaves the field empty); ``selected`` is how the city funded the project: 0 not,
    1 by the election's rule, 2 or 3 otherwise (another rule, reserve funds). ``cost`` is a
    :class:`~decimal.Decimal` (or an int) with at most two decimals."""

    id: str
    cost: Decimal | int
    name: str = ""
    votes: int | None = None
    selected: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def selected_by_rule(self) -> bool:
        """Funded by the election's own rule (``selected`` 1): what a count must reproduce."""
        return self.selected == 1


@dataclass
class Ballot:
    """One voter's ballot. ``projects`` keeps the file's order (which matters for ordinal ballots);
    ``points`` is aligned with it, or ``None`` when the file has no ``points`` column."""

    voter_id: str
    projects: tuple[str, ...]
    points: tuple[int, ...] | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class Election:
    """A whole election: META as plain strings, projects in file order, ballots in file order.
    ``warnings`` lists what the parser corrected (a project named twice on a ballot)."""

    meta: dict[str, str]
    projects: list[Project]
    ballots: list[Ballot]
    warnings: list[str] = field(default_factory=list, compare=False)

    @property
    def budget(self) -> Decimal:
        """META ``budget`` as a :class:`~decimal.Decimal` (``"100000.50"`` is kept as it is).
        Raises :class:`PabulibError` when it is missing or not an amount of money."""
        if "budget" not in self.meta:
            raise PabulibError(_("META has no “budget”."))
        return parse_money(self.meta["budget"], _("META budget"))

    @property
    def score_threshold(self) -> int | None:
        """META ``min_project_score_threshold``: the least score (votes or points) a project
        needs to be funded, or ``None`` when the file sets none."""
        value = self.meta.get("min_project_score_threshold", "").strip()
        if not value:
            return None
        return parse_amount(value, _("META min_project_score_threshold"))

    @property
    def vote_type(self) -> str:
        """META ``vote_type`` (``approval``, ``cumulative``, ``scoring`` or ``ordinal``); Pabulib's
        default is ``approval`` when the key is absent."""
        return self.meta.get("vote_type", "approval").strip().lower() or "approval"

    @property
    def rule(self) -> str | None:
        """META ``rule``: the counting rule the organiser used (``greedy``, ``equalshares/add1``,
        ...), or ``None`` when the file does not say."""
        rule = self.meta.get("rule", "").strip()
        return rule or None

    def costs(self) -> dict[str, Decimal | int]:
        """Project id → cost, in file order."""
        return {p.id: p.cost for p in self.projects}


def _number(text: str, what: str, line: int | None) -> Decimal:
    stripped = text.strip()
    if not stripped:
        raise PabulibError(_("%(what)s is empty.", what=what), line)
    try:
        number = Decimal(stripped)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise PabulibError(
            _("%(what)s is not a number: “%(value)s”.", what=what, value=stripped), line
        )
    if number < 0:
        raise PabulibError(
            _("%(what)s must not be negative, got “%(value)s”.", what=what, value=stripped), line
        )
    return number


def parse_amount(text: str, what: str, line: int | None = None) -> int:
    """Parse a number of votes or points: a whole, non-negative number.

    ``"7200"``, ``" 7200 "`` and ``"7200.0"`` give 7200; ``"7200.5"``, ``"-1"``, ``"abc"`` and
    ``""`` raise :class:`PabulibError` naming ``what``.
    """
    number = _number(text, what, line)
    if number != number.to_integral_value():
        raise PabulibError(
            _("%(what)s must be a whole number, got “%(value)s”.", what=what, value=text.strip()),
            line,
        )
    return int(number)


def parse_money(text: str, what: str, line: int | None = None) -> Decimal:
    """Parse an amount of money: a non-negative :class:`~decimal.Decimal` with at most two
    decimals, small enough for the database (``MAX_MONEY``). ``"7200"`` and ``"7200.50"`` are
    kept as written (``Decimal("7200.50")``); never a float."""
    number = _number(text, what, line)
    if number > MAX_MONEY:
        raise PabulibError(
            _(
                "%(what)s is too large: “%(value)s” (at most %(max)s).",
                what=what,
                value=text.strip(),
                max=MAX_MONEY,
            ),
            line,
        )
    if number != number.quantize(Decimal(1).scaleb(-MONEY_PLACES), rounding="ROUND_DOWN"):
        raise PabulibError(
            _(
                "%(what)s has more than two decimals: “%(value)s”.",
                what=what,
                value=text.strip(),
            ),
            line,
        )
    return number


def load(path: str | Path) -> Election:
    """Read and parse a ``.pb`` file (UTF-8, with or without a byte-order mark)."""
    # newline="" hands line ends to the csv module, so quoted fields may span lines.
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return parse(handle.read())


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (first line number, fields) for every non-blank row."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";", quotechar='"', strict=True)
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "end of data" in str(exc):
                message = _("Unreadable row: a quote is left open (is the file cut short?).")
            else:
                message = _("Unreadable row: %(error)s", error=str(exc))
            raise PabulibError(message, start) from None
        if not row or all(not cell.strip() for cell in row):
            continue
        yield start, row  # a quoted field may span lines: report where the row begins


def _section_keyword(row: list[str]) -> str | None:
    if len(row) == 1 and row[0].strip().upper() in SECTIONS:
        return row[0].strip().upper()
    return None


def _split_list(text: str) -> list[str]:
    """Split a comma-separated field; an empty field is an empty list."""
    if not text.strip():
        return []
    return [item.strip() for item in text.split(",")]


def _columns(row: list[str], line: int, section: str, required: tuple[str, ...]) -> list[str]:
    columns = [cell.strip() for cell in row]
    for name in required:
        if name not in columns:
            raise PabulibError(
                _(
                    "The %(section)s header has no “%(column)s” column: %(header)s",
                    section=section,
                    column=name,
                    header=";".join(columns),
                ),
                line,
            )
    seen: set[str] = set()
    for name in columns:
        if not name:
            raise PabulibError(
                _("The %(section)s header has an empty column name.", section=section), line
            )
        if name in seen:
            raise PabulibError(
                _(
                    "The %(section)s header names the column “%(column)s” twice.",
                    section=section,
                    column=name,
                ),
                line,
            )
        seen.add(name)
    return columns


def _record(columns: list[str], row: list[str], line: int, section: str) -> dict[str, str]:
    if len(row) > len(columns):
        raise PabulibError(
            _(
                "This %(section)s row has %(fields)s fields but the header names %(columns)s "
                "columns.",
                section=section,
                fields=len(row),
                columns=len(columns),
            ),
            line,
        )
    # Rows shorter than the header occur in published files; the missing fields are empty.
    return dict(zip(columns, row + [""] * (len(columns) - len(row)), strict=True))


def parse(text: str) -> Election:
    """Parse the text of a ``.pb`` file.

    Checks that the three sections are present, in order, once each; that META's budget is an
    amount of money and its vote type one Pabulib knows; that every project has a unique id and
    a cost; that ballots only name known projects; that ``points`` (when present, and required
    for cumulative and scoring ballots) has one whole number per voted project; and that META
    ``num_projects`` and ``num_votes`` match the sections.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise PabulibError(_("The file is empty."))
    parser = _Parser()
    for line, row in _rows(text):
        parser.feed(line, row)
    return parser.finish()


class _Parser:
    """Reads rows one at a time, tracking which section and header they belong to."""

    def __init__(self) -> None:
        self.meta: dict[str, str] = {}
        self.projects: list[Project] = []
        self.ballots: list[Ballot] = []
        self.project_ids: set[str] = set()
        self.voter_ids: set[str] = set()
        self.sections: list[str] = []
        self.columns: list[str] | None = None  # None until the section's header row is read
        self.meta_lines: dict[str, int] = {}
        self.warnings: list[str] = []
        self.last_line = 0

    def feed(self, line: int, row: list[str]) -> None:
        self.last_line = line
        keyword = _section_keyword(row)
        if keyword is not None:
            self._start(keyword, line)
        elif not self.sections:
            raise PabulibError(_("Expected the section META before any data."), line)
        elif self.columns is None:
            self.columns = self._header(row, line)
        elif self.sections[-1] == "META":
            self._meta_row(row, line)
        elif self.sections[-1] == "PROJECTS":
            project = _parse_project(_record(self.columns, row, line, "PROJECTS"), line)
            if project.id in self.project_ids:
                raise PabulibError(_("The project id “%(id)s” appears twice.", id=project.id), line)
            self.project_ids.add(project.id)
            self.projects.append(project)
        else:
            record = _record(self.columns, row, line, "VOTES")
            ballot = _parse_ballot(record, line, self.project_ids, self._vote_type(), self.warnings)
            if ballot.voter_id in self.voter_ids:
                raise PabulibError(
                    _("The voter id “%(id)s” appears twice.", id=ballot.voter_id), line
                )
            self.voter_ids.add(ballot.voter_id)
            self.ballots.append(ballot)

    def _vote_type(self) -> str:
        return self.meta.get("vote_type", "approval").strip().lower() or "approval"

    def _start(self, keyword: str, line: int) -> None:
        if keyword in self.sections:
            raise PabulibError(_("The section %(section)s appears twice.", section=keyword), line)
        expected = SECTIONS[len(self.sections)]
        if keyword != expected:
            raise PabulibError(
                _(
                    "Expected the section %(expected)s, found %(found)s.",
                    expected=expected,
                    found=keyword,
                ),
                line,
            )
        if self.sections and self.columns is None:
            raise PabulibError(
                _("The section %(section)s has no header row.", section=self.sections[-1]), line
            )
        if keyword == "PROJECTS":
            # Check META before reading projects, so that its errors are reported first.
            if "budget" not in self.meta:
                raise PabulibError(_("META has no “budget”."), line)
            parse_money(self.meta["budget"], _("META budget"), self.meta_lines["budget"])
            if self._vote_type() not in VOTE_TYPES:
                raise PabulibError(
                    _(
                        "Unknown vote type “%(type)s”; Pabulib knows %(known)s.",
                        type=self._vote_type(),
                        known=", ".join(VOTE_TYPES),
                    ),
                    self.meta_lines["vote_type"],
                )
            if "min_project_score_threshold" in self.meta:
                parse_amount(
                    self.meta["min_project_score_threshold"],
                    _("META min_project_score_threshold"),
                    self.meta_lines["min_project_score_threshold"],
                )
        self.sections.append(keyword)
        self.columns = None

    def _header(self, row: list[str], line: int) -> list[str]:
        section = self.sections[-1]
        if section == "META":
            return _columns(row, line, section, ("key", "value"))
        if section == "PROJECTS":
            return _columns(row, line, section, ("project_id", "cost"))
        columns = _columns(row, line, section, ("voter_id", "vote"))
        vote_type = self._vote_type()
        if vote_type in POINTS_VOTE_TYPES and "points" not in columns:
            raise PabulibError(
                _(
                    "The VOTES header has no “points” column, which %(type)s ballots need.",
                    type=vote_type,
                ),
                line,
            )
        return columns

    def _meta_row(self, row: list[str], line: int) -> None:
        key = row[0].strip()
        if not key:
            raise PabulibError(_("A META row has an empty key."), line)
        if key in self.meta:
            raise PabulibError(_("The META key “%(key)s” appears twice.", key=key), line)
        # A value containing unquoted semicolons is taken whole rather than rejected.
        self.meta[key] = ";".join(row[1:])
        self.meta_lines[key] = line

    def finish(self) -> Election:
        for keyword in SECTIONS:
            if keyword not in self.sections:
                raise PabulibError(_("The file has no %(section)s section.", section=keyword))
        if self.columns is None:
            raise PabulibError(_("The section VOTES has no header row."))
        if not self.projects:
            raise PabulibError(_("The PROJECTS section lists no projects."))
        # A file cut short still parses: META's counts are what tells.
        for key, found, section in (
            ("num_projects", len(self.projects), "PROJECTS"),
            ("num_votes", len(self.ballots), "VOTES"),
        ):
            if key not in self.meta:
                continue
            line = self.meta_lines[key]
            said = parse_amount(self.meta[key], _("META %(key)s", key=key), line)
            if said != found:
                raise PabulibError(
                    _(
                        "META %(key)s says %(said)s, but the %(section)s section has %(found)s "
                        "rows (is the file cut short after line %(last)s?).",
                        key=key,
                        said=said,
                        section=section,
                        found=found,
                        last=self.last_line,
                    ),
                    line,
                )
        return Election(
            meta=self.meta, projects=self.projects, ballots=self.ballots, warnings=self.warnings
        )


def _check_id(value: str, what: str, line: int) -> None:
    if len(value) > MAX_ID_CHARS:
        raise PabulibError(
            _(
                "%(what)s “%(start)s…” is %(length)s characters long; at most %(max)s are allowed.",
                what=what,
                start=value[:20],
                length=len(value),
                max=MAX_ID_CHARS,
            ),
            line,
        )


def _parse_project(record: dict[str, str], line: int) -> Project:
    project_id = record["project_id"].strip()
    if not project_id:
        raise PabulibError(_("A project row has an empty project_id."), line)
    _check_id(project_id, _("The project id"), line)
    if not record["cost"].strip():
        raise PabulibError(_("Project “%(id)s” has no cost.", id=project_id), line)
    cost = parse_money(record["cost"], _("The cost of project “%(id)s”", id=project_id), line)
    votes: int | None = None
    if record.get("votes", "").strip():
        votes = parse_amount(
            record["votes"], _("The votes of project “%(id)s”", id=project_id), line
        )
    selected: int | None = None
    flag = record.get("selected", "").strip()
    if flag:
        if flag not in {str(v) for v in SELECTED_VALUES}:
            raise PabulibError(
                _(
                    "“selected” of project “%(id)s” must be 0, 1, 2 or 3, got “%(value)s”.",
                    id=project_id,
                    value=flag,
                ),
                line,
            )
        selected = int(flag)
    extra = {k: v for k, v in record.items() if k not in PROJECT_COLUMNS}
    return Project(
        id=project_id,
        cost=cost,
        name=record.get("name", ""),
        votes=votes,
        selected=selected,
        extra=extra,
    )


def _parse_ballot(
    record: dict[str, str],
    line: int,
    project_ids: set[str],
    vote_type: str,
    warnings: list[str],
) -> Ballot:
    voter_id = record["voter_id"].strip()
    if not voter_id:
        raise PabulibError(_("A ballot row has an empty voter_id."), line)
    _check_id(voter_id, _("The voter id"), line)
    voted = _split_list(record["vote"])
    raw_points = _split_list(record["points"]) if "points" in record else None
    if raw_points is not None and len(raw_points) != len(voted):
        raise PabulibError(
            _(
                "The ballot of voter “%(voter)s” gives %(points)s points for %(projects)s "
                "projects.",
                voter=voter_id,
                points=len(raw_points),
                projects=len(voted),
            ),
            line,
        )
    kept: list[str] = []
    kept_points: list[str] = []
    for k, project_id in enumerate(voted):
        if not project_id:
            raise PabulibError(
                _("The ballot of voter “%(voter)s” has an empty project id.", voter=voter_id),
                line,
            )
        if project_id not in project_ids:
            raise PabulibError(
                _(
                    "The ballot of voter “%(voter)s” votes for the unknown project “%(id)s”.",
                    voter=voter_id,
                    id=project_id,
                ),
                line,
            )
        if project_id in kept:
            # Pabulib's checker reports it too ("vote with duplicated projects"); the voter
            # chose the project, once: the first mention (and its points) counts.
            warnings.append(
                _(
                    "line %(line)s: the ballot of voter “%(voter)s” names project “%(id)s” "
                    "twice; it is counted once.",
                    line=line,
                    voter=voter_id,
                    id=project_id,
                )
            )
            continue
        kept.append(project_id)
        if raw_points is not None:
            kept_points.append(raw_points[k])
    if vote_type == "choose-1" and len(kept) > 1:
        raise PabulibError(
            _(
                "The ballot of voter “%(voter)s” chooses %(count)s projects, but the vote "
                "type is choose-1.",
                voter=voter_id,
                count=len(kept),
            ),
            line,
        )
    points: tuple[int, ...] | None = None
    if raw_points is not None:
        what = _("A points value on the ballot of voter “%(voter)s”", voter=voter_id)
        points = tuple(parse_amount(p, what, line) for p in kept_points)
    extra = {k: v for k, v in record.items() if k not in BALLOT_COLUMNS}
    return Ballot(voter_id=voter_id, projects=tuple(kept), points=points, extra=extra)


def dump(election: Election) -> str:
    """Write ``election`` as ``.pb`` text that :func:`parse` reads back to an equal election.

    Optional columns (``votes``, ``selected``, ``points``) are written only when some project or
    ballot has a value for them; extra columns are written in first-seen order, empty where a row
    lacks them. Raises :class:`PabulibError` for an election that could not be read back (an extra
    column named like a reserved one, a points tuple of the wrong length).
    """
    out = io.StringIO()
    # a data file: cells exactly as they are (no spreadsheet neutralising, no BOM)
    writer = exports.data_writer(out, delimiter=";", quotechar='"', lineterminator="\n")

    writer.writerow(["META"])
    writer.writerow(["key", "value"])
    for key, value in election.meta.items():
        writer.writerow([key, value])

    has_votes = any(p.votes is not None for p in election.projects)
    has_selected = any(p.selected is not None for p in election.projects)
    project_extra = _extra_columns((p.extra for p in election.projects), PROJECT_COLUMNS)
    writer.writerow(["PROJECTS"])
    header = ["project_id", "cost"]
    header += ["votes"] if has_votes else []
    header += ["name"]
    header += ["selected"] if has_selected else []
    writer.writerow(header + project_extra)
    for p in election.projects:
        row = [p.id, str(p.cost)]
        if has_votes:
            row.append("" if p.votes is None else str(p.votes))
        row.append(p.name)
        if has_selected:
            row.append("" if p.selected is None else str(int(p.selected)))
        writer.writerow(row + [p.extra.get(name, "") for name in project_extra])

    has_points = any(b.points is not None for b in election.ballots)
    ballot_extra = _extra_columns((b.extra for b in election.ballots), BALLOT_COLUMNS)
    writer.writerow(["VOTES"])
    writer.writerow(["voter_id", "vote"] + (["points"] if has_points else []) + ballot_extra)
    for b in election.ballots:
        row = [b.voter_id, ",".join(b.projects)]
        if has_points:
            if b.points is not None and len(b.points) != len(b.projects):
                raise PabulibError(
                    _(
                        "The ballot of voter “%(voter)s” has points not aligned with its vote.",
                        voter=b.voter_id,
                    )
                )
            row.append(",".join(str(x) for x in b.points or ()))
        writer.writerow(row + [b.extra.get(name, "") for name in ballot_extra])
    return out.getvalue()


def _extra_columns(extras: Iterable[dict[str, str]], reserved: tuple[str, ...]) -> list[str]:
    names: dict[str, None] = {}
    for extra in extras:
        for name in extra:
            if name in reserved:
                raise PabulibError(
                    _("The extra column “%(column)s” clashes with a Pabulib column.", column=name)
                )
            names.setdefault(name)
    return list(names)
