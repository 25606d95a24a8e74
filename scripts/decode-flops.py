#!/usr/bin/env python3
"""Decode FLOPs of a lic weights file, counted from its layer shapes.

Usage: python3 scripts/decode-flops.py [WEIGHTS] [WIDTH HEIGHT]
(default: models/weights/lic-default.safetensors, 768 512 — a Kodak image).

One multiply-add counts as 2 FLOPs. Convolutions are counted at the resolution they run
at: g_s from the latent (1/16) up to the image, h_s from z (1/64) up to 1/16, the slice
networks (parameters, latent residual prediction, checkerboard) at 1/16, all at every
position (the decoder skips some of that work; this counts the layers). IGDN is counted as
its N×N channel mix, 2·N² FLOPs per pixel (the square root and division are left out).
Standard library only.
"""
import json
import struct
import sys

path = sys.argv[1] if len(sys.argv) > 1 else "models/weights/lic-default.safetensors"
width, height = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (768, 512)
with open(path, "rb") as f:
    (n,) = struct.unpack("<Q", f.read(8))
    header = json.loads(f.read(n))
header.pop("__metadata__", None)
shapes = {k: v["shape"] for k, v in header.items() if not k.startswith("temporal.")}

def pixels(scale):
    return (width // scale) * (height // scale)

groups = {"g_s": 0.0, "IGDN": 0.0, "h_s": 0.0, "context nets": 0.0, "checkerboard nets": 0.0}
for k, s in shapes.items():
    if len(s) != 4 or not k.endswith(".weight"):
        continue
    kk = s[2] * s[3]
    if k.startswith("g_s.deconvs."):
        # A transposed conv [in, out, k, k]: in·out·k² multiply-adds per *input* position.
        i = int(k.split(".")[2])
        groups["g_s"] += 2 * pixels(16 >> i) * s[0] * s[1] * kk
    elif k.startswith("h_s.deconvs."):
        i = int(k.split(".")[2])
        groups["h_s"] += 2 * pixels(64 >> i) * s[0] * s[1] * kk
    elif k.startswith("h_s.convs."):
        groups["h_s"] += 2 * pixels(16) * s[0] * s[1] * kk
    elif k.startswith(("slice_params.", "slice_lrp.")):
        groups["context nets"] += 2 * pixels(16) * s[0] * s[1] * kk
    elif k.startswith("slice_spatial."):
        groups["checkerboard nets"] += 2 * pixels(16) * s[0] * s[1] * kk
for k, s in shapes.items():
    # IGDN after g_s layers 0..2: gamma is [N, N], at 1/8, 1/4, 1/2 resolution.
    if k.startswith("g_s.igdns.") and len(s) == 2 and s[0] == s[1]:
        i = int(k.split(".")[2])
        groups["IGDN"] += 2 * pixels(8 >> i) * s[0] * s[1]
total = sum(groups.values())
print(f"{path}: {width}×{height}")
for name, v in groups.items():
    print(f"  {name:18} {v / 1e9:6.2f} GFLOP")
print(f"  {'total':18} {total / 1e9:6.2f} GFLOP ({total / (width * height) / 1e3:.1f} kFLOP/pixel)")
