"""Volume math: the user's absolute level (dBV at the jack) to PGA2311 codes.

Pure integer arithmetic, so it allocates nothing and gives the same answer on
every VM. Units: hdB = 0.5 dB (volume, balance, PGA steps), cdB = 0.01 dB (the
analog path, which need not sit on the 0.5 dB grid).

PGA2311: gain = 31.5 - 0.5 * (255 - N) dB for N = 1..255, N = 0 is mute,
so gain in hdB is N - 192.
"""
from micropython import const

PGA_MUTE = const(0)
PGA_MIN = const(1)
PGA_MAX = const(255)
_PGA_ZERO_DB = const(192)


def pga_code(level_hdb, path_cdb):
    """Code that gives at most `level_hdb` at the jack through `path_cdb`.

    Rounds down, so the output never exceeds the request (it is up to 0.5 dB
    below when the path is off the 0.5 dB grid). Below the PGA's range: mute,
    never a louder floor.
    """
    n = _PGA_ZERO_DB + (level_hdb * 50 - path_cdb) // 50
    if n < PGA_MIN:
        return PGA_MUTE
    if n > PGA_MAX:
        return PGA_MAX
    return n


def level_cdb(code, path_cdb):
    """Level at the jack in cdB re 1 V for a code (None when muted)."""
    if code == PGA_MUTE:
        return None
    return (code - _PGA_ZERO_DB) * 50 + path_cdb


def path_max_hdb(path_cdb, max_out_cdb):
    """Highest volume the path can give without exceeding the PGA or the output stage."""
    top = (path_cdb + (PGA_MAX - _PGA_ZERO_DB) * 50) // 50
    clip = max_out_cdb // 50
    return top if top < clip else clip


def path_floor_hdb(path_cdb):
    """Lowest volume the path can give unmuted (PGA code 1), rounded up to 0.5 dB."""
    return -((-(path_cdb + (PGA_MIN - _PGA_ZERO_DB) * 50)) // 50)


def channel_trim_hdb(channel, balance_hdb):
    """Attenuation of a user channel (0 left, 1 right) for a balance setting.

    Balance only ever attenuates the opposite side, so it cannot raise a level:
    positive balance favours the right channel.
    """
    if channel == 0:
        return -balance_hdb if balance_hdb > 0 else 0
    return balance_hdb if balance_hdb < 0 else 0


def fill_codes(codes, roles, level_hdb, balance_hdb, path_cdb):
    """Write the code of every PGA channel into the bytearray `codes` in place.

    `level_hdb` None means mute. `roles[i]` is the user channel of PGA channel i.
    """
    for i in range(len(roles)):
        if level_hdb is None:
            codes[i] = PGA_MUTE
        else:
            codes[i] = pga_code(level_hdb + channel_trim_hdb(roles[i], balance_hdb), path_cdb)
