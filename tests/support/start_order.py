"""A trial's place in its run, for tests whose point needs some trials to run before others.

Grid draws its points in a random order, as Katib's does (Optuna's GridSampler), so a test that
needs, say, two good curves completed before a bad one cannot tie the bad curve to a point; it
ties it to the trial's place instead: each trial claims the first free number in a folder, and
the one that claims 3 is the third to start, whichever point it got."""

from __future__ import annotations

CLAIM_PLACE = """
import os
def claim_place(folder):
    os.makedirs(folder, exist_ok=True)
    place = 1
    while True:
        try:
            os.close(os.open(os.path.join(folder, str(place)), os.O_CREAT | os.O_EXCL))
            return place
        except FileExistsError:
            place += 1
"""
"""Python source defining ``claim_place(folder)``: 1 for the first trial to call it, 2 for the
next, and so on (O_EXCL: two trials never claim the same number)."""

