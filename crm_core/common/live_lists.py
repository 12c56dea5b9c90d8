"""When a live list fetches its rows again (static/js/live.js, "Lists").

A row on the page follows its record through the stream's fragments. What the stream cannot know
is whether a record belongs on this user's page at all: that depends on the filters, the sort
and the position the user chose. The page asks the server again when it might have changed:

* ``any``: on every event of its records, when the list is filtered or sorted by something that
  changes (a status, a visit's time): a change may bring a row in or take one out;
* ``created``: on a new record whose row is not on the page, when the page is where new records
  go (the first page, newest first);
* ``""``: never; the page keeps its rows, and a resync fetches it as it does every list.
"""

from __future__ import annotations

REFETCH_ANY = "any"
REFETCH_CREATED = "created"
REFETCH_NONE = ""


def list_refetch(*, filtered: bool, fixed_order: bool, takes_new_rows: bool) -> str:
    """``fixed_order``: the list is sorted by values its records never change (a number, when
    they were created); ``takes_new_rows``: a new record may land on this page."""
    if filtered or not fixed_order:
        return REFETCH_ANY
    return REFETCH_CREATED if takes_new_rows else REFETCH_NONE
