"""A bridge class defined in a notebook cell runs: a real Jupyter kernel (ipykernel, run by
nbclient) executes a notebook built here, against the 32-bit C++ example library; and a
class of ``python -c``, whose source Python keeps nowhere, fails with a clear error."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbclient
import nbformat
import pytest
from bridges import CPP_FOLDER

KERNEL = "bitbridge-test-venv"

CELLS = {
    "imports": """
        import ctypes
        import os
        import sys
        import numpy as np
        from bitbridge import Bridge, StartError, c_callback, remote32, server_info

        print(sys.executable)
    """,
    "constants": """
        SCALE = 2.5
        OFFSET = 10
    """,
    "helper": """
        def scaled(x):
            return SCALE * x
    """,
    "types": """
        class Pair(ctypes.Structure):
            _fields_ = [("a", ctypes.c_int32), ("b", ctypes.c_int32)]

        class Point(ctypes.Structure):
            _fields_ = [("x", ctypes.c_double), ("y", ctypes.c_double)]

        Progress = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_int)
    """,
    "bridge": """
        class CellBridge(Bridge):
            library = "cpp_lib32"  # relative: looked up in the kernel's working directory

            def __init__(self):
                self.lib.add.argtypes = [ctypes.c_int32, ctypes.c_int32]
                self.lib.run_with_progress.argtypes = [ctypes.c_int, Progress]

            @remote32
            def add_scaled(self, a, b):
                return scaled(self.lib.add(a, b)) + self._offset()

            def _offset(self):
                # Not decorated, but called by a remote method: runs in the server too.
                return OFFSET

            @remote32
            def pointer_size(self):
                return ctypes.sizeof(ctypes.c_void_p)

            @remote32(copy=True)
            def swap(self, pair):
                return Pair(pair.b, pair.a)

            @remote32
            def norm(self, point: Point) -> float:  # Point: named by the annotation only
                return (point.x**2 + point.y**2) ** 0.5

            @remote32
            def run(self, steps, progress):
                with c_callback(Progress, progress) as c_progress:
                    return self.lib.run_with_progress(steps, c_progress)

            @remote32
            def fail(self):
                raise ValueError("raised in the server")

            def as_array(self, values):
                # Runs in the client: numpy (which the 32-bit server lacks) is not sent.
                return np.asarray(values)
    """,
    "use": """
        seen = []
        with CellBridge.configure(timeout=30)() as bridge:
            print("sum", bridge.add_scaled(1, 2))
            print("pointer", bridge.pointer_size(), server_info(bridge).bits)
            swapped = bridge.swap(Pair(1, 2))
            print("swapped", type(swapped) is Pair, swapped.a, swapped.b)
            print("norm", bridge.norm(Point(3, 4)))
            print("steps", bridge.run(3, lambda done, total: seen.append(done)), seen)
            print("array", bridge.as_array([1, 2]).dtype)
            try:
                bridge.fail()
            except ValueError as exc:
                print("traceback shows the line", 'raise ValueError("raised' in str(exc))
    """,
    "unsendable": """
        LOG = open(os.devnull, "w")

        class Logging(Bridge):
            libtype = None

            @remote32
            def log(self, text):
                LOG.write(text)

        try:
            Logging()
        except StartError as exc:
            print(exc)
    """,
    # Last: a __future__ import in a cell holds for the cells after it.
    "future": "from __future__ import annotations",
    "annotated": """
        class Annotated(Bridge):
            libtype = None

            @remote32
            def total(self, values: np.ndarray) -> float:  # a string: numpy is not sent
                return float(sum(values))

        with Annotated() as annotated:
            print("total", annotated.total([1.0, 2.5]))
    """,
}


@pytest.fixture
def kernel_spec(tmp_path, monkeypatch):
    """A kernel spec of this test's own Python, found before any other on the machine."""
    folder = tmp_path / "jupyter" / "kernels" / KERNEL
    folder.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "bitbridge tests",
        "language": "python",
    }
    (folder / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return KERNEL


def run_notebook(cells: dict[str, str], workdir: Path, kernel: str) -> dict[str, str]:
    """Execute the cells in a fresh kernel started in ``workdir``; return each one's output."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(textwrap.dedent(c)) for c in cells.values()]
    client = nbclient.NotebookClient(
        notebook, kernel_name=kernel, timeout=50, resources={"metadata": {"path": str(workdir)}}
    )
    client.execute()
    return {
        name: "".join(output.get("text", "") for output in cell.outputs)
        for name, cell in zip(cells, notebook.cells, strict=True)
    }


@pytest.mark.timeout(120)
def test_a_class_of_a_notebook_cell_runs_with_what_earlier_cells_defined(tmp_path, kernel_spec):
    workdir = tmp_path / "notebook"
    workdir.mkdir()
    shutil.copy2(Path(CPP_FOLDER) / "cpp_lib32.so", workdir)
    outputs = run_notebook(CELLS, workdir, kernel_spec)

    assert outputs["imports"] == f"{sys.executable}\n"  # the kernel of this test's venv
    lines = outputs["use"].splitlines()
    assert lines == [
        "sum 17.5",
        "pointer 4 32",
        "swapped True 2 1",
        "norm 5.0",
        "steps 3 [1, 2, 3]",
        "array int64",
        "traceback shows the line True",
    ], outputs["use"]
    error = outputs["unsendable"]
    assert "Logging uses names of '__main__' that cannot be sent" in error
    assert "LOG (a _io.TextIOWrapper, assigned in In[7]), used by Logging" in error
    assert "as an argument" in error
    assert outputs["annotated"] == "total 3.5\n"


def test_a_class_of_python_dash_c_runs_or_says_where_to_put_it():
    """Python 3.13 keeps the source of ``python -c`` (linecache's ``<string>``); older ones
    do not, and the bridge says what to do instead."""
    code = textwrap.dedent("""
        import struct
        from bitbridge import Bridge, remote32

        class Inline(Bridge):
            libtype = None

            @remote32
            def pointer_size(self):
                return struct.calcsize("P")

        with Inline() as inline:
            print("pointer size", inline.pointer_size())
    """)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    if sys.version_info >= (3, 13):
        assert result.returncode == 0, result.stderr
        assert result.stdout == "pointer size 4\n"
        return
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("bitbridge.errors.StartError: Inline is defined in '__main__', whose")
    assert "python -c or the interactive prompt of Python 3.12 and older" in last
    assert "Put the class in a .py file and import it" in last
