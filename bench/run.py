#!/usr/bin/env python3
"""Benchmark the sales funnel views against stock Odoo and full-scan SQL.

Usage:

    python3 bench/run.py -c /tmp/odoo.conf --dbname bn_100k --runs 7

Every measurement is a small function registered with ``harness.measure``. It
runs ``--runs`` times after one warm-up run (warm: the ORM caches of the
registry are filled, the record cache is emptied before each run as a new
request would find it), and is printed beside its baseline, measured in the
same run on the same data: the stock Odoo view (the web client's own RPCs,
with the stock arch) or a hand-written full-scan SQL.

Layout:

* ``harness.py``: registration, timing, memory, printing, this command line;
* ``webclient.py``: the RPCs the web client sends (pivot, kanban, list
  export), built from the views as its JavaScript does;
* ``measurements/``: the groups, in the order of the printed rows:

  - ``forecast.py``: ``read_group`` of expected and weighted revenue by stage
    × expected closing month over open opportunities, as the web pivot does
    it (one call; and the full load: the four calls of the pivot's headers);
    the Forecast Details report; the Funnel Forecast pivot;
  - ``dashboard.py``: the funnel dashboard, whole and figures only;
  - ``history.py``: the stage conversion table and the pipeline as of a
    date, read from the stage history;
  - ``kanban.py``: the pipeline kanban, all columns: ``web_read_group`` with
    the kanban's aggregates, ``read_progress_bar``, the columns' header
    records and ``web_search_read`` of the first 40 cards of every column,
    with the kanban's field specification, as the admin (no filter) and as a
    salesperson (the default "My Pipeline" filter); the stock baseline uses
    the stock arch, Odoo's own ``read_progress_bar`` and runs without the
    addon's indexes (dropped in a savepoint, rolled back); the Stuck filter;
  - ``stage_change.py``: one stage change through the real gate, in time and
    SQL queries (write + flush + the pre-commit tracking; in a savepoint that
    is rolled back);
  - ``export.py``: an XLSX export of up to 100,000 opportunities (time, peak
    RSS of the process: the server worker's memory, registry included).
"""

import sys

import measurements  # noqa: F401 (registers the measurements)
from harness import main

if __name__ == "__main__":
    sys.exit(main(__doc__.split("\n\n")[0]))
