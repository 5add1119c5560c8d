# Runs after every reset, soft ones too (mpremote's raw REPL): mute in order first.
try:
    from headroom_fw.quiet import quiet
    quiet()
except Exception as e:  # noqa: BLE001 - never keep the REPL from starting
    print("boot.py:", e)
# A soft reset leaves the watchdog counting (rp2): off, as after a hard reset, so the raw
# REPL is the user's; main.py's firmware starts it again.
try:
    from headroom_fw.watchdog import stop
    stop()
except Exception as e:  # noqa: BLE001
    print("boot.py:", e)
