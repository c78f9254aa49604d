/* nerve/graph.h, part of nerve.h (include that, or this part alone): the computation graph:
 * nodes, planning, forward and backward passes, the flat buffers. */
#ifndef NERVE_PUBLIC_GRAPH_H
#define NERVE_PUBLIC_GRAPH_H

#include "nerve/comm.h"
#include "nerve/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- graph */

typedef struct nerve_graph nerve_graph;
typedef int nerve_node; /* index of a node in its graph; -1 is "none" */

NERVE_API nerve_graph *nerve_graph_new(void);
/* Runs g on the backend called name (nerve_backend_name), chosen on a new
 * graph before any node is added (their memory is the backend's): an
 * unknown name is an error naming the backends there are, and so is a
 * graph that has nodes. Replaces NERVE_BACKEND's choice. */
NERVE_API nerve_status nerve_graph_set_backend(nerve_graph *g, const char *name, nerve_error *err);
/* The name of the backend g runs on. */
NERVE_API const char *nerve_graph_backend(const nerve_graph *g);
NERVE_API void nerve_graph_free(nerve_graph *g);

/* Graph construction. Shapes of inputs are per sample: the batch dimension is
 * prepended when the graph is planned. Each builder returns the new node, or
 * -1 with a message in err (bad input node, shapes that do not agree). */
NERVE_API nerve_node nerve_input(nerve_graph *g, const char *name, nerve_shape sample_shape,
                                 nerve_error *err);
/* Makes backward also compute d(loss)/d(input), read with nerve_node_grad
 * after nerve_graph_backward (or _from): how a gradient leaves a graph to be
 * handed to another one's nerve_graph_backward_from. Set it before
 * nerve_graph_plan, which gives the gradient its place in the arena. */
NERVE_API nerve_status nerve_graph_set_input_grad(nerve_graph *g, nerve_node input, bool takes_grad,
                                                  nerve_error *err);
/* A trainable tensor, stored in the graph's flat parameter buffer. */
NERVE_API nerve_node nerve_param(nerve_graph *g, const char *name, nerve_shape shape,
                                 nerve_error *err);
/* A buffer: a parameter that is state, not learned (batch norm's running
 * statistics). It is saved and loaded with the parameters, never has a
 * gradient, and stays frozen whatever nerve_node_set_frozen asks. */
NERVE_API nerve_node nerve_buffer(nerve_graph *g, const char *name, nerve_shape shape,
                                  nerve_error *err);
/* A buffer of whole numbers (batch norm's num_batches_tracked): a real in
 * the graph like every parameter, saved as int64 (safetensors I64, PyTorch's
 * long tensors) and loaded from I64. float32 counts exactly up to 2^24. */
NERVE_API nerve_node nerve_integer_buffer(nerve_graph *g, const char *name, nerve_shape shape,
                                          nerve_error *err);

/* Allocates the parameter and gradient buffers (once: later calls are no-ops)
 * and the activation memory (the arena) for batches of up to max_batch
 * samples. Planning again with a larger max_batch, or after a forward-only
 * plan, replaces the arena (the old one is released first; on failure the
 * graph is unplanned). Shapes that do not agree are reported here.
 * The arena is a liveness plan (docs/architecture.md, "Memory"): every
 * value, op state and gradient-taking input's gradient has memory of its
 * own, but an op's gradient lives only from the backward of its last reader
 * to its own backward, and gradients whose lifetimes do not overlap share
 * memory; after nerve_graph_backward the gradients of parameters and of
 * gradient-taking inputs are readable, an op's only with
 * nerve_graph_set_keep_gradients. Every op's value is readable after a
 * forward but two: a batch norm or an add whose output only a ReLU reads
 * shares the ReLU's memory, which holds the ReLU's output (one pass and one
 * buffer for both), and a convolution whose output only a batch norm reads
 * runs that batch norm too and may keep its own output in the backend's
 * layout (docs/architecture.md, "Folds"); with kept gradients neither
 * folds. */
NERVE_API nerve_status nerve_graph_plan(nerve_graph *g, int64_t max_batch, nerve_error *err);
/* A forward-only plan for evaluation and prediction: no gradients, and the
 * values of ops share memory once their last reader has run, so the arena
 * holds little more than the largest activations. After
 * nerve_graph_forward(g, t) the values of t, of the inputs, of every node
 * that nothing reads, and of each node an op at or after t reads (the
 * logits a loss reads) are intact; other intermediate values may not be.
 * A plan of either kind for at least max_batch samples is kept (only the
 * batch is set); backward on a forward-only plan is an error. */
NERVE_API nerve_status nerve_graph_plan_inference(nerve_graph *g, int64_t max_batch,
                                                  nerve_error *err);
/* Whether g's arena is a training plan (nerve_graph_plan). */
NERVE_API bool nerve_graph_planned_for_training(const nerve_graph *g);
/* The bytes of the arena a training plan (training true) or a forward-only
 * plan of max_batch samples takes; plans nothing (nerve info prints both). */
NERVE_API nerve_status nerve_graph_plan_bytes(nerve_graph *g, int64_t max_batch, bool training,
                                              size_t *bytes, nerve_error *err);
/* Keep (true) each op's gradient in memory of its own, readable after
 * backward (gradient checks, parity tests), and every op's value written
 * (no folds); call it before the graph is planned. Off by default: op
 * gradients share memory. */
NERVE_API void nerve_graph_set_keep_gradients(nerve_graph *g, bool keep);
/* Per-op timing, to see where a step's time goes (nerve_bench --profile):
 * while on, forward and backward wait for the device after each op and add
 * its seconds (backward's with the zeroing of the gradients it adds into) to
 * the op's totals; off (the default), no clock is read. Turning it on clears
 * the totals. */
NERVE_API void nerve_graph_set_profiling(nerve_graph *g, bool on);
/* The seconds op n spent in forward and in backward while profiling was on
 * (0 for inputs and parameters); either pointer may be NULL. */
NERVE_API void nerve_node_profile(const nerve_graph *g, nerve_node n, double *forward_seconds,
                                  double *backward_seconds);
/* Sets the batch of the next runs (1 <= n <= planned max); allocates nothing. */
NERVE_API nerve_status nerve_graph_set_batch(nerve_graph *g, int64_t n, nerve_error *err);
NERVE_API int64_t nerve_graph_batch(const nerve_graph *g);

NERVE_API void nerve_graph_set_training(nerve_graph *g, bool training);
/* Recurrent state across batches. Off (the default), every recurrent layer
 * starts each batch from a zero state. On, each batch starts from the state
 * the previous one ended with (truncated BPTT over a stream, generation): the
 * carried state is a constant, so gradients stop at the batch border.
 * nerve_graph_reset_state zeroes the carried state (a new epoch, a new
 * evaluation, a new text to generate). */
NERVE_API void nerve_graph_set_carry_state(nerve_graph *g, bool carry);
/* Data-parallel training over c (NULL: none): in training mode batch norm
 * takes its statistics over the batches of every rank (the sums of x, x^2
 * and the count in forward, of dy and dy * xhat in backward), so each rank's
 * slice is normalised as the whole global batch would be and the running
 * statistics agree everywhere. Fails (NERVE_ERR_NOMEM, the graph left
 * without a communicator) when its small buffer of sums cannot be allocated;
 * with c NULL it never fails. A failed collective is kept and returned by
 * nerve_graph_comm_status (the forward and backward passes return nothing). */
NERVE_API nerve_status nerve_graph_set_comm(nerve_graph *g, nerve_comm *c, nerve_error *err);
NERVE_API nerve_status nerve_graph_comm_status(nerve_graph *g, nerve_error *err);
/* A rank whose slice of a global batch is empty runs no forward pass but
 * joins the collectives the others' forward and backward passes towards
 * loss make (batch norm's, contributing nothing, and the gradient buckets
 * of nerve_train_options.bucket_mb), so that none waits. */
NERVE_API void nerve_graph_join_empty_step(nerve_graph *g, nerve_node loss);

NERVE_API bool nerve_graph_carries_state(const nerve_graph *g);
NERVE_API void nerve_graph_reset_state(nerve_graph *g);
NERVE_API bool nerve_graph_training(const nerve_graph *g);
/* The noise of dropout, dropout2d and rrelu is counter-based (Philox-4x32-10):
 * the values of batch row i at node n are a pure function of (seed, step,
 * first_sample + i, n), whatever the batch size, the row, the backend or the
 * thread count; docs/reference.md, "Random numbers". The same position gives
 * the same noise again, so a training loop sets a new position every step:
 * nerve_train sets its global step and the position in the epoch's sample
 * order of the batch's first sample. The defaults are all 0; a model built
 * from a cfg takes the seed from [net] seed. */
NERVE_API void nerve_graph_set_seed(nerve_graph *g, uint64_t seed);
NERVE_API void nerve_graph_set_position(nerve_graph *g, int64_t step, int64_t first_sample);

/* Runs the nodes needed for target (all nodes when target is -1). Fails
 * when a kernel fails or the graph's device lacks one: the message names
 * the op, the node, the kernel and the device. */
NERVE_API nerve_status nerve_graph_forward(nerve_graph *g, nerve_node target, nerve_error *err);
/* Reverse-mode autodiff from a scalar node: accumulates into parameter
 * gradients (see nerve_graph_zero_grad). Fails as nerve_graph_forward, or
 * when loss is not a node of g. */
NERVE_API nerve_status nerve_graph_backward(nerve_graph *g, nerve_node loss, nerve_error *err);
/* Reverse-mode autodiff from any op node, given upstream = dL/d(node): as
 * many values as the node has at the current batch (batch x per-sample, the
 * layout of nerve_node_value). Accumulates into parameter gradients and into
 * gradient-taking inputs exactly as nerve_graph_backward does from a scalar
 * with gradient 1. With nerve_graph_set_input_grad it chains two graphs:
 * forward G, copy G's output into D's input, forward and backward D, then
 * nerve_graph_backward_from(G, G's output, D's input gradient). Fails when
 * no trainable parameter or gradient-taking input feeds node. */
NERVE_API nerve_status nerve_graph_backward_from(nerve_graph *g, nerve_node node,
                                                 const nerve_real *upstream, nerve_error *err);
NERVE_API void nerve_graph_zero_grad(nerve_graph *g);

/* Introspection. Pointers stay valid until the next nerve_graph_plan. */
NERVE_API int nerve_graph_node_count(const nerve_graph *g);
NERVE_API nerve_node nerve_graph_find(const nerve_graph *g, const char *name);
/* Gives node n a new name, unique in the graph (at most 63 bytes). */
NERVE_API nerve_status nerve_graph_rename(nerve_graph *g, nerve_node n, const char *name,
                                          nerve_error *err);
NERVE_API const char *nerve_node_name(const nerve_graph *g, nerve_node n);
NERVE_API const char *nerve_node_op_name(const nerve_graph *g, nerve_node n);
NERVE_API nerve_shape nerve_node_shape(const nerve_graph *g, nerve_node n);
/* Where node n's value and gradient live. The pointers are host memory, to
 * read and write directly, only on a host device (the CPU); on any other
 * device use nerve_node_read and nerve_node_write. */
NERVE_API nerve_real *nerve_node_value(nerve_graph *g, nerve_node n);
NERVE_API nerve_real *nerve_node_grad(nerve_graph *g, nerve_node n); /* NULL if none */
/* Copies the first count values of node n (at most as many as it has at
 * the current batch, nerve_node_shape) to values, or from values into the
 * node: works on every device. Fails on a node without values (an input or
 * op of a graph not planned yet) or a count out of range. */
NERVE_API nerve_status nerve_node_read(nerve_graph *g, nerve_node n, nerve_real *values,
                                       int64_t count, nerve_error *err);
NERVE_API nerve_status nerve_node_write(nerve_graph *g, nerve_node n, const nerve_real *values,
                                        int64_t count, nerve_error *err);
/* Copies the first count values of node n's gradient to values, on every
 * device: a trainable parameter's or a gradient-taking input's after
 * backward (an op's only with nerve_graph_set_keep_gradients). Fails on a
 * node without a gradient or a count out of range. */
NERVE_API nerve_status nerve_node_read_grad(nerve_graph *g, nerve_node n, nerve_real *values,
                                            int64_t count, nerve_error *err);
NERVE_API bool nerve_node_is_param(const nerve_graph *g, nerve_node n); /* buffers included */
NERVE_API bool nerve_node_is_buffer(const nerve_graph *g, nerve_node n);
/* Freezing keeps a parameter out of backward and of optimizer updates. */
NERVE_API void nerve_node_set_frozen(nerve_graph *g, nerve_node n, bool frozen);
/* Freezes (or unfreezes) every parameter whose name starts with prefix
 * ("disc." for a discriminator's layers); buffers stay frozen. Returns how
 * many parameters it set. */
NERVE_API int nerve_graph_freeze_prefix(nerve_graph *g, const char *prefix, bool frozen);
NERVE_API bool nerve_node_frozen(const nerve_graph *g, nerve_node n);
/* Floating-point operations of one sample's forward pass through node n. */
NERVE_API int64_t nerve_node_flops(const nerve_graph *g, nerve_node n);

/* Finite-difference check of d(loss)/d(every trainable parameter) by central
 * differences of step eps; *max_error is the worst |numeric - analytic| /
 * max(1, |numeric| + |analytic|). Every forward starts from the graph RNG's
 * state at the call, so stochastic ops (dropout) draw the same masks each
 * time. Use the NERVE_F64 build for tight bounds. */
NERVE_API nerve_status nerve_gradcheck(nerve_graph *g, nerve_node loss, double eps,
                                       double *max_error, nerve_error *err);

/* The flat parameter and gradient buffers (valid after nerve_graph_plan). */
NERVE_API nerve_real *nerve_graph_params(nerve_graph *g);
NERVE_API nerve_real *nerve_graph_grads(nerve_graph *g);
NERVE_API size_t nerve_graph_param_count(const nerve_graph *g);
/* Trainability mask over the flat buffer: 1 where an optimizer may update. */
NERVE_API const unsigned char *nerve_graph_trainable_mask(nerve_graph *g);
/* How many token ids node n may hold: the smallest vocabulary (or number of
 * classes) of the embedding and one_hot ops that read n as ids, directly or
 * through ops that share its memory (reshape, flatten, identity); ids must
 * be integers in [0, limit). 0 when no op reads n as ids. */
NERVE_API int64_t nerve_graph_token_limit(const nerve_graph *g, nerve_node n);

#ifdef __cplusplus
}
#endif
#endif /* NERVE_PUBLIC_GRAPH_H */
