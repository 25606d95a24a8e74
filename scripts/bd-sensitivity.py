#!/usr/bin/env python3
"""How lic's BD-rate against an anchor answers to changes of lic's curve.

Reads two committed curves (lic's and the anchor's, as `lic bench` writes them) and prints the
BD-rate (PSNR, VCEG-M33 cubic fit of log-rate against PSNR over the overlapping PSNR range, as
tools/src/bench/bd.rs computes it) after each change: +0.1 dB at one quality, a uniform PSNR
shift, a uniform rate cut. Used in docs/ablation-latent ("Where a BD-rate point comes from").

Usage: python3 scripts/bd-sensitivity.py [LIC.json] [ANCHOR.json]
       (defaults: docs/results/lic.json docs/results/jpeg.json; needs numpy)
"""
import json
import sys

import numpy as np


def curve(path):
    r = json.load(open(path))["results"]
    return np.array(r["bpp"]), np.array(r["psnr-rgb"])


def bd_rate(anchor, test):
    (ra, pa), (rt, pt) = anchor, test
    ia = np.polyint(np.polyfit(pa, np.log(ra), 3))
    it = np.polyint(np.polyfit(pt, np.log(rt), 3))
    lo, hi = max(pa.min(), pt.min()), min(pa.max(), pt.max())
    mean = lambda i: (np.polyval(i, hi) - np.polyval(i, lo)) / (hi - lo)
    return (np.exp(mean(it) - mean(ia)) - 1) * 100


def main():
    lic = curve(sys.argv[1] if len(sys.argv) > 1 else "docs/results/lic.json")
    anchor = curve(sys.argv[2] if len(sys.argv) > 2 else "docs/results/jpeg.json")
    rate, psnr = lic
    print(f"as measured: {bd_rate(anchor, lic):+.2f}%")
    for q in range(len(psnr)):
        p = psnr.copy()
        p[q] += 0.1
        print(f"+0.1 dB at q{q + 1} only: {bd_rate(anchor, (rate, p)):+.2f}%")
    for d in (0.1, 0.2, 0.3):
        print(f"+{d:.1f} dB at every quality: {bd_rate(anchor, (rate, psnr + d)):+.2f}%")
    for cut in (0.01, 0.03, 0.05):
        print(f"-{cut:.0%} rate at every quality: {bd_rate(anchor, (rate * (1 - cut), psnr)):+.2f}%")


if __name__ == "__main__":
    main()
