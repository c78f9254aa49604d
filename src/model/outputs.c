/* What a built model's output is, per sample: its width and its class
 * labels. A file of its own, beside model.c, because the data checks
 * (data_check.c) read it and model.c reads the settings, whose [data]
 * reader reaches the data loaders: here the loaders' checks do not call
 * back into model.c (tests/layering.py: no circles in src/model). */
#include "model/model_internal.h"

int64_t nerve_model_output_size(const nerve_model *m)
{
    nerve_shape s = nerve_node_shape(m->graph, m->output);
    int64_t n = 1;
    for (int i = 1; i < s.ndim; i++) n *= s.dim[i];
    return n;
}

int64_t nerve_model_label_steps(const nerve_model *m)
{
    int64_t width = nerve_model_output_size(m);
    if (m->classes == 0) return 0;
    return width > m->classes ? width / m->classes : 1;
}
