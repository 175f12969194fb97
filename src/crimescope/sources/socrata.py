"""A small client for the Socrata SODA 2.1 API (``{base}/resource/{dataset}.json``).

It does one thing: fetch one page of records, retrying what is worth retrying.

- 429 Too Many Requests: waits ``Retry-After`` seconds when the server says so
  (capped at :attr:`SocrataClient.retry_after_max`), else backs off;
- 5xx, timeouts, connection errors, a body cut short or not valid JSON: exponential
  backoff with jitter (``backoff_base * 2**(attempt-1)`` capped at ``backoff_max``,
  times a factor drawn uniformly from [0.5, 1) by ``random.Random(random_state)``);
- any other 4xx: no retry (the query is wrong; asking again will not help).

After ``max_retries`` attempts it raises :class:`~crimescope.errors.SyncError` with
one line naming the URL, the attempts and the last problem. Transport errors of
httpx never leave this module untranslated.

The transport is injectable (``transport=httpx.MockTransport(...)`` in unit tests),
and so are ``sleep`` and ``random_state`` so that backoff costs no wall time in tests.
The app token is read from the environment only (``CRIMESCOPE_SOCRATA_TOKEN``) and
sent as ``X-App-Token``.
"""

from __future__ import annotations

import email.utils
import json
import random
import time
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

import httpx

from .. import __version__ as _version
from .. import settings
from ..errors import ParameterError, SyncError

__all__ = ["SocrataClient", "soql_timestamp"]


def soql_timestamp(ts: datetime) -> str:
    """A floating timestamp as SoQL writes it: ``2016-01-01T00:01:00.000``."""
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}"


def _retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _error_message(resp: httpx.Response) -> str:
    """The ``message`` of a SODA error body, else the start of the body, on one line."""
    text = resp.text
    try:
        body = json.loads(text)
        if isinstance(body, dict) and body.get("message"):
            text = str(body["message"])
    except ValueError:
        pass
    text = " ".join(text.split())
    return text[:200]


class SocrataClient:
    """Fetch pages of a Socrata dataset, with retries.

    Parameters
    ----------
    base_url, dataset
        Portal and dataset id; default to the settings ``socrata_base_url`` and
        ``socrata_dataset`` (Chicago's ``ijzp-q8t2``).
    timeout
        Seconds per request (connect, read, write, pool); setting ``http_timeout``.
    max_retries
        Attempts per page before giving up; setting ``max_retries``.
    transport
        An ``httpx.BaseTransport`` (e.g. ``httpx.MockTransport``); default: the network.
    sleep
        Called with the seconds to wait between attempts (default ``time.sleep``).
    random_state
        Seed (or ``random.Random``) of the backoff jitter; None draws from OS
        entropy, so clients that failed together do not retry together.
    backoff_base, backoff_max
        First backoff and its cap, in seconds.
    retry_after_max
        Longest ``Retry-After`` honoured, in seconds (a longer one is cut to this).

    Attributes
    ----------
    endpoint : str
        ``{base_url}/resource/{dataset}.json``.
    requests_made : int
        HTTP requests sent so far (attempts, including retried ones).
    retries : int
        Attempts that failed and were retried.
    """

    def __init__(
        self,
        base_url: str | None = None,
        dataset: str | None = None,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        random_state: int | random.Random | None = None,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        retry_after_max: float = 300.0,
    ):
        self.base_url = str(settings.get("socrata_base_url", base_url)).rstrip("/")
        self.dataset = str(settings.get("socrata_dataset", dataset)).strip()
        self.timeout = float(settings.get("http_timeout", timeout))
        self.max_retries = int(settings.get("max_retries", max_retries))
        if not self.base_url.startswith(("http://", "https://")):
            raise ParameterError(f"--base-url must start with http:// or https://, got {self.base_url!r}")
        if not self.dataset or "/" in self.dataset or "?" in self.dataset:
            raise ParameterError(f"--dataset must be a Socrata dataset id like ijzp-q8t2, got {self.dataset!r}")
        if self.max_retries < 1:
            raise ParameterError(f"max_retries must be at least 1, got {self.max_retries}")
        if self.timeout <= 0:
            raise ParameterError(f"http_timeout must be positive, got {self.timeout}")
        self.backoff_base = float(backoff_base)
        self.backoff_max = float(backoff_max)
        self.retry_after_max = float(retry_after_max)
        self._sleep = sleep or time.sleep
        self._rng = random_state if isinstance(random_state, random.Random) else random.Random(random_state)
        self.endpoint = f"{self.base_url}/resource/{self.dataset}.json"
        headers = {"Accept": "application/json", "User-Agent": f"crimescope/{_version}"}
        token = settings.get("socrata_token")  # environment only, never an argument
        if token:
            headers["X-App-Token"] = str(token)
        self._http = httpx.Client(
            headers=headers, timeout=httpx.Timeout(self.timeout), transport=transport,
            follow_redirects=True,
        )
        self.requests_made = 0
        self.retries = 0

    # -- lifecycle ------------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "SocrataClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- retries ----------------------------------------------------------------
    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based), with jitter."""
        cap = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return cap * (0.5 + 0.5 * self._rng.random())

    def get_records(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """GET one page: the JSON array of records for these SoQL parameters.

        Raises :class:`SyncError` after ``max_retries`` failed attempts, or at once
        on a 4xx other than 429 or a 200 whose JSON is not an array of objects.
        """
        problem = "no attempt made"
        for attempt in range(1, self.max_retries + 1):
            wait: float | None = None
            self.requests_made += 1
            try:
                resp = self._http.get(self.endpoint, params=dict(params))
            except httpx.TimeoutException:
                problem = f"timed out after {self.timeout:g} s"
            except httpx.TransportError as exc:  # refused, reset, dropped mid-body, ...
                problem = f"connection error ({type(exc).__name__}: {' '.join(str(exc).split())[:120]})"
            else:
                status = resp.status_code
                if status == 200:
                    try:
                        data = json.loads(resp.content)
                    except ValueError as exc:  # truncated or garbled body
                        problem = f"invalid JSON in the response ({exc})"
                    else:
                        return self._check_records(data)
                elif status == 429:
                    problem = "HTTP 429 Too Many Requests"
                    ra = _retry_after_seconds(resp.headers.get("Retry-After"))
                    if ra is not None:
                        wait = min(ra, self.retry_after_max)
                        problem += f" (Retry-After {resp.headers.get('Retry-After')})"
                elif status >= 500:
                    problem = f"HTTP {status} {resp.reason_phrase}".rstrip()
                else:
                    raise SyncError(
                        f"GET {self.endpoint} refused: HTTP {status}: {_error_message(resp)}"
                    )
            if attempt == self.max_retries:
                break
            self.retries += 1
            self._sleep(self.backoff(attempt) if wait is None else wait)
        raise SyncError(
            f"GET {self.endpoint} failed after {self.max_retries} attempts; last problem: {problem}"
        )

    def _check_records(self, data: Any) -> list[dict[str, Any]]:
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            what = type(data).__name__
            if isinstance(data, dict) and data.get("message"):
                what = f"an object: {' '.join(str(data['message']).split())[:160]}"
            raise SyncError(f"GET {self.endpoint} answered 200 with {what} instead of an array of records")
        return data
