"""Installing: install-micropython (the UF2 goes to the one RPI-RP2 drive, with clear
errors otherwise), and the host package itself (`pip install ./host_tools` outside the
checkout gives a working `headroom`).

The package's checks in `make test` are the fast ones: what the build ships covers every
file flash, uf2 and the simulator use, the declared dependencies' ranges hold the pins
of requirements.txt, one version for the firmware and the package. The real install into
a fresh venv (a minute or more: pip fetches the dependencies) runs in `make test-long`
(HEADROOM_LONG=1).
"""
import os
import subprocess
import sys
import tomllib

import pytest

from headroom import cli, mpy, paths

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST_TOOLS = os.path.join(REPO, "host_tools")


def uf2(tmp_path):
    p = tmp_path / "rp2-pico.uf2"
    p.write_bytes(b"UF2\n" + b"\x00" * 508)
    return p


def drive(root, name="RPI-RP2"):
    d = root / name
    d.mkdir(parents=True)
    (d / "INFO_UF2.TXT").write_text("UF2 Bootloader v3.0\nModel: Raspberry Pi RP2\nBoard-ID: RPI-RP2\n")
    return d


def test_copies_to_the_drive(tmp_path):
    f = uf2(tmp_path)
    d = drive(tmp_path / "media")
    assert cli.main(["install-micropython", "--uf2", str(f), "--drive", str(tmp_path / "media")]) == 0
    assert (d / "rp2-pico.uf2").read_bytes() == f.read_bytes()


def test_no_drive_is_a_clear_error(tmp_path, capsys):
    f = uf2(tmp_path)
    (tmp_path / "media").mkdir()
    assert cli.main(["install-micropython", "--uf2", str(f), "--drive", str(tmp_path / "media")]) == 3
    assert "hold BOOTSEL" in capsys.readouterr().err


def test_not_a_uf2_is_refused(tmp_path, capsys):
    p = tmp_path / "x.uf2"
    p.write_bytes(b"MZ....")
    drive(tmp_path / "media")
    assert cli.main(["install-micropython", "--uf2", str(p), "--drive", str(tmp_path / "media")]) == 2
    assert "not a UF2" in capsys.readouterr().err


def test_two_drives_are_refused(tmp_path, capsys):
    f = uf2(tmp_path)
    drive(tmp_path / "media", "A")
    drive(tmp_path / "media", "B")
    assert cli.main(["install-micropython", "--uf2", str(f), "--drive", str(tmp_path / "media")]) == 3
    assert "several" in capsys.readouterr().err


# ---- the host package

def shipped():
    return {rel for _src, rel in paths.shipped(REPO)}


def test_the_package_ships_every_file_flash_uf2_and_the_simulator_use():
    ship = shipped()
    for rel in mpy.sources(os.path.join(REPO, "firmware")):   # what flash and uf2 install
        assert os.path.join("firmware", rel) in ship, rel
    for rel in ("firmware/main.py", "firmware/boot.py", "firmware/manifest.py",
                "firmware/package.json", "firmware/headroom_fw/version.py"):
        assert rel in ship, rel
    boards = [f for f in os.listdir(os.path.join(REPO, "boards")) if f.endswith(".json")]
    assert boards and {os.path.join("boards", f) for f in boards} <= ship
    # `headroom sim`'s default script for every shipped board
    for f in boards:
        scn = os.path.join("scenarios", f[:-5] + ".scn")
        if os.path.exists(os.path.join(REPO, "tests", scn)):
            assert scn in ship
    assert not any("__pycache__" in rel or rel.endswith(".md") for rel in ship)


def test_in_the_checkout_the_lookup_gives_the_checkouts_folders():
    assert paths.in_checkout()
    assert paths.FIRMWARE_DIR == os.path.join(REPO, "firmware")
    assert paths.BOARDS_DIR == os.path.join(REPO, "boards")
    assert paths.SCENARIOS_DIR == os.path.join(REPO, "tests", "scenarios")
    assert not paths.in_checkout(os.path.join(REPO, "boards"))


def _pins():
    pins = {}
    for name in ("requirements.txt", "requirements-nodeps.txt"):
        with open(os.path.join(REPO, name)) as f:
            for line in f:
                line = line.split("#")[0].strip()
                if "==" in line:
                    n, v = line.split("==")
                    pins[n.lower().replace("_", "-")] = v
    return pins


def test_every_declared_dependency_is_pinned_inside_its_range():
    from packaging.requirements import Requirement
    with open(os.path.join(HOST_TOOLS, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)["project"]
    reqs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        reqs += extra
    pins = _pins()
    assert reqs
    for text in reqs:
        r = Requirement(text)
        name = r.name.lower().replace("_", "-")
        assert name in pins, "%s is declared but not pinned in requirements.txt" % r.name
        assert r.specifier.contains(pins[name], prereleases=True), (
            "%s==%s (requirements.txt) is outside %s (pyproject.toml)" % (name, pins[name], text))


def test_one_version_for_the_firmware_and_the_package():
    from importlib import metadata

    from headroom.firmware import pure
    version = pure("version").VERSION
    assert paths.firmware_version(REPO) == version
    # The installed metadata (make reinstalls when version.py changes: its STAMP rule).
    assert metadata.version("headroom") == version


def _venv_run(exe, *args, cwd, timeout=600):
    p = subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


@pytest.mark.skipif(not os.environ.get("HEADROOM_LONG"), reason="make test-long (HEADROOM_LONG=1): "
                    "pip fetches the dependencies into a fresh venv")
def test_pip_install_outside_the_checkout_gives_a_working_headroom():
    """`pip install ./host_tools` into a fresh venv, then `headroom` from a folder outside
    the checkout: sim, boards, boards check, headphones - with the firmware, boards and
    scenarios the package shipped, not the checkout's."""
    import tempfile
    with tempfile.TemporaryDirectory(prefix="headroom-install-") as tmp:   # outside the checkout
        _install_and_run(tmp)


def _install_and_run(tmp):
    venv = os.path.join(tmp, "venv")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=300)
    # pip builds a local folder where it is (in place), so ../firmware and ../boards are
    # beside setup.py for its build step.
    rc, out, err = _venv_run(os.path.join(venv, "bin", "pip"), "install", "-q", HOST_TOOLS,
                             cwd=tmp, timeout=1200)
    assert rc == 0, out + err
    headroom = os.path.join(venv, "bin", "headroom")
    away = os.path.join(tmp, "elsewhere")
    os.mkdir(away)
    rc, out, err = _venv_run(os.path.join(venv, "bin", "python"), "-c",
                             "import headroom.paths as p; print(p.FIRMWARE_DIR)", cwd=away)
    assert rc == 0 and out.strip() == os.path.join(
        venv, "lib", "python%d.%d" % sys.version_info[:2], "site-packages", "headroom", "_data",
        "firmware"), out + err
    se = os.path.join(REPO, "boards", "pico-se.json")
    rc, out, err = _venv_run(headroom, "boards", "check", se, cwd=away)
    assert rc == 0 and out == "%s: ok (pico-se, 1 PGA2311, outputs: se)\n" % se, out + err
    rc, out, err = _venv_run(headroom, "boards", cwd=away)
    assert rc == 0 and "pico-se.json" in out and "pico-balanced.json" in out, out + err
    rc, out, err = _venv_run(headroom, "sim", cwd=away, timeout=300)   # pico-se's own scenario
    assert rc == 0 and "0 expectations failed" in out, out + err
    rc, out, err = _venv_run(headroom, "headphones", "recommend", "HD 600", "--board", se, cwd=away)
    assert rc == 0 and "Sennheiser HD 600" in out, out + err
    rc, out, err = _venv_run(headroom, "headphones", "list", cwd=away)
    assert rc == 0 and "HD 600" in out, out + err
    rc, out, err = _venv_run(os.path.join(venv, "bin", "pip"), "show", "headroom", cwd=away)
    assert "Version: %s\n" % paths.firmware_version(REPO) in out, out


def test_pure_firmware_modules_import_without_the_simulators_shims():
    """The host's own uses of the firmware (board files, headphone sums, the protocol's
    names) import it as pure code: a const stand-in, no simulated machine."""
    code = """if True:
        import sys
        from headroom.firmware import pure
        from headroom import commands, headphones, readable
        for name in ("board", "volume", "controller", "protocol", "headphones", "settings",
                     "quadrature", "inputs", "jsonout"):
            pure(name)
        commands.load_board(%r)
        headphones.builtin()
        readable.state_line({"phase": "muting"})
        shims = sorted(m for m in sys.modules if m in ("machine", "rp2") or ".shims" in m
                       or m.startswith("headroom.sim.") and m != "headroom.sim.clock")
        print(shims, type(sys.modules["micropython"]).__name__, sys.modules["micropython"].__dict__.keys()
              - {"__name__", "__doc__", "__package__", "__loader__", "__spec__"})
    """ % os.path.join(REPO, "boards", "pico-se.json")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       cwd=REPO)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[] module {'const'}", p.stdout
