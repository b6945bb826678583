"""Callback arguments by value with a real library that streams rows: sqlite3_exec of the
i386 libsqlite3 that the provisioned Linux interpreter carries. (Not in the Windows suite
of tests/test_windows_suite.py, which runs tests/test_callbacks.py under Wine: the
library is the Linux one.)"""

from __future__ import annotations

import pytest


def test_rows_of_sqlite_reach_the_callback_as_lists_that_outlive_the_bridge():
    from bridges import Sqlite

    rows = []
    with Sqlite() as db:
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
