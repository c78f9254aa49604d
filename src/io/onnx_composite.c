/* nerve's export composites (src/model/onnx_export.c), and torch.onnx.export's forms
 * of the same functions, as node patterns: each step an operator and its
 * operands, which the matcher checks against consecutive nodes of the graph.
 * An operand is the composite's input "x", a step's output ("0" to "8"), a
 * value the composite leaves free, captured in order: a scalar constant
 * ("s": a beta, a threshold) or any constant ("c": a shape), or a float
 * constant it fixes ("=0.5"). Mul and Add
 * take their operands in either order (torch writes Mul(x, y) where nerve
 * writes Mul(y, x)). */
#include "io/onnx_composite.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct step {
    const char *op;
    const char *in[3];
    const char *attrs; /* "name=value;..." integer attributes it must carry, or NULL */
} step;

typedef struct pattern {
    const char *name;
    const char *nodes; /* the steps for messages */
    step steps[ONNX_COMPOSITE_MAX_STEPS];
} pattern;

/* The constants are the float32 values the exporter writes: 1/sqrt 2,
 * sqrt(2/pi) and GELU's tanh coefficient. */
static const pattern patterns[ONNX_COMPOSITE_COUNT] = {
    [ONNX_COMPOSITE_GELU_TANH] =
        {"GELU (tanh)",
         "Mul(x, x), Mul x, Mul 0.044715, Add x, Mul sqrt(2/pi), Tanh, Add 1, Mul x, Mul 0.5",
         {{"Mul", {"x", "x"}},
          {"Mul", {"0", "x"}},
          {"Mul", {"1", "=0.044715"}},
          {"Add", {"x", "2"}},
          {"Mul", {"3", "=0.7978845608028654"}},
          {"Tanh", {"4"}},
          {"Add", {"5", "=1"}},
          {"Mul", {"6", "x"}},
          {"Mul", {"7", "=0.5"}}}},
    [ONNX_COMPOSITE_GELU] = {"GELU",
                             "Mul(x, 1/sqrt 2), Erf, Add 1, Mul x, Mul 0.5",
                             {{"Mul", {"x", "=0.7071067811865476"}},
                              {"Erf", {"0"}},
                              {"Add", {"1", "=1"}},
                              {"Mul", {"2", "x"}},
                              {"Mul", {"3", "=0.5"}}}},
    [ONNX_COMPOSITE_GELU_TORCH] = {"GELU (torch)",
                                   "Div(x, sqrt 2), Erf, Add 1, Mul x, Mul 0.5",
                                   {{"Div", {"x", "=1.4142135623730951"}},
                                    {"Erf", {"0"}},
                                    {"Add", {"1", "=1"}},
                                    {"Mul", {"2", "x"}},
                                    {"Mul", {"3", "=0.5"}}}},
    [ONNX_COMPOSITE_SOFTPLUS] = {"softplus",
                                 "Mul(x, beta), Softplus, Div beta, Greater(beta x, threshold), "
                                 "Where(., x, softplus)",
                                 {{"Mul", {"x", "s"}},
                                  {"Softplus", {"0"}},
                                  {"Div", {"1", "s"}},
                                  {"Greater", {"0", "s"}},
                                  {"Where", {"3", "x", "2"}}}},
    [ONNX_COMPOSITE_SOFTPLUS_TORCH] = {"softplus (torch)",
                                       "Mul(x, beta), Softplus, Div beta",
                                       {{"Mul", {"x", "s"}},
                                        {"Softplus", {"0"}},
                                        {"Div", {"1", "s"}}}},
    [ONNX_COMPOSITE_SWISH] = {"swish",
                              "Mul(x, beta), Sigmoid, Mul x",
                              {{"Mul", {"x", "s"}}, {"Sigmoid", {"0"}}, {"Mul", {"x", "1"}}}},
    [ONNX_COMPOSITE_SILU] = {"SiLU",
                             "Sigmoid(x), Mul x",
                             {{"Sigmoid", {"x"}}, {"Mul", {"x", "0"}}}},
    [ONNX_COMPOSITE_BINARY_STEP] = {"binary step",
                                    "GreaterOrEqual(x, 0), Cast(to = float)",
                                    {{"GreaterOrEqual", {"x", "=0"}},
                                     {"Cast", {"0"}, "to=1"}}},
    [ONNX_COMPOSITE_CRELU] = {"CReLU",
                              "Relu(x), Neg(x), Relu, Concat(axis = 1)",
                              {{"Relu", {"x"}},
                               {"Neg", {"x"}},
                               {"Relu", {"1"}},
                               {"Concat", {"0", "2"}, "axis=1"}}},
    [ONNX_COMPOSITE_MAXOUT] = {"maxout",
                               "Gemm, Reshape [-1, units, pieces], ReduceMax(axes = [2], "
                               "keepdims = 0)",
                               {{"Reshape", {"x", "c"}},
                                {"ReduceMax", {"0"}, "axes=2;keepdims=0"}}},
    [ONNX_COMPOSITE_DIVISOR_OVERRIDE] = {"divisor_override pooling",
                                         "AveragePool(count_include_pad = 1), Mul(kh kw / "
                                         "divisor)",
                                         {{"Mul", {"x", "s"}}}},
};

static int step_count(const pattern *p)
{
    int n = 0;
    while (n < ONNX_COMPOSITE_MAX_STEPS && p->steps[n].op) n++;
    return n;
}

static int operand_count(const step *s)
{
    int n = 0;
    while (n < 3 && s->in[n]) n++;
    return n;
}

/* The node after `i` that is not a Constant (the importer has read those). */
static int next_node(const onnx_graph *g, int i)
{
    for (i++; i < g->node_count; i++)
        if (strcmp(g->nodes[i].op_type, "Constant") != 0) return i;
    return -1;
}

static bool attrs_fit(const onnx_node *n, const char *attrs)
{
    if (!attrs) return true;
    char spec[64];
    snprintf(spec, sizeof spec, "%s", attrs);
    for (char *save = NULL, *item = strtok_r(spec, ";", &save); item;
         item = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(item, '=');
        *eq = 0;
        long long want = atoll(eq + 1);
        const onnx_attr *a = onnx_node_attr(n, item);
        if (!a) return false;
        if (a->type == ONNX_ATTR_TYPE_INTS ? a->ints_count != 1 || a->ints[0] != want
                                           : a->i != want)
            return false;
    }
    return true;
}

typedef struct matcher {
    const onnx_graph *g;
    const char *x;
    onnx_constant_fn constant;
    void *ctx;
    onnx_composite_match *m;
    int constants;
} matcher;

/* Whether value `name` is what operand `spec` asks for; an "s" or "c" is captured. */
static bool operand_fits(matcher *mt, const char *spec, const char *name, int steps_done)
{
    if (strcmp(spec, "x") == 0) return strcmp(name, mt->x) == 0;
    if (spec[0] >= '0' && spec[0] <= '9') {
        int k = spec[0] - '0';
        if (k >= steps_done) return false;
        const onnx_node *from = &mt->g->nodes[mt->m->node[k]];
        return strcmp(name, from->outputs[0]) == 0;
    }
    const onnx_tensor *t = mt->constant(mt->ctx, name);
    if (!t) return false;
    if (spec[0] == 's' && t->count != 1) return false;
    if (spec[0] == 'c' || spec[0] == 's') {
        if (mt->constants == ONNX_COMPOSITE_MAX_CONSTANTS) return false;
        mt->m->constant[mt->constants] = t;
        mt->m->constant_name[mt->constants++] = name;
        return true;
    }
    double want = strtod(spec + 1, NULL);
    return t->f && t->count == 1 && fabs(t->f[0] - want) <= 1e-6 * fmax(1, fabs(want));
}

static bool operands_fit(matcher *mt, const step *s, const onnx_node *n, int steps_done,
                         bool swapped)
{
    int saved = mt->constants;
    for (int k = 0; k < n->input_count; k++) {
        const char *spec = s->in[swapped ? 1 - k : k];
        if (!operand_fits(mt, spec, n->inputs[k], steps_done)) {
            mt->constants = saved;
            return false;
        }
    }
    return true;
}

/* Whether node `n` reads value `v`. */
static bool reads(const onnx_node *n, const char *v)
{
    for (int k = 0; k < n->input_count; k++)
        if (strcmp(n->inputs[k], v) == 0) return true;
    return false;
}

/* The values between the steps must be read by the steps alone. */
static bool internal_values_private(const onnx_graph *g, const onnx_composite_match *m)
{
    for (int s = 0; s + 1 < m->steps; s++) {
        const char *v = g->nodes[m->node[s]].outputs[0];
        for (int i = 0; i < g->output_count; i++)
            if (strcmp(g->outputs[i].name, v) == 0) return false;
        for (int i = 0; i < g->node_count; i++) {
            bool inside = false;
            for (int k = 0; k < m->steps; k++) inside |= m->node[k] == i;
            if (!inside && reads(&g->nodes[i], v)) return false;
        }
    }
    return true;
}

bool onnx_composite_match_kind(const onnx_graph *g, onnx_composite_kind kind, int start,
                               const char *x, onnx_constant_fn constant, void *ctx,
                               onnx_composite_match *m)
{
    memset(m, 0, sizeof *m);
    m->kind = kind;
    const pattern *p = &patterns[kind];
    int count = step_count(p);
    matcher mt = {.g = g, .x = x, .constant = constant, .ctx = ctx, .m = m};
    int i = start;
    for (int s = 0; s < count; s++, i = next_node(g, i)) {
        m->next = i;
        if (i < 0 || i >= g->node_count) return false;
        const onnx_node *n = &g->nodes[i];
        const step *st = &p->steps[s];
        bool commutative = strcmp(st->op, "Mul") == 0 || strcmp(st->op, "Add") == 0;
        if (strcmp(n->op_type, st->op) != 0 || (n->domain[0] && strcmp(n->domain, "ai.onnx")) ||
            n->input_count != operand_count(st) || n->output_count != 1 || !n->outputs[0][0] ||
            !attrs_fit(n, st->attrs))
            return false;
        m->node[s] = i;
        if (!operands_fit(&mt, st, n, s, false) &&
            !(commutative && operands_fit(&mt, st, n, s, true)))
            return false;
        m->steps = s + 1;
    }
    m->next = -1;
    if (!internal_values_private(g, m)) {
        m->next = m->node[0];
        return false;
    }
    return true;
}

bool onnx_composite_find(const onnx_graph *g, int start, const char *x,
                         onnx_constant_fn constant, void *ctx, onnx_composite_match *m)
{
    onnx_composite_match best = {.steps = 0, .next = start};
    for (int k = 0; k < ONNX_COMPOSITE_MAXOUT; k++) {
        onnx_composite_match attempt;
        if (onnx_composite_match_kind(g, (onnx_composite_kind)k, start, x, constant, ctx,
                                      &attempt)) {
            *m = attempt;
            return true;
        }
        if (attempt.steps > best.steps) best = attempt;
    }
    *m = best;
    return false;
}

const char *onnx_composite_name(onnx_composite_kind kind) { return patterns[kind].name; }

const char *onnx_composite_nodes(onnx_composite_kind kind) { return patterns[kind].nodes; }

bool onnx_composite_names_with(const char *op, char *out, size_t size)
{
    out[0] = 0;
    for (int k = 0; k < ONNX_COMPOSITE_COUNT; k++)
        for (int s = 0; s < step_count(&patterns[k]); s++)
            if (strcmp(patterns[k].steps[s].op, op) == 0) {
                snprintf(out + strlen(out), size - strlen(out), "%s%s", out[0] ? ", " : "",
                         patterns[k].name);
                break;
            }
    return out[0] != 0;
}
