#!/usr/bin/env bash
# make gpu-debs: what scripts/gpu_check.sh needs on the lent GPU machine,
# which has nvcc, CMake, a C compiler and PyTorch but none of nerve's Debian
# libraries and no network (docs/cuda.md): the .debs of the libraries nerve
# builds against, fetched here with `apt-get download` (no dependency
# resolution there: the list below is the closure, checked against
# apt-cache), and the benchmark data, all into .deps/gpu (ignored by git;
# the device run carries it). About 40 MB.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=$root/.deps/gpu
# oneDNN (the CPU backend's GEMM and convolutions, for the CPU figures) and
# the OpenCL loader it links; jansson; cmocka (the tests); zlib; pkgconf for
# machines without pkg-config.
packages=(libdnnl-dev libdnnl2 ocl-icd-libopencl1 libjansson-dev libjansson4
          libcmocka-dev libcmocka0 zlib1g-dev zlib1g pkgconf pkgconf-bin libpkgconf3)
mkdir -p "$dest/debs" "$dest/data"
rm -f "$dest/debs"/*.deb
(cd "$dest/debs" && apt-get download "${packages[@]}")
data=/usr/share/datasets/fashion-mnist
cp "$data/train-images-idx3-ubyte.gz" "$data/train-labels-idx1-ubyte.gz" "$dest/data/"
cp /usr/share/doc/jargon-text/jargon.txt.gz "$dest/data/"
du -sh "$dest"
