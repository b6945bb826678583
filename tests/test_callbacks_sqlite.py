"""Callback arguments by value with a real library that streams rows: sqlite3_exec of the
sqlite library that the server's Python carries. On Linux, the i386 libsqlite3 of the
provisioned interpreter, and the Windows Python's sqlite3.dll under Wine; in the Windows
suite (tests/test_windows_suite.py), the sqlite3.dll beside its python.exe."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

LIBRARIES = ["the server's own"] + ([] if sys.platform == "win32" else ["sqlite3.dll under Wine"])


@pytest.mark.parametrize("library", LIBRARIES)
def test_rows_of_sqlite_reach_the_callback_as_lists_that_outlive_the_bridge(library):
    from bridges import Sqlite

    database = Sqlite
    if library == "sqlite3.dll under Wine":
        from wine_tools import windows_python

        database = Sqlite.configure(library=str(Path(windows_python()).parent / "sqlite3.dll"))
    rows = []
    with database() as db:
        db.execute("create table t (id integer, name text, score real)")
        db.execute("insert into t values (1, 'one', 1.5), (2, 'two', null), (3, 'three', 3.25)")
        db.execute("select * from t order by id", rows.append)
        stopped = []
        db.execute("select * from t", lambda row: stopped.append(row) or True)
        assert len(stopped) == 1
        with pytest.raises(RuntimeError, match="no such table: missing"):
            db.execute("select * from missing")
    assert rows == [[b"1", b"one", b"1.5"], [b"2", b"two", None], [b"3", b"three", b"3.25"]]
    assert all(type(row) is list for row in rows)
