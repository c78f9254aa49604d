/* nerve gan: a generator and a discriminator, each from its own cfg,
 * trained against each other (nerve_train_gan). After each epoch a PNG grid
 * of the generator's samples from one fixed noise batch shows the progress,
 * and a trained Fashion-MNIST classifier, if given, scores the samples
 * against real test images (nerve_class_score_of). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/image_output.h"
#include "io/atomic_file.h"
#include "model/data_format.h"

/* The fixed noise of the grid: its side, in samples. */
#define GRID_SIDE 8
/* The noise of the grid and of the score come from streams apart from
 * training's. */
#define GRID_NOISE_STREAM 0x510e527fade682d1ULL
#define SCORE_NOISE_STREAM 0x9b05688c2b3e6c1fULL

static const cli_command gan_command = {
    "gan", "--generator G.cfg",
    "Trains a generative adversarial network: G.cfg's generator against a discriminator.",
    "--discriminator D.cfg is required. D.cfg outputs one logit, [loss] type =\n"
    "bce_with_logits; its [data] train set (idx or csv, labels unused) is the real data,\n"
    "normalised as [data] says (normalize = minus_one_one for a tanh generator). G.cfg's\n"
    "[net] input is the noise size (z ~ N(0, 1)); its output must have D's input's size;\n"
    "it needs no [data], and its [loss] is not used. Each model trains with its own\n"
    "[optimizer]. Epochs, batch and seed are D's [net] settings unless given here; --seed\n"
    "also seeds both networks' initial weights.\n"
    "--classifier C.cfg:W (a trained classifier of the same images, e.g. nerve train\n"
    "examples/fashion_mlp.cfg --save W) labels --score-samples generated images after\n"
    "each epoch, and as many of C's [data] test images at the end: the mean max-\n"
    "probability, the entropy of the mean class distribution (ln 10 = 2.303 is every\n"
    "class equally often) and exp(E KL(p(y|x) || p(y))), an Inception-score-like figure."};

typedef struct gan_cli {
    nerve_model *g, *d, *classifier;
    const char *classifier_name;
    const char *samples_path, *samples_dir;
    int64_t score_samples;
    float *grid_noise, *score_noise, *samples; /* samples: for the larger of the two */
    float *scored;                             /* samples normalised for the classifier */
    int epochs;
} gan_cli;

/* G's output in D's input units back to the file's pixels: the inverse of
 * D's normalisation (nerve_model_input_transform). */
static void to_pixels(const nerve_model *d, double *gain, double *offset)
{
    double g, o;
    nerve_model_input_transform(d, &g, &o);
    *gain = 1 / g;
    *offset = -o / g;
}

/* Tile shape of a sample: C x H x W as D's input says, or a flat input of a
 * square number of values as one grey square. */
static bool tile_shape(const nerve_model *d, int64_t *c, int64_t *h, int64_t *w)
{
    nerve_shape in = nerve_model_settings_of(d)->input;
    if (in.ndim == 3) {
        *c = in.dim[0], *h = in.dim[1], *w = in.dim[2];
        return true;
    }
    int64_t n = nerve_shape_numel(&in), side = (int64_t)llround(sqrt((double)n));
    *c = 1, *h = *w = side;
    return side * side == n;
}

static nerve_status write_grid(gan_cli *run, const char *path, nerve_error *err)
{
    int64_t c, h, w;
    tile_shape(run->d, &c, &h, &w);
    nerve_status st = nerve_gan_sample(run->g, run->grid_noise, GRID_SIDE * GRID_SIDE,
                                       run->samples, err);
    if (st != NERVE_OK) return st;
    double gain, offset;
    to_pixels(run->d, &gain, &offset);
    /* Pixels span [0, scale]: the grid shows that range as black to white. */
    double scale = nerve_model_settings_of(run->d)->data.scale;
    for (int64_t i = 0; i < GRID_SIDE * GRID_SIDE * c * h * w; i++)
        run->samples[i] = (float)(run->samples[i] * gain + offset);
    cli_grid l = cli_grid_layout(GRID_SIDE, GRID_SIDE, c, h, w, 1);
    unsigned char *pixels = cli_grid_canvas(&l);
    if (!pixels) return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory for the grid");
    for (int64_t i = 0; i < GRID_SIDE * GRID_SIDE; i++)
        cli_grid_draw(&l, run->samples + i * c * h * w, i / GRID_SIDE, i % GRID_SIDE, 0, scale,
                      pixels);
    nerve_atomic_file file;
    st = nerve_atomic_file_open(&file, path, err);
    if (st == NERVE_OK) {
        st = cli_png_write(file.stream, path, pixels, (int)l.pixel_width, (int)l.pixel_height,
                           l.out_channels, err);
        if (st == NERVE_OK) st = nerve_atomic_file_commit(&file, err);
        else nerve_atomic_file_abort(&file);
    }
    free(pixels);
    return st;
}

static void print_score(const char *what, const char *classifier, const nerve_class_score *s)
{
    printf("classifier score (%s) of %lld %s: mean max-probability %.4f, class entropy %.4f "
           "nats (max %.4f), inception score %.3f (max %d)\n",
           classifier, (long long)s->count, what, s->mean_max_probability, s->class_entropy,
           log((double)s->classes), s->inception_score, s->classes);
}

/* The classifier's view of score_samples generated images. */
static nerve_status score_generated(gan_cli *run, nerve_class_score *out, nerve_error *err)
{
    int64_t n = run->score_samples, size = nerve_model_output_size(run->g);
    nerve_status st = nerve_gan_sample(run->g, run->score_noise, n, run->samples, err);
    if (st != NERVE_OK) return st;
    double to_pixel_gain, to_pixel_offset, gain, offset;
    to_pixels(run->d, &to_pixel_gain, &to_pixel_offset);
    nerve_model_input_transform(run->classifier, &gain, &offset);
    for (int64_t i = 0; i < n * size; i++)
        run->scored[i] = (float)((run->samples[i] * to_pixel_gain + to_pixel_offset) * gain +
                                 offset);
    return nerve_class_score_of(run->classifier, run->scored, n, out, err);
}

static nerve_status after_epoch(const nerve_gan_report *r, void *user, nerve_error *err)
{
    gan_cli *run = user;
    printf("epoch %d/%d: D loss %.4f, G loss %.4f | D accuracy real %.3f, fake %.3f | "
           "D(x) %.3f, D(G(z)) %.3f | %lld G steps | %.1f s\n",
           r->epoch, run->epochs, r->discriminator_loss, r->generator_loss, r->real_accuracy,
           r->fake_accuracy, r->mean_d_real, r->mean_d_fake, (long long)r->step, r->seconds);
    nerve_status st = NERVE_OK;
    if (run->samples_path) st = write_grid(run, run->samples_path, err);
    if (st == NERVE_OK && run->samples_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/epoch_%03d.png", run->samples_dir, r->epoch);
        st = write_grid(run, path, err);
    }
    if (st == NERVE_OK && run->classifier) {
        nerve_class_score s;
        st = score_generated(run, &s, err);
        if (st == NERVE_OK) print_score("generated images", run->classifier_name, &s);
    }
    fflush(stdout);
    return st;
}

/* Final scores: generated images, then as many of C's real test images. */
static int final_scores(gan_cli *run)
{
    nerve_error err = {0};
    nerve_class_score generated, real;
    nerve_dataset test = {0};
    nerve_status st = score_generated(run, &generated, &err);
    if (st == NERVE_OK) st = nerve_model_load_data(run->classifier, NULL, NULL, &test, &err);
    if (st == NERVE_OK) st = nerve_dataset_to_float(&test, &err);
    if (st == NERVE_OK) {
        int64_t n = test.count < run->score_samples ? test.count : run->score_samples;
        st = nerve_class_score_of(run->classifier, test.inputs, n, &real, &err);
    }
    nerve_dataset_free(&test);
    if (st != NERVE_OK) return cli_fail(&err, cli_exit_code(st));
    printf("final:\n");
    print_score("generated images", run->classifier_name, &generated);
    print_score("real test images", run->classifier_name, &real);
    return CLI_EXIT_OK;
}

/* D's [data] train set, normalised as D's input (its labels are not used,
 * so D's bce_with_logits does not check them). */
static int load_real(nerve_model *d, const char *d_cfg, nerve_dataset *out)
{
    const nerve_data_settings *s = &nerve_model_settings_of(d)->data;
    const data_format *format = nerve_model_data_format(d);
    nerve_error err = {0};
    nerve_status st;
    if (!format->load_file)
        st = nerve_error_set(&err, NERVE_ERR_INVALID, "%s: [data] format %s: nerve gan takes "
                             "samples from files (idx, csv or folder)", d_cfg, format->name);
    else if (!s->train[0])
        st = nerve_error_set(&err, NERVE_ERR_INVALID, "%s: [data] train is not set (the real "
                             "samples)", d_cfg);
    else
        st = format->load_file(d, s->train, s->train_labels, out, &err);
    if (st != NERVE_OK) return cli_fail(&err, cli_exit_code(st));
    if (s->normalize == NERVE_NORMALIZE_STANDARDIZE) {
        double mean, std;
        nerve_dataset_moments(out, &mean, &std);
        nerve_model_set_normalization(d, mean / s->scale, std / s->scale);
    }
    nerve_model_normalize(d, out);
    return CLI_EXIT_OK;
}

static int parse_loss(const char *text, nerve_gan_loss *loss)
{
    if (strcmp(text, "non-saturating") == 0) *loss = NERVE_GAN_NON_SATURATING;
    else if (strcmp(text, "minimax") == 0) *loss = NERVE_GAN_MINIMAX;
    else
        return cli_usage_error(&gan_command,
                               "--loss must be non-saturating or minimax, got '%s'", text);
    return -1;
}

/* Buffers for the samples, the noise batches and the classifier's inputs. */
static int allocate(gan_cli *run, uint64_t seed)
{
    int64_t noise = nerve_shape_numel(&nerve_model_settings_of(run->g)->input);
    int64_t size = nerve_model_output_size(run->g);
    int64_t most = run->score_samples > GRID_SIDE * GRID_SIDE ? run->score_samples
                                                               : GRID_SIDE * GRID_SIDE;
    run->grid_noise = malloc((size_t)(GRID_SIDE * GRID_SIDE * noise) * sizeof(float));
    run->score_noise = malloc((size_t)(run->score_samples * noise) * sizeof(float));
    run->samples = malloc((size_t)(most * size) * sizeof(float));
    run->scored = malloc((size_t)(run->score_samples * size) * sizeof(float));
    if (!run->grid_noise || !run->score_noise || !run->samples || !run->scored) {
        fprintf(stderr, "nerve: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    nerve_rng rng;
    nerve_rng_seed(&rng, seed ^ GRID_NOISE_STREAM);
    for (int64_t i = 0; i < GRID_SIDE * GRID_SIDE * noise; i++)
        run->grid_noise[i] = (float)nerve_rng_normal(&rng);
    nerve_rng_seed(&rng, seed ^ SCORE_NOISE_STREAM);
    for (int64_t i = 0; i < run->score_samples * noise; i++)
        run->score_noise[i] = (float)nerve_rng_normal(&rng);
    return CLI_EXIT_OK;
}

static int load_classifier(gan_cli *run, const char *arg)
{
    const char *colon = strrchr(arg, ':');
    if (!colon || colon == arg || !colon[1])
        return cli_usage_error(&gan_command, "--classifier expects C.cfg:W, got '%s'", arg);
    char cfg[4096];
    snprintf(cfg, sizeof cfg, "%.*s", (int)(colon - arg), arg);
    int code = cli_load_model(cfg, NULL, NULL, &run->classifier);
    if (!code) code = cli_load_weights(run->classifier, colon + 1);
    if (!code && nerve_model_output_size(run->g) !=
                     nerve_shape_numel(&nerve_model_settings_of(run->classifier)->input)) {
        fprintf(stderr, "nerve: %s: the classifier takes %lld values, the generator makes %lld\n",
                cfg, (long long)nerve_shape_numel(&nerve_model_settings_of(run->classifier)->input),
                (long long)nerve_model_output_size(run->g));
        code = CLI_EXIT_INPUT;
    }
    run->classifier_name = arg;
    return code;
}

static int train(gan_cli *run, const char *d_cfg, nerve_gan_options *o, const char *save_g,
                 const char *save_d)
{
    nerve_dataset real = {0};
    int code = load_real(run->d, d_cfg, &real);
    if (code) return code;
    nerve_error err = {0};
    run->epochs = o->epochs;
    o->on_epoch = after_epoch;
    o->user = run;
    nerve_status st = nerve_train_gan(run->g, run->d, &real, o, &err);
    nerve_dataset_free(&real);
    if (st != NERVE_OK) return cli_fail(&err, cli_exit_code(st));
    if (save_g && (code = cli_save_weights(run->g, save_g))) return code;
    if (save_d && (code = cli_save_weights(run->d, save_d))) return code;
    return run->classifier ? final_scores(run) : CLI_EXIT_OK;
}

int cmd_gan(int argc, char **argv)
{
    const char *g_cfg, *d_cfg = NULL, *loss_text = "non-saturating", *classifier = NULL;
    const char *save_g = NULL, *save_d = NULL, *log_path = NULL;
    int64_t k = 1, epochs = 0, batch = 0, seed = -1, threads = 0, steps = 0, log_every = 0;
    const char *backend = NULL;
    gan_cli run = {.score_samples = 1000};
    cli_option options[] = {
        CLI_STRING("--discriminator", "D.cfg", &d_cfg,
                   "the discriminator's config, with the real data (required)"),
        CLI_INT("--k", "N", &k, 1, 1000, "discriminator steps per generator step (default: 1)"),
        CLI_STRING("--loss", "L", &loss_text,
                   "the generator's loss: non-saturating or minimax (default: non-saturating)"),
        CLI_INT("--epochs", "N", &epochs, 1, 1 << 20,
                "passes over the real data (default: D's [net] epochs)"),
        CLI_INT("--batch", "N", &batch, 1, 1 << 20, "batch size (default: D's [net] batch)"),
        CLI_INT("--steps", "N", &steps, 1, INT64_MAX,
                "stop after N generator steps in all (default: no limit)"),
        CLI_STRING("--samples", "FILE.png", &run.samples_path,
                   "an 8x8 grid of samples from fixed noise, rewritten after each epoch"),
        CLI_STRING("--samples-dir", "DIR", &run.samples_dir,
                   "the grid of each epoch as DIR/epoch_NNN.png"),
        CLI_STRING("--save-generator", "W", &save_g, "save G's weights to W (default: not saved)"),
        CLI_STRING("--save-discriminator", "W", &save_d,
                   "save D's weights to W (default: not saved)"),
        CLI_STRING("--classifier", "C.cfg:W", &classifier,
                   "score the samples with this trained classifier (default: none)"),
        CLI_INT("--score-samples", "N", &run.score_samples, 1, 1 << 20,
                "generated (and real) images the classifier scores (default: 1000)"),
        CLI_INT("--seed", "N", &seed, 0, INT64_MAX,
                "seed of the weights, the noise and the order (default: D's [net] seed)"),
        CLI_THREADS_OPTION(&threads),
        CLI_BACKEND_OPTION(&backend),
        CLI_STRING("--log", "FILE.csv", &log_path, "write both losses as CSV (default: none)"),
        CLI_INT("--log-every", "N", &log_every, 1, INT64_MAX,
                "also log every N generator steps (default: once per epoch)"),
    };
    const int option_count = (int)(sizeof options / sizeof options[0]);
    argc = cli_flag_as_positional(argc, argv, "--generator");
    int code = cli_parse(&gan_command, options, option_count, argc, argv, &g_cfg);
    nerve_gan_loss loss = NERVE_GAN_NON_SATURATING;
    if (code < 0 && !d_cfg) code = cli_usage_error(&gan_command, "missing --discriminator D.cfg");
    if (code < 0) code = parse_loss(loss_text, &loss);
    if (code < 0 && log_every && !log_path)
        code = cli_usage_error(&gan_command, "--log-every needs --log FILE.csv");
    if (code < 0) code = cli_set_backend(&gan_command, backend);
    if (code >= 0) return code;

    cli_set_threads(threads);
    char seed_set[48];
    snprintf(seed_set, sizeof seed_set, "net.seed=%lld", (long long)seed);
    /* G's [loss] is never computed; mse builds on any output shape. */
    const char *g_sets[] = {"loss.type=mse", seed >= 0 ? seed_set : NULL, NULL};
    const char *d_sets[] = {seed >= 0 ? seed_set : NULL, NULL};
    code = cli_load_model(d_cfg, NULL, d_sets, &run.d);
    if (!code) code = cli_load_model(g_cfg, NULL, g_sets, &run.g);
    if (!code && classifier) code = load_classifier(&run, classifier);
    int64_t c, h, w;
    if (!code && (run.samples_path || run.samples_dir) && !tile_shape(run.d, &c, &h, &w)) {
        fprintf(stderr, "nerve: %s: the input is neither C x H x W nor a square image: no "
                        "sample grid\n", d_cfg);
        code = CLI_EXIT_INPUT;
    }
    if (!code && run.samples_dir && access(run.samples_dir, W_OK) != 0) {
        fprintf(stderr, "nerve: %s: cannot write the sample grids there: %s\n", run.samples_dir,
                strerror(errno));
        code = CLI_EXIT_FAILURE;
    }
    if (!code && save_g) code = cli_check_save_directory(save_g);
    if (!code && save_d) code = cli_check_save_directory(save_d);
    nerve_gan_options o = {0};
    if (!code) {
        o = nerve_gan_options_from(run.d);
        o.k = (int)k;
        o.loss = loss;
        if (epochs) o.epochs = (int)epochs;
        if (batch) o.batch = batch;
        o.max_steps = steps;
        o.log_path = log_path;
        o.log_every = log_every;
        code = allocate(&run, o.seed);
    }
    if (!code) code = train(&run, d_cfg, &o, save_g, save_d);
    free(run.grid_noise);
    free(run.score_noise);
    free(run.samples);
    free(run.scored);
    nerve_model_free(run.classifier);
    nerve_model_free(run.g);
    nerve_model_free(run.d);
    return code;
}
