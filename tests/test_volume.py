"""PGA2311 code math (headroom_fw.volume).

The reference below is written from the datasheet, independently of the
firmware: gain = 31.5 - 0.5 * (255 - N) dB for N = 1..255, N = 0 is mute.
Levels are in cdB (0.01 dB) re 1 V, volumes in hdB (0.5 dB).
"""
from hypothesis import given
from hypothesis import strategies as st

from headroom_fw.volume import (
    PGA_MAX,
    PGA_MIN,
    PGA_MUTE,
    channel_trim_hdb,
    fill_codes,
    level_cdb,
    path_floor_hdb,
    path_max_hdb,
    pga_code,
)

# Analog paths (gain from a 0 dB PGA setting to the jack) a board can plausibly have:
# -20 dB .. +60 dB, deliberately including values off the 0.5 dB grid.
PATHS = st.integers(min_value=-2000, max_value=6000)
VOLUMES = st.integers(min_value=-400, max_value=300)   # -200 dB .. +150 dB in hdB
CODES = range(PGA_MIN, PGA_MAX + 1)


def ref_gain_cdb(n):
    """Datasheet gain of code n (1..255) in cdB: 31.5 - 0.5 * (255 - N) dB."""
    return 3150 - 50 * (255 - n)


def ref_code(level_hdb, path_cdb):
    """Brute force: the loudest code whose jack level does not exceed the request."""
    for n in reversed(CODES):
        if ref_gain_cdb(n) + path_cdb <= level_hdb * 50:
            return n
    return PGA_MUTE


def test_constants_match_datasheet():
    assert (PGA_MUTE, PGA_MIN, PGA_MAX) == (0, 1, 255)


def test_level_cdb_matches_datasheet_formula():
    for path in (-1234, 0, 644, 1844, 2444):
        assert level_cdb(PGA_MUTE, path) is None
        for n in CODES:
            assert level_cdb(n, path) == ref_gain_cdb(n) + path
    # Spot values straight from the datasheet: N=255 is +31.5 dB, N=192 is 0 dB,
    # N=1 is -95.5 dB.
    assert level_cdb(255, 0) == 3150
    assert level_cdb(192, 0) == 0
    assert level_cdb(1, 0) == -9550


@given(VOLUMES, PATHS)
def test_pga_code_never_louder_than_request(v, p):
    n = pga_code(v, p)
    assert PGA_MUTE <= n <= PGA_MAX
    if n != PGA_MUTE:
        assert level_cdb(n, p) <= v * 50


@given(VOLUMES, PATHS)
def test_pga_code_within_half_db_inside_range(v, p):
    n = pga_code(v, p)
    lo, hi = level_cdb(PGA_MIN, p), level_cdb(PGA_MAX, p)
    if lo <= v * 50 < hi + 50:
        # Reachable without clamping: at most 0.5 dB (50 cdB) below the request.
        assert n != PGA_MUTE
        assert 0 <= v * 50 - level_cdb(n, p) < 50


@given(VOLUMES, PATHS)
def test_pga_code_mutes_below_range_and_clamps_above(v, p):
    n = pga_code(v, p)
    if v * 50 < level_cdb(PGA_MIN, p):
        # Below the quietest code: mute, never a (louder) floor.
        assert n == PGA_MUTE
    else:
        assert n != PGA_MUTE
    if v * 50 >= level_cdb(PGA_MAX, p):
        assert n == PGA_MAX


def test_pga_code_matches_brute_force_exhaustively():
    # Every residue of the path modulo 50 cdB (on and off the grid), every volume
    # from far below the floor to far above the top of the range.
    for p in list(range(600, 651)) + [-1000, 0, 1844, 2444]:
        for v in range(-200, 90):
            assert pga_code(v, p) == ref_code(v, p), (v, p)


def test_pga_code_spot_values():
    # 2.1 Vrms DAC (6.44 dBV), low gain: -30 dBV needs -36.44 dB of PGA gain,
    # rounded down to -36.5 dB: N = 255 - 2 * (31.5 + 36.5) = 119.
    assert pga_code(-60, 644) == 119
    assert level_cdb(119, 644) == -3006
    # On-grid path (6.00 dBV): exact, -36 dB of PGA gain is N = 192 - 72.
    assert pga_code(-60, 600) == 192 - 72
    assert level_cdb(pga_code(-60, 600), 600) == -3000
    # Far above: clamps at the top code; far below: mute.
    assert pga_code(200, 644) == 255
    assert pga_code(-400, 644) == 0


def ref_path_max(p, max_out):
    best = None
    for v in range(-400, 400):
        if v * 50 <= ref_gain_cdb(PGA_MAX) + p and v * 50 <= max_out:
            best = v
    return best


def ref_path_floor(p):
    for v in range(-400, 400):
        if v * 50 >= ref_gain_cdb(PGA_MIN) + p:
            return v
    raise AssertionError("no floor")


@given(st.integers(min_value=-2000, max_value=4000), st.integers(min_value=-4000, max_value=4000))
def test_path_max_hdb_brute_force(p, max_out):
    top = path_max_hdb(p, max_out)
    assert top == ref_path_max(p, max_out)
    # The top volume is really reachable without exceeding the output stage
    # and without being clamped by the PGA.
    assert top * 50 <= max_out
    n = pga_code(top, p)
    if top * 50 >= level_cdb(PGA_MIN, p):
        assert level_cdb(n, p) <= top * 50


def test_path_max_hdb_exhaustive_residues():
    for p in range(600, 700):
        for max_out in (-1001, -50, 0, 1, 49, 1600, 2200, 3799, 3800, 5000):
            assert path_max_hdb(p, max_out) == ref_path_max(p, max_out), (p, max_out)


@given(PATHS)
def test_path_floor_hdb_brute_force(p):
    f = path_floor_hdb(p)
    assert f == ref_path_floor(p)
    # The floor plays (code >= 1), half a dB below it is muted.
    assert pga_code(f, p) != PGA_MUTE
    assert pga_code(f - 1, p) == PGA_MUTE


def test_path_floor_hdb_exhaustive_residues():
    for p in range(-100, 100):
        assert path_floor_hdb(p) == ref_path_floor(p), p
    # 6.44 dBV path: code 1 gives -95.5 + 6.44 = -89.06 dBV, rounded up to -89.0.
    assert path_floor_hdb(644) == -178


@given(st.integers(min_value=-40, max_value=40))
def test_channel_trim_only_attenuates(balance):
    left, right = channel_trim_hdb(0, balance), channel_trim_hdb(1, balance)
    assert left <= 0 and right <= 0
    # Only the side away from which the balance leans is trimmed, by the full amount.
    if balance > 0:      # favours the right: attenuate left
        assert (left, right) == (-balance, 0)
    elif balance < 0:    # favours the left: attenuate right
        assert (left, right) == (0, balance)
    else:
        assert (left, right) == (0, 0)


ROLES = st.sampled_from([[0, 1], [0, 1, 0, 1], [1, 0], [1, 0, 1, 0]])


@given(ROLES, st.integers(min_value=-200, max_value=60), st.integers(min_value=-20, max_value=20),
       st.integers(min_value=0, max_value=2500))
def test_fill_codes_roles_and_balance(roles, level, balance, p):
    codes = bytearray(b"\xaa" * len(roles))
    buf = codes
    fill_codes(codes, roles, level, balance, p)
    assert codes is buf and len(codes) == len(roles)
    for i, role in enumerate(roles):
        # Each PGA channel gets the code of its user channel, trimmed by balance.
        want = pga_code(level - (balance if role == 0 and balance > 0 else 0)
                        + (balance if role == 1 and balance < 0 else 0), p)
        assert codes[i] == want, (i, role)
        # Balance never raises a channel above the unbalanced code.
        assert codes[i] <= pga_code(level, p)
    left = [codes[i] for i, r in enumerate(roles) if r == 0]
    right = [codes[i] for i, r in enumerate(roles) if r == 1]
    assert len(set(left)) == 1 and len(set(right)) == 1   # legs of a channel agree
    if balance > 0:
        assert left[0] <= right[0]
        assert right[0] == pga_code(level, p)
    elif balance < 0:
        assert right[0] <= left[0]
        assert left[0] == pga_code(level, p)
    else:
        assert left[0] == right[0]


def test_fill_codes_positive_balance_attenuates_left_concretely():
    codes = bytearray(4)
    fill_codes(codes, [0, 1, 0, 1], -60, 6, 600)   # +3 dB balance towards the right
    # On-grid path: the right channel plays exactly -30 dBV, the left 3 dB less.
    assert level_cdb(codes[1], 600) == -3000 and level_cdb(codes[3], 600) == -3000
    assert level_cdb(codes[0], 600) == -3300 and level_cdb(codes[2], 600) == -3300


def test_fill_codes_mute():
    codes = bytearray(b"\x10\x20\x30\x40")
    fill_codes(codes, [0, 1, 0, 1], None, 10, 644)
    assert codes == bytearray(4)
