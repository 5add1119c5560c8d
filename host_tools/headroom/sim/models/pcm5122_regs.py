"""The PCM5122's register map as the model keeps it (TI SLAS763C), apart from what the
chip does with it (pcm5122.py): a register table, as Linux's pcm512x driver keeps its
defaults.

Page 0 registers modelled (reset value):
   1  RSTM (bit 4), RSTR (bit 0): resets, only in standby or powerdown; self-clearing
   2  RQST (bit 4) standby request, RQPD (bit 0) powerdown request (0x00); while the
      DAC runs, either ramps the volume down first (PSTM 7) at the register 63 rate
   4  PLLE (bit 0): PLL enable (0x01); off, the BCK-referenced clock cannot run
   3  RQML (bit 4), RQMR (bit 0): soft mute left/right, ramped (0x00)
   7  DEMP (bit 4): 44.1 kHz de-emphasis (0x00)
  13  SREF (bits 6:4) PLL reference: 0 SCK, 1 BCK, 3 GPIO (0x00)
  19  synchronisation request, stored (0x10, Linux pcm512x_reg_defaults)
  37  error-detect ignores, IDCH (bit 3) = ignore SCK halt (0x00)
  40  AFMT (bits 5:4) 0 I2S, 1 DSP, 2 RTJ, 3 LJ; ALEN (bits 1:0) 16/20/24/32 bits (0x02);
      an ALEN longer than the frame's words is a fault, a shorter one drops low bits
  42  AUPL (bits 5:4), AUPR (bits 1:0): DAC data path, 0 zero, 1 own channel, 2 other (0x11)
  43  PSEL (bits 4:0): interpolation filter 1 normal, 2 low latency, 3 high attenuation
      (no 384 kHz), 5 preset process flow, 7 asymmetric FIR; others reserved (0x01)
  59  ATML (bits 6:4), ATMR (bits 2:0): zero-data auto-mute time, 1024 .. 512000 LRCKs (0x00)
  60  PCTL (bits 1:0): 0 independent, 1 right follows left, 2 left follows right (0x00)
  61, 62  digital volume left/right: 0x00 = +24 dB, 0.5 dB steps, 0x30 = 0 dB,
      0xFE = -103 dB, 0xFF = mute (0x30)
  63  VNDF, VNDS, VNUF, VNUS: volume ramp down/up, every 1/2/4 LRCKs (3: at once), by
      4/2/1/0.5 dB (0x22: 1 dB per LRCK both ways)
  65  ACTL (bit 2) mute both only together, AMLE (bit 1), AMRE (bit 0) (0x07)
Read-only: 4 bit 4 PLCK (1 = PLL not locked); 91 DTFS (bits 6:4, detected rate class:
1 8 kHz, 2 16 kHz, 3 32-48 kHz, 4 88.2-96 kHz, 5 176.4-192 kHz, 6 384 kHz, 0 error) and
DTSR (bits 3:0, SCK ratio; 0 here: no SCK); 92/93 detected BCK ratio (9 bits); 94 CDST
(6 SCK missing, 5 PLL unlocked, 4 LRCK and BCK missing, 3 FS/SCK ratio invalid,
2 SCK invalid, 1 BCK invalid, 0 FS invalid); 95 LTSH (bit 4, clock halt, latched,
cleared by reading), CKMF (bit 2, clocks missing), CERF (bit 0, clock error, latched,
cleared by reading); 108 AMLM/AMRM (bits 1/0: 1 = analog output on); 118 BOTM (bit 7)
and PSTM (bits 3:0: 0 powerdown, 5 run, 8 standby); 120 AMFL/AMFR (bits 4/0: auto-muted).
Other page 0 registers of the datasheet's map (PLL, dividers, GPIO, ...) are stored
and read back without effect. Page 1: 1 OSEL, 2 LAGN/RAGN (bits 4/0: analog gain
-6 dB), 5, 6, 7, 8, 9 stored (only 2 acts).
"""

# page 0: reg -> (reset, writable bits)
P0 = {1: (0x00, 0x11), 2: (0x00, 0x11), 3: (0x00, 0x11), 4: (0x01, 0x01), 6: (0x00, 0x01),
      7: (0x00, 0x11), 8: (0x00, 0x3F), 9: (0x00, 0x31), 10: (0x00, 0xFF), 12: (0x7C, 0xFF),
      13: (0x00, 0x70), 14: (0x00, 0x70), 16: (0x00, 0x07), 18: (0x00, 0x07),
      19: (0x10, 0x11), 20: (0x00, 0x0F), 21: (0x00, 0x3F), 22: (0x00, 0x3F),
      23: (0x00, 0xFF), 24: (0x00, 0x0F), 27: (0x00, 0x7F), 28: (0x00, 0x7F),
      29: (0x00, 0x7F), 30: (0x00, 0x7F), 32: (0x00, 0x7F), 33: (0x00, 0xFF),
      34: (0x00, 0x03), 35: (0x01, 0xFF), 36: (0x00, 0xFF), 37: (0x00, 0x7F),
      40: (0x02, 0x33), 41: (0x00, 0xFF), 42: (0x11, 0x33), 43: (0x01, 0x1F),
      44: (0x00, 0x07), 59: (0x00, 0x77), 60: (0x00, 0x03), 61: (0x30, 0xFF),
      62: (0x30, 0xFF), 63: (0x22, 0xFF), 64: (0x00, 0xF0), 65: (0x07, 0x07),
      80: (0x00, 0x1F), 81: (0x00, 0x1F), 82: (0x00, 0x1F), 83: (0x00, 0x1F),
      84: (0x00, 0x1F), 85: (0x00, 0x1F), 86: (0x00, 0x3F), 87: (0x00, 0x3F)}
READ_ONLY0 = (90, 91, 92, 93, 94, 95, 108, 118, 119, 120)
P1 = {1: (0x00, 0x01), 2: (0x00, 0x11), 5: (0x00, 0x03), 6: (0x00, 0x01), 7: (0x00, 0x11),
      8: (0x00, 0x01), 9: (0x01, 0x01)}
PAGES = {0: P0, 1: P1}
# writes that change what the audio path does (the rest are stored only)
AUDIO = {0: (2, 3, 7, 13, 37, 40, 42, 43, 59, 60, 61, 62, 63, 65), 1: (2,)}
