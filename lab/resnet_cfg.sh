#!/usr/bin/env bash
# The CIFAR-style networks of He et al. (2016, §4.2) for the depth claims
# (C10): 6n + 2 weighted layers, plain or residual, without writing 56
# sections by hand. nerve's .cfg has no repeat construct; this generator is
# the documented way (lab/README.md, "Deep plain and residual nets").
#
#   lab/resnet_cfg.sh N plain|residual [DATA_DIR] >net.cfg
#
# A 3x3 convolution of 16 filters; three stages of N blocks of two 3x3
# convolutions (16, 32, 64 filters; the first convolution of stages 2 and 3
# has stride 2), each convolution followed by batch norm and relu (the
# second's relu after the addition in a residual block); global average
# pooling and a dense layer of 10. Residual blocks add their input, through
# a 1x1 convolution of stride 2 with batch norm where the shape changes (He's
# option B; his CIFAR nets used option A, zero padding, which nerve lacks).
# The data are Fashion-MNIST's IDX files in DATA_DIR (default: Debian's).
set -eu
[ $# -ge 2 ] || { echo "usage: lab/resnet_cfg.sh N plain|residual [DATA_DIR]" >&2; exit 2; }
n=$1 kind=$2 data=${3:-/usr/share/datasets/fashion-mnist}
case $n in '' | *[!0-9]*) echo "resnet_cfg: N must be a positive integer, not '$n'" >&2; exit 2 ;; esac
[ "$n" -ge 1 ] || { echo "resnet_cfg: N must be at least 1" >&2; exit 2; }
case $kind in plain | residual) ;; *) echo "resnet_cfg: plain or residual, not '$kind'" >&2; exit 2 ;; esac

cat <<CFG
# $((6 * n + 2)) weighted layers, $kind (lab/resnet_cfg.sh $n $kind)
[net]
input = 1x28x28
batch = 128
epochs = 5
seed = 1

[data]
format = idx
train = $data/train-images-idx3-ubyte.gz
train_labels = $data/train-labels-idx1-ubyte.gz
test = $data/t10k-images-idx3-ubyte.gz
test_labels = $data/t10k-labels-idx1-ubyte.gz
scale = 255
normalize = standardize
validation = 5000

[optimizer]
type = sgd
lr = 0.1
momentum = 0.9
weight_decay = 0.0001

[loss]
type = softmax_cross_entropy
CFG

# conv NAME FILTERS STRIDE INPUT: a 3x3 convolution without bias, then batch norm.
conv() {
    printf '\n[conv2d]\nname = %s\n' "$1"
    [ -n "$4" ] && printf 'input = %s\n' "$4"
    printf 'filters = %s\nkernel = 3\nstride = %s\npadding = 1\nbias = 0\ninit = kaiming_normal(mode=fan_out, nonlinearity=relu)\n' "$2" "$3"
    printf '\n[batchnorm]\nname = %s_bn\n' "$1"
}

conv stem 16 1 ""
printf 'activation = relu\n'
previous=stem_bn filters=16
for stage in 1 2 3; do
    width=$((16 << (stage - 1)))
    for block in $(seq 1 "$n"); do
        name=s${stage}b${block} stride=1
        [ "$block" = 1 ] && [ "$stage" -gt 1 ] && stride=2
        in_filters=$filters filters=$width
        conv "${name}c1" "$width" "$stride" "$previous"
        printf 'activation = relu\n'
        conv "${name}c2" "$width" 1 ""
        if [ "$kind" = plain ]; then
            printf 'activation = relu\n'
            previous=${name}c2_bn
            continue
        fi
        shortcut=$previous
        if [ "$stride" = 2 ] || [ "$width" != "$in_filters" ]; then
            printf '\n[conv2d]\nname = %s_proj\ninput = %s\nfilters = %s\nkernel = 1\nstride = %s\nbias = 0\n' \
                "$name" "$previous" "$width" "$stride"
            printf '\n[batchnorm]\nname = %s_proj_bn\n' "$name"
            shortcut=${name}_proj_bn
        fi
        printf '\n[add]\nname = %s_add\ninput = %s, %s\n' "$name" "${name}c2_bn" "$shortcut"
        printf '\n[activation]\nname = %s\ntype = relu\n' "$name"
        previous=$name
    done
done
printf '\n[global_avgpool]\nname = pool\ninput = %s\n\n[dense]\nname = out\nunits = 10\n' "$previous"
