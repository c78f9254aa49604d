/* Weight initialisers. Formulas as torch.nn.init: Glorot & Bengio (2010) for
 * Xavier, He et al. (2015) for Kaiming with the ReLU gain sqrt(2). */
#include <math.h>
#include <string.h>

#include "nerve.h"

static const char *const init_names[] = {
    [NERVE_INIT_DEFAULT] = "default",
    [NERVE_INIT_ZEROS] = "zeros",
    [NERVE_INIT_XAVIER_UNIFORM] = "xavier_uniform",
    [NERVE_INIT_XAVIER_NORMAL] = "xavier_normal",
    [NERVE_INIT_HE_UNIFORM] = "he_uniform",
    [NERVE_INIT_HE_NORMAL] = "he_normal",
};
#define INIT_COUNT (int)(sizeof init_names / sizeof init_names[0])

const char *nerve_init_name(nerve_init init)
{
    return (int)init >= 0 && (int)init < INIT_COUNT ? init_names[init] : "unknown";
}

bool nerve_init_from_name(const char *name, nerve_init *init)
{
    for (int k = 0; k < INIT_COUNT; k++) {
        if (strcmp(name, init_names[k]) == 0) {
            *init = (nerve_init)k;
            return true;
        }
    }
    return false;
}

static void fill_uniform(nerve_real *w, int64_t count, double bound, nerve_rng *rng)
{
    for (int64_t i = 0; i < count; i++)
        w[i] = (nerve_real)((2 * nerve_rng_uniform(rng) - 1) * bound);
}

static void fill_normal(nerve_real *w, int64_t count, double std, nerve_rng *rng)
{
    for (int64_t i = 0; i < count; i++) w[i] = (nerve_real)(nerve_rng_normal(rng) * std);
}

void nerve_init_fill(nerve_real *w, int64_t count, int64_t fan_in, int64_t fan_out,
                     nerve_init init, nerve_rng *rng)
{
    double fin = fan_in > 0 ? (double)fan_in : 1, fout = fan_out > 0 ? (double)fan_out : 1;
    switch (init) {
    case NERVE_INIT_DEFAULT: /* kaiming_uniform(a=sqrt(5)): gain sqrt(1/3), bound 1/sqrt(fan_in) */
        fill_uniform(w, count, 1 / sqrt(fin), rng);
        break;
    case NERVE_INIT_ZEROS:
        memset(w, 0, (size_t)count * sizeof *w);
        break;
    case NERVE_INIT_XAVIER_UNIFORM:
        fill_uniform(w, count, sqrt(6 / (fin + fout)), rng);
        break;
    case NERVE_INIT_XAVIER_NORMAL:
        fill_normal(w, count, sqrt(2 / (fin + fout)), rng);
        break;
    case NERVE_INIT_HE_UNIFORM:
        fill_uniform(w, count, sqrt(6 / fin), rng);
        break;
    case NERVE_INIT_HE_NORMAL:
        fill_normal(w, count, sqrt(2 / fin), rng);
        break;
    }
}
