"""The docs keep up with the code: the wiring tables are the ones the board files give,
every module is listed in its folder's README, every docs page is linked."""
import os
import re

import pytest

from headroom.sim.simboard import use_firmware
from headroom.wiring import markdown

use_firmware()
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_wiring_tables_match_board_files():
    from headroom_fw import board as boardfile
    readme = open(os.path.join(REPO, "docs", "hardware.md")).read()
    blocks = dict(re.findall(r"<!-- wiring:(\S+) -->\n(.*?)<!-- /wiring -->", readme, re.S))
    boards = sorted(f[:-5] for f in os.listdir(os.path.join(REPO, "boards")) if f.endswith(".json"))
    assert sorted(blocks) == boards, "docs/hardware.md must have one wiring table per board file"
    for name in boards:
        b = boardfile.load(os.path.join(REPO, "boards", name + ".json"))
        assert blocks[name] == markdown(b), (
            "docs/hardware.md's wiring table for %s is stale: paste `python -m headroom boards wiring "
            "boards/%s.json`" % (name, name))


def listed_paths(readme, roots):
    """The files a folder README's tables list, as paths from the repository's root.

    A table row's first cell names files in backticks: a path (`sim/scenario.py`)
    relative to one of `roots` (folders, from the repository's root), and after it, in
    the same cell, bare names in that path's folder (`sim/shims/machine.py`, `rp2.py`).
    Returns (the paths found, the names that are no file)."""
    found, missing = set(), []
    for line in open(os.path.join(REPO, readme)).read().splitlines():
        if not line.startswith("|"):
            continue
        cell = line.split("|")[1]
        folder = None
        for name in re.findall(r"`([^`]+\.py)`", cell):
            if "/" in name or folder is None:
                hits = [os.path.normpath(os.path.join(r, name)) for r in roots
                        if os.path.isfile(os.path.join(REPO, r, name))]
            else:
                hits = [os.path.join(folder, name)] if os.path.isfile(
                    os.path.join(REPO, folder, name)) else []
            if not hits:
                missing.append(name)
                continue
            found.add(hits[0])
            folder = os.path.dirname(hits[0])
    return found, missing


def _modules(folder, skip=("__init__.py",), walk=True):
    out = set()
    for root, _dirs, files in os.walk(os.path.join(REPO, folder)):
        out |= {os.path.relpath(os.path.join(root, f), REPO) for f in files
                if f.endswith(".py") and f not in skip}
        if not walk:
            break
    return out


FOLDERS = [  # README, the folders its paths are relative to, the modules it must list
    # manifest.py is the README's prose (how to freeze the package), not a module of the table
    ("firmware/README.md", ["firmware"], _modules("firmware") - {"firmware/manifest.py"}),
    ("host_tools/README.md", ["host_tools", "host_tools/headroom"],
     _modules("host_tools/headroom")),
    ("tests/README.md", ["tests"], _modules("tests", skip=("__init__.py",))),
]


@pytest.mark.parametrize("readme,roots,modules", FOLDERS, ids=[f[0] for f in FOLDERS])
def test_every_module_is_in_its_folders_readme_by_its_full_path(readme, roots, modules):
    """Each module by its own path (a base name found anywhere in the README, e.g.
    `console.py` of another folder, is not enough), and no row for a file that is gone."""
    found, missing = listed_paths(readme, roots)
    assert missing == [], "%s lists files that do not exist: %s" % (readme, missing)
    assert sorted(modules - found) == [], "%s has no row for these" % readme


def test_a_row_deleted_from_a_readme_is_noticed(tmp_path, monkeypatch):
    """The check itself: a README without the row of vboard/__main__.py (whose base name
    two other rows name, so the base-name check missed it) misses that file."""
    text = open(os.path.join(REPO, "host_tools/README.md")).read()
    row = [x for x in text.splitlines() if x.startswith("| `vboard/__main__.py`")]
    assert len(row) == 1
    (tmp_path / "README.md").write_text(text.replace(row[0] + "\n", ""))
    found, _ = listed_paths(str(tmp_path / "README.md"),
                            ["host_tools", "host_tools/headroom"])
    assert "host_tools/headroom/vboard/__main__.py" not in found
    assert "host_tools/headroom/rp2tier/__main__.py" in found


def _links(path):
    """The relative links of a markdown file, as paths from the repository's root."""
    text = open(os.path.join(REPO, path)).read()
    base = os.path.dirname(path)
    return {os.path.normpath(os.path.join(base, t.split("#")[0]))
            for t in re.findall(r"\]\(([^)\s]+)\)", text)
            if not re.match(r"[a-z]+:", t) and not t.startswith("#")}


def _docs_pages():
    return sorted(os.path.join("docs", f) for f in os.listdir(os.path.join(REPO, "docs"))
                  if f.endswith(".md") and f != "README.md")


def test_every_docs_page_is_linked_from_the_readme():
    assert sorted(set(_docs_pages()) - _links("README.md")) == []


@pytest.mark.parametrize("page", ["README.md", "docs/README.md"] + _docs_pages())
def test_every_link_goes_to_a_file_that_exists(page):
    assert sorted(p for p in _links(page) if not os.path.exists(os.path.join(REPO, p))) == []


def test_the_readme_is_read_in_one_sitting():
    """The README is the way in (what it is, quick start, using, building, the map);
    the rest lives in docs/, one page per subject."""
    assert len(open(os.path.join(REPO, "README.md")).read().splitlines()) <= 200
