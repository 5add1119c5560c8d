"""Seeded random scenario scripts: the property test's actions, written as scripts.

Used by the conformance run, which needs sequences both VMs can read. The
settings-file corruption of the property test has no script command, so it is
not among them.
"""
import random

RATES = ("2", "5", "10", "40", "200")
BOUNCES = ("0", "300", "1500")
WAITS = ("5", "30", "300", "1000", "4000")


def random_script(seed, balanced, steps=25):
    rng = random.Random(seed)
    lines = ["# generated, seed %d" % seed, "power on", "wait 2500"]
    for _ in range(steps):
        k = rng.random()
        if k < 0.35:
            n = rng.randint(1, 12) * rng.choice((1, -1))
            lines.append("turn %+d at %s/s bounce %s" % (n, rng.choice(RATES), rng.choice(BOUNCES)))
        elif k < 0.45:
            lines.append("press bounce %s" % rng.choice(("0", "800")))
        elif k < 0.5:
            lines.append("hold 900")
        elif k < 0.6:
            lines.append("switch gain %s bounce %s" % (rng.choice(("low", "high")),
                                                        rng.choice(("0", "2000"))))
        elif k < 0.7 and balanced:
            lines.append("switch output %s bounce %s" % (rng.choice(("se", "balanced")),
                                                          rng.choice(("0", "2000"))))
        elif k < 0.75:
            lines += ["power off", "wait %s" % rng.choice(("1", "50", "2000")), "power on", "wait 2500"]
        else:
            lines.append("wait %s" % rng.choice(WAITS))
    return "\n".join(lines) + "\n"
