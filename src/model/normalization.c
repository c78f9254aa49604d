/* A model's input normalisation ([data] scale and normalize): applied to
 * data sets, and given as one affine map to the augmentation and to ONNX
 * export. */
#include <math.h>

#include "model/model_internal.h"

bool nerve_model_shift_after_scale(const nerve_model *m, double *mean, double *std)
{
    switch (m->settings.data.normalize) {
    case NERVE_NORMALIZE_STANDARDIZE: *mean = m->mean, *std = m->std; return true;
    case NERVE_NORMALIZE_MINUS_ONE_ONE: *mean = 0.5, *std = 0.5; return true;
    default: *mean = 0, *std = 1; return false;
    }
}

void nerve_model_normalize(const nerve_model *m, nerve_dataset *ds)
{
    double mean, std;
    nerve_dataset_scale(ds, (float)m->settings.data.scale);
    if (nerve_model_shift_after_scale(m, &mean, &std)) nerve_dataset_standardize(ds, mean, std);
}

void nerve_model_input_transform(const nerve_model *m, double *gain, double *offset)
{
    double mean, std;
    nerve_model_shift_after_scale(m, &mean, &std);
    *gain = 1 / (m->settings.data.scale * std);
    *offset = -mean / std;
}

void nerve_model_normalization(const nerve_model *m, double *mean, double *std)
{
    *mean = m->mean;
    *std = m->std;
}

void nerve_model_set_normalization(nerve_model *m, double mean, double std)
{
    m->mean = mean;
    m->std = std > 0 && isfinite(std) ? std : 1;
}
