"""Packaging as the MicroPython world expects it: firmware/manifest.py (frozen into a custom
UF2 by MicroPython's build) read by MicroPython's own manifest parser, and
firmware/package.json (`mpremote mip install`) listing exactly what `headroom flash`
installs, installed for real on the virtual board."""
import json
import os
import subprocess
import sys

import pytest

from headroom import mpy

from helpers import SE

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FW = os.path.join(REPO, "firmware")


def version():
    from headroom_fw.version import VERSION
    return VERSION


def test_manifest_is_accepted_by_micropythons_manifest_parser(tmp_path):
    from stubber.tools import manifestfile
    port = tmp_path / "port"
    (port / "boards").mkdir(parents=True)
    (port / "boards" / "manifest.py").write_text("# the port's own frozen modules\n")
    m = manifestfile.ManifestFile(manifestfile.MODE_FREEZE, {
        "MPY_DIR": str(tmp_path), "MPY_LIB_DIR": str(tmp_path), "PORT_DIR": str(port),
        "BOARD_DIR": str(port)})
    m.execute(os.path.join(FW, "manifest.py"))
    frozen = sorted(f.target_path for f in m.files())
    modules = sorted(r for r in mpy.sources() if r.startswith("headroom_fw/"))
    assert frozen == modules  # every module of the package, nothing else
    assert {f.opt for f in m.files()} == {3}   # mpy-cross -O3: no asserts, no line numbers
    assert m.metadata().version == version()


def test_package_json_lists_exactly_what_flash_installs():
    with open(os.path.join(FW, "package.json")) as f:
        pkg = json.load(f)
    assert pkg == json.loads(mpy.package_json()), (
        "firmware/package.json is stale: run `make package`")
    assert pkg["version"] == version()
    from headroom.flash import board_files
    flashed = set(board_files(SE)) - {"board.json"}   # a board file is the user's own
    listed = {mpy.target(target) for target, _url in pkg["urls"]}
    assert listed == flashed
    for _target, url in pkg["urls"]:
        assert os.path.isfile(os.path.join(FW, url)), url


def test_the_board_files_are_not_the_build_tools_files():
    assert "manifest.py" not in mpy.sources()


def _frozen(tmp_path, manifest):
    from stubber.tools import manifestfile
    port = tmp_path / "port"
    (port / "boards").mkdir(parents=True, exist_ok=True)
    (port / "boards" / "manifest.py").write_text("# the port's own frozen modules\n")
    m = manifestfile.ManifestFile(manifestfile.MODE_FREEZE, {
        "MPY_DIR": str(tmp_path), "MPY_LIB_DIR": str(tmp_path), "PORT_DIR": str(port),
        "BOARD_DIR": str(port)})
    m.execute(manifest)
    return m


def test_test_signals_are_a_package_of_their_own_that_does_not_ship(tmp_path):
    """headroom_signals (test tones, WAV playback) has its own manifest.py, freezes and
    compiles, and is neither flashed nor listed for mip nor imported by the firmware."""
    sig = os.path.join(FW, "signals")
    m = _frozen(tmp_path, os.path.join(sig, "manifest.py"))
    frozen = sorted(f.target_path for f in m.files())
    assert frozen == ["headroom_signals/__init__.py", "headroom_signals/siggen.py",
                      "headroom_signals/wavplay.py"]
    assert m.metadata().version == version()
    for f in m.files():
        mpy.compile_one(f.target_path, f.full_path, str(tmp_path / "x.mpy"))
    shipped = mpy.sources()
    assert not [r for r in shipped if "signals" in r or "siggen" in r or "wavplay" in r]
    for rel, path in shipped.items():
        with open(path) as f:
            assert "headroom_signals" not in f.read(), rel


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the virtual board needs Linux")
def test_mip_install_of_package_json_gives_a_running_board(tmp_path):
    from test_vboard import VBoard, playing, status
    vb = VBoard(tmp_path / "mip.img")
    try:
        mpremote = os.path.join(os.path.dirname(sys.executable), "mpremote")
        p = subprocess.run([mpremote, "connect", vb.path, "mip", "install", "--target", "/",
                            os.path.join(FW, "package.json")], capture_output=True, text=True,
                           timeout=300)
        assert p.returncode == 0, p.stdout + p.stderr
        vb.mpremote("fs", "cp", SE, ":board.json", "+", "reset")
        s = status(vb, until=playing)
        assert s["volume"] == -30.0 and s["phase"] == "playing"
    finally:
        vb.stop()


def _fw_imports():
    """{module: set of headroom_fw modules it imports} for every module of the package,
    lazy imports inside functions included (they close a cycle just the same)."""
    import ast
    pkg = os.path.join(FW, "headroom_fw")
    mods = {f[:-3] for f in os.listdir(pkg) if f.endswith(".py") and f != "__init__.py"}
    graph = {}
    for m in mods:
        with open(os.path.join(pkg, m + ".py")) as f:
            tree = ast.parse(f.read())
        deps = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if node.level == 1 and node.module:
                    deps.add(node.module.split(".")[0])
                elif node.level == 1:
                    deps |= {a.name for a in node.names}
                elif node.module and node.module.startswith("headroom_fw."):
                    deps.add(node.module.split(".")[1])
                elif node.module == "headroom_fw":
                    deps |= {a.name for a in node.names}
            elif isinstance(node, ast.Import):
                deps |= {a.name.split(".")[1] for a in node.names
                         if a.name.startswith("headroom_fw.")}
        graph[m] = deps & mods
    return graph


def _cycle(graph):
    """A list of modules that import each other in a ring, or None."""
    state = {}

    def visit(m, path):
        state[m] = 1
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                return path[path.index(d):] + [d]
            if d not in state:
                found = visit(d, path + [d])
                if found:
                    return found
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m, [m])
            if found:
                return found
    return None


def test_the_firmware_has_no_import_cycles():
    graph = _fw_imports()
    assert graph["app"] >= {"hardware", "supervisor", "health"}   # the walk sees imports
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))
    # The check itself: app importing lifecycle back (as main() once did) is a cycle.
    graph["app"].add("lifecycle")
    assert _cycle(graph) is not None


PURE = ("volume", "controller", "settings", "protocol", "jsonout", "headphones", "quadrature",
        "inputs", "board")


def _touches_machine(m):
    import ast
    with open(os.path.join(FW, "headroom_fw", m + ".py")) as f:
        tree = ast.parse(f.read())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return bool(names & {"machine", "rp2"})


def test_the_pure_modules_reach_no_machine():
    """docs/architecture.md's pure layer: neither they nor anything they import (lazily
    too) touches `machine` or `rp2`, so they run on the host as they are."""
    graph = _fw_imports()
    for m in PURE:
        seen, todo = set(), [m]
        while todo:
            x = todo.pop()
            if x not in seen:
                seen.add(x)
                todo += graph[x]
        assert [x for x in sorted(seen) if _touches_machine(x)] == [], m
    assert _touches_machine("hardware")   # the check itself sees an import of machine


@pytest.mark.parametrize("name", sorted(f for f in os.listdir(os.path.join(REPO, "boards"))
                                        if f.endswith(".json")))
def test_main_preloads_exactly_what_each_boards_app_loads(name):
    """main.py imports the firmware a module at a time before the App (preload.py): every
    module the App loads at boot on that board is in its list, and nothing else (net.py
    aside: the simulator hands the App its own network)."""
    import json
    import sys

    from headroom.sim.simboard import SimBoard, _purge_firmware
    path = os.path.join(REPO, "boards", name)
    _purge_firmware()
    b = SimBoard(path)
    try:
        b.power(True)
        b.run_ms(3000)
        assert b.app is not None
        loaded = {m.split(".", 1)[1] for m in sys.modules if m.startswith("headroom_fw.")}
    finally:
        b.close()
    from headroom_fw import preload
    with open(path) as f:
        want = set(preload.modules(json.load(f)))
    assert loaded - {"preload", "menu"} <= want
    assert want - loaded <= {"net"}
