# Headroom's test signals and WAV playback for MicroPython's build tools: a package of
# its own, as micropython-lib keeps one per driver. The amplifier's firmware
# (../manifest.py, headroom_fw) does not import it and does not ship it; freeze it into
# a bench build to play test tones or WAV files into the DAC over I2S, e.g.
#     make -C ports/rp2 BOARD=RPI_PICO FROZEN_MANIFEST=/path/to/firmware/signals/manifest.py
# or copy headroom_signals/ to the board's /lib with mpremote.
metadata(description="Headroom test signals (sines, silence) and WAV playback on I2S",  # noqa: F821 - the manifest language's built-in
         version="0.2.0", license="MIT")
package("headroom_signals", opt=3)  # noqa: F821
