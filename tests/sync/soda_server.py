"""A real, threaded HTTP server on 127.0.0.1 that answers like Socrata's SODA 2.1 API.

Used by the sync tests in place of data.cityofchicago.org. It serves
``GET /resource/{dataset}.json`` from an in-memory set of records that tests can
change while a sync runs, and it really evaluates the part of SoQL the client
uses:

* ``$where``: comparisons ``field op literal`` (``= != <> > >= < <=``) joined with
  AND / OR / NOT and parentheses. Columns are typed as on the portal: ``id``,
  ``year``, coordinates are *number* columns (comparing them with a quoted string
  is a 400 ``type-mismatch``, as on the portal), ``date`` and ``updated_on`` are
  floating timestamps, the rest text;
* ``$order`` (``field [ASC|DESC], ...`` and ``:id``), ``$limit`` (default 1000),
  ``$offset``, ``$select`` (field list; the default ``*`` includes ``location``).

Records are shaped as the portal sends them: field names as in
``crimescope.sources.chicago.RAW_COLUMNS``, every value a string except the
booleans ``arrest``/``domestic`` (JSON true/false) and ``location`` (an object),
timestamps like ``2016-01-01T00:01:00.000``, null fields left out.

Provenance of the records: :func:`load_chicago_records` cuts them at test time
from ``../shared/data/chicago/crimes/2017.csv.gz`` (City of Chicago Data Portal,
dataset ijzp-q8t2, 2018 extract) and converts the CSV export format to the API's.

Faults are scripted per data request (numbered from 1 in arrival order, retries
included) with :meth:`SodaServer.fault_at`: an HTTP status (429 with
``Retry-After``, 500, ...), a slow answer, a connection dropped mid-body, a
truncated JSON body, or a block until the test releases it; and
:meth:`SodaServer.before` runs a callable (e.g. revising a record) before a
given request is answered. Every request is recorded (path, parameters, headers).
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "SodaSource", "SodaServer", "Fault", "SoQLError", "load_chicago_records",
    "csv_row_to_record", "soda_ts",
]

NUMBER = {"id", "year", "x_coordinate", "y_coordinate", "latitude", "longitude"}
TIMESTAMP = {"date", "updated_on"}
BOOLEAN = {"arrest", "domestic"}
FIELDS = [
    "id", "case_number", "date", "block", "iucr", "primary_type", "description",
    "location_description", "arrest", "domestic", "beat", "district", "ward",
    "community_area", "fbi_code", "x_coordinate", "y_coordinate", "year", "updated_on",
    "latitude", "longitude", "location",
]


def soda_ts(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}"


def _parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --------------------------------------------------------------------------------------
# records


_CSV_TS = "%m/%d/%Y %I:%M:%S %p"
_CSV_FIELDS = {
    "ID": "id", "Case Number": "case_number", "Date": "date", "Block": "block",
    "IUCR": "iucr", "Primary Type": "primary_type", "Description": "description",
    "Location Description": "location_description", "Arrest": "arrest",
    "Domestic": "domestic", "Beat": "beat", "District": "district", "Ward": "ward",
    "Community Area": "community_area", "FBI Code": "fbi_code",
    "X Coordinate": "x_coordinate", "Y Coordinate": "y_coordinate",
    "Updated On": "updated_on", "Latitude": "latitude", "Longitude": "longitude",
}


def csv_row_to_record(row: dict[str, str]) -> dict[str, Any]:
    """One row of the portal's CSV export -> the record the SODA API sends."""
    rec: dict[str, Any] = {}
    for head, name in _CSV_FIELDS.items():
        v = (row.get(head) or "").strip()
        if v == "":
            continue  # SODA leaves null fields out
        if name in TIMESTAMP:
            v = soda_ts(datetime.strptime(v, _CSV_TS))
        elif name in BOOLEAN:
            v = v.lower() == "true"
        rec[name] = v
    if "date" in rec:
        rec["year"] = rec["date"][:4]
    if "latitude" in rec and "longitude" in rec:
        rec["location"] = {
            "latitude": rec["latitude"], "longitude": rec["longitude"],
            "human_address": '{"address": "", "city": "", "state": "", "zip": ""}',
        }
    return {k: rec[k] for k in FIELDS if k in rec}


def load_chicago_records(path: Path, *, n_first: int = 1200, scan: int = 30_000,
                         homicide_ties: bool = True) -> list[dict[str, Any]]:
    """Records cut from a shared CSV export: its first ``n_first`` rows plus every
    HOMICIDE row among its first ``scan`` rows.

    Homicide ids are short (``23060``) while the others have 8 digits, so with
    ``homicide_ties`` every other homicide record gets the most common
    ``updated_on`` of the cut (the portal's bulk updates stamp thousands of records
    with one time), which makes ties on ``updated_on`` span ids of different
    lengths: paging that compares ids as text instead of numbers loses rows.
    """
    out: dict[str, dict[str, Any]] = {}
    with gzip.open(path, "rt", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            if i >= scan:
                break
            if i < n_first or row["Primary Type"] == "HOMICIDE":
                rec = csv_row_to_record(row)
                out[rec["id"]] = rec
    records = list(out.values())
    if homicide_ties:
        counts: dict[str, int] = {}
        for r in records:
            counts[r["updated_on"]] = counts.get(r["updated_on"], 0) + 1
        common = max(counts, key=counts.get)
        homicides = [r for r in records if r.get("primary_type") == "HOMICIDE"]
        for r in homicides[::2]:
            r["updated_on"] = common
    return records


class SodaSource:
    """The records the server publishes; thread-safe; tests revise them mid-sync."""

    def __init__(self, records: list[dict[str, Any]]):
        self._lock = threading.Lock()
        self._records: dict[int, dict[str, Any]] = {}
        for r in records:
            self._records[int(r["id"])] = dict(r)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """{id: record} as published now (copies)."""
        with self._lock:
            return {str(k): dict(v) for k, v in self._records.items()}

    def records(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(v) for v in self._records.values()]

    def max_updated_on(self) -> datetime:
        with self._lock:
            return max(_parse_ts(r["updated_on"]) for r in self._records.values())

    def revise(self, rid: str | int, **changes: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """Publish a new version of a record: its ``updated_on`` moves past every
        other record's (unless given) and ``changes`` are applied. Returns (old, new)."""
        with self._lock:
            key = int(rid)
            old = self._records[key]
            new = dict(old)
            new.update(changes)
            if "updated_on" not in changes:
                latest = max(_parse_ts(r["updated_on"]) for r in self._records.values())
                new["updated_on"] = soda_ts(latest + timedelta(seconds=1))
            self._records[key] = new
            return dict(old), dict(new)

    def add(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._records[int(record["id"])] = dict(record)

    def __len__(self) -> int:
        return len(self._records)


# --------------------------------------------------------------------------------------
# SoQL subset


class SoQLError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>>=|<=|!=|<>|=|>|<)"
    r"|(?P<lp>\()|(?P<rp>\))|(?P<word>:?[A-Za-z_][A-Za-z0-9_]*))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise SoQLError("query.compiler.malformed", f"Unexpected text at position {pos}: {text[pos:pos + 20]!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _typed(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in NUMBER:
        return float(value)
    if name in TIMESTAMP:
        return _parse_ts(value)
    return value


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<>": lambda a, b: a != b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
}


def parse_where(text: str) -> Callable[[dict[str, Any]], bool]:
    """Compile a ``$where`` into a predicate over records."""
    toks = _tokens(text)
    pos = 0

    def peek() -> tuple[str, str] | None:
        return toks[pos] if pos < len(toks) else None

    def take() -> tuple[str, str]:
        nonlocal pos
        if pos >= len(toks):
            raise SoQLError("query.compiler.malformed", "Unexpected end of $where")
        pos += 1
        return toks[pos - 1]

    def is_word(tok, word):
        return tok is not None and tok[0] == "word" and tok[1].upper() == word

    def expr():
        left = and_expr()
        while is_word(peek(), "OR"):
            take()
            right = and_expr()
            left = (lambda a, b: lambda r: a(r) or b(r))(left, right)
        return left

    def and_expr():
        left = not_expr()
        while is_word(peek(), "AND"):
            take()
            right = not_expr()
            left = (lambda a, b: lambda r: a(r) and b(r))(left, right)
        return left

    def not_expr():
        if is_word(peek(), "NOT"):
            take()
            inner = not_expr()
            return lambda r: not inner(r)
        return primary()

    def primary():
        tok = take()
        if tok[0] == "lp":
            inner = expr()
            if take()[0] != "rp":
                raise SoQLError("query.compiler.malformed", "Expected ')'")
            return inner
        if tok[0] != "word":
            raise SoQLError("query.compiler.malformed", f"Expected a column name, got {tok[1]!r}")
        name = tok[1]
        if name not in FIELDS:
            raise SoQLError("query.soql.no-such-column", f"No such column: {name}")
        op = take()
        if op[0] != "op":
            raise SoQLError("query.compiler.malformed", f"Expected an operator after {name}")
        lit = take()
        if lit[0] == "str":
            if name in NUMBER:
                raise SoQLError("query.soql.type-mismatch",
                                f"Type mismatch for op${op[1]}, is number/text, position: {name}")
            s = lit[1][1:-1].replace("''", "'")
            if name in TIMESTAMP:
                try:
                    value: Any = _parse_ts(s)
                except ValueError:
                    raise SoQLError("query.soql.type-mismatch", f"Cannot parse {s!r} as a floating timestamp") from None
            else:
                value = s
        elif lit[0] == "num":
            if name not in NUMBER:
                raise SoQLError("query.soql.type-mismatch",
                                f"Type mismatch for op${op[1]}, is text/number, position: {name}")
            value = float(lit[1])
        elif lit[0] == "word" and lit[1].lower() in ("true", "false") and name in BOOLEAN:
            value = lit[1].lower() == "true"
        else:
            raise SoQLError("query.compiler.malformed", f"Expected a literal after {name} {op[1]}")
        fn = _OPS[op[1]]

        def pred(r, name=name, value=value, fn=fn):
            v = _typed(name, r.get(name))
            return v is not None and fn(v, value)

        return pred

    result = expr()
    if pos != len(toks):
        raise SoQLError("query.compiler.malformed", f"Unexpected {toks[pos][1]!r} in $where")
    return result


def order_records(records: list[dict[str, Any]], order: str) -> list[dict[str, Any]]:
    keys = []
    for part in order.split(","):
        words = part.split()
        if not words or len(words) > 2:
            raise SoQLError("query.compiler.malformed", f"Bad $order: {order!r}")
        name = words[0]
        desc = len(words) == 2 and words[1].upper() == "DESC"
        if len(words) == 2 and words[1].upper() not in ("ASC", "DESC"):
            raise SoQLError("query.compiler.malformed", f"Bad $order: {order!r}")
        if name == ":id":
            name = "id"
        elif name not in FIELDS:
            raise SoQLError("query.soql.no-such-column", f"No such column: {name}")
        keys.append((name, desc))
    out = list(records)
    for name, desc in reversed(keys):  # stable sorts, last key first; nulls last
        present = [r for r in out if r.get(name) is not None]
        nulls = [r for r in out if r.get(name) is None]
        present.sort(key=lambda r: _typed(name, r[name]), reverse=desc)
        out = present + nulls
    return out


# --------------------------------------------------------------------------------------
# server


@dataclass
class Fault:
    """What to do instead of (or before) answering one request.

    kind: ``status`` (answer ``status`` with a SODA error body, ``retry_after`` header
    if set), ``slow`` (wait ``seconds`` then answer normally), ``drop`` (send the
    headers and half the body, then close the connection), ``truncate`` (a 200 whose
    JSON is cut in the middle, with a matching Content-Length), ``block`` (wait until
    ``release`` is set, then answer normally).
    """

    kind: str
    status: int = 500
    retry_after: str | None = None
    seconds: float = 0.0
    release: threading.Event | None = None


@dataclass
class SeenRequest:
    number: int
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class _Script:
    faults: dict[int, Fault] = field(default_factory=dict)
    before: dict[int, list[Callable[[], None]]] = field(default_factory=dict)
    fail_from: tuple[int, Fault] | None = None


class SodaServer:
    """``with SodaServer(source) as server: ... server.base_url ...``"""

    def __init__(self, source: SodaSource, dataset: str = "ijzp-q8t2", max_limit: int | None = None):
        self.source = source
        self.dataset = dataset
        #: the most records one answer holds whatever ``$limit`` says (None: no cap)
        self.max_limit = max_limit
        self.requests: list[SeenRequest] = []
        self._script = _Script()
        self._cond = threading.Condition()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting ------------------------------------------------------------------
    def fault_at(self, n: int, fault: Fault) -> "SodaServer":
        """Answer data request number ``n`` (1-based, retries count) with ``fault``."""
        self._script.faults[n] = fault
        return self

    def fail_from(self, n: int, fault: Fault) -> "SodaServer":
        """Answer every data request from number ``n`` on with ``fault``."""
        self._script.fail_from = (n, fault)
        return self

    def heal(self) -> None:
        """Forget all scripted faults."""
        self._script = _Script()

    def before(self, n: int, fn: Callable[[], None]) -> "SodaServer":
        """Run ``fn`` just before data request number ``n`` is answered."""
        self._script.before.setdefault(n, []).append(fn)
        return self

    def wait_for_request(self, n: int, timeout: float = 30.0) -> bool:
        """Block until data request number ``n`` has arrived."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self.requests) >= n, timeout)

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> "SodaServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                try:
                    server._handle(self)
                except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
                    self.close_connection = True

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "SodaServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- answering --------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        url = urlsplit(h.path)
        if url.path != f"/resource/{self.dataset}.json":
            self._send_json(h, 404, {"code": "not_found", "error": True,
                                     "message": f"Dataset not found: {url.path}"})
            return
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        with self._cond:
            n = len(self.requests) + 1
            self.requests.append(SeenRequest(n, url.path, params, {k.lower(): v for k, v in h.headers.items()}))
            self._cond.notify_all()
            script = self._script
        for fn in script.before.get(n, []):
            fn()
        fault = script.faults.get(n)
        if fault is None and script.fail_from is not None and n >= script.fail_from[0]:
            fault = script.fail_from[1]
        if fault is not None:
            if fault.kind == "status":
                extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                self._send_json(h, fault.status, {"code": "fault", "error": True,
                                                  "message": f"scripted fault {fault.status}"}, extra)
                return
            if fault.kind == "slow":
                time.sleep(fault.seconds)
            elif fault.kind == "block":
                assert fault.release is not None
                fault.release.wait(60)
        try:
            body = self.query(params)
        except SoQLError as exc:
            self._send_json(h, 400, {"code": exc.code, "error": True, "message": str(exc)})
            return
        data = json.dumps(body).encode()
        if fault is not None and fault.kind == "drop":
            h.send_response(200)
            h.send_header("Content-Type", "application/json;charset=utf-8")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data[: len(data) // 2])
            h.wfile.flush()
            h.close_connection = True
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if fault is not None and fault.kind == "truncate":
            data = data[: max(1, len(data) // 2)]
        self._send(h, 200, data)

    def query(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """The records a SODA query returns (raises SoQLError on a bad query)."""
        records = self.source.records()
        if params.get("$where"):
            pred = parse_where(params["$where"])
            records = [r for r in records if pred(r)]
        if params.get("$order"):
            records = order_records(records, params["$order"])
        try:
            offset = int(params.get("$offset", "0"))
            limit = int(params.get("$limit", "1000"))
        except ValueError:
            raise SoQLError("query.compiler.malformed", "$limit and $offset must be integers") from None
        if self.max_limit is not None:
            limit = min(limit, self.max_limit)
        records = records[offset: offset + limit]
        sel = params.get("$select", "*").strip()
        if sel and sel != "*":
            names = [s.strip() for s in sel.split(",")]
            for name in names:
                if name not in FIELDS:
                    raise SoQLError("query.soql.no-such-column", f"No such column: {name}")
            records = [{k: r[k] for k in names if k in r} for r in records]
        return records

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/json;charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)
        h.wfile.flush()

    def _send_json(self, h, status, obj, headers=None) -> None:
        self._send(h, status, json.dumps(obj).encode(), headers)
