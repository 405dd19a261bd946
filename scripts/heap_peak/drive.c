/* scripts/heap-peak: the heap peak of one rwcnn call (forward|train CUT SIZE BATCH), read from
 * heapcount.so's counters, which must be LD_PRELOADed. */
#include <rwcnn.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static long long (*live)(void), (*peak)(void);
static void (*reset)(void);
static float *noise(size_t n, unsigned s) { float *x = malloc(n * sizeof *x); for (size_t i = 0; i < n; i++) { s = s * 1664525u + 1013904223u; x[i] = (s >> 8) / 16777216.0f; } return x; }
static const float *g_src; static long long g_base, g_step_peak = -1;
static int fill(const rwcnn_batch *b, void *u) { (void)u; memcpy(b->images, g_src, b->capacity * sizeof(float)); return 0; }
static int progress(const rwcnn_progress *p, void *u) { (void)u; if (p->kind == RWCNN_PROGRESS_STEP && p->step == 2) g_step_peak = peak() - g_base; return 0; }
int main(int argc, char **argv) {
    live = dlsym(RTLD_DEFAULT, "heap_live"); peak = dlsym(RTLD_DEFAULT, "heap_peak"); reset = dlsym(RTLD_DEFAULT, "heap_reset_peak");
    if (!live || argc != 5) { fprintf(stderr, "usage (LD_PRELOAD=heapcount.so): forward|train CUT SIZE BATCH\n"); return 2; }
    const char *mode = argv[1], *cut = argv[2]; size_t size = atoi(argv[3]), batch = atoi(argv[4]);
    rwcnn_set_threads(2);
    rwcnn_model_config c; rwcnn_model_config_init(&c); c.arch = "vgg16"; c.cut = cut; c.seed = 0; c.unpool = RWCNN_UNPOOL_NEAREST;
    rwcnn_model *m = NULL; const double MiB = 1048576.0;
    if (strcmp(mode, "forward") == 0) {
        c.decoder = RWCNN_DECODER_TIED;
        if (rwcnn_model_create(&c, &m)) { fprintf(stderr, "%s\n", rwcnn_last_error()); return 1; }
        size_t shape[3]; rwcnn_model_feature_shape(m, size, size, shape);
        size_t nin = batch * 3 * size * size, nout = batch * shape[0] * shape[1] * shape[2];
        float *x = noise(nin, 7), *y = malloc(nout * sizeof *y);
        long long base = live(); reset();
        if (rwcnn_model_encode(m, x, batch, 3, size, size, y, nout)) { fprintf(stderr, "%s\n", rwcnn_last_error()); return 1; }
        printf("forward %s %zu b%zu heap_peak_mib %.1f\n", cut, size, batch, (peak() - base) / MiB);
    } else {
        c.decoder = RWCNN_DECODER_TRAINED;
        if (rwcnn_model_create(&c, &m)) { fprintf(stderr, "%s\n", rwcnn_last_error()); return 1; }
        size_t n = batch * 3 * size * size; float *src = noise(n, 7); g_src = src;
        rwcnn_train_options o; rwcnn_train_options_init(&o);
        o.batch_fn = fill; o.eval_images = src; o.eval_count = batch; o.eval_height = size; o.eval_width = size;
        o.steps = 2; o.batch = batch; o.crop = size; o.eval_every = 0; o.checkpoint_every = 0; o.progress = progress;
        g_base = live(); reset();
        if (rwcnn_train(m, &o, NULL)) { fprintf(stderr, "%s\n", rwcnn_last_error()); return 1; }
        printf("train %s %zu b%zu heap_peak_to_step2_mib %.1f heap_peak_run_with_eval_mib %.1f\n", cut, size, batch,
               g_step_peak / MiB, (peak() - g_base) / MiB);
    }
    rwcnn_model_free(m);
    return 0;
}
