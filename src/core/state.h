/* The state protocol: each part of a training run (the graph, the
 * optimizer, the schedule, the augmentation, the trainer) lists its state
 * as named scalars and tensors, pointing at its own fields, and a checkpoint
 * saves and restores the list without knowing whose entries they are. A
 * scalar's key is its metadata key after "nerve.checkpoint."; a tensor's
 * name is its name in the file. Adding state to a checkpoint is one entry
 * in its owner's list (STATE_RESTORED_OPTIONAL, so that older checkpoints
 * still load). */
#ifndef NERVE_CORE_STATE_H
#define NERVE_CORE_STATE_H

#include "nerve.h"

#define STATE_KEY_MAX 48
#define STATE_NAME_MAX 128
#define STATE_TEXT_MAX 256

typedef enum state_kind {
    STATE_INT,   /* int64_t */
    STATE_INT32, /* int */
    STATE_BOOL,  /* bool: 0 or 1 */
    STATE_U64,   /* uint64_t */
    STATE_REAL,  /* double */
    STATE_RNG,   /* nerve_rng: four hexadecimal words */
    STATE_TEXT   /* char[STATE_TEXT_MAX] */
} state_kind;

typedef enum state_role {
    STATE_RESTORED,          /* saved; a resume restores it */
    STATE_RESTORED_OPTIONAL, /* the same, absent from older checkpoints (left as it is) */
    STATE_MATCHED,           /* a setting of the run that a resume must repeat */
    STATE_RECORDED           /* a setting saved for the record, which a resume may change;
                                absent from older checkpoints */
} state_role;

typedef union state_value {
    int64_t i;
    int i32;
    bool b;
    uint64_t u;
    double real;
    nerve_rng rng;
    char text[STATE_TEXT_MAX];
} state_value;

typedef struct state_scalar {
    char key[STATE_KEY_MAX];
    state_kind kind;
    state_role role;
    void *value;     /* the owner's field; NULL: `own` holds a value computed for saving */
    state_value own;
} state_scalar;

typedef struct state_tensor {
    char name[STATE_NAME_MAX];
    nerve_shape shape;
    nerve_real *data; /* the owner's memory, on its graph's device */
} state_tensor;

typedef struct state_list {
    state_scalar *scalars;
    state_tensor *tensors;
    int scalar_count, tensor_count, scalar_capacity, tensor_capacity;
    bool failed; /* out of memory: an entry was dropped */
} state_list;

/* A scalar at the owner's field `value` (of kind's type). */
void state_add(state_list *s, const char *key, state_kind kind, state_role role, void *value);
/* A scalar computed for saving (a setting's description): the value to
 * fill, NULL when out of memory. Never restored into the owner. */
state_value *state_add_computed(state_list *s, const char *key, state_kind kind,
                                state_role role);
/* A tensor named by the printf format, at the owner's data. */
void state_add_tensor(state_list *s, nerve_shape shape, nerve_real *data, const char *format, ...)
    __attribute__((format(printf, 4, 5)));
/* The scalar of that key, or -1. */
int state_find(const state_list *s, const char *key);
/* The scalar's value as the owner holds it (`own` for a computed one). */
const void *state_value_of(const state_scalar *scalar);
/* Writes the value (the kind's text form: %.17g for reals, so that they
 * read back exactly). */
void state_format(state_kind kind, const void *value, char *buf, size_t size);
/* Reads text into *out; false when it is not one well-formed value of the kind. */
bool state_parse(state_kind kind, const char *text, state_value *out);
/* Copies a parsed value into the owner's field. */
void state_store(const state_scalar *scalar, const state_value *value);
void state_list_free(state_list *s);

#endif
