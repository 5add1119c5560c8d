"""install-micropython: the UF2 goes to the one RPI-RP2 drive, with clear errors otherwise."""
from headroom import cli


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
