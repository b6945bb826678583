"""Every code block of the documentation (docs/pages/**/*.md) runs, for real.

The convention, for whoever writes a page:

- A block fenced as ```python is a complete script. It is run here, each block on its own,
  as a file executed by ``sys.executable`` (the repository as its working directory), and
  must exit with status 0. A bridge class has to live in a file, because the 32-bit server
  imports the module that defines it by file path; so each block is written to a ``.py``
  file in a folder that holds a copy of every example module and library
  (``examples/*/*.py``, ``*.so``, ``*.dll``), as a user's script sits next to the bridge
  module and the library it uses. A block can thus ``from cpp import Cpp`` or define its
  own class with ``library = "cpp_lib32"``, and the server finds both (the server's
  ``sys.path`` holds the folder of the defining module, never the client's PYTHONPATH).
- A block whose first line names its file (``# mylib.py, next to cpp_lib32.so``) is also
  written under that name, before any block runs, so that a later block can import it as
  the user would (``from mylib import MyLib``).
- A block fenced as ```py is shown but not run: a fragment (a method out of its class) or
  Windows-only code. It is still compiled here, so that it stays valid Python; keep such
  blocks few.
- Other fences (```console, ```text, ```toml, ```mermaid ...) are not Python and are left
  alone.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PAGES = REPO / "docs" / "pages"
EXAMPLES = REPO / "examples"
BLOCK_TIMEOUT = 50  # seconds; under pytest's own limit of 60

NAMED = re.compile(r"# (?P<module>[A-Za-z_]\w*)\.py\b")
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)$")


@dataclass(frozen=True)
class Block:
    page: str  # relative to docs/pages
    line: int  # of the opening fence, 1-based
    language: str
    code: str

    @property
    def name(self) -> str:
        return f"{self.page}:{self.line}"


def blocks_of(page: Path) -> list[Block]:
    """The fenced code blocks of a Markdown page (indented ones too, e.g. in admonitions)."""
    found: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        info = opening["info"].strip()
        body: list[str] = []
        j = i + 1
        while j < len(lines) and lines[j].strip() != fence:
            line = lines[j]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            j += 1
        language = info.split()[0].lstrip(".{") if info else ""
        found.append(Block(str(page.relative_to(PAGES)), i + 1, language, "\n".join(body) + "\n"))
        i = j + 1
    return found


ALL_BLOCKS = [block for page in sorted(PAGES.rglob("*.md")) for block in blocks_of(page)]
RUN = [block for block in ALL_BLOCKS if block.language == "python"]
SHOWN_ONLY = [block for block in ALL_BLOCKS if block.language == "py"]


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the example modules and libraries, where the blocks' files go."""
    folder = tmp_path_factory.mktemp("docs")
    for pattern in ("*/*.py", "*/*.so", "*/*.dll"):
        for file in EXAMPLES.glob(pattern):
            shutil.copy2(file, folder / file.name)
    for block in RUN:
        if named := NAMED.match(block.code):
            (folder / f"{named['module']}.py").write_text(block.code, encoding="utf-8")
    return folder


def test_the_docs_have_runnable_blocks() -> None:
    assert len(RUN) >= 20, f"only {len(RUN)} ```python blocks found under {PAGES}"


@pytest.mark.parametrize("block", RUN, ids=[block.name for block in RUN])
def test_block_runs(block: Block, workdir: Path) -> None:
    stem = re.sub(r"\W", "_", f"doc_{block.page.removesuffix('.md')}_{block.line}")
    script = workdir / f"{stem}.py"
    script.write_text(block.code, encoding="utf-8")
    try:
        result = subprocess.run(
            [sys.executable, str(script)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=BLOCK_TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{block.name}: still running after {BLOCK_TIMEOUT} s\n{exc.stdout or ''}")
    assert result.returncode == 0, (
        f"the block at docs/pages/{block.name} exited with {result.returncode}\n"
        f"--- code\n{block.code}--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
    )


@pytest.mark.parametrize("block", SHOWN_ONLY, ids=[block.name for block in SHOWN_ONLY])
def test_block_shown_only_is_valid_python(block: Block) -> None:
    compile(block.code, block.name, "exec")
