/* The CUDA backend's module (backends/cuda/module.h), opened with dlopen the
 * first time a program asks for the cuda device or its GPUs, never before:
 * a CPU run maps none of the CUDA libraries (about 165 MiB). Built only
 * with the backend (NERVE_WITH_CUDA).
 *
 * Where the module is looked for (docs/cuda.md): the file NERVE_CUDA_MODULE
 * names, alone, where it is set; else libnerve_cuda.so next to the object
 * holding this code (libnerve.so, or a program linking the static library),
 * in the installed library folder relative to it (a program in bin/), and
 * in the build tree it was built in. */
#define _GNU_SOURCE /* dladdr1 */
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/cuda/module.h"
#include "backends/registry.h"

static const nerve_cuda_engine engine = {
    .version = NERVE_VERSION,
    .layout = NERVE_CUDA_LAYOUT,
    .error_set = nerve_error_set,
    .kernel_fail = nerve_kernel_fail,
};

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const nerve_cuda_module *module; /* NULL: not loaded, failure says why */
static nerve_error failure;

/* Opens the module at path and takes its table; false with failure set. */
static bool load_from(const char *path)
{
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        nerve_error_set(&failure, NERVE_ERR_INVALID, "cuda: cannot load the CUDA module %s: %s",
                        path, dlerror());
        return false;
    }
    nerve_cuda_module_entry_fn entry;
    /* ISO C has no cast from an object pointer to a function pointer:
     * POSIX's dlsym is read through a copy of its bytes. */
    void *symbol = dlsym(handle, NERVE_CUDA_MODULE_ENTRY);
    memcpy(&entry, &symbol, sizeof entry);
    nerve_error err = {0};
    if (!symbol) {
        nerve_error_set(&failure, NERVE_ERR_INVALID, "cuda: %s is not nerve's CUDA module (%s)",
                        path, dlerror());
    } else if (!(module = entry(&engine, &err))) {
        nerve_error_set(&failure, NERVE_ERR_INVALID, "cuda: cannot use %s: %s", path,
                        err.message);
    }
    if (!module) dlclose(handle);
    return module != NULL;
}

/* The folder of the object holding this code, with a trailing '/': the
 * shared library's, or the program's where it links the static library
 * (whose name dladdr gives as argv[0], so /proc/self/exe is read instead). */
static void own_folder(char *folder, size_t size)
{
    Dl_info info;
    struct link_map *object = NULL;
    char file[2048] = "";
    if (dladdr1((void *)nerve_cuda_module_device, &info, (void **)&object, RTLD_DL_LINKMAP) &&
        object && object->l_name[0]) {
        snprintf(file, sizeof file, "%s", object->l_name);
    } else {
        ssize_t n = readlink("/proc/self/exe", file, sizeof file - 1);
        file[n > 0 ? n : 0] = '\0';
    }
    const char *slash = strrchr(file, '/');
    int length = slash ? (int)(slash - file + 1) : 0;
    snprintf(folder, size, "%.*s", length, file);
}

static void load(void)
{
    const char *chosen = getenv("NERVE_CUDA_MODULE");
    if (chosen && *chosen) {
        load_from(chosen);
        return;
    }
    char folder[2048], paths[3][4096], looked[sizeof paths + 8] = "";
    own_folder(folder, sizeof folder);
    snprintf(paths[0], sizeof paths[0], "%s%s", folder, NERVE_CUDA_MODULE_FILE);
    snprintf(paths[1], sizeof paths[1], "%s%s/%s", folder, NERVE_CUDA_BIN_TO_LIB,
             NERVE_CUDA_MODULE_FILE);
    snprintf(paths[2], sizeof paths[2], "%s/%s", NERVE_CUDA_BUILD_DIR, NERVE_CUDA_MODULE_FILE);
    for (int i = 0; i < 3; i++) {
        /* the first file there is the one meant: its failure is the answer */
        if (access(paths[i], F_OK) == 0) {
            load_from(paths[i]);
            return;
        }
        size_t used = strlen(looked);
        snprintf(looked + used, sizeof looked - used, "%s%s", i ? ", " : "", paths[i]);
    }
    nerve_error_set(&failure, NERVE_ERR_INVALID,
                    "cuda: the CUDA backend's module is missing (looked for %s; "
                    "NERVE_CUDA_MODULE names another file)",
                    looked);
}

static const nerve_cuda_module *loaded(nerve_error *err)
{
    pthread_once(&load_once, load);
    if (!module) nerve_error_set(err, failure.status, "%s", failure.message);
    return module;
}

const nerve_device *nerve_cuda_module_device(nerve_error *err)
{
    const nerve_cuda_module *m = loaded(err);
    return m ? m->device : NULL;
}

nerve_status nerve_cuda_module_open(int ordinal, nerve_error *err)
{
    const nerve_cuda_module *m = loaded(err);
    return m ? m->open(ordinal, err) : failure.status;
}

int nerve_cuda_device_count(void)
{
    const nerve_cuda_module *m = loaded(NULL);
    return m ? m->device_count() : 0;
}

nerve_status nerve_cuda_device_describe(int ordinal, char *text, size_t size)
{
    const nerve_cuda_module *m = loaded(NULL);
    if (m) return m->describe(ordinal, text, size);
    /* why, without the "cuda: " every failure starts with */
    if (size) snprintf(text, size, "%s", failure.message + strlen("cuda: "));
    return NERVE_ERR_INVALID;
}
