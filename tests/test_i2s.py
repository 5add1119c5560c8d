"""machine.I2S on the simulated RP2040: the rp2 port's rules, ring buffer and DMA timing, the capture."""
import struct
import time as realtime

import machine
import numpy as np
import pytest

from headroom.sim import i2s as engine
from headroom.sim.i2s import registry as i2s_registry
from headroom.sim.world import MCU_BOOT_US, PowerLost, SimFault

from simkit import bare_sim

I2S = machine.I2S
Pin = machine.Pin
SCK, WS, SD = 16, 17, 18


def tx(id=0, bits=16, fmt=I2S.STEREO, rate=48000, ibuf=1024, sck=SCK, sd=SD):
    return I2S(id, sck=Pin(sck), ws=Pin(sck + 1), sd=Pin(sd), mode=I2S.TX, bits=bits, format=fmt,
               rate=rate, ibuf=ibuf)


def pcm16(values):
    return bytearray(struct.pack("<%dh" % len(values), *values))


def pcm32(values):
    return bytearray(struct.pack("<%di" % len(values), *values))


def captured(sim, id=0):
    """The last run's frames as an (n, 2) int array."""
    t, a = i2s_registry(sim).streams[id].samples()
    return np.frombuffer(a, dtype=np.int32).reshape(-1, 2) if len(a) else np.zeros((0, 2))


def block_us(frames, rate):
    return frames * 1000000 / rate


# ============================================================ constructor: the rp2 rules

def test_ws_must_follow_sck(sim):
    with pytest.raises(ValueError, match=r"^invalid ws \(must be sck\+1\)$"):
        I2S(0, sck=Pin(16), ws=Pin(18), sd=Pin(17), mode=I2S.TX, bits=16, format=I2S.STEREO,
            rate=48000, ibuf=1024)


@pytest.mark.parametrize("bits", [8, 24, 0])
def test_bits_16_or_32_only(sim, bits):
    with pytest.raises(ValueError, match="^invalid bits$"):
        tx(bits=bits)


def test_third_instance_is_refused(sim):
    a = tx(0)
    b = tx(1, sck=10, sd=12)
    with pytest.raises(ValueError, match="^invalid id$"):
        tx(2, sck=20, sd=22)
    assert i2s_registry(sim).streams[0].running and i2s_registry(sim).streams[1].running
    a.deinit()
    b.deinit()


@pytest.mark.parametrize("kw,msg", [({"mode": 3}, "invalid mode"), ({"format": 2}, "invalid format"),
                                    ({"ibuf": 0}, "invalid ibuf")])
def test_other_argument_checks(sim, kw, msg):
    args = dict(sck=Pin(SCK), ws=Pin(WS), sd=Pin(SD), mode=I2S.TX, bits=16, format=I2S.STEREO,
                rate=48000, ibuf=1024)
    args.update(kw)
    with pytest.raises(ValueError, match="^%s$" % msg):
        I2S(0, **args)


@pytest.mark.parametrize("rate", [0, -48000, 1000000])
def test_a_rate_the_pio_cannot_make_is_a_fault(sim, rate):
    with pytest.raises(SimFault, match="PIO clock divider"):
        tx(bits=32, rate=rate)


def test_mck_is_not_on_rp2(sim):
    with pytest.raises(TypeError):
        I2S(0, sck=Pin(SCK), ws=Pin(WS), sd=Pin(SD), mck=Pin(19), mode=I2S.TX, bits=16,
            format=I2S.STEREO, rate=48000, ibuf=1024)


def test_same_id_again_deinits_the_first(sim):
    a = tx(0)
    b = tx(0, bits=32)
    assert i2s_registry(sim).streams[0].bits == 32
    with pytest.raises(SimFault, match="after deinit"):
        a.write(bytes(8))
    b.write(bytes(8))


def test_pins_taken_from_spi_or_an_output_are_faults(sim):
    Pin(SCK, Pin.OUT, value=0)
    with pytest.raises(SimFault, match="GP16 was configured as an output"):
        tx()
    sim2 = bare_sim(app=True)
    machine.SPI(0, sck=Pin(18), mosi=Pin(19))
    with pytest.raises(SimFault, match="belongs to SPI0"):
        tx(sck=14, sd=18)
    assert sim2.faults


def test_two_instances_on_one_pin_is_a_fault(sim):
    tx(0)
    with pytest.raises(SimFault, match="GP18 already belongs to I2S0"):
        tx(1, sck=10, sd=18)


# ============================================================ the captured stream

def test_16_bit_stereo_is_captured_exactly_with_times(sim):
    i2s = tx(bits=16)
    vals = [(k * 37 % 65536) - 32768 for k in range(2 * 256)]   # 256 frames, 1024 bytes
    i2s.write(pcm16(vals))
    sim.run_for(20000)
    x = captured(sim)
    # blocks 0 and 1 (32 frames each) are the zeroed DMA buffer; data follows
    assert (x[:64] == 0).all()
    assert x[64:64 + 256].ravel().tolist() == vals
    bus = i2s_registry(sim).streams[0]
    assert bus.chunks[0][1] == 0
    data_chunk = [c for c in bus.chunks if c[4] is not None][0]
    assert data_chunk[2] == 64 and data_chunk[1] == 1333   # frame 64 at 48 kHz: 1333.3 us


def test_32_bit_stereo_and_both_mono_widths(sim):
    i2s = tx(bits=32)
    vals = [(-1) ** k * (k << 20) for k in range(64)]
    i2s.write(pcm32(vals))
    sim.run_for(5000)
    x = captured(sim)
    assert x[32:64].ravel().tolist() == vals        # 16 frames per block at 32 bits
    i2s.deinit()
    # Mono: a block takes 64 bytes, once 128 are waiting: 128 bytes of zeros push the end out.
    m = tx(bits=16, fmt=I2S.MONO)
    vals = list(range(-64, 64))
    m.write(pcm16(vals) + bytes(128))
    sim.run_for(5000)
    x = captured(sim)
    assert x[64:192, 0].tolist() == vals and x[64:192, 1].tolist() == vals   # both channels
    m.deinit()
    m = tx(bits=32, fmt=I2S.MONO)
    vals = [k << 12 for k in range(-32, 32)]
    m.write(pcm32(vals) + bytes(128))
    sim.run_for(5000)
    x = captured(sim)
    assert x[32:96, 0].tolist() == vals and x[32:96, 1].tolist() == vals


def test_a_tail_shorter_than_a_dma_block_waits_in_the_ring(sim):
    """rp2 feeds the DMA 128 bytes at a time and only when 128 are waiting."""
    i2s = tx(bits=16)
    i2s.write(pcm16(list(range(1, 97))))     # 192 bytes: one block plays, 64 bytes wait
    sim.run_for(50000)
    x = captured(sim)
    assert x[64:96].ravel().tolist() == list(range(1, 65))
    assert not x[96:].any()
    i2s.write(pcm16([0] * 32))              # 64 more bytes: the tail goes out
    sim.run_for(5000)
    x = captured(sim)
    nz = np.flatnonzero(x[:, 0])
    assert x[nz[-1] - 15:nz[-1] + 1].ravel().tolist() == list(range(65, 97))


# ============================================================ blocking writes

@pytest.mark.parametrize("bits,ibuf,nbytes", [(16, 1024, 4000), (32, 2048, 10000), (16, 4096, 1000)])
def test_blocking_write_returns_when_the_rest_fits_in_the_ring(sim, bits, ibuf, nbytes):
    i2s = tx(bits=bits, ibuf=ibuf)
    t0 = sim.now()
    assert i2s.write(bytes(nbytes)) == nbytes
    took = sim.now() - t0
    rate_bytes = 48000 * bits // 4
    # the ring holds ibuf - 1 bytes and drains 128 bytes at each DMA half-buffer interrupt
    blocks = max(0, -(-(nbytes - (ibuf - 1)) // 128))
    frames = 128 // (bits // 4)
    assert took == (blocks * frames * 1000000) // 48000
    assert abs(took - max(0, nbytes - ibuf) / rate_bytes * 1e6) <= block_us(frames, 48000) + 1


def test_ibuf_smaller_than_a_dma_block_would_hang_the_board(sim):
    i2s = tx(ibuf=100)
    with pytest.raises(SimFault, match="block forever"):
        i2s.write(bytes(400))


def test_callbacks_run_during_a_blocking_write(sim):
    seen = []
    t = machine.Timer(period=1, callback=lambda tm: seen.append(sim.now()))
    i2s = tx(ibuf=1024)
    i2s.write(bytes(20000))
    t.deinit()
    assert len(seen) >= 90


# ============================================================ non-blocking

def test_non_blocking_write_returns_at_once_and_the_handler_is_scheduled(sim):
    i2s = tx(bits=16, ibuf=4096)
    calls = []
    i2s.irq(lambda obj: calls.append((sim.now(), obj)))
    buf = pcm16(list(range(1, 2049)))      # 4096 bytes
    t0 = sim.now()
    assert i2s.write(buf) == 4096
    assert sim.now() == t0 and calls == []
    sim.run_for(100000)
    assert len(calls) == 1 and calls[0][1] is i2s
    # copied 512 bytes per DMA interrupt while there is room: 8 interrupts
    assert calls[0][0] == (8 * 32 * 1000000) // 48000
    x = captured(sim)
    assert x[64:64 + 1024].ravel().tolist() == list(range(1, 2049))


def test_the_port_reads_the_app_buffer_when_it_copies(sim):
    """Until the handler runs, the buffer is the port's: changes show up in the audio."""
    i2s = tx(bits=16, ibuf=8192)
    i2s.irq(lambda obj: None)
    buf = pcm16([1] * 2048)
    i2s.write(buf)
    buf[-2:] = b"\x07\x00"                 # the last 512 bytes are copied at the 8th interrupt
    sim.run_for(100000)
    x = captured(sim)
    assert x[64 + 1023, 1] == 7


def test_a_refill_loop_never_blocks_the_main_loop_and_never_underruns(sim):
    i2s = tx(bits=16, ibuf=4096)
    buf = bytearray(2048)
    state = {"n": 0}

    def refill(obj):
        n = state["n"]
        for k in range(0, 2048, 2):
            v = ((n * 1024 + k // 2) % 1000) + 1          # never zero
            buf[k] = v & 0xFF
            buf[k + 1] = v >> 8
        state["n"] = n + 1
        obj.write(buf)

    i2s.irq(refill)
    steps = []

    class App:
        waker = None

        def step(self):
            steps.append(sim.now())
            return 1

    sim.app = App()
    sim.next_wake_us = sim.clock.now_us
    refill(i2s)
    sim.run_for(500000)
    assert max(np.diff(steps)) <= 1000       # the main loop ran every millisecond
    x = captured(sim)
    start = np.flatnonzero(x[:, 0])[0]
    played = x[start:start + 20000, 0]
    assert (played != 0).all()               # no underrun in 0.4 s
    flat = x[start:start + 20000].ravel()
    assert flat.tolist() == [(k % 1000) + 1 for k in range(40000)]


def test_a_full_schedule_queue_loses_the_callback(sim):
    i2s = tx(bits=16, ibuf=4096)
    calls = []
    i2s.irq(lambda obj: calls.append(1))
    sim.app = None                            # nothing runs the queue
    for _ in range(sim.schedule_depth):
        sim.scheduled.append((lambda a: None, None))
    i2s.write(bytes(256))
    sim.run_for(10000)
    assert len(sim.scheduled) == sim.schedule_depth and calls == []


def test_ibuf_too_small_for_a_non_blocking_copy_is_a_fault(sim):
    i2s = tx(ibuf=300)
    i2s.irq(lambda obj: None)
    with pytest.raises(SimFault, match="never finish"):
        i2s.write(bytes(1024))


# ============================================================ the clocks and the idle port

def test_an_idle_port_costs_nothing_and_its_silence_is_accounted_for(sim):
    i2s = tx(bits=32)
    t0 = realtime.perf_counter()
    sim.run_for(600 * 1000000)               # ten minutes
    assert realtime.perf_counter() - t0 < 1.0
    i2s.write(pcm32([5] * 64))
    sim.run_for(10000)
    bus = i2s_registry(sim).streams[0]
    silent = [c for c in bus.chunks if c[4] is None]
    assert sum(c[3] for c in silent) >= 600 * 48000
    data = [c for c in bus.chunks if c[4] is not None][0]
    assert abs(data[1] - 600 * 1000000) < 1000


def test_deinit_stops_the_clocks_and_the_capture_ends_there(sim):
    i2s = tx(bits=16)
    i2s.write(pcm16([3] * 4000))
    sim.run_for(10000)
    i2s.deinit()
    bus = i2s_registry(sim).streams[0]
    assert not bus.running
    n = sum(c[3] for c in bus.chunks if c[0] == bus.runs)
    assert n == bus.frame_at(sim.clock.now_us)
    with pytest.raises(SimFault, match="after deinit"):
        i2s.write(bytes(4))
    assert i2s_registry(sim).pins == {}


def test_machine_reset_and_power_loss_stop_the_port():
    sim = bare_sim(app=True)
    tx()
    with pytest.raises(PowerLost):
        machine.reset()
    assert not i2s_registry(sim).streams[0].running and i2s_registry(sim).ports == {}
    sim = bare_sim(app=True)
    sim.holdup_us = 5000
    tx()
    sim.power(False)
    sim.run_for(4000)
    assert i2s_registry(sim).streams[0].running        # hold-up: the MCU still runs
    sim.run_for(2000)
    assert not i2s_registry(sim).streams[0].running
    sim.power(True)
    sim.run_for(MCU_BOOT_US)


def test_rx_reads_zeros_at_the_frame_rate(sim):
    rx = I2S(0, sck=Pin(SCK), ws=Pin(WS), sd=Pin(SD), mode=I2S.RX, bits=32, format=I2S.STEREO,
             rate=16000, ibuf=4096)
    buf = bytearray(b"\x55" * 8000)         # 1000 frames
    t0 = sim.now()
    assert rx.readinto(buf) == 8000
    assert buf == bytes(8000)
    assert 40000 <= sim.now() - t0 <= 70000  # 1000 frames at 16 kHz, less what the ring held
    with pytest.raises(OSError):
        rx.write(bytes(8))
    with pytest.raises(OSError):
        rx.readinto(bytearray(6))             # not whole samples


# ============================================================ shift

def test_shift_16_and_32_bits_like_the_c_code(sim):
    b = pcm16([1, -2, 0x4000, -0x8000])
    I2S.shift(buf=b, bits=16, shift=1)
    assert list(struct.unpack("<4h", b)) == [2, -4, -0x8000, 0]
    I2S.shift(buf=b, bits=16, shift=-2)
    assert list(struct.unpack("<4h", b)) == [0, -1, -0x2000, 0]
    b = pcm32([3, -3])
    I2S.shift(buf=b, bits=32, shift=4)
    assert list(struct.unpack("<2i", b)) == [48, -48]
    with pytest.raises(ValueError, match="invalid bits"):
        I2S.shift(buf=b, bits=24, shift=1)


def test_engine_pins_and_registry_are_per_board():
    a = bare_sim(app=True)
    tx()
    b = bare_sim(app=True)
    tx()                                       # a new board: its own registry
    assert engine.port(a, 0) is not engine.port(b, 0)


def test_any_buffer_protocol_object_is_written_as_its_bytes(sim):
    from array import array
    i2s = tx(bits=16)
    i2s.write(array("h", [7, -7] * 64))
    i2s.write(memoryview(array("h", [9, -9] * 64)))
    sim.run_for(10000)
    x = captured(sim)
    assert x[64:128].ravel().tolist() == [7, -7] * 64
    assert x[128:192].ravel().tolist() == [9, -9] * 64
