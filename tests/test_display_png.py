"""`headroom sim --display-png DIR`: the display as lit at every expectation, and its refusals."""
import os
import zlib

from headroom import cli

from helpers import SE, no_display


def _script(tmp_path):
    path = tmp_path / "s.scn"
    path.write_text("power on\nwait 3000\nexpect volume -30\nturn +4\nwait 300\nexpect volume -28\n")
    return str(path)


def _pixels(path):
    """The lit pixels' count in one of the model's PNGs (8-bit RGB, filter 0 rows)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    idat = b""
    i = 8
    while i < len(data):
        n = int.from_bytes(data[i:i + 4], "big")
        kind = data[i + 4:i + 8]
        if kind == b"IDAT":
            idat += data[i + 8:i + 8 + n]
        i += 12 + n
    raw = zlib.decompress(idat)
    return sum(1 for b in raw if b)


def test_a_png_at_every_expectation(tmp_path):
    out = tmp_path / "png"
    out.mkdir()
    assert cli.main(["sim", "--board", SE, "--script", _script(tmp_path),
                     "--display-png", str(out)]) == 0
    files = sorted(os.listdir(out))
    assert files == ["001-line-3.png", "002-line-6.png"]
    a, b = (_pixels(os.path.join(out, f)) for f in files)
    assert a > 0 and b > 0 and a != b    # lit, and the level changed between them


def test_display_png_refuses_a_missing_folder_and_a_board_without_a_display(tmp_path, capsys):
    script = _script(tmp_path)
    assert cli.main(["sim", "--board", SE, "--script", script,
                     "--display-png", str(tmp_path / "nope")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert cli.main(["sim", "--board", no_display(SE), "--script", script,
                     "--display-png", str(tmp_path)]) == 2
    assert "has no display section" in capsys.readouterr().err
    assert os.listdir(tmp_path) == ["s.scn"]
