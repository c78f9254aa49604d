/* GAN training: two models, each with its own graph and optimizer, chained
 * in code. G's output is copied into D's input; D's input gradient
 * (nerve_graph_set_input_grad) goes back into G through
 * nerve_graph_backward_from. Everything a step touches (the plans, the
 * optimizers' state, the sample order, the upstream buffer) is allocated
 * before the first step. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_internal.h"
#include "core/options.h"
#include "model/model_internal.h"
#include "train/batching.h"

/* The real samples' order comes from a stream apart from the noise's. */
#define GAN_ORDER_STREAM 0x6a09e667f3bcc909ULL

static nerve_gan_options nerve_gan_options_from_value(const nerve_model *discriminator)
{
    nerve_gan_options o = {0};
    o.epochs = discriminator->settings.epochs;
    o.batch = discriminator->settings.batch;
    o.seed = discriminator->settings.seed;
    o.k = 1;
    o.loss = NERVE_GAN_NON_SATURATING;
    return o;
}

void nerve_gan_options_from_sized(const nerve_model *discriminator,
                                  nerve_gan_options *out, size_t size)
{
    nerve_gan_options value = nerve_gan_options_from_value(discriminator);
    nerve_options_write(out, size, &value, sizeof value);
}

/* What the steps share, set up once. */
typedef struct gan_run {
    nerve_model *g, *d;
    nerve_graph *gg, *dg;
    nerve_optimizer *g_opt, *d_opt; /* the run's, from each model's [optimizer] */
    const nerve_gan_options *o;
    int64_t batch, noise_size, sample_size;
    nerve_rng noise_rng;
    int64_t forwards;         /* training forwards so far: the noise position of the next */
    nerve_node *d_trainable;  /* D's parameters that are not frozen by the caller */
    int d_trainable_count;
    nerve_real *upstream;     /* minimax: dL/d(logit), [batch] */
    FILE *log;
} gan_run;

/* Sums over the steps of an epoch. */
typedef struct gan_totals {
    double d_loss, g_loss;
    double real_probability, fake_probability; /* sums of sigmoid(D's logit) */
    int64_t d_steps, g_steps, real_correct, fake_correct, judged;
} gan_totals;

static nerve_status check_pair(const nerve_model *g, const nerve_model *d, nerve_error *err)
{
    const nerve_model_settings *ds = &d->settings;
    if (ds->loss != NERVE_LOSS_BCE_WITH_LOGITS || nerve_model_output_size(d) != 1)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "the discriminator must output one logit with [loss] type = "
                               "bce_with_logits (it has %lld outputs and loss %s)",
                               (long long)nerve_model_output_size(d), nerve_loss_name(ds->loss));
    if (ds->loss_options.weights)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "the discriminator's [loss] pos_weight has no meaning in a GAN "
                               "(real and fake batches are the same size)");
    nerve_shape out = nerve_node_shape(g->graph, g->output);
    nerve_shape sample = nerve_shape_make(out.ndim - 1, out.dim + 1);
    if (nerve_shape_numel(&sample) != nerve_shape_numel(&ds->input)) {
        char a[64], b[64];
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "the generator's output %s (%lld values) does not fit the "
                               "discriminator's input %s (%lld values)",
                               nerve_shape_format(&sample, a, sizeof a),
                               (long long)nerve_shape_numel(&sample),
                               nerve_shape_format(&ds->input, b, sizeof b),
                               (long long)nerve_shape_numel(&ds->input));
    }
    return NERVE_OK;
}

static nerve_status check_options(const nerve_dataset *real, const nerve_gan_options *o,
                                  int64_t sample_size, nerve_error *err)
{
    if (o->batch < 1)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "a GAN needs a batch of at least 1 (not the whole set), got %lld",
                               (long long)o->batch);
    if (o->k < 1)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "k (discriminator steps per generator step) must be at least 1, "
                               "got %d", o->k);
    if (real->sample_size != sample_size)
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "the real samples have %lld values, the discriminator's input %lld",
                               (long long)real->sample_size, (long long)sample_size);
    if (real->count < o->batch * o->k)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "%lld real samples are fewer than k x batch = %lld: an epoch "
                               "would have no generator step",
                               (long long)real->count, (long long)(o->batch * o->k));
    return NERVE_OK;
}

/* Freezes D's own trainable parameters for a G step, or thaws them. */
static void freeze_discriminator(gan_run *run, bool frozen)
{
    for (int i = 0; i < run->d_trainable_count; i++)
        nerve_node_set_frozen(run->dg, run->d_trainable[i], frozen);
}

static nerve_status gan_setup(gan_run *run, nerve_error *err)
{
    nerve_graph *dg = run->dg;
    nerve_node d_input = run->d->input;
    if (!nerve_node_grad(dg, d_input)) {
        nerve_status st = nerve_graph_set_input_grad(dg, d_input, true, err);
        if (st != NERVE_OK) return st;
    }
    nerve_status st = nerve_graph_plan(run->gg, run->batch, err);
    if (st == NERVE_OK) st = nerve_graph_plan(dg, run->batch, err);
    nerve_error own = {0};
    if (st == NERVE_OK && (!(run->g_opt = nerve_model_optimizer_new(run->g, &own)) ||
                           !(run->d_opt = nerve_model_optimizer_new(run->d, &own))))
        st = nerve_error_set(err, own.status, "%s", own.message);
    if (st != NERVE_OK) return st;
    int count = nerve_graph_node_count(dg);
    run->d_trainable = calloc((size_t)count, sizeof *run->d_trainable);
    run->upstream = calloc((size_t)run->batch, sizeof *run->upstream);
    if (!run->d_trainable || !run->upstream)
        return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory");
    for (nerve_node n = 0; n < count; n++)
        if (nerve_node_is_param(dg, n) && !nerve_node_frozen(dg, n))
            run->d_trainable[run->d_trainable_count++] = n;
    nerve_rng_seed(&run->noise_rng, run->o->seed);
    if (run->o->log_path) {
        run->log = fopen(run->o->log_path, "w");
        if (!run->log)
            return nerve_error_set(err, NERVE_ERR_IO, "%s: cannot write the log",
                                   run->o->log_path);
        fprintf(run->log, "kind,epoch,step,discriminator_loss,generator_loss,real_accuracy,"
                          "fake_accuracy,seconds,d_real,d_fake\n");
    }
    return NERVE_OK;
}

/* Gives the next training forward of graph its own noise position (its
 * dropout and rrelu draws, core/noise.h): no two forwards share a mask, as
 * with torch's sequential generator. */
static void next_noise_position(gan_run *run, nerve_graph *graph)
{
    nerve_graph_set_position(graph, run->forwards++, 0);
}

/* Fresh noise through G (training mode), its output copied into D's input. */
static nerve_status generate_fakes(gan_run *run, nerve_error *err)
{
    nerve_status st = nerve_graph_set_batch(run->gg, run->batch, err);
    nerve_real *z = st == NERVE_OK ? nerve_node_host_view(run->gg, run->g->input, false, err) : NULL;
    if (!z) return st != NERVE_OK ? st : err ? err->status : NERVE_ERR_NOMEM;
    for (int64_t i = 0; i < run->batch * run->noise_size; i++)
        z[i] = (nerve_real)nerve_rng_normal(&run->noise_rng);
    st = nerve_node_host_view_end(run->gg, run->g->input, z, true, err);
    if (st != NERVE_OK) return st;
    nerve_graph_set_training(run->gg, true);
    next_noise_position(run, run->gg);
    return nerve_graph_forward(run->gg, run->g->output, err);
}

/* G's output into D's input: through the host, the two graphs being two
 * devices' memory in general (one copy on a host-memory device). */
static nerve_status feed_fakes(gan_run *run, nerve_error *err)
{
    return nerve_graph_transfer(run->dg, nerve_node_value(run->dg, run->d->input), run->gg,
                                nerve_node_value(run->gg, run->g->output),
                                run->batch * run->sample_size, err);
}

static nerve_status fill_targets(gan_run *run, nerve_real value, nerve_error *err)
{
    nerve_status st =
        nerve_graph_fill(run->dg, nerve_node_value(run->dg, run->d->target), run->batch, value);
    return nerve_graph_pass_error(run->dg, st, err);
}

/* *loss += D's loss; *correct += the logits on the side of target;
 * *probability += D's probabilities (sigmoid of the logits). */
static nerve_status read_judgement(gan_run *run, nerve_real target, double *loss,
                                   int64_t *correct, double *probability, nerve_error *err)
{
    nerve_graph *dg = run->dg;
    nerve_real value;
    nerve_status st = nerve_node_read(dg, run->d->loss, &value, 1, err);
    if (st != NERVE_OK) return st;
    *loss += (double)value;
    nerve_real *logit = nerve_node_host_view(dg, run->d->output, true, err);
    if (!logit) return err ? err->status : NERVE_ERR_NOMEM;
    for (int64_t i = 0; i < run->batch; i++) {
        *correct += (logit[i] > 0) == (target > 0);
        *probability += 1 / (1 + exp(-(double)logit[i]));
    }
    return nerve_node_host_view_end(dg, run->d->output, logit, false, err);
}

/* D forward and backward on what its input holds against `target`; adds
 * the loss to *loss, counts the logits on the right side and sums D's
 * probabilities (sigmoid of the logits) into *probability. */
static nerve_status judge(gan_run *run, nerve_real target, double *loss, int64_t *correct,
                          double *probability, nerve_error *err)
{
    nerve_graph *dg = run->dg;
    nerve_status st = fill_targets(run, target, err);
    next_noise_position(run, dg);
    if (st == NERVE_OK) st = nerve_graph_forward(dg, run->d->loss, err);
    if (st == NERVE_OK) st = nerve_graph_backward(dg, run->d->loss, err);
    if (st != NERVE_OK) return st;
    return read_judgement(run, target, loss, correct, probability, err);
}

/* One D step: real batch order[0..batch) against 1, fresh fakes against 0. */
static nerve_status discriminator_step(gan_run *run, const nerve_dataset *real,
                                       const int64_t *order, gan_totals *t, nerve_error *err)
{
    nerve_graph *dg = run->dg;
    nerve_status st = nerve_graph_set_batch(dg, run->batch, err);
    if (st != NERVE_OK) return st;
    nerve_graph_set_training(dg, true);
    nerve_graph_zero_grad(dg);
    nerve_real *x = nerve_node_host_view(dg, run->d->input, false, err);
    if (!x) return err ? err->status : NERVE_ERR_NOMEM;
    nerve_dataset_gather(real, order, run->batch, x, NULL);
    st = nerve_node_host_view_end(dg, run->d->input, x, true, err);
    double loss = 0;
    if (st == NERVE_OK) st = judge(run, 1, &loss, &t->real_correct, &t->real_probability, err);
    if (st == NERVE_OK) st = generate_fakes(run, err);
    if (st == NERVE_OK) st = feed_fakes(run, err);
    if (st == NERVE_OK) st = judge(run, 0, &loss, &t->fake_correct, &t->fake_probability, err);
    if (st != NERVE_OK) return st;
    st = nerve_optimizer_step(run->d_opt);
    if (st != NERVE_OK) return nerve_graph_pass_error(run->dg, st, err);
    t->judged += run->batch;
    t->d_loss += loss;
    t->d_steps++;
    return NERVE_OK;
}

/* One G step on the fakes of the last D step (G's activations still hold
 * them), judged by the updated D with its parameters frozen. */
static nerve_status generator_step(gan_run *run, gan_totals *t, nerve_error *err)
{
    nerve_graph *dg = run->dg;
    double loss;
    freeze_discriminator(run, true);
    nerve_status fed = feed_fakes(run, err);
    if (fed != NERVE_OK) {
        freeze_discriminator(run, false);
        return fed;
    }
    next_noise_position(run, dg);
    if (run->o->loss == NERVE_GAN_NON_SATURATING) {
        nerve_status st = fill_targets(run, 1, err);
        if (st == NERVE_OK) st = nerve_graph_forward(dg, run->d->loss, err);
        if (st == NERVE_OK) st = nerve_graph_backward(dg, run->d->loss, err);
        nerve_real value = 0;
        if (st == NERVE_OK) st = nerve_node_read(dg, run->d->loss, &value, 1, err);
        if (st != NERVE_OK) {
            freeze_discriminator(run, false);
            return st;
        }
        loss = (double)value;
    } else {
        /* L = mean log(1 - sigmoid(l)) = -mean softplus(l), so dL/dl =
         * -sigmoid(l) / N (no / N for a summed loss), seeded at the logit. */
        nerve_status st = nerve_graph_forward(dg, run->d->output, err);
        if (st != NERVE_OK) {
            freeze_discriminator(run, false);
            return st;
        }
        nerve_real *logit = nerve_node_host_view(dg, run->d->output, true, err);
        if (!logit) {
            freeze_discriminator(run, false);
            return err ? err->status : NERVE_ERR_NOMEM;
        }
        double per = run->d->settings.loss_options.reduction == NERVE_REDUCTION_MEAN
                         ? 1.0 / (double)run->batch
                         : 1.0;
        double sum = 0;
        for (int64_t i = 0; i < run->batch; i++) {
            double l = (double)logit[i];
            double softplus = l > 0 ? l + log1p(exp(-l)) : log1p(exp(l));
            sum -= softplus;
            run->upstream[i] = (nerve_real)(-per / (1 + exp(-l)));
        }
        loss = sum * per;
        st = nerve_node_host_view_end(dg, run->d->output, logit, false, err);
        if (st == NERVE_OK) st = nerve_graph_backward_from(dg, run->d->output, run->upstream, err);
        if (st != NERVE_OK) {
            freeze_discriminator(run, false);
            return st;
        }
    }
    freeze_discriminator(run, false);
    nerve_graph_zero_grad(run->gg);
    /* D's input gradient, on the host, seeds G's backward */
    int64_t n = run->batch * run->sample_size;
    nerve_real *dx = nerve_graph_host_view(dg, nerve_node_grad(dg, run->d->input), n, true, err);
    if (!dx) return err ? err->status : NERVE_ERR_NOMEM;
    nerve_status st = nerve_graph_backward_from(run->gg, run->g->output, dx, err);
    nerve_graph_host_view_end(dg, nerve_node_grad(dg, run->d->input), dx, n, false, err);
    if (st != NERVE_OK) return st;
    st = nerve_optimizer_step(run->g_opt);
    if (st != NERVE_OK) return nerve_graph_pass_error(run->gg, st, err);
    t->g_loss += loss;
    t->g_steps++;
    return NERVE_OK;
}

static void totals_add(gan_totals *into, const gan_totals *t)
{
    into->d_loss += t->d_loss, into->g_loss += t->g_loss;
    into->d_steps += t->d_steps, into->g_steps += t->g_steps;
    into->real_correct += t->real_correct, into->fake_correct += t->fake_correct;
    into->judged += t->judged;
    into->real_probability += t->real_probability;
    into->fake_probability += t->fake_probability;
}

/* As nerve train's metrics log: a step row leaves the seconds empty. */
static void log_row(gan_run *run, const char *kind, const nerve_gan_report *r)
{
    if (!run->log) return;
    fprintf(run->log, "%s,%d,%lld,%.6g,%.6g,%.6g,%.6g,", kind, r->epoch, (long long)r->step,
            r->discriminator_loss, r->generator_loss, r->real_accuracy, r->fake_accuracy);
    if (strcmp(kind, "epoch") == 0) fprintf(run->log, "%.3f", r->seconds);
    fprintf(run->log, ",%.6g,%.6g\n", r->mean_d_real, r->mean_d_fake);
}

static nerve_gan_report report_of(const gan_totals *t, int epoch, int64_t step, double seconds)
{
    nerve_gan_report r = {0};
    r.epoch = epoch;
    r.step = step;
    r.discriminator_loss = t->d_steps ? t->d_loss / (double)t->d_steps : NAN;
    r.generator_loss = t->g_steps ? t->g_loss / (double)t->g_steps : NAN;
    r.real_accuracy = t->judged ? (double)t->real_correct / (double)t->judged : NAN;
    r.fake_accuracy = t->judged ? (double)t->fake_correct / (double)t->judged : NAN;
    r.mean_d_real = t->judged ? t->real_probability / (double)t->judged : NAN;
    r.mean_d_fake = t->judged ? t->fake_probability / (double)t->judged : NAN;
    r.seconds = seconds;
    return r;
}

static nerve_status train_epochs(gan_run *run, const nerve_dataset *real, int64_t *order,
                                 nerve_error *err)
{
    const nerve_gan_options *o = run->o;
    nerve_rng order_rng;
    nerve_rng_seed(&order_rng, o->seed ^ GAN_ORDER_STREAM);
    int64_t batches = real->count / run->batch, step = 0;
    for (int epoch = 1; epoch <= o->epochs; epoch++) {
        double epoch_start = nerve_seconds_now();
        gan_totals t = {0};
        nerve_rng_shuffle(&order_rng, order, real->count);
        for (int64_t b = 0; b < batches; b++) {
            gan_totals last = {0};
            nerve_status st = discriminator_step(run, real, order + b * run->batch, &last, err);
            if (st != NERVE_OK) return st;
            bool g_step = (b + 1) % o->k == 0;
            if (g_step) {
                st = generator_step(run, &last, err);
                if (st != NERVE_OK) return st;
                step++;
            }
            totals_add(&t, &last);
            if (!isfinite(last.d_loss) || !isfinite(last.g_loss))
                return nerve_error_set(err, NERVE_ERR_NUMERIC,
                                       "epoch %d, generator step %lld: the losses are not "
                                       "finite (discriminator %g, generator %g)",
                                       epoch, (long long)step, last.d_loss, last.g_loss);
            if (!g_step) continue;
            if (o->log_every > 0 && step % o->log_every == 0) {
                nerve_gan_report r = report_of(&last, epoch, step, 0);
                log_row(run, "step", &r);
            }
            if (o->max_steps > 0 && step >= o->max_steps) break;
        }
        nerve_gan_report r = report_of(&t, epoch, step, nerve_seconds_now() - epoch_start);
        log_row(run, "epoch", &r);
        if (o->on_epoch) {
            nerve_status st = o->on_epoch(&r, o->user, err);
            if (st != NERVE_OK) return st;
        }
        if (o->max_steps > 0 && step >= o->max_steps) break;
    }
    return NERVE_OK;
}

nerve_status nerve_train_gan(nerve_model *generator, nerve_model *discriminator,
                             const nerve_dataset *real, const nerve_gan_options *options,
                             nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_gan_options, options, user, "nerve_train_gan", err, NERVE_ERR_INVALID);
    nerve_status st = check_pair(generator, discriminator, err);
    int64_t sample_size = nerve_shape_numel(&discriminator->settings.input);
    if (st == NERVE_OK) st = check_options(real, options, sample_size, err);
    if (st != NERVE_OK) return st;
    gan_run run = {.g = generator, .d = discriminator, .gg = generator->graph,
                   .dg = discriminator->graph, .o = options, .batch = options->batch,
                   .noise_size = nerve_shape_numel(&generator->settings.input),
                   .sample_size = sample_size};
    int64_t *order = malloc((size_t)real->count * sizeof *order);
    if (!order) return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < real->count; i++) order[i] = i;
    st = gan_setup(&run, err);
    if (st == NERVE_OK) st = train_epochs(&run, real, order, err);
    if (run.log && fclose(run.log) != 0 && st == NERVE_OK)
        st = nerve_error_set(err, NERVE_ERR_IO, "%s: cannot write the log", options->log_path);
    free(order);
    free(run.d_trainable);
    free(run.upstream);
    nerve_optimizer_free(run.g_opt);
    nerve_optimizer_free(run.d_opt);
    return st;
}

nerve_status nerve_gan_sample(nerve_model *generator, const float *noise, int64_t count,
                              float *samples, nerve_error *err)
{
    return nerve_model_run(generator, generator->output, noise, count, samples, err);
}
