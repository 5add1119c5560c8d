# Runs after every reset, soft ones too (mpremote's raw REPL): mute in order first.
try:
    from headroom_fw.quiet import quiet
    quiet()
except Exception as e:  # noqa: BLE001 - never keep the REPL from starting
    print("boot.py:", e)
