"""The README's wiring tables are the ones the board files give."""
import os
import re

from headroom.sim.simboard import use_firmware
from headroom.wiring import markdown

use_firmware()
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_readme_wiring_tables_match_board_files():
    from headroom_fw import board as boardfile
    readme = open(os.path.join(REPO, "README.md")).read()
    blocks = dict(re.findall(r"<!-- wiring:(\S+) -->\n(.*?)<!-- /wiring -->", readme, re.S))
    boards = sorted(f[:-5] for f in os.listdir(os.path.join(REPO, "boards")) if f.endswith(".json"))
    assert sorted(blocks) == boards, "README must have one wiring table per board file"
    for name in boards:
        b = boardfile.load(os.path.join(REPO, "boards", name + ".json"))
        assert blocks[name] == markdown(b), (
            "README wiring table for %s is stale: paste `python -m headroom boards wiring "
            "boards/%s.json`" % (name, name))


def _listed(readme, names):
    text = open(os.path.join(REPO, readme)).read()
    return [n for n in names if n not in text]


def test_every_module_is_in_its_folders_readme():
    fw = [f for f in os.listdir(os.path.join(REPO, "firmware", "headroom_fw"))
          if f.endswith(".py") and f != "__init__.py"]
    assert _listed("firmware/README.md", fw) == []
    host = []
    for _root, _dirs, files in os.walk(os.path.join(REPO, "host_tools", "headroom")):
        host += [f for f in files if f.endswith(".py") and f != "__init__.py"]
    assert _listed("host_tools/README.md", sorted(set(host))) == []
    tests = [f for f in os.listdir(os.path.join(REPO, "tests")) if f.endswith(".py")]
    assert _listed("tests/README.md", tests) == []
