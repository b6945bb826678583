"""MkDocs hook: the site carries everything it loads, so that it works opened from disk
(``file://``) on a machine with no network, as a lab PC is.

- mermaid (the diagrams) and iframe-worker (Material's search worker from ``file://``)
  come from the npm registry, pinned by ``docs/package-lock.json`` and installed into
  ``build/docs-deps`` by ``make docs``; this hook copies the two files the site needs
  into it. Material loads mermaid from a CDN only when no ``mermaid`` global exists, and
  the offline plugin adds iframe-worker from a CDN only when no polyfill names it: the
  local copies (``extra_javascript`` and ``extra.polyfills`` in mkdocs.yml) stop both.
- Python's own inventory (``objects.inv``, for links to docs.python.org) comes from
  Debian's ``python3.X-doc``, unpacked by ``make docs`` too: the build fetches nothing.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

DEPS = Path(__file__).resolve().parents[2] / "build" / "docs-deps"
#: Where each file goes in the site, and where it is in build/docs-deps.
ASSETS = {
    "assets/vendor/mermaid.min.js": "node_modules/mermaid/dist/mermaid.min.js",
    "assets/vendor/iframe-worker/shim.js": "node_modules/iframe-worker/shim/index.js",
}
PYTHON_INVENTORY = DEPS / "python-objects.inv"
PYTHON_DOCS = "https://docs.python.org/3/"


@event_priority(100)  # before mkdocstrings reads its inventories
def on_config(config: MkDocsConfig) -> MkDocsConfig:
    needed = [DEPS / source for source in ASSETS.values()] + [PYTHON_INVENTORY]
    missing = [str(path) for path in needed if not path.is_file()]
    if missing:
        raise PluginError(
            f"the site's offline assets are missing ({', '.join(missing)}): "
            "run `make docs`, which installs them into build/docs-deps"
        )
    python = config.plugins["mkdocstrings"].config["handlers"].setdefault("python", {})
    python.setdefault("inventories", []).append(
        {"url": PYTHON_INVENTORY.as_uri(), "base_url": PYTHON_DOCS}
    )
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    for target, source in ASSETS.items():
        files.append(File.generated(config, target, abs_src_path=str(DEPS / source)))
    return files
