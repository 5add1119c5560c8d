"""The live front panel (`headroom panel`): the simulated board in the terminal.

session.py is the engine (no Textual in it), readout.py what the hardware shows,
app.py the Textual app, screenshot.py the README's picture (docs/panel.svg).
"""
