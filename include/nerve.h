/*
 * nerve.h: the one public header of nerve, a neural-network library in C11.
 *
 * The library is organised in two layers (as kann's engine / API split):
 *   - the engine: tensors of up to 5 dimensions, a computation graph built once
 *     and executed many times, reverse-mode autodiff over it, one flat buffer
 *     for all parameters and one for all their gradients;
 *   - the model API: layers, losses and optimizers built from a .cfg file or in
 *     code, datasets, weights in safetensors.
 *
 * Conventions (as SQLite): every function that can fail returns a nerve_status
 * and writes a one-line message into a caller-supplied nerve_error. Nothing in
 * the library prints or calls exit().
 */
#ifndef NERVE_H
#define NERVE_H

#include "nerve/core.h"
#include "nerve/comm.h"
#include "nerve/graph.h"
#include "nerve/ops.h"
#include "nerve/init.h"
#include "nerve/data.h"
#include "nerve/text.h"
#include "nerve/augment.h"
#include "nerve/safetensors.h"
#include "nerve/config.h"
#include "nerve/layers.h"
#include "nerve/optim.h"
#include "nerve/model.h"
#include "nerve/onnx.h"
#include "nerve/train.h"
#include "nerve/checkpoint.h"
#include "nerve/evaluate.h"
#include "nerve/ensemble.h"
#include "nerve/gan.h"
#include "nerve/pretrain.h"

#endif /* NERVE_H */
