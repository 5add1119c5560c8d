# The Headroom firmware for MicroPython's build tools: freezes the headroom_fw package
# into a MicroPython UF2 you build yourself (the project builds none), e.g.
#     make -C ports/rp2 BOARD=RPI_PICO FROZEN_MANIFEST=/path/to/firmware/manifest.py
# Its bytecode then runs from flash instead of the heap, and importing it takes no
# compiling or loading (README, "A frozen build"). opt=3: no assert statements, no line
# numbers (tracebacks name the function, not the line), as small and fast as it gets.
# boot.py, main.py and the board's board.json still go on the filesystem, without a
# headroom_fw folder there: rp2's sys.path is ['', '.frozen', '/lib'], so a copy on the
# filesystem would be imported instead (`headroom uf2` leaves it out for such a build).
# The version is headroom_fw/version.py's (a test keeps the two the same).
metadata(description="Headroom: headphone amplifier firmware (PGA2311, PCM5102A/PCM5122)",
         version="0.2.0", license="MIT")
include("$(PORT_DIR)/boards/manifest.py")
package("headroom_fw", opt=3)
