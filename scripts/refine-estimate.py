#!/usr/bin/env python3
"""Estimates the all-Kodak BD-rate of `lic encode --refine N` from a run on a few images.

Refinement costs ≈ 60× the encode time, so it is measured on a subset; this script takes the
per-quality change it made there (rate ratio, PSNR delta, means over the subset against the
plain encoder's points for the same images in the full run) and applies it to the full run's
plain curve. The result is an estimate, not a measurement: it assumes the subset's gains hold
on the other images.

Usage: python3 scripts/refine-estimate.py REFINED_RESULTS.json [FULL_RESULTS.json]
       (results.json files written by `lic bench`; default full run: docs/results/results.json;
       needs numpy; the BD-rate is scripts/bd-sensitivity.py's cubic one, as bench/bd.rs)
"""
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

# The BD-rate of bd-sensitivity.py, beside this file (its hyphenated name cannot be imported).
_spec = importlib.util.spec_from_file_location("bds", Path(__file__).with_name("bd-sensitivity.py"))
bds = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bds)


def curve(items, codec, images):
    params = sorted({it["param"] for it in items if it["codec"] == codec})
    sel = lambda q: [it for it in items if it["codec"] == codec and it["param"] == q and it["image"] in images]
    return (np.array([np.mean([it["bpp"] for it in sel(q)]) for q in params]),
            np.array([np.mean([it["psnr"] for it in sel(q)]) for q in params]))


def main():
    refined = json.load(open(sys.argv[1]))["items"]
    full = json.load(open(sys.argv[2] if len(sys.argv) > 2 else "docs/results/results.json"))["items"]
    codec = next(it["codec"] for it in refined if it["codec"].startswith("lic"))
    subset = sorted({it["image"] for it in refined})
    every = sorted({it["image"] for it in full})
    plain_s, ref_s, jpeg_s = (curve(r, c, subset) for r, c in ((full, "lic"), (refined, codec), (full, "jpeg")))
    plain_f, jpeg_f = curve(full, "lic", every), curve(full, "jpeg", every)
    print(f"{codec} on {len(subset)} images vs plain: {bds.bd_rate(plain_s, ref_s):+.2f}%; "
          f"vs JPEG: plain {bds.bd_rate(jpeg_s, plain_s):+.2f}%, refined {bds.bd_rate(jpeg_s, ref_s):+.2f}%")
    est = (plain_f[0] * ref_s[0] / plain_s[0], plain_f[1] + ref_s[1] - plain_s[1])
    print(f"all {len(every)} images vs JPEG: plain {bds.bd_rate(jpeg_f, plain_f):+.2f}% (measured), "
          f"refined {bds.bd_rate(jpeg_f, est):+.2f}% (estimate)")


if __name__ == "__main__":
    main()
