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
is one. The parser accepts CRLF line ends, a byte-order mark, blank lines and rows shorter than
their header (the missing trailing fields are read as empty), which all occur in files published
by Pabulib.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

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


class PabulibError(ValueError):
    """A ``.pb`` file (or an election about to be written as one) is malformed or inconsistent.

    ``line`` is the 1-based line of the file where the problem was found, or ``None`` when the
    problem is not tied to one line (a missing section, say).
    """

    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        self.reason = message
        super().__init__(f"line {line}: {message}" if line is not None else message)


@dataclass
class Project:
    """One project on the ballot. ``votes`` and ``selected`` are ``None`` when the file has no such
    column (or leaves the field empty); ``selected`` is whether the city funded the project."""

    id: str
    cost: int
    name: str = ""
    votes: int | None = None
    selected: bool | None = None
    extra: dict[str, str] = field(default_factory=dict)


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
    """A whole election: META as plain strings, projects in file order, ballots in file order."""

    meta: dict[str, str]
    projects: list[Project]
    ballots: list[Ballot]

    @property
    def budget(self) -> int:
        """META ``budget`` as a whole number; a decimal such as ``"100000.0"`` is accepted when it
        is integral. Raises :class:`PabulibError` when it is missing or not a whole amount."""
        if "budget" not in self.meta:
            raise PabulibError("META has no 'budget'")
        return parse_amount(self.meta["budget"], "budget")

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

    def costs(self) -> dict[str, int]:
        """Project id → cost, in file order."""
        return {p.id: p.cost for p in self.projects}


def parse_amount(text: str, what: str, line: int | None = None) -> int:
    """Parse a money amount or a number of points that must be a whole, non-negative number.

    ``"7200"``, ``" 7200 "`` and ``"7200.0"`` give 7200; ``"7200.5"``, ``"-1"``, ``"abc"`` and
    ``""`` raise :class:`PabulibError` naming ``what``.
    """
    stripped = text.strip()
    if not stripped:
        raise PabulibError(f"{what} is empty", line)
    try:
        number = Decimal(stripped)
    except InvalidOperation:
        raise PabulibError(f"{what} is not a number: {stripped!r}", line) from None
    if not number.is_finite():
        raise PabulibError(f"{what} is not a number: {stripped!r}", line)
    if number != number.to_integral_value():
        raise PabulibError(f"{what} must be a whole number, got {stripped!r}", line)
    if number < 0:
        raise PabulibError(f"{what} must not be negative, got {stripped!r}", line)
    return int(number)


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
            hint = " (is a quote left open?)" if "end of data" in str(exc) else ""
            raise PabulibError(f"unreadable row: {exc}{hint}", start) from None
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
                f"{section} header has no '{name}' column: {';'.join(columns)}", line
            )
    seen: set[str] = set()
    for name in columns:
        if not name:
            raise PabulibError(f"{section} header has an empty column name", line)
        if name in seen:
            raise PabulibError(f"{section} header names the column '{name}' twice", line)
        seen.add(name)
    return columns


def _record(columns: list[str], row: list[str], line: int, section: str) -> dict[str, str]:
    if len(row) > len(columns):
        raise PabulibError(
            f"{section} row has {len(row)} fields but the header names {len(columns)} columns", line
        )
    # Rows shorter than the header occur in published files; the missing fields are empty.
    return dict(zip(columns, row + [""] * (len(columns) - len(row)), strict=True))


def parse(text: str) -> Election:
    """Parse the text of a ``.pb`` file.

    Checks that the three sections are present, in order, once each; that every project has a
    unique id and a whole, non-negative cost; that META's budget is a whole amount; that ballots
    only name known projects, each at most once; and that ``points`` (when present, and required
    for cumulative and scoring ballots) has one whole number per voted project.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise PabulibError("the file is empty")
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

    def feed(self, line: int, row: list[str]) -> None:
        keyword = _section_keyword(row)
        if keyword is not None:
            self._start(keyword, line)
        elif not self.sections:
            raise PabulibError("expected section META before any data", line)
        elif self.columns is None:
            self.columns = self._header(row, line)
        elif self.sections[-1] == "META":
            self._meta_row(row, line)
        elif self.sections[-1] == "PROJECTS":
            project = _parse_project(_record(self.columns, row, line, "PROJECTS"), line)
            if project.id in self.project_ids:
                raise PabulibError(f"duplicate project id '{project.id}'", line)
            self.project_ids.add(project.id)
            self.projects.append(project)
        else:
            record = _record(self.columns, row, line, "VOTES")
            ballot = _parse_ballot(record, line, self.project_ids)
            if ballot.voter_id in self.voter_ids:
                raise PabulibError(f"duplicate voter id '{ballot.voter_id}'", line)
            self.voter_ids.add(ballot.voter_id)
            self.ballots.append(ballot)

    def _start(self, keyword: str, line: int) -> None:
        if keyword in self.sections:
            raise PabulibError(f"section {keyword} appears twice", line)
        expected = SECTIONS[len(self.sections)]
        if keyword != expected:
            raise PabulibError(f"expected section {expected}, found {keyword}", line)
        if self.sections and self.columns is None:
            raise PabulibError(f"section {self.sections[-1]} has no header row", line)
        if keyword == "PROJECTS":
            # Check META before reading projects, so that its errors are reported first.
            if "budget" not in self.meta:
                raise PabulibError("META has no 'budget'", line)
            parse_amount(self.meta["budget"], "META budget", self.meta_lines["budget"])
        self.sections.append(keyword)
        self.columns = None

    def _header(self, row: list[str], line: int) -> list[str]:
        section = self.sections[-1]
        if section == "META":
            return _columns(row, line, section, ("key", "value"))
        if section == "PROJECTS":
            return _columns(row, line, section, ("project_id", "cost"))
        columns = _columns(row, line, section, ("voter_id", "vote"))
        vote_type = self.meta.get("vote_type", "approval").strip().lower()
        if vote_type in POINTS_VOTE_TYPES and "points" not in columns:
            raise PabulibError(
                f"VOTES header has no 'points' column, which {vote_type} ballots need", line
            )
        return columns

    def _meta_row(self, row: list[str], line: int) -> None:
        key = row[0].strip()
        if not key:
            raise PabulibError("META row has an empty key", line)
        if key in self.meta:
            raise PabulibError(f"META key '{key}' appears twice", line)
        # A value containing unquoted semicolons is taken whole rather than rejected.
        self.meta[key] = ";".join(row[1:])
        self.meta_lines[key] = line

    def finish(self) -> Election:
        for keyword in SECTIONS:
            if keyword not in self.sections:
                raise PabulibError(f"the file has no {keyword} section")
        if self.columns is None:
            raise PabulibError("section VOTES has no header row")
        if not self.projects:
            raise PabulibError("the PROJECTS section lists no projects")
        return Election(meta=self.meta, projects=self.projects, ballots=self.ballots)


def _parse_project(record: dict[str, str], line: int) -> Project:
    project_id = record["project_id"].strip()
    if not project_id:
        raise PabulibError("project row has an empty project_id", line)
    if not record["cost"].strip():
        raise PabulibError(f"project '{project_id}' has no cost", line)
    cost = parse_amount(record["cost"], f"cost of project '{project_id}'", line)
    votes: int | None = None
    if record.get("votes", "").strip():
        votes = parse_amount(record["votes"], f"votes of project '{project_id}'", line)
    selected: bool | None = None
    flag = record.get("selected", "").strip()
    if flag:
        if flag not in ("0", "1"):
            raise PabulibError(
                f"selected of project '{project_id}' must be 0 or 1, got {flag!r}", line
            )
        selected = flag == "1"
    extra = {k: v for k, v in record.items() if k not in PROJECT_COLUMNS}
    return Project(
        id=project_id,
        cost=cost,
        name=record.get("name", ""),
        votes=votes,
        selected=selected,
        extra=extra,
    )


def _parse_ballot(record: dict[str, str], line: int, project_ids: set[str]) -> Ballot:
    voter_id = record["voter_id"].strip()
    if not voter_id:
        raise PabulibError("ballot row has an empty voter_id", line)
    voted = _split_list(record["vote"])
    seen: set[str] = set()
    for project_id in voted:
        if not project_id:
            raise PabulibError(f"ballot of voter '{voter_id}' has an empty project id", line)
        if project_id not in project_ids:
            raise PabulibError(
                f"ballot of voter '{voter_id}' votes for unknown project '{project_id}'", line
            )
        if project_id in seen:
            raise PabulibError(
                f"ballot of voter '{voter_id}' names project '{project_id}' twice", line
            )
        seen.add(project_id)
    points: tuple[int, ...] | None = None
    if "points" in record:
        raw = _split_list(record["points"])
        if len(raw) != len(voted):
            raise PabulibError(
                f"ballot of voter '{voter_id}' gives {len(raw)} points for {len(voted)} projects",
                line,
            )
        points = tuple(parse_amount(p, f"points of voter '{voter_id}'", line) for p in raw)
    extra = {k: v for k, v in record.items() if k not in BALLOT_COLUMNS}
    return Ballot(voter_id=voter_id, projects=tuple(voted), points=points, extra=extra)


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
                    f"ballot of voter '{b.voter_id}' has points not aligned with vote"
                )
            row.append(",".join(str(x) for x in b.points or ()))
        writer.writerow(row + [b.extra.get(name, "") for name in ballot_extra])
    return out.getvalue()


def _extra_columns(extras: Iterable[dict[str, str]], reserved: tuple[str, ...]) -> list[str]:
    names: dict[str, None] = {}
    for extra in extras:
        for name in extra:
            if name in reserved:
                raise PabulibError(f"extra column '{name}' clashes with a Pabulib column")
            names.setdefault(name)
    return list(names)
