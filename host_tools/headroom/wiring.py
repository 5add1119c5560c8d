"""Wiring tables from board files, so the tables in docs/hardware.md cannot drift from the boards."""

# Physical pin of each GPIO on the Raspberry Pi Pico's header.
PICO_PIN = {0: 1, 1: 2, 2: 4, 3: 5, 4: 6, 5: 7, 6: 9, 7: 10, 8: 11, 9: 12, 10: 14, 11: 15,
            12: 16, 13: 17, 14: 19, 15: 20, 16: 21, 17: 22, 18: 24, 19: 25, 20: 26, 21: 27,
            22: 29, 26: 31, 27: 32, 28: 34}


def _relay(kind, r, energized):
    level = "high" if r.active_high else "low"
    return "%s relay driver input: %s energizes the coil (%s); operate %d ms, release %d ms; " \
           "pulled to the released level" % (kind, level, energized, r.operate_ms, r.release_ms)


def rows(b):
    """(GPIO, Pico pin, board field, what it connects to) for every pin the board uses."""
    last = "the second PGA2311's" if len(b.pga_roles) == 4 else "the PGA2311's"
    out = {
        b.spi_sck: ("spi.sck", "PGA2311 SCLK (shared by the chain)"),
        b.spi_mosi: ("spi.mosi", "PGA2311 SDI (of the first chip in the chain)"),
        b.pga_cs: ("pga2311.cs", "PGA2311 CS (shared); 10 k pull-up to 3.3 V"),
        b.pga_mute: ("pga2311.mute", "PGA2311 MUTE (shared, active low); 10 k pull-down, so it boots muted"),
        b.enc_a: ("encoder.a", "encoder contact A; common to GND (MCU pull-up)"),
        b.enc_b: ("encoder.b", "encoder contact B; common to GND (MCU pull-up)"),
        b.button: ("button.pin", "encoder push switch to GND (MCU pull-up)"),
        b.mute_relay.pin: ("relays.mute.pin", _relay("mute", b.mute_relay, "output connected")),
    }
    if b.spi_miso is not None:
        out[b.spi_miso] = ("spi.miso", "%s SDO (end of the chain), through a 10 k / 20 k "
                           "divider: SDO swings to VD+ (5 V)" % last)
    if b.pga_zcen is not None:
        out[b.pga_zcen] = ("pga2311.zcen", "PGA2311 ZCEN (shared): driven high, changes at zero crossings")
    if len(b.gain_switch_pins) == 2:
        low, high = b.gain_switch_pins
        out[low] = ("gain_switch.low_pin", "gain ON-OFF-ON toggle, the throw closed at low gain; "
                    "common to GND (MCU pull-up); neither throw closed (the middle) is auto")
        out[high] = ("gain_switch.high_pin",
                     "gain ON-OFF-ON toggle, the throw closed at high gain (MCU pull-up)")
    elif b.gain_switch is not None:
        out[b.gain_switch] = ("gain_switch.pin", "gain toggle switch to GND; reads %d for high gain"
                              % b.gain_switch_high_level)
    if b.output_switch is not None:
        out[b.output_switch] = ("output_switch.pin", "output toggle switch to GND; reads %d for balanced"
                                % b.output_switch_balanced_level)
    if b.gain_relay is not None:
        out[b.gain_relay.pin] = ("relays.gain.pin", _relay("gain", b.gain_relay, "high gain"))
    if b.output_relay is not None:
        out[b.output_relay.pin] = ("relays.output.pin", _relay("output", b.output_relay, "balanced"))
    if b.i2s is not None:
        out[b.i2s_sck] = ("i2s.sck", "DAC BCK (bit clock)")
        out[b.i2s_ws] = ("i2s.ws", "DAC LRCK (word select; rp2 needs sck + 1)")
        out[b.i2s_sd] = ("i2s.sd", "DAC DIN (data), %d-bit slots at %d Hz" % (b.i2s_bits, b.i2s_rate))
    if b.dac is not None:
        out[b.dac_xsmt] = ("dac.xsmt", "%s XSMT soft mute (low = muted); 10 k pull-down, so it "
                           "boots muted" % b.dac.upper())
        if b.dac == "pcm5122":
            out[b.dac_sda] = ("dac.i2c.sda", "PCM5122 SDA (I2C%d, address 0x%02X); 4.7 k pull-up"
                              % (b.dac_i2c_id, b.dac_addr))
            out[b.dac_scl] = ("dac.i2c.scl", "PCM5122 SCL; 4.7 k pull-up")
    d = b.display
    if d is not None:
        chip = d.chip.upper()
        if d.bus == "i2c":
            shared = b.dac == "pcm5122" and b.dac_i2c_id == d.i2c_id
            if shared:   # the DAC's pins: one row each, naming both chips
                out[d.sda] = ("dac.i2c.sda", "SDA of the PCM5122 (0x%02X) and the %s OLED "
                              "(0x%02X), sharing I2C%d; 4.7 k pull-up" % (
                                  b.dac_addr, chip, d.addr, d.i2c_id))
                out[d.scl] = ("dac.i2c.scl", "SCL of the PCM5122 and the %s OLED; 4.7 k "
                              "pull-up" % chip)
            else:
                out[d.sda] = ("display.i2c.sda", "%s OLED SDA (I2C%d, address 0x%02X, %d kHz); "
                              "4.7 k pull-up (most modules fit one)" % (chip, d.i2c_id, d.addr,
                                                                         d.freq // 1000))
                out[d.scl] = ("display.i2c.scl", "%s OLED SCL; 4.7 k pull-up" % chip)
        else:
            out[d.sck] = ("display.spi.sck", "%s OLED D0 (SCLK, SPI%d, %d MHz)" % (
                chip, d.spi_id, d.freq // 1000000))
            out[d.mosi] = ("display.spi.mosi", "%s OLED D1 (SDIN)" % chip)
            out[d.cs] = ("display.spi.cs", "%s OLED CS (active low)" % chip)
            out[d.dc] = ("display.spi.dc", "%s OLED D/C (low: command, high: data)" % chip)
            out[d.res] = ("display.spi.res", "%s OLED RES (active low)" % chip)
    if b.ir_pin is not None:
        out[b.ir_pin] = ("ir.pin", "IR receiver OUT (TSOP38238 or alike: low during a burst; "
                         "its supply pin through 100 R with 4.7 uF to ground, at 3.3 V)")
    for k, g in enumerate(b.input_select):
        out[g] = ("inputs.select", "input selector bit %d (%s when set: a relay driver or a mux's "
                  "select line); input i sets bit k of i: %s" % (
                      k, "high" if b.input_active_high else "low",
                      ", ".join("%d %s" % (i, n) for i, n in enumerate(b.input_names))))
    if b.trigger_pin is not None:
        out[b.trigger_pin] = ("trigger.pin", "12 V trigger out, %s when on, through a high-side "
                              "switch (an NPN driving a PNP from +12 V: docs/standby.md) to the "
                              "trigger jack; on while playing, %d ms after the outputs, off %d ms "
                              "before they mute" % (
                                  "high" if b.trigger_active_high else "low",
                                  b.trigger_delay_ms, b.trigger_delay_ms))
    if getattr(b, "wifi", None) is not None:
        for g, what in zip(b.wifi.PINS, ("WL_ON", "WL_D", "WL_CS", "WL_CLK")):
            out[g] = ("wifi", "the Pico W's CYW43439 (%s), on the module: not free for the "
                      "board" % what)
    if b.power_sense is not None:
        out[b.power_sense] = ("power_sense.pin", "supply monitor output, high while the supply is "
                              "good; hold-up after it falls: %d ms" % b.holdup_ms
                              + ("; also sets the hardware mute latch (see the power-fail "
                                 "circuit below)" if b.hardware_mute else ""))
    return [(g, PICO_PIN.get(g, "-"), f, what) for g, (f, what) in sorted(out.items())]


def hardware_mute(b):
    """The power-fail circuit's description (power_sense.hardware_mute), or ''."""
    if not b.hardware_mute:
        return ""
    xsmt = ("GP%d (XSMT) reaches the DAC through gate 1, undelayed; " % b.dac_xsmt
            if b.dac is not None else "")
    return ("Power-fail circuit (`power_sense.hardware_mute`): the supply monitor's output "
            "(GP%d) going low sets a latch (a 74LVC1G74 D flip-flop's asynchronous set), "
            "whose inverted output gates three nets with AND gates (a 74LVC3G08) between "
            "the MCU and the chips: %sGP%d (PGA2311 MUTE) and GP%d (mute relay driver) go "
            "through gates 2 and 3 behind an RC delay of %d ms (the DAC's soft-mute ramp), "
            "so the order is the firmware's. The latch clears when the supply is good and "
            "GP%d (MUTE) is low, i.e. once the firmware has muted: the MCU then has the "
            "chips back. A supply-fail interrupt held off by a flash erase (up to 400 ms, "
            "interrupts off) can then not leave the output live.\n"
            % (b.power_sense, xsmt, b.pga_mute, b.mute_relay.pin, b.dac_mute_ms, b.pga_mute))


def markdown(b):
    lines = ["| GPIO | Pico pin | Board field | Connects to |", "|---|---|---|---|"]
    for g, pin, field, what in rows(b):
        lines.append("| GP%d | %s | `%s` | %s |" % (g, pin, field, what))
    text = "\n".join(lines) + "\n"
    hw = hardware_mute(b)
    return text + ("\n" + hw if hw else "")
