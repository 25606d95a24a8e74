#!/usr/bin/env bash
# Installs the classical codecs `lic bench` compares against, from Debian 12's packages:
# libjpeg-turbo (cjpeg/djpeg), libwebp (cwebp/dwebp), libaom via libavif (avifenc/avifdec),
# x265 via libheif (heif-enc/heif-convert), libjxl (cjxl/djxl).
set -euo pipefail
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
  libjpeg-turbo-progs webp libavif-bin libheif-examples libjxl-tools
