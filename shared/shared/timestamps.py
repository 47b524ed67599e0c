"""Times as the API takes them: RFC 3339 text (`2026-03-02T10:00:00Z`).

Pydantic also reads a number, or numeric text, as seconds since 1970: `until=0.5` would be a
time in 1970 rather than the error it is. These types take RFC 3339 text from callers, and
datetimes from Python callers (jobs, seeds, tests).
"""

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator

_RFC3339 = re.compile(r"^\s*\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _rfc3339_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError("must be an RFC 3339 date and time, such as 2026-03-02T10:00:00Z")
    return value


Timestamp = Annotated[datetime, BeforeValidator(_rfc3339_text)]
AwareTimestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)]
