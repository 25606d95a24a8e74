#!/usr/bin/env python3
"""Linear ceiling of a latent of K numbers per B×B×3 block (docs/ablation-latent).

Fits block PCA on the training crops and reports the Kodak PSNR of keeping the first K
components: the best any *linear, non-overlapping* transform with that many numbers per
block can reconstruct. lic's g_a/g_s keep M numbers per 16×16×3 block (the latent) and N
per 8×8×3 block (the last hidden layer), so this says which of them binds.

Usage: python3 scripts/pca-ceiling.py [DATA_ROOT]   (needs numpy and Pillow)
"""
import glob
import os
import sys

import numpy as np
from PIL import Image


def blocks(paths, b):
    out = []
    for p in paths:
        a = np.asarray(Image.open(p).convert("RGB"), dtype=np.float64)
        h, w = a.shape[0] // b * b, a.shape[1] // b * b
        a = a[:h, :w].reshape(h // b, b, w // b, b, 3).transpose(0, 2, 1, 3, 4).reshape(-1, b * b * 3)
        out.append(a)
    return np.concatenate(out)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("LIC_DATA", "../shared/datasets")
    train = sorted(glob.glob(os.path.join(root, "train/images/*")))[:400]
    kodak = sorted(glob.glob(os.path.join(root, "kodak/*.png")))
    if not train or not kodak:
        sys.exit(f"no training crops or Kodak images under {root}")
    print("block,components,per_pixel,kodak_psnr_db")
    for b, ks in [(16, [64, 128, 192, 256, 320]), (8, [32, 64, 96])]:
        x = blocks(train, b)
        mu = x.mean(0)
        _, vecs = np.linalg.eigh(np.cov((x - mu).T))
        vecs = vecs[:, ::-1]
        k_blocks = blocks(kodak, b)
        for k in ks:
            p = vecs[:, :k]
            r = np.clip((k_blocks - mu) @ p @ p.T + mu, 0, 255)
            mse = ((r - k_blocks) ** 2).mean()
            print(f"{b},{k},{k / (b * b):.3f},{10 * np.log10(255**2 / mse):.2f}")


if __name__ == "__main__":
    main()
