"""Board files: parsing and validation (headroom_fw.board)."""
import json
import math

import pytest

from headroom_fw import board as boardfile
from headroom_fw.board import BoardError, spi_pin_role

from helpers import BALANCED, SE, bal, se


def put(d, path, value):
    """Set a dotted field ('relays.mute.pin') in a board dict; returns the dict."""
    *parents, last = path.split(".")
    for p in parents:
        d = d[p]
    d[last] = value


def drop(d, path):
    *parents, last = path.split(".")
    for p in parents:
        d = d[p]
    del d[last]


def get(d, path):
    for p in path.split("."):
        d = d[p]
    return d


def fails(d, *names):
    """Parsing `d` raises BoardError whose message names every one of `names`."""
    with pytest.raises(BoardError) as e:
        boardfile.parse(d)
    msg = str(e.value)
    for n in names:
        assert n in msg, "%r not in %r" % (n, msg)
    return msg


# ---------------------------------------------------------------- shipped boards

def test_se_board_facts():
    b = boardfile.load(SE)
    assert b.name == "pico-se"
    # 20 * log10(2.1) = 6.444 dB -> 644 cdB.
    assert b.dac_cdb == 644 == round(2000 * math.log10(2.1))
    assert b.gain_cdb == (0, 1200)
    assert b.balanced_cdb == 600
    assert b.outputs == (boardfile.OUTPUT_SE,)
    assert b.pga_roles == [0, 1] and b.pga_legs == [1, 1]
    assert b.output_relay is None and b.output_switch is None
    assert b.gain_relay.pin == 15 and b.mute_relay.pin == 14
    assert b.mute_relay.active_high is True
    assert (b.mute_relay.operate_ms, b.mute_relay.release_ms) == (5, 3)
    assert (b.spi_id, b.spi_sck, b.spi_mosi, b.spi_miso) == (0, 18, 19, 16)
    assert (b.pga_cs, b.pga_mute, b.pga_zcen) == (17, 20, 21)
    assert (b.enc_a, b.enc_b, b.edges_per_detent, b.button) == (10, 11, 4, 12)
    assert b.power_sense == 22 and b.holdup_ms == 20
    # Volumes in hdB (0.5 dB), times in ms.
    assert (b.default_hdb, b.limit_hdb, b.startup_max_hdb, b.min_hdb) == (-60, 12, -40, -160)
    assert (b.settle_ms, b.relay_settle_ms, b.ramp_step_hdb, b.ramp_interval_ms) == (1500, 10, 4, 20)
    assert b.max_out_cdb[boardfile.OUTPUT_SE] == 1600
    assert b.path_cdb(boardfile.GAIN_LOW, boardfile.OUTPUT_SE) == 644
    assert b.path_cdb(boardfile.GAIN_HIGH, boardfile.OUTPUT_SE) == 1844
    # Every used pin once, named by its field.
    assert b.pins() == {18: "spi.sck", 19: "spi.mosi", 16: "spi.miso", 17: "pga2311.cs",
                        20: "pga2311.mute", 21: "pga2311.zcen", 10: "encoder.a",
                        11: "encoder.b", 12: "button.pin", 13: "gain_switch.pin",
                        22: "power_sense.pin", 14: "relays.mute.pin", 15: "relays.gain.pin",
                        26: "i2s.sck", 27: "i2s.ws", 28: "i2s.sd", 7: "dac.xsmt",
                        4: "display.i2c.sda", 5: "display.i2c.scl", 2: "ir.pin",
                        1: "trigger.pin"}
    assert (b.dac, b.i2s_rate, b.i2s_bits, b.dac_mute_ms) == ("pcm5102a", 48000, 32, 4)


def test_balanced_board_facts():
    b = boardfile.load(BALANCED)
    assert b.name == "pico-balanced"
    assert b.dac_cdb == 644
    # Two chips: four PGA channels, hot legs then cold legs.
    assert len(b.pga_roles) == 4
    assert b.pga_roles == [0, 1, 0, 1] and b.pga_legs == [1, 1, -1, -1]
    assert b.outputs == (boardfile.OUTPUT_SE, boardfile.OUTPUT_BALANCED)
    assert b.output_relay.pin == 8 and b.output_switch == 9
    assert b.output_switch_balanced_level == 0
    assert b.max_out_cdb == [1600, 2200]
    assert b.path_cdb(boardfile.GAIN_HIGH, boardfile.OUTPUT_BALANCED) == 644 + 1200 + 600
    assert b.pins()[8] == "relays.output.pin"


def test_parse_equals_load():
    a, b = boardfile.parse(se()), boardfile.load(SE)
    assert a.pins() == b.pins() and a.dac_cdb == b.dac_cdb and a.name == b.name


@pytest.mark.parametrize("gpio,block,role", [
    (0, 0, "rx"), (1, 0, "csn"), (2, 0, "sck"), (3, 0, "tx"), (16, 0, "rx"), (18, 0, "sck"),
    (19, 0, "tx"), (22, 0, "sck"), (8, 1, "rx"), (10, 1, "sck"), (11, 1, "tx"), (14, 1, "sck"),
    (15, 1, "tx"), (26, 1, "sck"), (27, 1, "tx"), (28, 1, "rx")])
def test_spi_pin_role_matches_rp2040_datasheet(gpio, block, role):
    assert spi_pin_role(gpio) == (block, role)


# ---------------------------------------------------------------- pins

PIN_FIELDS = ["spi.sck", "spi.mosi", "spi.miso", "pga2311.cs", "pga2311.mute", "pga2311.zcen",
              "encoder.a", "encoder.b", "button.pin", "gain_switch.pin", "power_sense.pin",
              "relays.mute.pin", "relays.gain.pin"]


@pytest.mark.parametrize("field", PIN_FIELDS)
@pytest.mark.parametrize("gpio", [23, 29, 40, -1, 30])
def test_unusable_gpio_names_the_field(field, gpio):
    d = se()
    put(d, field, gpio)
    msg = fails(d, field)
    assert "GP%d" % gpio in msg


@pytest.mark.parametrize("field", [f for f in PIN_FIELDS if not f.startswith("spi.")])
def test_pin_used_twice_names_both_fields(field):
    for other in PIN_FIELDS:
        if other == field:
            continue
        d = se()
        put(d, field, get(d, other))
        fails(d, field, other, "GP%d" % get(d, other))


def test_spare_gpios_24_and_25_are_usable():
    d = se()
    put(d, "button.pin", 24)
    put(d, "encoder.decoder", "irq")  # B is not A + 1, which the PIO decoder needs
    put(d, "encoder.b", 25)
    b = boardfile.parse(d)
    assert (b.button, b.enc_b) == (24, 25)


def test_pio_decoder_needs_consecutive_encoder_pins():
    d = se()
    put(d, "encoder.b", 9)
    msg = fails(d, "encoder.b")
    assert "GP11" in msg and "irq" in msg
    put(d, "encoder.decoder", "irq")
    assert boardfile.parse(d).decoder == "irq"


def test_decoder_must_be_pio_or_irq():
    d = se()
    put(d, "encoder.decoder", "pi0")
    fails(d, "encoder.decoder")


def test_pin_of_wrong_type():
    for field, bad in (("encoder.a", "10"), ("encoder.a", 10.0), ("relays.mute.pin", True),
                       ("spi.sck", [18])):
        d = se()
        put(d, field, bad)
        fails(d, field)


@pytest.mark.parametrize("changes,field", [
    ({"spi.sck": 19, "spi.mosi": 3}, "spi.sck"),     # GP19 is SPI0 TX, not SCK
    ({"spi.sck": 0}, "spi.sck"),                     # GP0 is SPI0 RX
    ({"spi.sck": 26}, "spi.sck"),                    # GP26 is SPI1 SCK, not SPI0
    ({"spi.mosi": 3, "spi.sck": 2, "spi.miso": 18}, "spi.miso"),  # GP18 is SCK, not RX
    ({"spi.mosi": 16, "spi.miso": 4}, "spi.mosi"),   # GP16 is SPI0 RX, not TX
    ({"spi.id": 1}, "spi.sck"),                      # the SPI0 pins on SPI1
])
def test_spi_pin_the_block_cannot_use(changes, field):
    d = se()
    for k, v in changes.items():
        put(d, k, v)
    fails(d, field)


def test_spi1_with_spi1_pins_is_fine():
    d = se()
    del d["dac"], d["i2s"]  # they use GP26-28
    d["spi"] = {"id": 1, "sck": 26, "mosi": 27, "miso": 28, "baudrate": 1000000}
    b = boardfile.parse(d)
    assert (b.spi_id, b.spi_sck, b.spi_mosi, b.spi_miso) == (1, 26, 27, 28)


def test_miso_is_optional():
    d = se()
    drop(d, "spi.miso")
    assert boardfile.parse(d).spi_miso is None
    d = se()
    put(d, "spi.miso", None)
    assert boardfile.parse(d).spi_miso is None


# ---------------------------------------------------------------- missing fields

REQUIRED = ["spi", "spi.id", "spi.sck", "spi.mosi", "spi.baudrate", "pga2311", "pga2311.cs",
            "pga2311.mute", "pga2311.chips", "encoder", "encoder.a", "encoder.b",
            "encoder.edges_per_detent", "button", "button.pin", "relays", "relays.mute",
            "relays.mute.pin", "relays.mute.active_high", "relays.mute.operate_ms",
            "relays.gain.release_ms", "analog", "analog.dac_full_scale_vrms",
            "analog.gain_low_db", "analog.gain_high_db", "analog.balanced_db",
            "analog.max_output_dbv", "analog.max_output_dbv.se", "timing", "timing.settle_ms",
            "timing.relay_settle_ms", "timing.ramp_step_db", "timing.ramp_interval_ms",
            "volume", "volume.limit_dbv", "volume.default_dbv", "volume.startup_max_dbv",
            "volume.min_dbv", "controls", "controls.debounce_ms", "controls.save_delay_ms",
            "gain_switch.high_level", "power_sense.holdup_ms"]


@pytest.mark.parametrize("field", REQUIRED)
def test_missing_required_field_names_it(field):
    d = se()
    drop(d, field)
    msg = fails(d, field)
    assert "missing" in msg


@pytest.mark.parametrize("field", ["spi.miso", "pga2311.zcen", "gain_switch", "power_sense",
                                   "name", "description", "display"])
def test_optional_fields_may_be_missing(field):
    d = se()
    drop(d, field)
    boardfile.parse(d)


def test_missing_gain_relay_needs_equal_gains():
    d = se()
    drop(d, "relays.gain")
    fails(d, "analog.gain_high_db")
    put(d, "analog.gain_high_db", 0.0)
    b = boardfile.parse(d)
    assert b.gain_relay is None


def test_balanced_max_output_required_only_with_output_relay():
    d = bal()
    drop(d, "analog.max_output_dbv.balanced")
    fails(d, "analog.max_output_dbv.balanced")
    d = se()    # no output relay: the balanced maximum is not needed
    assert "balanced" not in d["analog"]["max_output_dbv"]
    boardfile.parse(d)


def test_output_relay_and_switch_go_together():
    d = bal()
    drop(d, "output_switch")
    fails(d, "relays.output")
    d = bal()
    drop(d, "relays.output")
    fails(d, "relays.output")


def test_two_chips_need_balanced_output():
    d = se()
    put(d, "pga2311.chips", [["L", "R"], ["L-", "R-"]])
    fails(d, "pga2311.chips")


@pytest.mark.parametrize("chips,field", [
    ([], "pga2311.chips"),
    ([["L", "R"]] * 3, "pga2311.chips"),
    ([["L"]], "pga2311.chips[0]"),
    ([["L", "R", "L"]], "pga2311.chips[0]"),
    ([["L", "X"]], "pga2311.chips[0]"),
    (["LR"], "pga2311.chips[0]"),
    ([["L", "R"], ["L-", "M"]], "pga2311.chips[1]"),
])
def test_bad_chip_roles(chips, field):
    d = bal()
    put(d, "pga2311.chips", chips)
    fails(d, field)


# ---------------------------------------------------------------- types

@pytest.mark.parametrize("field,value", [
    ("spi", [0, 18, 19]),
    ("spi.id", "0"), ("spi.id", 0.0), ("spi.id", False),
    ("spi.baudrate", 1e6),
    ("pga2311.chips", "L,R"),
    ("encoder.edges_per_detent", "4"),
    ("relays.mute", 14),
    ("relays.mute.active_high", 1), ("relays.mute.active_high", "true"),
    ("relays.gain.operate_ms", 5.0),
    ("analog.dac_full_scale_vrms", "2.1"), ("analog.dac_full_scale_vrms", True),
    ("analog.max_output_dbv", 16.0),
    ("analog.max_output_dbv.se", "16"),
    ("timing.settle_ms", 1500.0), ("timing.ramp_step_db", "2"),
    ("volume.limit_dbv", "6"), ("volume.default_dbv", [-30]),
    ("controls.long_press_ms", "800"),
    ("gain_switch.high_level", True),
    ("name", 7),
])
def test_wrong_type_names_the_field(field, value):
    d = se()
    put(d, field, value)
    fails(d, field)


def test_not_an_object_or_wrong_format_version():
    for d in ([], "board", None, 1):
        with pytest.raises(BoardError):
            boardfile.parse(d)
    for version in (None, 0, 2, "1"):
        d = se()
        if version is None:
            del d["board"]
        else:
            d["board"] = version
        fails(d, "board")


# ---------------------------------------------------------------- ranges

@pytest.mark.parametrize("field,value", [
    ("spi.id", 2), ("spi.id", -1),
    ("spi.baudrate", 9999), ("spi.baudrate", 6250001),
    ("encoder.edges_per_detent", 3), ("encoder.edges_per_detent", 0), ("encoder.edges_per_detent", 8),
    ("gain_switch.high_level", 2),
    ("power_sense.holdup_ms", 0), ("power_sense.holdup_ms", 1001),
    ("relays.mute.operate_ms", -1), ("relays.mute.operate_ms", 1001),
    ("relays.gain.release_ms", 1001),
    ("analog.dac_full_scale_vrms", 0), ("analog.dac_full_scale_vrms", 0.09),
    ("analog.dac_full_scale_vrms", -2.1), ("analog.dac_full_scale_vrms", 10.5),
    ("analog.gain_low_db", -21), ("analog.gain_high_db", 41),
    ("analog.balanced_db", -1), ("analog.balanced_db", 12.5),
    ("analog.max_output_dbv.se", 41), ("analog.max_output_dbv.se", -41),
    ("timing.settle_ms", -1), ("timing.settle_ms", 30001),
    ("timing.relay_settle_ms", 1001),
    ("timing.ramp_step_db", 0.0), ("timing.ramp_step_db", 6.5),
    ("timing.ramp_interval_ms", 0), ("timing.ramp_interval_ms", 1001),
    ("volume.limit_dbv", 40.5), ("volume.min_dbv", -120.5),
    ("controls.debounce_ms", 0), ("controls.debounce_ms", 501),
    ("controls.long_press_ms", 199), ("controls.balance_timeout_ms", 999),
    ("controls.save_delay_ms", 499),
])
def test_out_of_range_names_the_field(field, value):
    d = se()
    put(d, field, value)
    fails(d, field)


@pytest.mark.parametrize("field,value", [
    ("spi.baudrate", 10000), ("spi.baudrate", 6250000), ("encoder.edges_per_detent", 2),
    ("encoder.edges_per_detent", 1), ("analog.dac_full_scale_vrms", 10),
    ("analog.dac_full_scale_vrms", 0.1), ("timing.settle_ms", 0), ("timing.settle_ms", 30000),
    ("timing.ramp_step_db", 0.5), ("timing.ramp_step_db", 6), ("timing.ramp_interval_ms", 17),
    ("controls.save_delay_ms", 500),
])
def test_range_limits_are_inclusive(field, value):
    d = se()
    put(d, field, value)
    boardfile.parse(d)


def test_ramp_interval_below_17_ms_needs_zero_crossing_off():
    d = se()
    put(d, "timing.ramp_interval_ms", 16)
    msg = fails(d, "timing.ramp_interval_ms")
    assert "16" in msg
    # ZCEN omitted is ZCEN tied high (the datasheet: high enables zero-crossing
    # detection): the 16 ms time-out is still there to outlast.
    drop(d, "pga2311.zcen")
    fails(d, "timing.ramp_interval_ms")
    put(d, "timing.ramp_interval_ms", 17)
    assert boardfile.parse(d).pga_zc is True
    put(d, "timing.ramp_interval_ms", 16)
    put(d, "pga2311.zcen", "high")
    fails(d, "timing.ramp_interval_ms")
    # Only ZCEN tied low turns it off: then nothing to outlast.
    put(d, "pga2311.zcen", "low")
    assert boardfile.parse(d).pga_zc is False
    assert boardfile.parse(d).ramp_interval_ms == 16
    put(d, "timing.ramp_interval_ms", 1)
    assert boardfile.parse(d).ramp_interval_ms == 1
    put(d, "pga2311.zcen", "floating")
    fails(d, "pga2311.zcen")


@pytest.mark.parametrize("changes,field", [
    ({"volume.startup_max_dbv": 7.0}, "volume"),           # above the limit
    ({"volume.min_dbv": -10.0}, "volume"),                 # above start-up max
    ({"volume.default_dbv": 6.5}, "volume.default_dbv"),   # above the limit
    ({"volume.default_dbv": -80.5}, "volume.default_dbv"),
])
def test_volume_ordering(changes, field):
    d = se()
    for k, v in changes.items():
        put(d, k, v)
    fails(d, field)


@pytest.mark.parametrize("field,value", [
    ("volume.default_dbv", -30.25), ("volume.default_dbv", -30.1),
    ("volume.limit_dbv", 5.75), ("volume.startup_max_dbv", -20.3),
    ("volume.min_dbv", -79.9), ("timing.ramp_step_db", 1.25), ("timing.ramp_step_db", 2.2),
])
def test_off_grid_db_values_name_the_field(field, value):
    d = se()
    put(d, field, value)
    msg = fails(d, field)
    assert "0.5" in msg


def test_analog_values_need_not_be_on_the_grid():
    d = se()
    put(d, "analog.gain_high_db", 11.83)
    put(d, "analog.max_output_dbv.se", 15.77)
    b = boardfile.parse(d)
    assert b.gain_cdb[1] == 1183 and b.max_out_cdb[0] == 1577


# ---------------------------------------------------------------- load

def test_load_missing_file(tmp_path):
    p = str(tmp_path / "nope.json")
    with pytest.raises(BoardError) as e:
        boardfile.load(p)
    assert p in str(e.value)


@pytest.mark.parametrize("content", [b"", b"{", b"board: 1", b"\x00\xff\xfe garbage \x80"])
def test_load_not_json(tmp_path, content):
    p = tmp_path / "board.json"
    p.write_bytes(content)
    with pytest.raises(BoardError) as e:
        boardfile.load(str(p))
    assert str(p) in str(e.value)


def test_load_reports_validation_errors(tmp_path):
    d = se()
    put(d, "relays.mute.pin", 23)
    p = tmp_path / "board.json"
    p.write_text(json.dumps(d))
    with pytest.raises(BoardError) as e:
        boardfile.load(str(p))
    assert "relays.mute.pin" in str(e.value)


def test_board_error_is_a_value_error():
    assert issubclass(BoardError, ValueError)


@pytest.mark.parametrize("field", ["analog.dac_full_scale_vrms", "analog.gain_low_db",
                                   "timing.ramp_step_db", "volume.limit_dbv"])
def test_nan_is_a_board_error_naming_the_field(tmp_path, field):
    d = se()
    put(d, field, float("nan"))
    p = tmp_path / "board.json"
    p.write_text(json.dumps(d))          # writes the bare token NaN
    with pytest.raises(BoardError) as e:
        boardfile.load(str(p))
    assert field in str(e.value)


def test_i2s_and_dac_rules_name_the_field():
    d = se()
    put(d, "i2s.ws", 9)
    assert "GP27" in fails(d, "i2s.ws")
    # An external source on a PCM5102A: LRCK is counted on a PWM slice's B input (odd).
    d = se()
    d["inputs"] = {"source": "external", "names": ["USB"]}
    boardfile.parse(d)
    del d["display"]
    d["i2s"].update(sck=3, ws=4)
    assert "GP4 is even" in fails(d, "i2s.ws")
    d["inputs"]["source"] = "pico"
    boardfile.parse(d)                      # the Pico's own I2S: no watch, any pin
    d = se()
    put(d, "i2s.bits", 24)
    fails(d, "i2s.bits")
    d = se()
    put(d, "i2s.rate", 22050)
    fails(d, "i2s.rate")
    for rate in (88200, 176400):            # not in the BCK-PLL table (SLAS764B Table 5)
        d = se()
        put(d, "i2s.rate", rate)
        fails(d, "i2s.rate")
    d = se()
    put(d, "dac.chip", "pcm1794")
    fails(d, "dac.chip")
    d = se()
    del d["i2s"]
    fails(d, "dac")
    d = boardfile.json.load(open(BALANCED))
    d["dac"]["i2c"]["sda"] = 3
    fails(d, "dac.i2c.sda")
    d = boardfile.json.load(open(BALANCED))
    d["dac"]["addr"] = 0x50
    fails(d, "dac.addr")


def test_no_dac_is_a_valid_board():
    d = se()
    del d["dac"], d["i2s"]
    b = boardfile.parse(d)
    assert b.dac is None and b.dac_mute_ms == 0


# ---------------------------------------------------------------- unknown keys, roles, size

@pytest.mark.parametrize("path,typo,suggestion", [
    ("", "gain_swich", "gain_switch"),
    ("relays.mute.", "operate", "relays.mute.operate_ms"),
    ("timing.", "settle", "timing.settle_ms"),
    ("analog.max_output_dbv.", "balancd", "analog.max_output_dbv.balanced"),
    ("dac.i2c.", "sdaa", "dac.i2c.sda"),
])
def test_unknown_key_is_an_error_that_suggests_the_closest(path, typo, suggestion):
    d = bal()
    section = get(d, path[:-1]) if path else d
    section[typo] = section.pop(suggestion.rsplit(".", 1)[-1], 1)
    msg = fails(d, path + typo, "did you mean " + suggestion)
    assert msg.startswith(path + typo)


def test_unknown_key_far_from_any_known_one_gets_no_guess():
    d = se()
    d["colour"] = "red"
    assert "did you mean" not in fails(d, "colour: unknown field")


@pytest.mark.parametrize("chips", [
    [["L", "L"]], [["R", "R"]], [["L", "R-"]],
    [["L", "R"], ["L", "R"]], [["L", "R"], ["L-", "L-"]], [["L-", "R-"], ["L-", "R-"]],
])
def test_chain_roles_need_each_channel_once_per_leg(chips):
    d = bal() if len(chips) == 2 else se()
    put(d, "pga2311.chips", chips)
    fails(d, "pga2311.chips", "exactly once")


@pytest.mark.parametrize("chips", [[["R", "L"]], [["L", "L-"], ["R", "R-"]],
                                   [["L-", "R-"], ["L", "R"]]])
def test_chain_roles_in_any_arrangement(chips):
    d = bal() if len(chips) == 2 else se()
    put(d, "pga2311.chips", chips)
    assert len(boardfile.parse(d).pga_roles) == 2 * len(chips)


def test_a_deeply_nested_file_is_refused_before_parsing(tmp_path):
    p = tmp_path / "deep.json"
    p.write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(BoardError) as e:
        boardfile.load(str(p))
    assert "nested" in str(e.value)


def test_brackets_inside_strings_do_not_count_as_nesting(tmp_path):
    d = se()
    d["description"] = "[[[[[[[[[[ {{{{{{{{ \\\" ]]]]"
    p = tmp_path / "b.json"
    p.write_text(json.dumps(d))
    assert boardfile.load(str(p)).name == "pico-se"


def test_a_huge_file_is_refused_by_its_size(tmp_path):
    d = se()
    d["description"] = "x" * 20000
    p = tmp_path / "big.json"
    p.write_text(json.dumps(d))
    with pytest.raises(BoardError) as e:
        boardfile.load(str(p))
    assert "too large" in str(e.value)


# ---------------------------------------------------------------- the display section

def test_display_on_its_own_i2c_and_on_the_dacs():
    d = boardfile.parse(se()).display
    assert (d.chip, d.bus, d.i2c_id, d.sda, d.scl, d.addr, d.freq) == (
        "ssd1306", "i2c", 0, 4, 5, 0x3C, 400000)
    b = boardfile.parse(bal())
    d = b.display
    # On the PCM5122's bus: its pins, claimed once (by the DAC), and its clock.
    assert (d.chip, d.i2c_id, d.sda, d.scl) == ("sh1106", b.dac_i2c_id, b.dac_sda, b.dac_scl)
    assert b.pins()[d.sda] == "dac.i2c.sda"


def test_display_sharing_the_dacs_bus_must_use_its_pins_and_clock():
    d = bal()
    put(d, "display.i2c", {"id": 0, "sda": 0, "scl": 1})
    fails(d, "display.i2c", "DAC's bus", "GP4")
    d = bal()
    put(d, "display.i2c.freq", 100000)
    fails(d, "display.i2c.freq", "400000 Hz for the DAC")


@pytest.mark.parametrize("field,value,words", [
    ("display.chip", "ssd1309", ["display.chip", "ssd1306"]),
    ("display.addr", 0x3E, ["display.addr"]),
    ("display.i2c.sda", 6, ["display.i2c.sda", "I2C0 SDA"]),
    ("display.i2c.scl", 3, ["display.i2c.scl", "GP5"]),
    ("display.i2c.freq", 5000, ["display.i2c.freq"]),
    ("display.i2c.sda", 12, ["display.i2c.sda", "button.pin"]),
])
def test_display_field_errors_name_the_field(field, value, words):
    d = se()
    put(d, field, value)
    fails(d, *words)


def test_display_on_spi_needs_the_other_block_and_no_address():
    d = se()
    spi = {"id": 1, "sck": 14, "mosi": 15, "cs": 9, "dc": 8, "res": 6}
    put(d, "display", {"chip": "ssd1306", "spi": dict(spi, id=0)})
    fails(d, "display.spi.id", "PGA2311")
    drop(d, "relays.gain")
    put(d, "analog.gain_high_db", 0.0)
    drop(d, "relays.mute")
    put(d, "relays.mute", {"pin": 24, "active_high": True, "operate_ms": 5, "release_ms": 3})
    put(d, "display", {"chip": "ssd1306", "spi": spi})
    b = boardfile.parse(d)
    assert (b.display.bus, b.display.spi_id, b.display.dc, b.display.freq) == ("spi", 1, 8, 10000000)
    put(d, "display", {"chip": "sh1106", "spi": spi})
    fails(d, "display.spi", "I2C only")
    put(d, "display", {"chip": "ssd1306", "spi": spi, "addr": 60})
    fails(d, "display.addr")
    put(d, "display", {"chip": "ssd1306"})
    fails(d, "display", "i2c or spi")
