"""The SPI and I2C buses of a simulated board (a part of world.Sim): the chips on each,
the pins an SPI block takes, transfers, and who observes them."""
from .gpio import OUT


def _hex(data):
    return "".join("%02x" % b for b in data)



class Buses:
    # ---- SPI and I2C buses
    def add_part(self, part):
        """Plug a part (sim/part.py) into this board: it wires itself (attach), and a soft
        reset keeps what its snapshot() returns. Returns the part."""
        part.attach()
        self.models.append(part)
        return part

    def add_spi_device(self, bus, device):
        """A chip on SPI block `bus`: it has `cs` (its chip-select GPIO) and
        `spi_bytes(spi, data)` -> the bytes it drives on MISO."""
        self.spi_devices.setdefault(bus, []).append(device)

    def add_i2c_device(self, bus, addr, device):
        """A chip on I2C block `bus` at `addr`: `i2c_write(data)`, `i2c_read(n)`; it may
        raise OSError itself (no acknowledge, a bus held low)."""
        self.i2c_devices[(bus, addr)] = device

    def spi_claim(self, spi):
        """An SPI block takes its pins (rp2: gpio_set_function(SPI) on each)."""
        for role, n in (("SCK", spi.sck), ("MOSI", spi.mosi), ("MISO", spi.miso)):
            if n is None:
                continue
            g = self.gpio[n]
            if g.mode == OUT:
                self.fault("GP%d was configured as an output; SPI%d took it as %s"
                           % (n, spi.id, role))
            owner = self.spi_pins.get(n)
            if owner is not None and owner[0] != spi.id:
                self.fault("GP%d already belongs to SPI%d" % (n, owner[0]))
            self.spi_pins[n] = (spi.id, role)
        self.spi_buses[spi.id] = spi

    def spi_release_pin(self, n):
        """Pin.init on a pin gives it back to GPIO, away from its SPI block."""
        self.spi_pins.pop(n, None)

    def spi_transfer(self, spi, data, into):
        for role, n in (("SCK", spi.sck), ("MOSI", spi.mosi)):
            if self.spi_pins.get(n) != (spi.id, role):
                self.fault("SPI%d write, but %s GP%d is no longer an SPI pin" % (spi.id, role, n))
        selected = [d for d in self.spi_devices.get(spi.id, ()) if self.gpio[d.cs].level == 0]
        self.emit("spi", [("bus", spi.id), ("cs", selected[0].cs if selected else None),
                          ("baudrate", spi.baudrate), ("polarity", spi.polarity),
                          ("phase", spi.phase), ("data", _hex(data))])
        if not selected:
            self.fault("SPI%d: %d bytes sent with no chip select low" % (spi.id, len(data)))
        miso = bytes(len(data))
        for d in selected:
            miso = d.spi_bytes(spi, data)
        if self.spi_observers:
            for fn in self.spi_observers:
                fn(spi.id, selected[0].cs, data, miso)
        if into is not None:
            if spi.miso is None or self.spi_pins.get(spi.miso) != (spi.id, "MISO"):
                miso = bytes(len(data))
            for i in range(len(data)):
                into[i] = miso[i]

    def i2c_device(self, bus, addr):
        return self.i2c_devices.get((bus, addr))

    def i2c_write(self, bus, addr, dev, data):
        """`data` written to chip `dev` (i2c_device(bus, addr), which acknowledged)."""
        if self.i2c_observers:
            for fn in self.i2c_observers:
                fn(bus, addr, "write", data)
        dev.i2c_write(data)

    def i2c_read(self, bus, addr, dev, n):
        data = dev.i2c_read(n)
        if self.i2c_observers:
            for fn in self.i2c_observers:
                fn(bus, addr, "read", bytes(data))
        return data

    def observe(self, kind, fn):
        """Watch what the MCU does on the wires, without touching the chips: `kind` "spi"
        (fn(bus, cs, mosi, miso) per transfer to a selected chip), "i2c" (fn(bus, addr,
        "write"|"read", data) per transfer a chip acknowledged) or "pin" (fn(gpio, level)
        when what the MCU drives on a pin changes: 0, 1, None for let go). Returns fn;
        unobserve(kind, fn) stops it."""
        getattr(self, kind + "_observers").append(fn)
        return fn

    def unobserve(self, kind, fn):
        getattr(self, kind + "_observers").remove(fn)

    def i2c_scan(self, bus):
        return sorted(a for (b, a) in self.i2c_devices if b == bus)
