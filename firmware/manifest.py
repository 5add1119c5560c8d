# The Headroom firmware for MicroPython's build tools: freezes the headroom_fw package
# into a custom UF2 (its bytecode then runs from flash, not from the heap), e.g.
#     make -C ports/rp2 BOARD=RPI_PICO FROZEN_MANIFEST=/path/to/firmware/manifest.py
# main.py and the board's board.json still go on the filesystem (`headroom flash` puts
# them there, and skips the modules the UF2 already has only if you delete them first).
# The version is headroom_fw/version.py's (a test keeps the two the same).
metadata(description="Headroom: headphone amplifier firmware (PGA2311, PCM5102A/PCM5122)",
         version="0.2.0", license="MIT")
include("$(PORT_DIR)/boards/manifest.py")
package("headroom_fw")
