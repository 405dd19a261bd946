/*
 * test_capi: every function of include/rwcnn.h called from C with good and
 * bad arguments.
 *
 *   test_capi REPO_ROOT [--quick]
 *
 * REPO_ROOT holds data/images (the bundled photos). --quick lowers repeat
 * counts (for runs under valgrind); every function is still called.
 * Prints each failed check with file:line and rwcnn_last_error(), then
 * "N passed, M failed"; exits 1 if any check failed.
 *
 * Conventions checked throughout: statuses, a non-empty message for every
 * failure, out parameters and caller buffers untouched on failure (canary
 * values past the end included), messages naming the size a buffer needs.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif

#include <rwcnn.h>

#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- The runner ------------------------------------------------------------ */

static int g_passed, g_failed, g_quick;
static const char *g_root;
static char g_tmp[1024];

static void fail_at(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    g_failed++;
    fprintf(stderr, "%s:%d: FAIL: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n  last error: %s\n", rwcnn_last_error());
}

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (cond)                                                                                            \
            g_passed++;                                                                                      \
        else                                                                                                 \
            fail_at(__FILE__, __LINE__, "%s", #cond);                                                        \
    } while (0)

/* Like CHECK, with a printf-style explanation on failure. */
#define CHECKF(cond, ...)                                                                                    \
    do {                                                                                                     \
        if (cond)                                                                                            \
            g_passed++;                                                                                      \
        else                                                                                                 \
            fail_at(__FILE__, __LINE__, __VA_ARGS__);                                                        \
    } while (0)

static int check_status(rwcnn_status got, rwcnn_status want, rwcnn_status also, const char *expr,
                        const char *file, int line)
{
    if (got == want || got == also) {
        const char *msg = rwcnn_last_error();
        if (got != RWCNN_OK && (msg == NULL || msg[0] == '\0')) {
            fail_at(file, line, "%s returned %s with an empty rwcnn_last_error()", expr,
                    rwcnn_status_name((int)got));
            return 0;
        }
        g_passed++;
        return 1;
    }
    if (want == also)
        fail_at(file, line, "%s returned %s, expected %s", expr, rwcnn_status_name((int)got),
                rwcnn_status_name((int)want));
    else
        fail_at(file, line, "%s returned %s, expected %s or %s", expr, rwcnn_status_name((int)got),
                rwcnn_status_name((int)want), rwcnn_status_name((int)also));
    return 0;
}

#define CHECK_STATUS(expr, want) check_status((expr), (want), (want), #expr, __FILE__, __LINE__)
#define CHECK_STATUS2(expr, want, also) check_status((expr), (want), (also), #expr, __FILE__, __LINE__)
#define CHECK_OK(expr) CHECK_STATUS(expr, RWCNN_OK)
#define ARG RWCNN_ERR_ARGUMENT

/* The last error message contains `text`. */
#define CHECK_MESSAGE(text)                                                                                  \
    CHECKF(strstr(rwcnn_last_error(), (text)) != NULL, "rwcnn_last_error() does not mention \"%s\"", (text))

/* The last error message names a size (as a decimal number). */
#define CHECK_MESSAGE_SIZE(n)                                                                                \
    do {                                                                                                     \
        char size_text_[32];                                                                                 \
        snprintf(size_text_, sizeof size_text_, "%zu", (size_t)(n));                                         \
        CHECK_MESSAGE(size_text_);                                                                           \
    } while (0)

static void section(const char *name)
{
    printf("-- %s\n", name);
    fflush(stdout);
}

/* ---- Helpers ---------------------------------------------------------------- */

#define CANARY 64 /* floats (or bytes x4) past the end of each checked buffer */
static const uint32_t canary_bits = 0x7fa5a5a5u; /* a NaN nobody computes */

/* n floats plus CANARY canaries, all set to the canary value. */
static float *canary_floats(size_t n)
{
    float *p = (float *)malloc((n + CANARY) * sizeof(float));
    size_t i;
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    for (i = 0; i < n + CANARY; i++)
        memcpy(&p[i], &canary_bits, sizeof canary_bits);
    return p;
}

/* Number of floats in p[from..to) that are no longer the canary value. */
static size_t touched(const float *p, size_t from, size_t to)
{
    size_t i, n = 0;
    for (i = from; i < to; i++)
        if (memcmp(&p[i], &canary_bits, sizeof canary_bits) != 0)
            n++;
    return n;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static float *floats(size_t n) { return (float *)xmalloc(n * sizeof(float)); }

/* A smooth, deterministic test image batch in [0, 1]. */
static float *make_images(size_t n, size_t c, size_t h, size_t w, unsigned seed)
{
    float *p = floats(n * c * h * w);
    size_t i, j, y, x;
    for (i = 0; i < n; i++)
        for (j = 0; j < c; j++)
            for (y = 0; y < h; y++)
                for (x = 0; x < w; x++) {
                    double v = 0.5 + 0.3 * sin(0.37 * (double)x + 0.9 * (double)j + (double)seed) *
                                         cos(0.23 * (double)y + 0.5 * (double)i) +
                               0.15 * sin(0.05 * (double)((x * 7 + y * 13 + seed * 31) % 97));
                    p[((i * c + j) * h + y) * w + x] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
                }
    return p;
}

static int all_finite(const float *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!isfinite(p[i]))
            return 0;
    return 1;
}

static float max_abs_diff(const float *a, const float *b, size_t n)
{
    float m = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        float d = fabsf(a[i] - b[i]);
        if (!(d <= m))
            m = d; /* NaN propagates */
    }
    return m;
}

static float max_abs(const float *a, size_t n)
{
    float m = 0;
    size_t i;
    for (i = 0; i < n; i++)
        if (!(fabsf(a[i]) <= m))
            m = fabsf(a[i]);
    return m;
}

static const char *tmp_path(char *buf, size_t size, const char *name)
{
    int n = snprintf(buf, size, "%s/%s", g_tmp, name);
    if (n < 0 || (size_t)n >= size) {
        fprintf(stderr, "temporary path too long: %s/%s\n", g_tmp, name);
        exit(2);
    }
    return buf;
}

static const char *photo(char *buf, size_t size, const char *name)
{
    int n = snprintf(buf, size, "%s/data/images/%s", g_root, name);
    if (n < 0 || (size_t)n >= size) {
        fprintf(stderr, "photo path too long: %s/data/images/%s\n", g_root, name);
        exit(2);
    }
    return buf;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    int ok;
    if (f == NULL)
        return 0;
    ok = fwrite(data, 1, size, f) == size;
    return fclose(f) == 0 && ok;
}

static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *data;
    long n;
    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    data = (unsigned char *)xmalloc((size_t)n);
    if (fread(data, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(data);
        return NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return data;
}

/* PNG files directly in a folder (the bundled photos have no subfolders). */
static size_t count_pngs(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;
    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        const char *ext = len >= 4 ? e->d_name + len - 4 : "";
        if (e->d_name[0] != '.' && (strcmp(ext, ".png") == 0 || strcmp(ext, ".PNG") == 0))
            n++;
    }
    closedir(d);
    return n;
}

static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        char child[2048];
        if (d != NULL) {
            while ((e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                    continue;
                snprintf(child, sizeof child, "%s/%s", path, e->d_name);
                remove_tree(child);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* ---- PNG crafting (for header-only and corrupt files) ----------------------- */

static uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
    size_t i;
    int k;
    crc = ~crc;
    for (i = 0; i < n; i++) {
        crc ^= p[i];
        for (k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static size_t put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
    return 4;
}

static size_t put_chunk(unsigned char *p, const char *type, const unsigned char *data, uint32_t n)
{
    size_t at = put_be32(p, n);
    memcpy(p + at, type, 4);
    if (n)
        memcpy(p + at + 4, data, n);
    at += 4 + n;
    return at + put_be32(p + at, crc32_update(0, p + 4, 4 + (size_t)n));
}

/* A valid-looking 8-bit gray PNG header of width x height with a tiny IDAT:
 * enough for the header query, far too little data for the pixels. */
static size_t craft_png(unsigned char *out, uint32_t width, uint32_t height)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    static const unsigned char idat[] = {0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01};
    unsigned char ihdr[13];
    size_t at = 0;
    memcpy(out, sig, 8);
    at = 8;
    put_be32(ihdr, width);
    put_be32(ihdr + 4, height);
    ihdr[8] = 8;  /* bit depth */
    ihdr[9] = 0;  /* gray */
    ihdr[10] = 0; /* deflate */
    ihdr[11] = 0; /* adaptive filtering */
    ihdr[12] = 0; /* no interlace */
    at += put_chunk(out + at, "IHDR", ihdr, 13);
    at += put_chunk(out + at, "IDAT", idat, (uint32_t)sizeof idat);
    at += put_chunk(out + at, "IEND", NULL, 0);
    return at;
}

/* ---- safetensors writing (for torchvision files and corrupt models) --------- */

typedef struct {
    const char *name;
    size_t rank, shape[4];
    const float *data; /* little-endian host assumed below; converted bytewise */
} st_tensor;

static size_t st_count(const st_tensor *t)
{
    size_t i, n = 1;
    for (i = 0; i < t->rank; i++)
        n *= t->shape[i];
    return n;
}

/* Writes a safetensors file; metadata is a JSON object body (without the
 * braces) or NULL. Returns 1 on success. */
static int write_safetensors(const char *path, const st_tensor *ts, size_t n, const char *metadata)
{
    char *header = (char *)xmalloc(65536);
    size_t len = 0, offset = 0, i, j, total;
    unsigned char *file;
    int ok;
    len += (size_t)snprintf(header + len, 65536 - len, "{");
    if (metadata != NULL)
        len += (size_t)snprintf(header + len, 65536 - len, "\"__metadata__\":{%s}%s", metadata, n ? "," : "");
    for (i = 0; i < n; i++) {
        size_t bytes = st_count(&ts[i]) * 4;
        len += (size_t)snprintf(header + len, 65536 - len, "\"%s\":{\"dtype\":\"F32\",\"shape\":[", ts[i].name);
        for (j = 0; j < ts[i].rank; j++)
            len += (size_t)snprintf(header + len, 65536 - len, "%s%zu", j ? "," : "", ts[i].shape[j]);
        len += (size_t)snprintf(header + len, 65536 - len, "],\"data_offsets\":[%zu,%zu]}%s", offset,
                                offset + bytes, i + 1 < n ? "," : "");
        offset += bytes;
    }
    len += (size_t)snprintf(header + len, 65536 - len, "}");
    while (len % 8 != 0)
        header[len++] = ' ';
    total = 8 + len + offset;
    file = (unsigned char *)xmalloc(total);
    for (i = 0; i < 8; i++)
        file[i] = (unsigned char)((uint64_t)len >> (8 * i));
    memcpy(file + 8, header, len);
    offset = 8 + len;
    for (i = 0; i < n; i++) {
        size_t count = st_count(&ts[i]);
        for (j = 0; j < count; j++) {
            uint32_t bits;
            memcpy(&bits, &ts[i].data[j], 4);
            file[offset++] = (unsigned char)bits;
            file[offset++] = (unsigned char)(bits >> 8);
            file[offset++] = (unsigned char)(bits >> 16);
            file[offset++] = (unsigned char)(bits >> 24);
        }
    }
    ok = write_file(path, file, total);
    free(file);
    free(header);
    return ok;
}

/* ---- Version, statuses, errors ---------------------------------------------- */

static void test_version(void)
{
    char want[64];
    const char *v = rwcnn_version();
    section("version");
    snprintf(want, sizeof want, "%d.%d.%d", RWCNN_VERSION_MAJOR, RWCNN_VERSION_MINOR, RWCNN_VERSION_PATCH);
    CHECK(v != NULL);
    CHECKF(v != NULL && strcmp(v, want) == 0, "rwcnn_version() is \"%s\", the header says %s", v ? v : "(null)",
           want);
    CHECK(rwcnn_version() == v); /* a static string */
    CHECKF(rwcnn_version_number() == RWCNN_VERSION_NUMBER, "rwcnn_version_number() = %d, header %d",
           rwcnn_version_number(), RWCNN_VERSION_NUMBER);
}

static void test_status_names(void)
{
    static const struct {
        int status;
        const char *name;
    } names[] = {
        {RWCNN_OK, "RWCNN_OK"},
        {RWCNN_ERR_ARGUMENT, "RWCNN_ERR_ARGUMENT"},
        {RWCNN_ERR_IO, "RWCNN_ERR_IO"},
        {RWCNN_ERR_FORMAT, "RWCNN_ERR_FORMAT"},
        {RWCNN_ERR_OUT_OF_MEMORY, "RWCNN_ERR_OUT_OF_MEMORY"},
        {RWCNN_ERR_CANCELLED, "RWCNN_ERR_CANCELLED"},
        {RWCNN_ERR_INTERNAL, "RWCNN_ERR_INTERNAL"},
        {RWCNN_ERR_BUFFER_TOO_SMALL, "RWCNN_ERR_BUFFER_TOO_SMALL"},
    };
    static const int unknown[] = {-1, 8, 9, 100, INT_MAX, INT_MIN};
    size_t i;
    section("status names");
    CHECK(RWCNN_OK == 0 && RWCNN_ERR_ARGUMENT == 1 && RWCNN_ERR_IO == 2 && RWCNN_ERR_FORMAT == 3 &&
          RWCNN_ERR_OUT_OF_MEMORY == 4 && RWCNN_ERR_CANCELLED == 5 && RWCNN_ERR_INTERNAL == 6 &&
          RWCNN_ERR_BUFFER_TOO_SMALL == 7);
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *got = rwcnn_status_name(names[i].status);
        CHECKF(got != NULL && strcmp(got, names[i].name) == 0, "rwcnn_status_name(%d) = \"%s\", expected %s",
               names[i].status, got ? got : "(null)", names[i].name);
    }
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *got = rwcnn_status_name(unknown[i]);
        CHECKF(got != NULL && strcmp(got, "RWCNN_UNKNOWN_STATUS") == 0, "rwcnn_status_name(%d) = \"%s\"",
               unknown[i], got ? got : "(null)");
    }
}

/* Each thread fails on its own missing file and must keep seeing its own
 * message, while the other thread does the same. */
typedef struct {
    char path[1100];
    int reps;
    int initial_empty;
    int own_message;
    int statuses_ok;
} tl_arg;

static void *thread_local_worker(void *p)
{
    tl_arg *a = (tl_arg *)p;
    const char *initial = rwcnn_last_error();
    int i;
    size_t w, h;
    a->initial_empty = initial != NULL && initial[0] == '\0';
    a->own_message = 1;
    a->statuses_ok = 1;
    for (i = 0; i < a->reps; i++) {
        if (rwcnn_png_load(a->path, 3, NULL, 0, &w, &h, NULL) != RWCNN_ERR_IO)
            a->statuses_ok = 0;
        if (strstr(rwcnn_last_error(), a->path) == NULL)
            a->own_message = 0;
    }
    return NULL;
}

/* Every enum value's name and back; names tied to the header's numbers. */
static void test_enum_names(void)
{
    static const struct { int kind, value; const char *name; } pinned[] = {
        {RWCNN_ENUM_DISTRIBUTION, RWCNN_DIST_NORMAL, "normal"}, {RWCNN_ENUM_DISTRIBUTION, RWCNN_DIST_UNIFORM, "uniform"},
        {RWCNN_ENUM_DISTRIBUTION, RWCNN_DIST_LAPLACE, "laplace"}, {RWCNN_ENUM_DISTRIBUTION, RWCNN_DIST_LOGISTIC, "logistic"},
        {RWCNN_ENUM_SCALE_RULE, RWCNN_SCALE_HE, "he"}, {RWCNN_ENUM_SCALE_RULE, RWCNN_SCALE_GLOROT, "glorot"},
        {RWCNN_ENUM_SCALE_RULE, RWCNN_SCALE_FIXED, "fixed"},
        {RWCNN_ENUM_UNPOOL_MODE, RWCNN_UNPOOL_SWITCHES, "switches"}, {RWCNN_ENUM_UNPOOL_MODE, RWCNN_UNPOOL_NEAREST, "nearest"},
        {RWCNN_ENUM_UNPOOL_MODE, RWCNN_UNPOOL_ZEROS, "zeros"},
        {RWCNN_ENUM_DECODER_MODE, RWCNN_DECODER_RANDOM, "random"}, {RWCNN_ENUM_DECODER_MODE, RWCNN_DECODER_TIED, "tied"},
        {RWCNN_ENUM_DECODER_MODE, RWCNN_DECODER_TRAINED, "trained"},
        {RWCNN_ENUM_OPTIMIZER, RWCNN_OPTIMIZER_ADAM, "adam"}, {RWCNN_ENUM_OPTIMIZER, RWCNN_OPTIMIZER_SGD, "sgd"},
        {RWCNN_ENUM_PROGRESS_KIND, RWCNN_PROGRESS_STEP, "step"}, {RWCNN_ENUM_PROGRESS_KIND, RWCNN_PROGRESS_EVAL, "eval"},
        {RWCNN_ENUM_PROGRESS_KIND, RWCNN_PROGRESS_WARNING, "warning"},
        {RWCNN_ENUM_SYNTHESIS_OPTIMIZER, RWCNN_SYNTHESIS_ADAM, "adam"},
        {RWCNN_ENUM_SYNTHESIS_OPTIMIZER, RWCNN_SYNTHESIS_LBFGS, "lbfgs"},
        {RWCNN_ENUM_SYNTHESIS_START, RWCNN_START_NOISE, "noise"}, {RWCNN_ENUM_SYNTHESIS_START, RWCNN_START_CONTENT, "content"},
        {RWCNN_ENUM_FEATURE_NORMALIZATION, RWCNN_FEATURE_MEAN, "mean"},
        {RWCNN_ENUM_FEATURE_NORMALIZATION, RWCNN_FEATURE_RELATIVE, "relative"},
        {RWCNN_ENUM_GRAM_NORMALIZATION, RWCNN_GRAM_SCALED, "scaled"}, {RWCNN_ENUM_GRAM_NORMALIZATION, RWCNN_GRAM_GATYS, "gatys"},
        {RWCNN_ENUM_COLOUR_MAP, RWCNN_COLOUR_CHANNEL, "channel"}, {RWCNN_ENUM_COLOUR_MAP, RWCNN_COLOUR_MATRIX, "matrix"},
        {RWCNN_ENUM_SYNTHESIS_TASK, RWCNN_TASK_INVERT, "invert"}, {RWCNN_ENUM_SYNTHESIS_TASK, RWCNN_TASK_TEXTURE, "texture"},
        {RWCNN_ENUM_SYNTHESIS_TASK, RWCNN_TASK_STYLE, "style"},
    };
    static const int counts[] = {4, 3, 3, 3, 2, 3, 2, 2, 2, 2, 2, 3};
    size_t i;
    int kind, v, got;
    const char *name;
    section("rwcnn_enum_name / rwcnn_enum_value");
    for (i = 0; i < sizeof pinned / sizeof pinned[0]; i++) {
        name = rwcnn_enum_name(pinned[i].kind, pinned[i].value);
        CHECKF(name != NULL && strcmp(name, pinned[i].name) == 0, "kind %d value %d: %s, expected %s",
               pinned[i].kind, pinned[i].value, name ? name : "(null)", pinned[i].name);
    }
    for (kind = RWCNN_ENUM_DISTRIBUTION; kind <= RWCNN_ENUM_SYNTHESIS_TASK; kind++) {
        for (v = 0; (name = rwcnn_enum_name(kind, v)) != NULL; v++) {
            got = -1;
            CHECK_OK(rwcnn_enum_value(kind, name, &got));
            CHECK(got == v);
        }
        CHECKF(v == counts[kind], "enum kind %d has %d names, expected %d", kind, v, counts[kind]);
        CHECK(rwcnn_enum_name(kind, -1) == NULL);
    }
    CHECK_OK(rwcnn_enum_value(RWCNN_ENUM_DISTRIBUTION, "LaPlace", &got));
    CHECK(got == RWCNN_DIST_LAPLACE);
    got = 77;
    CHECK_STATUS(rwcnn_enum_value(RWCNN_ENUM_DISTRIBUTION, "cauchy", &got), ARG);
    CHECK_MESSAGE("normal, uniform, laplace, logistic");
    CHECK(got == 77);
    CHECK_STATUS(rwcnn_enum_value(12, "normal", &got), ARG);
    CHECK_STATUS(rwcnn_enum_value(-1, "normal", &got), ARG);
    CHECK_STATUS(rwcnn_enum_value(RWCNN_ENUM_DISTRIBUTION, NULL, &got), ARG);
    CHECK_STATUS(rwcnn_enum_value(RWCNN_ENUM_DISTRIBUTION, "normal", NULL), ARG);
    CHECK(rwcnn_enum_name(12, 0) == NULL && rwcnn_enum_name(-1, 0) == NULL);
}

static void test_last_error_thread_local(void)
{
    tl_arg a, b;
    pthread_t ta, tb;
    char main_path[1100];
    size_t w, h;
    int ca, cb;
    section("rwcnn_last_error is thread-local");
    snprintf(main_path, sizeof main_path, "%s/missing-main-thread.png", g_tmp);
    CHECK_STATUS(rwcnn_png_load(main_path, 3, NULL, 0, &w, &h, NULL), RWCNN_ERR_IO);
    CHECK_MESSAGE("missing-main-thread.png");

    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    snprintf(a.path, sizeof a.path, "%s/missing-thread-a.png", g_tmp);
    snprintf(b.path, sizeof b.path, "%s/missing-thread-b.png", g_tmp);
    a.reps = b.reps = g_quick ? 20 : 300;
    ca = pthread_create(&ta, NULL, thread_local_worker, &a);
    cb = pthread_create(&tb, NULL, thread_local_worker, &b);
    CHECK(ca == 0 && cb == 0);
    if (ca == 0)
        pthread_join(ta, NULL);
    if (cb == 0)
        pthread_join(tb, NULL);
    CHECKF(a.initial_empty && b.initial_empty, "a new thread's rwcnn_last_error() is not \"\"");
    CHECK(a.statuses_ok && b.statuses_ok);
    CHECKF(a.own_message && b.own_message, "a thread saw another thread's message");
    /* The main thread's message survived the other threads' failures. */
    CHECK_MESSAGE("missing-main-thread.png");
}

/* ---- Threads ---------------------------------------------------------------- */

static void test_threads(void)
{
    int n = rwcnn_get_threads();
    section("threads");
    CHECKF(n >= 1, "rwcnn_get_threads() = %d", n);
    CHECK_STATUS(rwcnn_set_threads(0), ARG);
    CHECK_MESSAGE("0");
    CHECK_STATUS(rwcnn_set_threads(-3), ARG);
    CHECK_STATUS(rwcnn_set_threads(INT_MIN), ARG);
    CHECK(rwcnn_get_threads() == n);
    CHECK_OK(rwcnn_set_threads(1));
    CHECK(rwcnn_get_threads() == 1);
    CHECK_OK(rwcnn_set_threads(3));
    CHECK(rwcnn_get_threads() == 3);
    CHECK_OK(rwcnn_set_threads(n));
    CHECK(rwcnn_get_threads() == n);
}

/* ---- PNG ---------------------------------------------------------------------- */

static void test_png_load(void)
{
    char path[1100], tmp[1100];
    size_t w = 0, h = 0, c = 0, needed, size = 0;
    float *buf, *gray, *rgb;
    unsigned char *bytes, *copy;
    unsigned char crafted[256];
    size_t i, n_bytes = 0, idat = 0;
    int ok;

    section("rwcnn_png_load");
    /* Queries: sizes and channels from the header alone. */
    CHECK_OK(rwcnn_png_load(photo(path, sizeof path, "camera.png"), 0, NULL, 0, &w, &h, &c));
    CHECK(w == 512 && h == 512 && c == 1);
    CHECK_OK(rwcnn_png_load(path, 3, NULL, 0, &w, &h, &c));
    CHECK(c == 3);
    CHECK_OK(rwcnn_png_load(path, 1, NULL, 0, &w, &h, NULL)); /* out_channels may be NULL */
    CHECK_OK(rwcnn_png_load(photo(path, sizeof path, "chelsea.png"), 0, NULL, 0, &w, &h, &c));
    CHECK(w == 451 && h == 300 && c == 3);
    CHECK_OK(rwcnn_png_load(path, 1, NULL, 0, &w, &h, &c));
    CHECK(c == 1);
    CHECK_OK(rwcnn_png_load(photo(path, sizeof path, "horse.png"), 0, NULL, 0, &w, &h, &c));
    CHECKF(w == 400 && h == 328 && c == 3, "horse.png (RGBA): %zux%zu with %zu channels, expected 400x328x3", w,
           h, c);

    /* Fill: a small gray photo as RGB (replicated) and as gray. */
    photo(path, sizeof path, "microaneurysms.png");
    CHECK_OK(rwcnn_png_load(path, 3, NULL, 0, &w, &h, &c));
    CHECK(w == 102 && h == 102 && c == 3);
    needed = 3 * 102 * 102;
    rgb = canary_floats(needed);
    CHECK_OK(rwcnn_png_load(path, 3, rgb, needed, &w, &h, &c));
    CHECK(touched(rgb, needed, needed + CANARY) == 0);
    ok = 1;
    for (i = 0; i < needed; i++)
        if (!(rgb[i] >= 0.0f && rgb[i] <= 1.0f))
            ok = 0;
    CHECKF(ok, "pixel values outside [0, 1]");
    CHECK(memcmp(rgb, rgb + 102 * 102, 102 * 102 * sizeof(float)) == 0 &&
          memcmp(rgb, rgb + 2 * 102 * 102, 102 * 102 * sizeof(float)) == 0);
    gray = canary_floats(102 * 102);
    CHECK_OK(rwcnn_png_load(path, 1, gray, 102 * 102, &w, &h, &c));
    CHECK(c == 1 && w == 102 && h == 102);
    CHECKF(max_abs_diff(gray, rgb, 102 * 102) < 1e-6f, "gray load differs from the replicated RGB load");
    CHECK(touched(gray, 102 * 102, 102 * 102 + CANARY) == 0);

    /* A buffer one float short: ARGUMENT naming the size, nothing written. */
    buf = canary_floats(needed - 1);
    w = h = c = 777;
    CHECK_STATUS(rwcnn_png_load(path, 3, buf, needed - 1, &w, &h, &c), RWCNN_ERR_BUFFER_TOO_SMALL);
    CHECK_MESSAGE_SIZE(needed);
    CHECK(touched(buf, 0, needed - 1 + CANARY) == 0);
    CHECK(w == 777 && h == 777 && c == 777);
    CHECK_STATUS(rwcnn_png_load(path, 3, buf, 0, &w, &h, &c), RWCNN_ERR_BUFFER_TOO_SMALL);
    CHECK(touched(buf, 0, needed - 1 + CANARY) == 0);
    free(buf);

    /* Bad arguments. */
    CHECK_STATUS(rwcnn_png_load(NULL, 3, NULL, 0, &w, &h, &c), ARG);
    CHECK_MESSAGE("path");
    CHECK_STATUS(rwcnn_png_load(path, 3, NULL, 0, NULL, &h, &c), ARG);
    CHECK_MESSAGE("width");
    CHECK_STATUS(rwcnn_png_load(path, 3, NULL, 0, &w, NULL, &c), ARG);
    CHECK_MESSAGE("height");
    CHECK_STATUS(rwcnn_png_load(path, 2, NULL, 0, &w, &h, &c), ARG);
    CHECK_STATUS(rwcnn_png_load(path, 4, NULL, 0, &w, &h, &c), ARG);
    CHECK_STATUS(rwcnn_png_load(path, -1, NULL, 0, &w, &h, &c), ARG);
    CHECK_STATUS(rwcnn_png_load(path, 3, rgb, needed, NULL, &h, &c), ARG);

    /* Missing, not a PNG, empty, truncated, corrupt. */
    CHECK_STATUS(rwcnn_png_load(tmp_path(tmp, sizeof tmp, "no-such-file.png"), 3, NULL, 0, &w, &h, &c),
                 RWCNN_ERR_IO);
    CHECK_MESSAGE("no-such-file.png");
    CHECK_STATUS(rwcnn_png_load(tmp_path(tmp, sizeof tmp, "missing-dir/x.png"), 3, rgb, needed, &w, &h, &c),
                 RWCNN_ERR_IO);
    write_file(tmp_path(tmp, sizeof tmp, "text.png"), "this is not a PNG file at all\n", 30);
    CHECK_STATUS(rwcnn_png_load(tmp, 3, NULL, 0, &w, &h, &c), RWCNN_ERR_FORMAT);
    CHECK_STATUS(rwcnn_png_load(tmp, 3, rgb, needed, &w, &h, &c), RWCNN_ERR_FORMAT);
    write_file(tmp_path(tmp, sizeof tmp, "empty.png"), "", 0);
    CHECK_STATUS(rwcnn_png_load(tmp, 3, NULL, 0, &w, &h, &c), RWCNN_ERR_FORMAT);
    CHECK_STATUS(rwcnn_png_load(tmp, 3, rgb, needed, &w, &h, &c), RWCNN_ERR_FORMAT);

    bytes = read_file(path, &n_bytes);
    CHECK(bytes != NULL && n_bytes > 100);
    if (bytes != NULL) {
        write_file(tmp_path(tmp, sizeof tmp, "trunc20.png"), bytes, 20);
        CHECK_STATUS(rwcnn_png_load(tmp, 3, NULL, 0, &w, &h, &c), RWCNN_ERR_FORMAT);
        CHECK_STATUS(rwcnn_png_load(tmp, 3, rgb, needed, &w, &h, &c), RWCNN_ERR_FORMAT);
        write_file(tmp_path(tmp, sizeof tmp, "trunc-half.png"), bytes, n_bytes / 2);
        buf = canary_floats(needed);
        CHECK_STATUS(rwcnn_png_load(tmp, 3, buf, needed, &w, &h, &c), RWCNN_ERR_FORMAT);
        CHECK(touched(buf, 0, needed + CANARY) == 0);
        free(buf);

        /* Corrupt pixel data: flip bytes inside the first IDAT chunk. */
        for (i = 8; i + 8 < n_bytes; i++)
            if (memcmp(bytes + i, "IDAT", 4) == 0) {
                idat = i;
                break;
            }
        CHECK(idat > 0);
        copy = (unsigned char *)xmalloc(n_bytes);
        memcpy(copy, bytes, n_bytes);
        for (i = idat + 20; i < idat + 60 && i < n_bytes; i++)
            copy[i] ^= 0x5a;
        write_file(tmp_path(tmp, sizeof tmp, "corrupt.png"), copy, n_bytes);
        CHECK_STATUS(rwcnn_png_load(tmp, 3, rgb, needed, &w, &h, &c), RWCNN_ERR_FORMAT);
        free(copy);
    }

    /* A decompression bomb: 10000 x 10000 in the header. The pixel limit
     * fails before any allocation, even with a tiny buffer. */
    i = craft_png(crafted, 10000, 10000);
    write_file(tmp_path(tmp, sizeof tmp, "bomb.png"), crafted, i);
    buf = canary_floats(16);
    CHECK_STATUS2(rwcnn_png_load(tmp, 3, NULL, 0, &w, &h, &c), RWCNN_OK, RWCNN_ERR_OUT_OF_MEMORY);
    CHECK_STATUS(rwcnn_png_load(tmp, 3, buf, 16, &w, &h, &c), RWCNN_ERR_OUT_OF_MEMORY);
    CHECK_STATUS(rwcnn_png_load_memory(crafted, i, 3, buf, 16, &w, &h, &c), RWCNN_ERR_OUT_OF_MEMORY);
    CHECK(touched(buf, 0, 16 + CANARY) == 0);
    free(buf);
    /* The crafted header itself is fine: a 4x3 image with too little data. */
    i = craft_png(crafted, 4, 3);
    CHECK_OK(rwcnn_png_load_memory(crafted, i, 0, NULL, 0, &w, &h, &c));
    CHECK(w == 4 && h == 3 && c == 1);
    buf = canary_floats(12);
    CHECK_STATUS(rwcnn_png_load_memory(crafted, i, 0, buf, 12, &w, &h, &c), RWCNN_ERR_FORMAT);
    /* The capacity is checked against the header before decoding: a buffer
     * one float short is BUFFER_TOO_SMALL (naming the size), not the
     * FORMAT error a decode of the missing data would give. */
    w = h = c = 777;
    CHECK_STATUS(rwcnn_png_load_memory(crafted, i, 0, buf, 11, &w, &h, &c), RWCNN_ERR_BUFFER_TOO_SMALL);
    CHECK(w == 777 && h == 777 && c == 777);
    CHECK_MESSAGE_SIZE(12);
    CHECK(touched(buf, 0, 12 + CANARY) == 0);
    free(buf);

    section("rwcnn_png_load_memory");
    if (bytes != NULL) {
        buf = canary_floats(needed);
        CHECK_OK(rwcnn_png_load_memory(bytes, n_bytes, 0, NULL, 0, &w, &h, &c));
        CHECK(w == 102 && h == 102 && c == 1);
        CHECK_OK(rwcnn_png_load_memory(bytes, n_bytes, 3, buf, needed, &w, &h, &size));
        CHECK(size == 3);
        CHECK(memcmp(buf, rgb, needed * sizeof(float)) == 0);
        CHECK(touched(buf, needed, needed + CANARY) == 0);
        free(buf);
        buf = canary_floats(needed);
        CHECK_STATUS(rwcnn_png_load_memory(bytes, n_bytes, 3, buf, needed - 3, &w, &h, &c), RWCNN_ERR_BUFFER_TOO_SMALL);
        CHECK_MESSAGE_SIZE(needed);
        CHECK(touched(buf, 0, needed + CANARY) == 0);
        CHECK_STATUS(rwcnn_png_load_memory(NULL, n_bytes, 3, buf, needed, &w, &h, &c), ARG);
        CHECK_MESSAGE("data");
        CHECK_STATUS(rwcnn_png_load_memory(bytes, n_bytes, 3, buf, needed, NULL, &h, &c), ARG);
        CHECK_STATUS(rwcnn_png_load_memory(bytes, n_bytes, 3, buf, needed, &w, NULL, &c), ARG);
        CHECK_STATUS(rwcnn_png_load_memory(bytes, n_bytes, 5, buf, needed, &w, &h, &c), ARG);
        CHECK_STATUS(rwcnn_png_load_memory(bytes, 0, 3, buf, needed, &w, &h, &c), RWCNN_ERR_FORMAT);
        CHECK_STATUS(rwcnn_png_load_memory(bytes, 0, 3, NULL, 0, &w, &h, &c), RWCNN_ERR_FORMAT);
        CHECK_STATUS(rwcnn_png_load_memory(bytes, 16, 3, NULL, 0, &w, &h, &c), RWCNN_ERR_FORMAT);
        CHECK_STATUS(rwcnn_png_load_memory(bytes, n_bytes / 2, 3, buf, needed, &w, &h, &c), RWCNN_ERR_FORMAT);
        CHECK_STATUS(rwcnn_png_load_memory("GIF89a not a png", 16, 3, buf, needed, &w, &h, &c),
                     RWCNN_ERR_FORMAT);
        CHECK_STATUS2(rwcnn_png_load_memory(bytes, (size_t)-1, 3, NULL, 0, &w, &h, &c), ARG,
                      RWCNN_ERR_OUT_OF_MEMORY);
        CHECK(touched(buf, 0, needed + CANARY) == 0);
        free(buf);
        free(bytes);
    }
    free(gray);
    free(rgb);
}

/* PNG or JPEG by content: JPEG fixtures (Tests/RWCNNTests/Data/jpeg, made by
 * scripts/golden_jpeg.py) decode to exactly Pillow's pixels, stored beside
 * them as PNG; truncated, corrupt and huge-header JPEGs get their status. */
static void test_image_load(void)
{
    static const char *names[] = {"baseline420", "progressive", "gray"};
    char path[1100], ref[1100], tmp[1100];
    size_t w, h, c, w2, h2, c2, n_bytes, k, sof = 0;
    unsigned char *bytes, *copy;
    float *got, *want, *buf;
    int i, mode;

    section("rwcnn_image_load");
    for (i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/Tests/RWCNNTests/Data/jpeg/%s.jpg", g_root, names[i]);
        snprintf(ref, sizeof ref, "%s/Tests/RWCNNTests/Data/jpeg/%s.pillow.png", g_root, names[i]);
        for (mode = 0; mode <= 3; mode += (mode == 0 ? 1 : 2)) {
            CHECK_OK(rwcnn_image_load(path, mode, NULL, 0, &w, &h, &c));
            CHECK_OK(rwcnn_png_load(ref, mode, NULL, 0, &w2, &h2, &c2));
            CHECKF(w == w2 && h == h2 && c == c2, "%s: %zux%zux%zu vs %zux%zux%zu", names[i], w, h, c, w2, h2, c2);
            got = canary_floats(c * h * w);
            want = floats(c * h * w);
            CHECK_OK(rwcnn_image_load(path, mode, got, c * h * w, &w, &h, &c));
            CHECK_OK(rwcnn_png_load(ref, mode, want, c * h * w, &w2, &h2, &c2));
            CHECKF(memcmp(got, want, c * h * w * sizeof(float)) == 0, "%s channels=%d differs from Pillow", names[i], mode);
            CHECK(touched(got, c * h * w, c * h * w + CANARY) == 0);
            CHECK_STATUS(rwcnn_image_load(path, mode, got, c * h * w - 1, &w, &h, &c), RWCNN_ERR_BUFFER_TOO_SMALL);
            free(got);
            free(want);
        }
        /* rwcnn_png_load stays PNG-only. */
        CHECK_STATUS(rwcnn_png_load(path, 3, NULL, 0, &w, &h, &c), RWCNN_ERR_FORMAT);
    }
    /* A PNG through rwcnn_image_load is what rwcnn_png_load gives. */
    CHECK_OK(rwcnn_image_load(photo(path, sizeof path, "microaneurysms.png"), 3, NULL, 0, &w, &h, &c));
    CHECK(w == 102 && h == 102 && c == 3);
    got = floats(3 * 102 * 102);
    want = floats(3 * 102 * 102);
    CHECK_OK(rwcnn_image_load(path, 3, got, 3 * 102 * 102, &w, &h, &c));
    CHECK_OK(rwcnn_png_load(path, 3, want, 3 * 102 * 102, &w, &h, &c));
    CHECK(memcmp(got, want, 3 * 102 * 102 * sizeof(float)) == 0);
    free(got);
    free(want);
    CHECK_STATUS(rwcnn_image_load(NULL, 3, NULL, 0, &w, &h, &c), ARG);
    CHECK_STATUS(rwcnn_image_load(path, 2, NULL, 0, &w, &h, &c), ARG);
    CHECK_STATUS(rwcnn_image_load(tmp_path(tmp, sizeof tmp, "none.jpg"), 3, NULL, 0, &w, &h, &c), RWCNN_ERR_IO);

    section("rwcnn_image_load_memory");
    snprintf(path, sizeof path, "%s/Tests/RWCNNTests/Data/jpeg/baseline420.jpg", g_root);
    bytes = read_file(path, &n_bytes);
    CHECK(bytes != NULL && n_bytes > 400);
    if (bytes == NULL)
        return;
    CHECK_OK(rwcnn_image_load_memory(bytes, n_bytes, 0, NULL, 0, &w, &h, &c));
    CHECK(w == 67 && h == 45 && c == 3);
    buf = canary_floats(3 * 67 * 45);
    CHECK_OK(rwcnn_image_load_memory(bytes, n_bytes, 0, buf, 3 * 67 * 45, &w, &h, &c));
    free(buf);
    buf = canary_floats(3 * 67 * 45);
    CHECK_STATUS(rwcnn_image_load_memory(bytes, n_bytes / 2, 3, buf, 3 * 67 * 45, &w, &h, &c), RWCNN_ERR_FORMAT);
    CHECK_MESSAGE("JPEG");
    CHECK_STATUS(rwcnn_image_load_memory(bytes, 3, 3, buf, 3 * 67 * 45, &w, &h, &c), RWCNN_ERR_FORMAT);
    CHECK_STATUS(rwcnn_image_load_memory(bytes, 0, 3, NULL, 0, &w, &h, &c), RWCNN_ERR_FORMAT);
    CHECK_STATUS(rwcnn_image_load_memory("GIF89a not an image", 19, 3, buf, 3 * 67 * 45, &w, &h, &c), RWCNN_ERR_FORMAT);
    CHECK_MESSAGE("neither a PNG nor a JPEG");
    CHECK_STATUS(rwcnn_image_load_memory(NULL, n_bytes, 3, buf, 3 * 67 * 45, &w, &h, &c), ARG);
    write_file(tmp_path(tmp, sizeof tmp, "trunc.jpg"), bytes, n_bytes * 2 / 3);
    CHECK_STATUS(rwcnn_image_load(tmp, 3, buf, 3 * 67 * 45, &w, &h, &c), RWCNN_ERR_FORMAT);
    /* Capacity before decoding: the truncated file with a short buffer. */
    CHECK_STATUS(rwcnn_image_load(tmp, 3, buf, 3 * 67 * 45 - 1, &w, &h, &c), RWCNN_ERR_BUFFER_TOO_SMALL);
    CHECK_MESSAGE_SIZE(3 * 67 * 45);
    CHECK(touched(buf, 3 * 67 * 45, 3 * 67 * 45 + CANARY) == 0);
    free(buf);
    /* A 65500 x 65500 frame header: refused on the header, before decoding. */
    for (k = 2; k + 9 < n_bytes; k += 2 + ((size_t)bytes[k + 2] << 8 | bytes[k + 3]))
        if (bytes[k] == 0xFF && (bytes[k + 1] == 0xC0 || bytes[k + 1] == 0xC2)) {
            sof = k + 5;
            break;
        }
    CHECK(sof > 0);
    copy = (unsigned char *)xmalloc(n_bytes);
    memcpy(copy, bytes, n_bytes);
    copy[sof] = copy[sof + 2] = 0xFF;
    copy[sof + 1] = copy[sof + 3] = 0xDC;
    buf = canary_floats(16);
    CHECK_OK(rwcnn_image_load_memory(copy, n_bytes, 3, NULL, 0, &w, &h, &c));
    CHECK(w == 65500 && h == 65500);
    CHECK_STATUS(rwcnn_image_load_memory(copy, n_bytes, 3, buf, 16, &w, &h, &c), RWCNN_ERR_OUT_OF_MEMORY);
    CHECK(touched(buf, 0, 16 + CANARY) == 0);
    /* Corrupt entropy data: every byte of the scan flipped. */
    memcpy(copy, bytes, n_bytes);
    for (k = n_bytes / 2; k + 2 < n_bytes; k++)
        copy[k] = (unsigned char)(copy[k] == 0xFF ? 0xFF : copy[k] ^ 0xA5);
    write_file(tmp_path(tmp, sizeof tmp, "corrupt.jpg"), copy, n_bytes);
    CHECK_STATUS(rwcnn_image_load(tmp, 3, NULL, 0, &w, &h, &c), RWCNN_OK);
    free(buf);
    buf = canary_floats(3 * 67 * 45);
    CHECK_STATUS(rwcnn_image_load(tmp, 3, buf, 3 * 67 * 45, &w, &h, &c), RWCNN_ERR_FORMAT);
    free(buf);
    free(copy);
    free(bytes);
}

static void test_png_save_encode(void)
{
    enum { H = 13, W = 17 };
    char path[1100];
    float *img3 = make_images(1, 3, H, W, 5), *img4 = make_images(1, 4, H, W, 6), *img1 = make_images(1, 1, H, W, 7);
    float *back = canary_floats(4 * H * W);
    size_t w = 0, h = 0, c = 0, i, size = 0, size2 = 0;
    unsigned char *png, *small;
    float d;

    section("rwcnn_png_save");
    for (i = 0; i < (size_t)H * W; i++)
        img4[3 * H * W + i] = 1.0f; /* opaque alpha */
    img3[0] = -0.5f;
    img3[1] = 1.5f; /* clamped */

    CHECK_OK(rwcnn_png_save(tmp_path(path, sizeof path, "rgb8.png"), img3, 3, H, W, 8));
    CHECK_OK(rwcnn_png_load(path, 0, back, 3 * H * W, &w, &h, &c));
    CHECK(w == W && h == H && c == 3);
    CHECK(back[0] == 0.0f && back[1] == 1.0f);
    img3[0] = 0.0f;
    img3[1] = 1.0f;
    d = max_abs_diff(back, img3, 3 * H * W);
    CHECKF(d <= 0.5f / 255.0f + 1e-6f, "8-bit round trip differs by %g", (double)d);

    CHECK_OK(rwcnn_png_save(tmp_path(path, sizeof path, "rgb16.png"), img3, 3, H, W, 16));
    CHECK_OK(rwcnn_png_load(path, 3, back, 3 * H * W, &w, &h, &c));
    d = max_abs_diff(back, img3, 3 * H * W);
    CHECKF(d <= 0.5f / 65535.0f + 1e-6f, "16-bit round trip differs by %g", (double)d);
    CHECK_OK(rwcnn_png_save(path, img3, 3, H, W, 16)); /* over an existing file */

    CHECK_OK(rwcnn_png_save(tmp_path(path, sizeof path, "gray.png"), img1, 1, H, W, 8));
    CHECK_OK(rwcnn_png_load(path, 0, back, 3 * H * W, &w, &h, &c));
    CHECK(c == 1);
    CHECK(max_abs_diff(back, img1, H * W) <= 0.5f / 255.0f + 1e-6f);

    CHECK_OK(rwcnn_png_save(tmp_path(path, sizeof path, "rgba.png"), img4, 4, H, W, 8));
    CHECK_OK(rwcnn_png_load(path, 0, back, 4 * H * W, &w, &h, &c));
    CHECK(c == 3); /* alpha dropped */
    CHECK(max_abs_diff(back, img4, 3 * H * W) <= 0.5f / 255.0f + 1e-6f);
    CHECK(touched(back, 4 * H * W, 4 * H * W + CANARY) == 0);

    /* Bad arguments: nothing is written. */
    tmp_path(path, sizeof path, "never.png");
    CHECK_STATUS(rwcnn_png_save(NULL, img3, 3, H, W, 8), ARG);
    CHECK_STATUS(rwcnn_png_save(path, NULL, 3, H, W, 8), ARG);
    CHECK_MESSAGE("image");
    CHECK_STATUS(rwcnn_png_save(path, img3, 0, H, W, 8), ARG);
    CHECK_STATUS(rwcnn_png_save(path, img3, 2, H, W, 8), ARG);
    CHECK_STATUS(rwcnn_png_save(path, img3, 5, H, W, 8), ARG);
    CHECK_STATUS(rwcnn_png_save(path, img3, 3, 0, W, 8), ARG);
    CHECK_STATUS(rwcnn_png_save(path, img3, 3, H, 0, 8), ARG);
    CHECK_STATUS(rwcnn_png_save(path, img3, 3, H, W, 7), ARG);
    CHECK_STATUS(rwcnn_png_save(path, img3, 3, H, W, 0), ARG);
    CHECK_STATUS(rwcnn_png_save(path, img3, 3, H, W, 32), ARG);
    CHECK_STATUS(rwcnn_png_save(path, img3, 3, (size_t)-1, W, 8), ARG);
    CHECK_STATUS(rwcnn_png_save(path, img3, (size_t)-1, H, W, 8), ARG);
    CHECK_STATUS2(rwcnn_png_save(path, img3, 3, (size_t)1 << 24, (size_t)1 << 24, 8), ARG,
                  RWCNN_ERR_OUT_OF_MEMORY);
    CHECK_STATUS2(rwcnn_png_save(path, img3, 3, (size_t)1 << 40, (size_t)1 << 40, 8), ARG,
                  RWCNN_ERR_OUT_OF_MEMORY);
    CHECK(!file_exists(path));
    CHECK_STATUS(rwcnn_png_save(tmp_path(path, sizeof path, "no-such-dir/out.png"), img3, 3, H, W, 8),
                 RWCNN_ERR_IO);

    section("rwcnn_png_encode");
    size = 0;
    CHECK_OK(rwcnn_png_encode(img3, 3, H, W, 8, NULL, 0, &size));
    CHECK(size > 8);
    png = (unsigned char *)xmalloc(size + CANARY);
    memset(png, 0xa5, size + CANARY);
    CHECK_OK(rwcnn_png_encode(img3, 3, H, W, 8, png, size, &size2));
    CHECK(size2 <= size); /* the query is a bound; the fill says what it wrote */
    CHECK(memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0);
    for (i = size; i < size + CANARY && png[i] == 0xa5; i++)
        ;
    CHECK(i == size + CANARY);
    CHECK_OK(rwcnn_png_load_memory(png, size2, 0, back, 3 * H * W, &w, &h, &c));
    size = size2;
    CHECK(w == W && h == H && c == 3);
    CHECK(max_abs_diff(back, img3, 3 * H * W) <= 0.5f / 255.0f + 1e-6f);
    /* 16-bit and gray */
    CHECK_OK(rwcnn_png_encode(img1, 1, H, W, 16, NULL, 0, &size2));
    CHECK(size2 > 8);

    /* One byte short: BUFFER_TOO_SMALL naming the size; buffer and *size untouched. */
    small = (unsigned char *)xmalloc(size + CANARY);
    memset(small, 0xa5, size + CANARY);
    size2 = 4242;
    CHECK_STATUS(rwcnn_png_encode(img3, 3, H, W, 8, small, size - 1, &size2), RWCNN_ERR_BUFFER_TOO_SMALL);
    CHECK_MESSAGE_SIZE(size);
    CHECK(size2 == 4242);
    for (i = 0; i < size + CANARY && small[i] == 0xa5; i++)
        ;
    CHECK(i == size + CANARY);
    CHECK_STATUS(rwcnn_png_encode(img3, 3, H, W, 8, small, 0, &size2), RWCNN_ERR_BUFFER_TOO_SMALL);
    CHECK_STATUS(rwcnn_png_encode(img3, 3, H, W, 8, NULL, 0, NULL), ARG);
    CHECK_MESSAGE("size");
    CHECK_STATUS(rwcnn_png_encode(NULL, 3, H, W, 8, NULL, 0, &size2), ARG);
    CHECK_STATUS(rwcnn_png_encode(img3, 2, H, W, 8, NULL, 0, &size2), ARG);
    CHECK_STATUS(rwcnn_png_encode(img3, 3, 0, W, 8, NULL, 0, &size2), ARG);
    CHECK_STATUS(rwcnn_png_encode(img3, 3, H, W, 12, NULL, 0, &size2), ARG);
    CHECK_STATUS2(rwcnn_png_encode(img3, 3, (size_t)-1, (size_t)-1, 8, NULL, 0, &size2), ARG,
                  RWCNN_ERR_OUT_OF_MEMORY);
    CHECK(size2 == 4242);
    free(small);
    free(png);
    free(back);
    free(img1);
    free(img3);
    free(img4);
}

/* ---- Metrics and display ------------------------------------------------------ */

typedef rwcnn_status (*metric_fn)(const float *, const float *, size_t, size_t, size_t, size_t, double *);

static void test_metrics(void)
{
    enum { N = 2, C = 3, H = 16, W = 20, COUNT = N * C * H * W };
    static const struct {
        metric_fn fn;
        const char *name;
    } metrics[] = {
        {rwcnn_mse, "rwcnn_mse"},
        {rwcnn_psnr, "rwcnn_psnr"},
        {rwcnn_ssim, "rwcnn_ssim"},
        {rwcnn_colour_ssim, "rwcnn_colour_ssim"},
    };
    float *a = make_images(N, C, H, W, 1), *b = floats(COUNT), *affine = floats(COUNT), *inv = floats(COUNT);
    float *img, *tiny = make_images(1, 3, 10, 10, 2);
    double v = 0, mse = 0, want = 0, ssim_affine = 0;
    size_t i, k;

    section("metrics");
    for (i = 0; i < COUNT; i++) {
        double noise = 0.05 * sin(12.9898 * (double)i) * cos(4.1414 * (double)i);
        b[i] = (float)(a[i] + noise);
        want += noise * noise;
    }
    for (i = 0; i < COUNT; i++) {
        size_t channel = (i / (H * W)) % C;
        affine[i] = 0.4f * a[i] + 0.1f + 0.2f * (float)channel;
        inv[i] = 1.0f - a[i];
    }
    want /= COUNT;

    CHECK_OK(rwcnn_mse(a, a, N, C, H, W, &v));
    CHECK(v == 0.0);
    CHECK_OK(rwcnn_mse(a, b, N, C, H, W, &mse));
    CHECKF(fabs(mse - want) <= 1e-5 * want + 1e-12, "mse %.9g, expected %.9g", mse, want);
    CHECK_OK(rwcnn_psnr(a, a, 1, C, H, W, &v));
    CHECKF(isinf(v) && v > 0, "psnr of identical images %g, expected +inf", v);
    CHECK_OK(rwcnn_mse(a, b, 1, C, H, W, &mse));
    CHECK_OK(rwcnn_psnr(a, b, 1, C, H, W, &v));
    CHECKF(fabs(v - 10.0 * log10(1.0 / mse)) < 1e-3, "psnr %g, 10 log10(1/mse) = %g", v, 10.0 * log10(1.0 / mse));
    CHECK_OK(rwcnn_psnr(a, b, N, C, H, W, &v));
    CHECK(isfinite(v) && v > 10.0);
    CHECK_OK(rwcnn_ssim(a, a, N, C, H, W, &v));
    CHECKF(fabs(v - 1.0) < 1e-6, "ssim of identical images %g", v);
    CHECK_OK(rwcnn_ssim(b, a, N, C, H, W, &v));
    CHECKF(v > 0.5 && v < 1.0, "ssim with light noise %g", v);
    CHECK_OK(rwcnn_ssim(inv, a, N, C, H, W, &v));
    CHECKF(v < 0.0, "ssim of an inverted image %g, expected negative", v);
    CHECK_OK(rwcnn_colour_ssim(a, a, N, C, H, W, &v));
    CHECKF(fabs(v - 1.0) < 1e-4, "colour ssim of identical images %g", v);
    /* A per-channel affine colour change keeps positions: colour SSIM ~1. */
    CHECK_OK(rwcnn_ssim(affine, a, N, C, H, W, &ssim_affine));
    CHECK_OK(rwcnn_colour_ssim(affine, a, N, C, H, W, &v));
    CHECKF(v > 0.999 && v > ssim_affine, "colour ssim %g (plain ssim %g) after an affine colour change", v,
           ssim_affine);
    CHECK_OK(rwcnn_colour_ssim(inv, a, N, C, H, W, &v));
    CHECKF(v > 0.999, "colour ssim of an inverted image %g (a negative gain is an affine fit)", v);

    /* Bad arguments for each metric; *out untouched. */
    for (k = 0; k < sizeof metrics / sizeof metrics[0]; k++) {
        metric_fn f = metrics[k].fn;
        printf("   %s\n", metrics[k].name);
        v = 42.0;
        CHECK_STATUS(f(NULL, a, N, C, H, W, &v), ARG);
        CHECK_STATUS(f(a, NULL, N, C, H, W, &v), ARG);
        CHECK_STATUS(f(a, b, N, C, H, W, NULL), ARG);
        CHECK_STATUS(f(a, b, 0, C, H, W, &v), ARG);
        CHECK_STATUS(f(a, b, N, 0, H, W, &v), ARG);
        CHECK_STATUS(f(a, b, N, C, 0, W, &v), ARG);
        CHECK_STATUS(f(a, b, N, C, H, 0, &v), ARG);
        CHECK_STATUS(f(a, b, (size_t)-1, C, H, W, &v), ARG);
        CHECK_STATUS2(f(a, b, (size_t)1 << 40, C, H, W, &v), ARG, RWCNN_ERR_OUT_OF_MEMORY);
        CHECK_STATUS2(f(a, b, (size_t)1 << 62, (size_t)1 << 62, H, W, &v), ARG, RWCNN_ERR_OUT_OF_MEMORY);
        CHECK(v == 42.0);
    }
    /* SSIM needs 11x11. */
    CHECK_STATUS(rwcnn_ssim(tiny, tiny, 1, 3, 10, 10, &v), ARG);
    CHECK_STATUS(rwcnn_colour_ssim(tiny, tiny, 1, 3, 10, 10, &v), ARG);
    CHECK_OK(rwcnn_mse(tiny, tiny, 1, 3, 10, 10, &v));
    CHECK_OK(rwcnn_ssim(a, a, 1, 3, 11, 11, &v));

    section("rwcnn_display_normalize");
    img = floats(COUNT);
    for (i = 0; i < COUNT; i++)
        img[i] = i < COUNT / 2 ? -3.0f + 8.0f * a[i] : 7.0f; /* image 1 constant */
    {
        float lo = 1e30f, hi = -1e30f;
        float *orig = floats(COUNT);
        memcpy(orig, img, COUNT * sizeof(float));
        for (i = 0; i < COUNT / 2; i++) {
            lo = img[i] < lo ? img[i] : lo;
            hi = img[i] > hi ? img[i] : hi;
        }
        CHECK_OK(rwcnn_display_normalize(img, N, C, H, W));
        lo = 1e30f;
        hi = -1e30f;
        for (i = 0; i < COUNT / 2; i++) {
            lo = img[i] < lo ? img[i] : lo;
            hi = img[i] > hi ? img[i] : hi;
        }
        CHECKF(fabsf(lo) < 1e-6f && fabsf(hi - 1.0f) < 1e-6f, "normalised range [%g, %g]", (double)lo,
               (double)hi);
        /* Affine in the original values: compare with the original's order. */
        CHECK((orig[0] < orig[1]) == (img[0] < img[1]));
        for (i = COUNT / 2; i < COUNT && img[i] == 0.5f; i++)
            ;
        CHECKF(i == COUNT, "a constant image should become 0.5, got %g", (double)img[COUNT - 1]);
        memcpy(img, orig, COUNT * sizeof(float));
        CHECK_STATUS(rwcnn_display_normalize(NULL, N, C, H, W), ARG);
        CHECK_STATUS(rwcnn_display_normalize(img, 0, C, H, W), ARG);
        CHECK_STATUS(rwcnn_display_normalize(img, N, 0, H, W), ARG);
        CHECK_STATUS(rwcnn_display_normalize(img, N, C, H, (size_t)-1), ARG);
        CHECK_STATUS2(rwcnn_display_normalize(img, (size_t)1 << 40, C, H, W), ARG, RWCNN_ERR_OUT_OF_MEMORY);
        CHECK(memcmp(img, orig, COUNT * sizeof(float)) == 0);
        free(orig);
    }
    free(img);
    free(tiny);
    free(inv);
    free(affine);
    free(b);
    free(a);
}

/* ---- Colour-fitted figures (issue 11) ---------------------------------------- */

/* A size x size crop at (top, left) of a bundled RGB photo, CHW floats. */
static float *photo_crop(const char *name, size_t top, size_t left, size_t size)
{
    char path[1100];
    size_t w = 0, h = 0, c = 0, y, x, k;
    float *full, *out;
    if (rwcnn_png_load(photo(path, sizeof path, name), 3, NULL, 0, &w, &h, &c) != RWCNN_OK || c != 3 ||
        top + size > h || left + size > w) {
        fprintf(stderr, "cannot crop %s\n", name);
        exit(2);
    }
    full = floats(3 * w * h);
    out = floats(3 * size * size);
    if (rwcnn_png_load(path, 3, full, 3 * w * h, &w, &h, &c) != RWCNN_OK) {
        fprintf(stderr, "cannot load %s\n", name);
        exit(2);
    }
    for (k = 0; k < 3; k++)
        for (y = 0; y < size; y++)
            for (x = 0; x < size; x++)
                out[(k * size + y) * size + x] = full[(k * h + top + y) * w + left + x];
    free(full);
    return out;
}

/* Golden values from scripts/golden_colour.py (numpy, scipy, scikit-image),
 * the cases of Tests/RWCNNTests/ColourFitTests.swift on 96 x 96 crops. */
static void test_colour_fitted(void)
{
    enum { S = 96, COUNT = 3 * S * S };
    static const double mixing[3][3] = {{0.2, 0.7, -0.3}, {-0.6, 0.1, 0.5}, {0.4, -0.2, 0.9}};
    static const double shifts[3] = {0.3, 0.4, -0.1};
    float *astronaut = photo_crop("astronaut.png", 100, 180, S), *coffee = photo_crop("coffee.png", 60, 150, S);
    float *mixed = floats(COUNT), *pair_r = floats(2 * COUNT), *pair_o = floats(2 * COUNT);
    double v = 0, plain = 0;
    size_t i, k;

    section("rwcnn_fitted_psnr, rwcnn_colour_ssim (golden)");
    for (k = 0; k < 3; k++)
        for (i = 0; i < S * S; i++)
            mixed[k * S * S + i] = (float)(mixing[k][0] * astronaut[i] + mixing[k][1] * astronaut[S * S + i] +
                                           mixing[k][2] * astronaut[2 * S * S + i] + shifts[k]);
    /* coffee as a reconstruction of the astronaut: an unrelated photo. */
    CHECK_OK(rwcnn_colour_ssim(coffee, astronaut, 1, 3, S, S, &v));
    CHECKF(fabs(v - 0.3067537876) < 1e-6, "colour ssim of an unrelated photo %.10f, golden 0.3067537876", v);
    CHECK_OK(rwcnn_fitted_psnr(coffee, astronaut, 1, 3, S, S, RWCNN_COLOUR_CHANNEL, &v));
    CHECKF(fabs(v - 11.8532146750) < 1e-6, "fitted psnr per channel %.10f, golden 11.8532146750", v);
    CHECK_OK(rwcnn_fitted_psnr(coffee, astronaut, 1, 3, S, S, RWCNN_COLOUR_MATRIX, &v));
    CHECKF(fabs(v - 12.0391188932) < 1e-6, "fitted psnr 3x3 %.10f, golden 12.0391188932", v);
    CHECK_OK(rwcnn_fitted_psnr(astronaut, coffee, 1, 3, S, S, RWCNN_COLOUR_MATRIX, &v));
    CHECKF(fabs(v - 13.3146682125) < 1e-6, "fitted psnr 3x3 (coffee original) %.10f, golden 13.3146682125", v);
    /* A colour-mixed copy: the 3x3 fit undoes it, the per-channel one cannot. */
    CHECK_OK(rwcnn_fitted_psnr(mixed, astronaut, 1, 3, S, S, RWCNN_COLOUR_CHANNEL, &v));
    CHECKF(fabs(v - 17.4025103707) < 1e-6, "fitted psnr per channel of a mixed copy %.10f, golden 17.4025103707", v);
    CHECK_OK(rwcnn_fitted_psnr(mixed, astronaut, 1, 3, S, S, RWCNN_COLOUR_MATRIX, &v));
    CHECKF(v > 100, "fitted psnr 3x3 of a mixed copy %g, expected > 100 (exact)", v);
    CHECK_OK(rwcnn_colour_ssim(mixed, astronaut, 1, 3, S, S, &v));
    CHECKF(fabs(v - 1.0) < 1e-6, "colour ssim of a mixed copy %.10f, golden 1", v);
    /* Never below plain: fitted PSNR >= PSNR, colour SSIM >= SSIM. */
    CHECK_OK(rwcnn_psnr(coffee, astronaut, 1, 3, S, S, &plain));
    CHECK_OK(rwcnn_fitted_psnr(coffee, astronaut, 1, 3, S, S, RWCNN_COLOUR_CHANNEL, &v));
    CHECKF(v >= plain, "fitted psnr %g below plain psnr %g", v, plain);
    /* A batch is the mean of its images' figures. */
    memcpy(pair_r, coffee, COUNT * sizeof(float));
    memcpy(pair_r + COUNT, mixed, COUNT * sizeof(float));
    memcpy(pair_o, astronaut, COUNT * sizeof(float));
    memcpy(pair_o + COUNT, astronaut, COUNT * sizeof(float));
    CHECK_OK(rwcnn_colour_ssim(pair_r, pair_o, 2, 3, S, S, &v));
    CHECKF(fabs(v - (0.3067537876 + 1) / 2) < 1e-6, "batch colour ssim %.10f", v);
    CHECK_OK(rwcnn_fitted_psnr(pair_r, pair_o, 2, 3, S, S, RWCNN_COLOUR_CHANNEL, &v));
    CHECKF(fabs(v - (11.8532146750 + 17.4025103707) / 2) < 1e-6, "batch fitted psnr %.10f", v);

    /* Bad arguments; *out untouched. */
    v = 42.0;
    CHECK_STATUS(rwcnn_fitted_psnr(NULL, astronaut, 1, 3, S, S, RWCNN_COLOUR_MATRIX, &v), ARG);
    CHECK_STATUS(rwcnn_fitted_psnr(coffee, NULL, 1, 3, S, S, RWCNN_COLOUR_MATRIX, &v), ARG);
    CHECK_STATUS(rwcnn_fitted_psnr(coffee, astronaut, 1, 3, S, S, RWCNN_COLOUR_MATRIX, NULL), ARG);
    CHECK_STATUS(rwcnn_fitted_psnr(coffee, astronaut, 1, 3, S, S, 2, &v), ARG);
    CHECKF(strstr(rwcnn_last_error(), "rwcnn_colour_map") != NULL, "message: %s", rwcnn_last_error());
    CHECK_STATUS(rwcnn_fitted_psnr(coffee, astronaut, 1, 3, S, S, -1, &v), ARG);
    CHECK_STATUS(rwcnn_fitted_psnr(coffee, astronaut, 0, 3, S, S, 1, &v), ARG);
    CHECK_STATUS(rwcnn_fitted_psnr(coffee, astronaut, 1, 0, S, S, 1, &v), ARG);
    CHECK_STATUS(rwcnn_fitted_psnr(coffee, astronaut, 1, 3, 10, 10, 1, &v), ARG);   /* SSIM's 11x11 */
    CHECK_STATUS(rwcnn_fitted_psnr(coffee, astronaut, (size_t)-1, 3, S, S, 1, &v), ARG);
    CHECK_STATUS2(rwcnn_fitted_psnr(coffee, astronaut, (size_t)1 << 40, 3, S, S, 1, &v), ARG, RWCNN_ERR_OUT_OF_MEMORY);
    CHECK_STATUS2(rwcnn_fitted_psnr(coffee, astronaut, (size_t)1 << 62, (size_t)1 << 62, S, S, 0, &v), ARG,
                  RWCNN_ERR_OUT_OF_MEMORY);
    CHECK(v == 42.0);
    free(pair_o);
    free(pair_r);
    free(mixed);
    free(coffee);
    free(astronaut);
}

/* ---- Models ------------------------------------------------------------------- */

static rwcnn_model *create_model(const char *arch, const char *cut, double width, uint64_t seed,
                                 rwcnn_decoder_mode decoder, rwcnn_unpool_mode unpool)
{
    rwcnn_model_config cfg;
    rwcnn_model *m = NULL;
    rwcnn_model_config_init(&cfg);
    cfg.arch = arch;
    cfg.cut = cut;
    cfg.width = width;
    cfg.seed = seed;
    cfg.decoder = decoder;
    cfg.unpool = unpool;
    if (rwcnn_model_create(&cfg, &m) != RWCNN_OK) {
        fail_at(__FILE__, __LINE__, "rwcnn_model_create(%s, %s) failed", arch, cut);
        return NULL;
    }
    return m;
}

/* A sized _init (rwcnn_*_init_sized): for a caller built against an older,
 * smaller struct of `old` bytes, the defaults of the unsized _init in those
 * bytes (struct_size = old) and not one byte past them; for a newer, larger
 * one, the tail this library does not know zeroed and nothing past it;
 * hostile sizes refused with nothing written. */
#define CHECK_SIZED_INIT(type, init, init_sized, old, frozen)                                                      \
    do {                                                                                                     \
        union {                                                                                              \
            type t;                                                                                          \
            unsigned char b[sizeof(type) + 64];                                                              \
        } u_;                                                                                                \
        type full_;                                                                                          \
        size_t k_, old_ = (old), bad_ = 0;                                                                   \
        CHECK_OK(init_sized(&full_, sizeof full_));                                                          \
        memset(u_.b, 0xa5, sizeof u_.b);                                                                     \
        CHECK_OK(init_sized(&u_.t, old_));                                                                   \
        CHECK(u_.t.struct_size == old_);                                                                     \
        for (k_ = sizeof(size_t); k_ < sizeof u_.b; k_++)                                                    \
            bad_ += k_ < old_ ? u_.b[k_] != ((unsigned char *)&full_)[k_] : u_.b[k_] != 0xa5;               \
        CHECKF(bad_ == 0, #init_sized "(%zu): %zu bytes differ from the defaults or were written past it", \
               old_, bad_);                                                                                  \
        memset(u_.b, 0xa5, sizeof u_.b);                                                                     \
        CHECK_OK(init_sized(&u_.t, sizeof(type) + 32));                                                      \
        for (k_ = sizeof(size_t), bad_ = 0; k_ < sizeof u_.b; k_++)                                          \
            bad_ += k_ < sizeof(type)        ? u_.b[k_] != ((unsigned char *)&full_)[k_]                     \
                    : k_ < sizeof(type) + 32 ? u_.b[k_] != 0                                                 \
                                             : u_.b[k_] != 0xa5;                                             \
        CHECKF(bad_ == 0 && u_.t.struct_size == sizeof(type) + 32, #init_sized " of a larger struct: %zu bad bytes", \
               bad_);                                                                                        \
        CHECK_STATUS(init_sized(NULL, sizeof(type)), ARG);                                                   \
        memset(u_.b, 0xa5, sizeof u_.b);                                                                     \
        CHECK_STATUS(init_sized(&u_.t, sizeof(size_t) - 1), ARG);                                            \
        CHECK_MESSAGE("size");                                                                               \
        CHECK_STATUS(init_sized(&u_.t, (size_t)-1), ARG);                                                    \
        CHECK_STATUS(init_sized(&u_.t, (size_t)1 << 17), ARG);                                               \
        for (k_ = 0, bad_ = 0; k_ < sizeof u_.b; k_++)                                                       \
            bad_ += u_.b[k_] != 0xa5;                                                                        \
        CHECKF(bad_ == 0, #init_sized " refused but wrote %zu bytes", bad_);                                 \
        /* The unsized form writes the frozen ABI 0.1 prefix, as the sized one would. */                      \
        CHECK_OK(init_sized(&full_, (frozen)));                                                              \
        memset(u_.b, 0xa5, sizeof u_.b);                                                                     \
        init(&u_.t);                                                                                         \
        for (k_ = 0, bad_ = 0; k_ < sizeof u_.b; k_++)                                                       \
            bad_ += k_ < (frozen) ? u_.b[k_] != ((unsigned char *)&full_)[k_] : u_.b[k_] != 0xa5;           \
        CHECKF(bad_ == 0, #init " writes other than its %zu frozen bytes: %zu bad", (size_t)(frozen), bad_);  \
    } while (0)

static void test_sized_init(void)
{
    rwcnn_model_config cfg;
    rwcnn_model *m = NULL;

    section("rwcnn_*_init_sized: an older, smaller struct is written only as far as it goes");
    /* The frozen sizes: the structs of ABI 0.1 (Sources/RWCNNCAPI/OptionsInit.swift, FrozenSize). */
    CHECK_SIZED_INIT(rwcnn_model_config, rwcnn_model_config_init, rwcnn_model_config_init_sized,
                     offsetof(rwcnn_model_config, normalize_input), sizeof(rwcnn_model_config));
    CHECK_SIZED_INIT(rwcnn_train_options, rwcnn_train_options_init, rwcnn_train_options_init_sized,
                     offsetof(rwcnn_train_options, image_shapes), sizeof(rwcnn_train_options));
    CHECK_SIZED_INIT(rwcnn_synthesis_options, rwcnn_synthesis_options_init, rwcnn_synthesis_options_init_sized,
                     offsetof(rwcnn_synthesis_options, losses), sizeof(rwcnn_synthesis_options));
    CHECK_SIZED_INIT(rwcnn_fast_style_options, rwcnn_fast_style_options_init,
                     rwcnn_fast_style_options_init_sized, offsetof(rwcnn_fast_style_options, losses),
                     offsetof(rwcnn_fast_style_options, output_layer_scale));

    /* The old struct is usable: a model from it has the lacking field's default. */
    memset(&cfg, 0xa5, sizeof cfg);
    CHECK_OK(rwcnn_model_config_init_sized(&cfg, offsetof(rwcnn_model_config, normalize_input)));
    cfg.arch = "8,M,16";
    cfg.cut = "conv2_1";
    CHECK_OK(rwcnn_model_create(&cfg, &m));
    if (m != NULL) {
        rwcnn_model_config got;
        CHECK_OK(rwcnn_model_config_init_sized(&got, sizeof got));
        CHECK_OK(rwcnn_model_get_config(m, &got));
        CHECK(got.normalize_input == 0 && strcmp(got.arch, "8,M,16") == 0);
    }
    rwcnn_model_free(m);

#if UINTPTR_MAX == 0xffffffffffffffffu
    /* The unsized _init functions write the structs of ABI 0.1, these sizes on
     * LP64 (Sources/RWCNNCAPI/OptionsInit.swift, FrozenSize). A field added to
     * one of them fails this check: keep its FrozenSize at the old size (the
     * new field is then written by the sized form only) and add the new
     * struct's size here, as for rwcnn_fast_style_options (112 bytes at 0.1,
     * before output_layer_scale). */
    CHECK(sizeof(rwcnn_model_config) == 88);
    CHECK(sizeof(rwcnn_train_options) == 280);
    CHECK(sizeof(rwcnn_synthesis_options) == 144);
    CHECK(sizeof(rwcnn_fast_style_options) == 120 && offsetof(rwcnn_fast_style_options, output_layer_scale) == 112);
#endif
}

static void test_model_config(void)
{
    rwcnn_model_config cfg, bad;
    rwcnn_model *m = NULL, *const sentinel = (rwcnn_model *)&cfg;
    const char *valid_names[] = {"conv1_1", "conv1_2", "pool1", "conv5_3", "pool5"};
    size_t i;

    section("rwcnn_model_config_init");
    rwcnn_model_config_init(NULL); /* ignored */
    memset(&cfg, 0xff, sizeof cfg);
    rwcnn_model_config_init(&cfg);
    CHECK(cfg.struct_size == sizeof(rwcnn_model_config));
    CHECK(cfg.arch != NULL && strcmp(cfg.arch, "vgg16") == 0);
    CHECK(cfg.cut != NULL && strcmp(cfg.cut, "pool2") == 0);
    CHECK(cfg.width == 1.0 && cfg.kernel_size == 0);
    CHECK(cfg.distribution == RWCNN_DIST_NORMAL && cfg.scale == RWCNN_SCALE_HE);
    CHECK(cfg.mean == 0.0 && cfg.std == 0.01 && cfg.seed == 0);
    CHECK(cfg.unpool == RWCNN_UNPOOL_SWITCHES && cfg.decoder == RWCNN_DECODER_RANDOM);
    CHECK(cfg.normalize_input == 0);

    section("rwcnn_model_create / rwcnn_model_free");
    cfg.width = 0.125;
    CHECK_OK(rwcnn_model_create(&cfg, &m));
    CHECK(m != NULL);
    rwcnn_model_free(m);
    rwcnn_model_free(NULL); /* ignored */

    m = sentinel;
    CHECK_STATUS(rwcnn_model_create(NULL, &m), ARG);
    CHECK_MESSAGE("config");
    CHECK_STATUS(rwcnn_model_create(&cfg, NULL), ARG);
    bad = cfg;
    bad.struct_size = 0;
    CHECK_STATUS(rwcnn_model_create(&bad, &m), ARG);
    CHECK_MESSAGE("struct_size");
    bad = cfg;
    bad.struct_size = sizeof(size_t) - 1;
    CHECK_STATUS(rwcnn_model_create(&bad, &m), ARG);
    /* An older, smaller struct (as built against a header without
     * normalize_input): the missing field takes its default. */
    {
        rwcnn_model *old = NULL;
        rwcnn_model_config got;
        bad = cfg;
        bad.struct_size = offsetof(rwcnn_model_config, normalize_input);
        bad.normalize_input = 1; /* beyond the old struct: must not be read */
        CHECK_OK(rwcnn_model_create(&bad, &old));
        if (old != NULL) {
            rwcnn_model_config_init(&got);
            CHECK_OK(rwcnn_model_get_config(old, &got));
            CHECK(got.normalize_input == 0 && got.struct_size == sizeof got);
            /* Written as a prefix too: fields past the caller's size untouched. */
            got.normalize_input = 77;
            got.struct_size = offsetof(rwcnn_model_config, normalize_input);
            CHECK_OK(rwcnn_model_get_config(old, &got));
            CHECK(got.normalize_input == 77 && got.struct_size == offsetof(rwcnn_model_config, normalize_input));
            rwcnn_model_free(old);
        }
    }
    bad = cfg;
    bad.arch = NULL;
    CHECK_STATUS(rwcnn_model_create(&bad, &m), ARG);
    CHECK_MESSAGE("arch");
    bad = cfg;
    bad.cut = NULL;
    CHECK_STATUS(rwcnn_model_create(&bad, &m), ARG);
    CHECK_MESSAGE("cut");

    /* Unknown layer: the message lists the valid names. */
    bad = cfg;
    bad.cut = "conv6_1";
    CHECK_STATUS(rwcnn_model_create(&bad, &m), ARG);
    CHECK_MESSAGE("conv6_1");
    for (i = 0; i < sizeof valid_names / sizeof valid_names[0]; i++)
        CHECK_MESSAGE(valid_names[i]);
    bad.cut = "";
    CHECK_STATUS(rwcnn_model_create(&bad, &m), ARG);
    CHECK_MESSAGE("pool5");
    bad.cut = "POOL2";
    CHECK_STATUS(rwcnn_model_create(&bad, &m), ARG);
    bad = cfg;
    bad.arch = "8,M,16k5,M";
    bad.cut = "conv3_1";
    CHECK_STATUS(rwcnn_model_create(&bad, &m), ARG);
    CHECK_MESSAGE("conv2_1");

    /* Bad specs and numbers. */
    bad = cfg;
    bad.arch = "64,X,M";
    CHECK_STATUS(rwcnn_model_create(&bad, &m), ARG);
    CHECK_MESSAGE("X");
    bad.arch = "";
    CHECK_STATUS(rwcnn_model_create(&bad, &m), ARG);
    bad.arch = "vgg17";
    CHECK_STATUS(rwcnn_model_create(&bad, &m), ARG);
    bad.arch = "64k4,M";
    bad.cut = "pool1";
    CHECK_STATUS(rwcnn_model_create(&bad, &m), ARG);
    bad.arch = "99999999999999999999,M";
    CHECK_STATUS(rwcnn_model_create(&bad, &m), ARG);
    bad = cfg;
    bad.width = 0;
    CHECK_STATUS(rwcnn_model_create(&bad, &m), ARG);
    bad.width = -1;
    CHECK_STATUS(rwcnn_model_create(&bad, &m), ARG);
    bad.width = NAN;
    CHECK_STATUS(rwcnn_model_create(&bad, &m), ARG);
    bad.width = 1e300;
    CHECK_STATUS2(rwcnn_model_create(&bad, &m), ARG, RWCNN_ERR_OUT_OF_MEMORY);
    bad = cfg;
    bad.kernel_size = 4;
    CHECK_STATUS(rwcnn_model_create(&bad, &m), ARG);
    bad.kernel_size = -3;
    CHECK_STATUS(rwcnn_model_create(&bad, &m), ARG);
    bad.kernel_size = INT_MAX;
    CHECK_STATUS(rwcnn_model_create(&bad, &m), ARG);
    bad = cfg;
    bad.distribution = (rwcnn_distribution)99;
    CHECK_STATUS(rwcnn_model_create(&bad, &m), ARG);
    bad = cfg;
    bad.scale = (rwcnn_scale_rule)-1;
    CHECK_STATUS(rwcnn_model_create(&bad, &m), ARG);
    bad = cfg;
    bad.scale = RWCNN_SCALE_FIXED;
    bad.std = -0.5;
    CHECK_STATUS(rwcnn_model_create(&bad, &m), ARG);
    bad.std = INFINITY;
    CHECK_STATUS(rwcnn_model_create(&bad, &m), ARG);
    bad = cfg;
    bad.mean = NAN;
    CHECK_STATUS(rwcnn_model_create(&bad, &m), ARG);
    bad = cfg;
    bad.unpool = (rwcnn_unpool_mode)3;
    CHECK_STATUS(rwcnn_model_create(&bad, &m), ARG);
    bad = cfg;
    bad.decoder = (rwcnn_decoder_mode)7;
    CHECK_STATUS(rwcnn_model_create(&bad, &m), ARG);
    CHECKF(m == sentinel, "*out was written by a failed rwcnn_model_create");

    /* Every distribution, scale rule, unpool mode and decoder builds. */
    for (i = 0; i < 4; i++) {
        bad = cfg;
        bad.arch = "8,M,8";
        bad.cut = "conv2_1";
        bad.distribution = (rwcnn_distribution)i;
        bad.scale = (rwcnn_scale_rule)(i % 3);
        bad.unpool = (rwcnn_unpool_mode)(i % 3);
        bad.decoder = (rwcnn_decoder_mode)(i % 3);
        bad.kernel_size = i == 3 ? 5 : 0;
        bad.normalize_input = (int)(i % 2);
        m = NULL;
        CHECK_OK(rwcnn_model_create(&bad, &m));
        rwcnn_model_free(m);
    }
}

static int configs_equal(const rwcnn_model_config *a, const rwcnn_model_config *b)
{
    return a->struct_size == b->struct_size && a->arch && b->arch && strcmp(a->arch, b->arch) == 0 && a->cut &&
           b->cut && strcmp(a->cut, b->cut) == 0 && a->width == b->width && a->kernel_size == b->kernel_size &&
           a->distribution == b->distribution && a->scale == b->scale && a->mean == b->mean &&
           (a->scale != RWCNN_SCALE_FIXED || a->std == b->std) && a->seed == b->seed && a->unpool == b->unpool &&
           a->decoder == b->decoder && a->normalize_input == b->normalize_input;
}

static void test_model_queries(void)
{
    rwcnn_model_config cfg, got;
    rwcnn_model *m = NULL, *vgg19 = NULL, *custom = NULL;
    size_t count = 0, shape[3], fshape[3], dshape[3], i;
    const char *name = NULL, *name2 = NULL;
    static const char *vgg16_names[] = {"conv1_1", "conv1_2", "pool1",   "conv2_1", "conv2_2", "pool2",
                                        "conv3_1", "conv3_2", "conv3_3", "pool3",   "conv4_1", "conv4_2",
                                        "conv4_3", "pool4",   "conv5_1", "conv5_2", "conv5_3", "pool5"};

    section("rwcnn_model_get_config");
    rwcnn_model_config_init(&cfg);
    cfg.arch = "vgg16";
    cfg.cut = "pool3";
    cfg.width = 0.25;
    cfg.kernel_size = 0;
    cfg.distribution = RWCNN_DIST_LAPLACE;
    cfg.scale = RWCNN_SCALE_FIXED;
    cfg.std = 0.02;
    cfg.mean = 0.001;
    cfg.seed = 0xfedcba9876543210ull;
    cfg.unpool = RWCNN_UNPOOL_ZEROS;
    cfg.decoder = RWCNN_DECODER_TIED;
    cfg.normalize_input = 1;
    CHECK_OK(rwcnn_model_create(&cfg, &m));
    if (m == NULL)
        return;
    rwcnn_model_config_init(&got);
    CHECK_OK(rwcnn_model_get_config(m, &got));
    CHECKF(configs_equal(&cfg, &got), "rwcnn_model_get_config does not give back the config");
    CHECK(got.arch != cfg.arch); /* points into the model */
    rwcnn_model_config_init(&got);
    got.struct_size = 0;
    CHECK_STATUS(rwcnn_model_get_config(m, &got), ARG);
    CHECK(got.struct_size == 0 && strcmp(got.cut, "pool2") == 0); /* untouched */
    got.struct_size = sizeof got;
    CHECK_STATUS(rwcnn_model_get_config(NULL, &got), ARG);
    CHECK_MESSAGE("model");
    CHECK_STATUS(rwcnn_model_get_config(m, NULL), ARG);

    section("rwcnn_model_layer_count / rwcnn_model_layer");
    CHECK_OK(rwcnn_model_layer_count(m, &count));
    CHECKF(count == 18, "vgg16 has %zu layers, expected 18", count);
    CHECK_STATUS(rwcnn_model_layer_count(NULL, &count), ARG);
    CHECK_STATUS(rwcnn_model_layer_count(m, NULL), ARG);
    for (i = 0; i < count && i < 18; i++) {
        name = NULL;
        CHECK_OK(rwcnn_model_layer(m, i, 224, 224, &name, shape));
        CHECKF(name != NULL && strcmp(name, vgg16_names[i]) == 0, "layer %zu is \"%s\", expected %s", i,
               name ? name : "(null)", vgg16_names[i]);
    }
    CHECK_OK(rwcnn_model_layer(m, 0, 224, 224, &name, shape));
    CHECK(shape[0] == 16 && shape[1] == 224 && shape[2] == 224);
    CHECK_OK(rwcnn_model_layer(m, 17, 224, 224, &name, shape));
    CHECK(shape[0] == 128 && shape[1] == 7 && shape[2] == 7);
    CHECK_OK(rwcnn_model_layer(m, 2, 225, 33, &name, shape));
    CHECK(shape[0] == 16 && shape[1] == 112 && shape[2] == 16);
    CHECK_OK(rwcnn_model_layer(m, 17, 0, 0, &name2, NULL)); /* shape NULL: sizes unused */
    CHECK(strcmp(name2, "pool5") == 0);
    CHECK_OK(rwcnn_model_layer(m, 17, 224, 224, &name, NULL));
    CHECK(name == name2); /* stable for the model's life */
    name = (const char *)&cfg;
    shape[0] = shape[1] = shape[2] = 99;
    CHECK_STATUS(rwcnn_model_layer(m, 18, 224, 224, &name, shape), ARG);
    CHECK_MESSAGE("18");
    CHECK_STATUS(rwcnn_model_layer(m, (size_t)-1, 224, 224, &name, shape), ARG);
    CHECK_STATUS(rwcnn_model_layer(NULL, 0, 224, 224, &name, shape), ARG);
    CHECK_STATUS(rwcnn_model_layer(m, 0, 224, 224, NULL, shape), ARG);
    CHECK_STATUS(rwcnn_model_layer(m, 0, 0, 224, &name, shape), ARG);
    CHECK_STATUS(rwcnn_model_layer(m, 0, (size_t)-1, 224, &name, shape), ARG);
    CHECK_STATUS(rwcnn_model_layer(m, 17, 16, 16, &name, shape), ARG); /* too small for pool5 */
    CHECK(name == (const char *)&cfg && shape[0] == 99 && shape[1] == 99 && shape[2] == 99);

    section("rwcnn_model_layer_aliases");
    {
        const char *aliases = NULL;
        rwcnn_model *aliased;
        rwcnn_model_config ac;
        CHECK_OK(rwcnn_model_layer_aliases(m, 11, &aliases));
        CHECKF(aliases && strcmp(aliases, "relu4_2 block4_conv2 features.20 features.19") == 0, "conv4_2: %s",
               aliases ? aliases : "(null)");
        CHECK_OK(rwcnn_model_layer_aliases(m, 5, &aliases));
        CHECK(aliases && strcmp(aliases, "block2_pool features.9") == 0);
        CHECK_STATUS(rwcnn_model_layer_aliases(m, 18, &aliases), ARG);
        CHECK_STATUS(rwcnn_model_layer_aliases(m, 0, NULL), ARG);
        CHECK_STATUS(rwcnn_model_layer_aliases(NULL, 0, &aliases), ARG);
        /* An alias as the cut: the model's config names the rwcnn layer. */
        aliased = create_model("vgg16", "features.9", 0.125, 0, RWCNN_DECODER_RANDOM, RWCNN_UNPOOL_SWITCHES);
        CHECK(aliased != NULL);
        if (aliased != NULL) {
            rwcnn_model_config_init(&ac);
            CHECK_OK(rwcnn_model_get_config(aliased, &ac));
            CHECK(strcmp(ac.cut, "pool2") == 0);
            rwcnn_model_free(aliased);
        }
        rwcnn_model_config_init(&ac);
        ac.cut = "relu9_9";
        aliased = NULL;
        CHECK_STATUS(rwcnn_model_create(&ac, &aliased), ARG);
        CHECK_MESSAGE("conv4_2 = relu4_2 = block4_conv2 = features.20 = features.19");
        CHECK(aliased == NULL);
    }

    vgg19 = create_model("vgg19", "conv1_1", 0.125, 0, RWCNN_DECODER_RANDOM, RWCNN_UNPOOL_SWITCHES);
    if (vgg19 != NULL) {
        CHECK_OK(rwcnn_model_layer_count(vgg19, &count));
        CHECK(count == 21); /* the whole architecture, not only up to the cut */
        CHECK_OK(rwcnn_model_layer(vgg19, 20, 64, 64, &name, shape));
        CHECK(strcmp(name, "pool5") == 0 && shape[0] == 64 && shape[1] == 2 && shape[2] == 2);
    }
    custom = create_model("8,M3s2,16k5,M", "pool2", 1.0, 0, RWCNN_DECODER_TIED, RWCNN_UNPOOL_NEAREST);
    if (custom != NULL) {
        CHECK_OK(rwcnn_model_layer_count(custom, &count));
        CHECK(count == 4);
        CHECK_OK(rwcnn_model_layer(custom, 1, 31, 20, &name, shape));
        CHECK(strcmp(name, "pool1") == 0 && shape[0] == 8 && shape[1] == 15 && shape[2] == 9);
        CHECK_OK(rwcnn_model_layer(custom, 2, 31, 20, &name, shape));
        CHECK(strcmp(name, "conv2_1") == 0 && shape[0] == 16);
    }

    section("rwcnn_model_feature_shape / rwcnn_model_decoded_shape");
    CHECK_OK(rwcnn_model_feature_shape(m, 64, 48, fshape));
    CHECK(fshape[0] == 64 && fshape[1] == 8 && fshape[2] == 6);
    CHECK_OK(rwcnn_model_decoded_shape(m, 8, 6, dshape));
    CHECK(dshape[0] == 3 && dshape[1] == 64 && dshape[2] == 48);
    CHECK_OK(rwcnn_model_feature_shape(m, 67, 50, fshape));
    CHECK(fshape[1] == 8 && fshape[2] == 6);
    /* What decode makes maps back to the same features. */
    CHECK_OK(rwcnn_model_decoded_shape(m, 5, 4, dshape));
    CHECK_OK(rwcnn_model_feature_shape(m, dshape[1], dshape[2], fshape));
    CHECK(fshape[1] == 5 && fshape[2] == 4);
    if (custom != NULL) {
        CHECK_OK(rwcnn_model_decoded_shape(custom, 4, 2, dshape));
        CHECK_OK(rwcnn_model_feature_shape(custom, dshape[1], dshape[2], fshape));
        CHECK(dshape[0] == 3 && fshape[0] == 16 && fshape[1] == 4 && fshape[2] == 2);
    }
    shape[0] = shape[1] = shape[2] = 99;
    CHECK_STATUS(rwcnn_model_feature_shape(NULL, 64, 64, shape), ARG);
    CHECK_STATUS(rwcnn_model_feature_shape(m, 64, 64, NULL), ARG);
    CHECK_STATUS(rwcnn_model_feature_shape(m, 0, 64, shape), ARG);
    CHECK_STATUS(rwcnn_model_feature_shape(m, 64, 0, shape), ARG);
    CHECK_STATUS(rwcnn_model_feature_shape(m, (size_t)-1, 64, shape), ARG);
    CHECK_STATUS(rwcnn_model_feature_shape(m, 64, (size_t)1 << 40, shape), ARG);
    CHECK_STATUS(rwcnn_model_feature_shape(m, 7, 64, shape), ARG); /* pool3 needs 8 */
    CHECK_STATUS(rwcnn_model_decoded_shape(NULL, 8, 8, shape), ARG);
    CHECK_STATUS(rwcnn_model_decoded_shape(m, 8, 8, NULL), ARG);
    CHECK_STATUS(rwcnn_model_decoded_shape(m, 0, 8, shape), ARG);
    CHECK_STATUS(rwcnn_model_decoded_shape(m, 8, (size_t)-1, shape), ARG);
    CHECK_STATUS2(rwcnn_model_decoded_shape(m, (size_t)1 << 40, 8, shape), ARG, RWCNN_ERR_OUT_OF_MEMORY);
    CHECK(shape[0] == 99 && shape[1] == 99 && shape[2] == 99);

    rwcnn_model_free(custom);
    rwcnn_model_free(vgg19);
    rwcnn_model_free(m);
}

static void test_encode_decode(void)
{
    enum { N = 2, C = 3, H = 32, W = 40 };
    const size_t count = (size_t)N * C * H * W;
    rwcnn_model *m = NULL, *same = NULL, *other = NULL, *nearest = NULL, *tied = NULL, *conv = NULL;
    float *img = make_images(N, C, H, W, 3), *feat, *feat2, *one, *dec, *rec, *buf;
    size_t fshape[3], dshape[3], fcount, one_count, dcount, i;
    int nonneg = 1;
    double v = 0;

    section("rwcnn_model_encode");
    m = create_model("vgg16", "pool2", 0.25, 7, RWCNN_DECODER_RANDOM, RWCNN_UNPOOL_SWITCHES);
    same = create_model("vgg16", "pool2", 0.25, 7, RWCNN_DECODER_RANDOM, RWCNN_UNPOOL_SWITCHES);
    other = create_model("vgg16", "pool2", 0.25, 8, RWCNN_DECODER_RANDOM, RWCNN_UNPOOL_SWITCHES);
    nearest = create_model("vgg16", "pool2", 0.25, 7, RWCNN_DECODER_RANDOM, RWCNN_UNPOOL_NEAREST);
    tied = create_model("vgg16", "pool2", 0.25, 7, RWCNN_DECODER_TIED, RWCNN_UNPOOL_SWITCHES);
    conv = create_model("vgg16", "conv1_2", 0.25, 7, RWCNN_DECODER_RANDOM, RWCNN_UNPOOL_SWITCHES);
    if (!m || !same || !other || !nearest || !tied || !conv)
        goto done;
    if (!CHECK_OK(rwcnn_model_feature_shape(m, H, W, fshape)))
        goto done;
    CHECK(fshape[0] == 32 && fshape[1] == 8 && fshape[2] == 10);
    fcount = N * fshape[0] * fshape[1] * fshape[2];
    one_count = fcount / N;
    feat = canary_floats(fcount);
    feat2 = canary_floats(fcount);
    one = canary_floats(one_count);
    CHECK_OK(rwcnn_model_encode(m, img, N, C, H, W, feat, fcount));
    CHECK(touched(feat, fcount, fcount + CANARY) == 0);
    CHECK(touched(feat, 0, fcount) == fcount);
    CHECK(all_finite(feat, fcount));
    for (i = 0; i < fcount; i++)
        if (feat[i] < 0)
            nonneg = 0;
    CHECKF(nonneg, "features after ReLU and max pool are negative");
    /* Same config, same weights, same features; another seed differs. */
    CHECK_OK(rwcnn_model_encode(same, img, N, C, H, W, feat2, fcount));
    CHECK(memcmp(feat, feat2, fcount * sizeof(float)) == 0);
    CHECK_OK(rwcnn_model_encode(m, img, N, C, H, W, feat2, fcount + 5)); /* more capacity is fine */
    CHECK(memcmp(feat, feat2, fcount * sizeof(float)) == 0);
    CHECK(touched(feat2, fcount, fcount + CANARY) == 0);
    CHECK_OK(rwcnn_model_encode(other, img, N, C, H, W, feat2, fcount));
    CHECK(memcmp(feat, feat2, fcount * sizeof(float)) != 0);
    /* The second image alone gives the batch's second half. */
    CHECK_OK(rwcnn_model_encode(m, img + C * H * W, 1, C, H, W, one, one_count));
    CHECKF(max_abs_diff(one, feat + one_count, one_count) <= 1e-5f,
           "image 2 alone vs in a batch differs by %g", (double)max_abs_diff(one, feat + one_count, one_count));

    /* Too small: ARGUMENT naming the size; no write, canaries intact. */
    buf = canary_floats(fcount - 1);
    CHECK_STATUS(rwcnn_model_encode(m, img, N, C, H, W, buf, fcount - 1), RWCNN_ERR_BUFFER_TOO_SMALL);
    CHECK_MESSAGE_SIZE(fcount);
    CHECK_STATUS(rwcnn_model_encode(m, img, N, C, H, W, buf, 0), RWCNN_ERR_BUFFER_TOO_SMALL);
    CHECK_STATUS(rwcnn_model_encode(m, img, N, C, H, W, buf, (size_t)-1), RWCNN_ERR_BUFFER_TOO_SMALL); /* capacity beyond any size */
    CHECK_STATUS(rwcnn_model_encode(NULL, img, N, C, H, W, buf, fcount), ARG);
    CHECK_MESSAGE("model");
    CHECK_STATUS(rwcnn_model_encode(m, NULL, N, C, H, W, buf, fcount), ARG);
    CHECK_MESSAGE("images");
    CHECK_STATUS(rwcnn_model_encode(m, img, N, C, H, W, NULL, fcount), ARG);
    CHECK_MESSAGE("features");
    CHECK_STATUS(rwcnn_model_encode(m, img, 0, C, H, W, buf, fcount), ARG);
    CHECK_STATUS(rwcnn_model_encode(m, img, 1, 1, H, W, buf, fcount), ARG); /* 3-channel model */
    CHECK_STATUS(rwcnn_model_encode(m, img, 1, 4, H, W, buf, fcount), ARG);
    CHECK_STATUS(rwcnn_model_encode(m, img, 1, C, 0, W, buf, fcount), ARG);
    CHECK_STATUS(rwcnn_model_encode(m, img, 1, C, 3, 3, buf, fcount), ARG); /* too small for pool2 */
    CHECK_STATUS(rwcnn_model_encode(m, img, (size_t)-1, C, H, W, buf, fcount), ARG);
    CHECK_STATUS(rwcnn_model_encode(m, img, 1, C, (size_t)-5, W, buf, fcount), ARG);
    CHECK_STATUS2(rwcnn_model_encode(m, img, (size_t)1 << 40, C, H, W, buf, fcount), ARG,
                  RWCNN_ERR_OUT_OF_MEMORY);
    CHECK_STATUS2(rwcnn_model_encode(m, img, (size_t)1 << 31, C, (size_t)1 << 31, (size_t)1 << 31, buf, fcount),
                  ARG, RWCNN_ERR_OUT_OF_MEMORY);
    CHECK_STATUS2(rwcnn_model_encode(m, img, 1, C, 60000, 60000, buf, fcount), RWCNN_ERR_BUFFER_TOO_SMALL,
                  RWCNN_ERR_OUT_OF_MEMORY);
    CHECK(touched(buf, 0, fcount - 1 + CANARY) == 0);
    free(buf);

    section("rwcnn_model_decode");
    /* Switches with a pool before the cut: decode needs reconstruct. */
    buf = canary_floats(count);
    CHECK_STATUS(rwcnn_model_decode(m, feat, N, fshape[0], fshape[1], fshape[2], buf, count), ARG);
    CHECK_MESSAGE("switches");
    CHECK(touched(buf, 0, count + CANARY) == 0);
    CHECK_OK(rwcnn_model_decoded_shape(nearest, fshape[1], fshape[2], dshape));
    CHECK(dshape[0] == C && dshape[1] == H && dshape[2] == W);
    dcount = N * dshape[0] * dshape[1] * dshape[2];
    dec = canary_floats(dcount);
    CHECK_OK(rwcnn_model_decode(nearest, feat, N, fshape[0], fshape[1], fshape[2], dec, dcount));
    CHECK(all_finite(dec, dcount));
    CHECK(touched(dec, dcount, dcount + CANARY) == 0);
    CHECK_OK(rwcnn_model_decode(nearest, feat, N, fshape[0], fshape[1], fshape[2], buf, count));
    CHECK(memcmp(buf, dec, dcount * sizeof(float)) == 0);
    free(buf);
    buf = canary_floats(dcount);
    CHECK_STATUS(rwcnn_model_decode(nearest, feat, N, fshape[0], fshape[1], fshape[2], buf, dcount - 1), RWCNN_ERR_BUFFER_TOO_SMALL);
    CHECK_MESSAGE_SIZE(dcount);
    CHECK_STATUS(rwcnn_model_decode(NULL, feat, N, fshape[0], fshape[1], fshape[2], buf, dcount), ARG);
    CHECK_STATUS(rwcnn_model_decode(nearest, NULL, N, fshape[0], fshape[1], fshape[2], buf, dcount), ARG);
    CHECK_STATUS(rwcnn_model_decode(nearest, feat, N, fshape[0], fshape[1], fshape[2], NULL, dcount), ARG);
    CHECK_STATUS(rwcnn_model_decode(nearest, feat, N, fshape[0] - 1, fshape[1], fshape[2], buf, dcount), ARG);
    CHECK_MESSAGE("32");
    CHECK_STATUS(rwcnn_model_decode(nearest, feat, 0, fshape[0], fshape[1], fshape[2], buf, dcount), ARG);
    CHECK_STATUS(rwcnn_model_decode(nearest, feat, N, fshape[0], 0, fshape[2], buf, dcount), ARG);
    CHECK_STATUS(rwcnn_model_decode(nearest, feat, N, fshape[0], (size_t)-1, fshape[2], buf, dcount), ARG);
    CHECK_STATUS2(rwcnn_model_decode(nearest, feat, (size_t)1 << 40, fshape[0], fshape[1], fshape[2], buf, dcount),
                  ARG, RWCNN_ERR_OUT_OF_MEMORY);
    CHECK_STATUS2(rwcnn_model_decode(nearest, feat, 1, fshape[0], 1 << 20, 1 << 20, buf, dcount), ARG,
                  RWCNN_ERR_OUT_OF_MEMORY);
    CHECK(touched(buf, 0, dcount + CANARY) == 0);
    free(buf);
    /* No pool before a conv cut: switches are not needed. */
    {
        size_t cshape[3], ccount;
        float *cfeat, *cdec;
        CHECK_OK(rwcnn_model_feature_shape(conv, H, W, cshape));
        ccount = cshape[0] * cshape[1] * cshape[2];
        cfeat = floats(ccount);
        cdec = floats(C * H * W);
        CHECK_OK(rwcnn_model_encode(conv, img, 1, C, H, W, cfeat, ccount));
        CHECK_OK(rwcnn_model_decode(conv, cfeat, 1, cshape[0], cshape[1], cshape[2], cdec, C * H * W));
        CHECK(all_finite(cdec, C * H * W));
        free(cdec);
        free(cfeat);
    }

    section("rwcnn_model_reconstruct");
    rec = canary_floats(count);
    CHECK_OK(rwcnn_model_reconstruct(m, img, N, C, H, W, rec, count));
    CHECK(all_finite(rec, count));
    CHECK(touched(rec, count, count + CANARY) == 0);
    /* reconstruct = encode + decode for modes that do not need switches */
    CHECK_OK(rwcnn_model_reconstruct(nearest, img, N, C, H, W, rec, count));
    CHECKF(max_abs_diff(rec, dec, count) <= 1e-5f, "reconstruct vs encode+decode differ by %g",
           (double)max_abs_diff(rec, dec, count));
    CHECK_OK(rwcnn_model_reconstruct(tied, img, N, C, H, W, rec, count));
    CHECK(all_finite(rec, count));
    CHECK_OK(rwcnn_display_normalize(rec, N, C, H, W));
    CHECK_OK(rwcnn_colour_ssim(rec, img, N, C, H, W, &v));
    CHECK(isfinite(v));
    buf = canary_floats(count);
    CHECK_STATUS(rwcnn_model_reconstruct(m, img, N, C, H, W, buf, count - 1), RWCNN_ERR_BUFFER_TOO_SMALL);
    CHECK_MESSAGE_SIZE(count);
    CHECK_STATUS(rwcnn_model_reconstruct(NULL, img, N, C, H, W, buf, count), ARG);
    CHECK_STATUS(rwcnn_model_reconstruct(m, NULL, N, C, H, W, buf, count), ARG);
    CHECK_STATUS(rwcnn_model_reconstruct(m, img, N, C, H, W, NULL, count), ARG);
    CHECK_STATUS(rwcnn_model_reconstruct(m, img, 0, C, H, W, buf, count), ARG);
    CHECK_STATUS(rwcnn_model_reconstruct(m, img, 1, 2, H, W, buf, count), ARG);
    CHECK_STATUS(rwcnn_model_reconstruct(m, img, 1, C, 2, 2, buf, count), ARG);
    CHECK_STATUS(rwcnn_model_reconstruct(m, img, 1, C, H, (size_t)-1, buf, count), ARG);
    CHECK_STATUS2(rwcnn_model_reconstruct(m, img, (size_t)1 << 40, C, H, W, buf, count), ARG,
                  RWCNN_ERR_OUT_OF_MEMORY);
    CHECK(touched(buf, 0, count + CANARY) == 0);
    free(buf);

    free(rec);
    free(dec);
    free(one);
    free(feat2);
    free(feat);
done:
    rwcnn_model_free(conv);
    rwcnn_model_free(tied);
    rwcnn_model_free(nearest);
    rwcnn_model_free(other);
    rwcnn_model_free(same);
    rwcnn_model_free(m);
    free(img);
}

/* Only the layers up to the cut constrain the input size: a 16x20 image
 * goes through VGG16 to pool2 (4x5 features) although pool5 could not take
 * it. */
static void test_small_input_before_cut(void)
{
    enum { H = 16, W = 20 };
    rwcnn_model *m = create_model("vgg16", "pool2", 0.125, 5, RWCNN_DECODER_TIED, RWCNN_UNPOOL_SWITCHES);
    float *img = make_images(1, 3, H, W, 2), *feat = floats(16 * 4 * 5), *rec = floats(3 * H * W);
    size_t shape[3] = {0, 0, 0};
    const char *name = NULL;
    section("inputs only need to survive up to the cut");
    if (m != NULL) {
        CHECK_OK(rwcnn_model_feature_shape(m, H, W, shape));
        CHECKF(shape[0] == 16 && shape[1] == 4 && shape[2] == 5, "feature shape %zu x %zu x %zu", shape[0],
               shape[1], shape[2]);
        CHECK_OK(rwcnn_model_layer(m, 5, H, W, &name, shape)); /* pool2 */
        CHECK_OK(rwcnn_model_encode(m, img, 1, 3, H, W, feat, 16 * 4 * 5));
        CHECK_OK(rwcnn_model_reconstruct(m, img, 1, 3, H, W, rec, 3 * H * W));
        /* and a layer past the cut that the input cannot reach is an error */
        CHECK_STATUS(rwcnn_model_layer(m, 17, H, W, &name, shape), ARG);
    }
    rwcnn_model_free(m);
    free(rec);
    free(feat);
    free(img);
}

/* A tied decoder at the first conv keeps the photo's structure. */
static void test_tied_quality(void)
{
    char path[1100];
    size_t w, h, c, n;
    float *img, *rec;
    rwcnn_model *m;
    double colour = 0;
    section("tied reconstruction of a photo");
    photo(path, sizeof path, "microaneurysms.png");
    if (!CHECK_OK(rwcnn_png_load(path, 3, NULL, 0, &w, &h, &c)))
        return;
    n = c * h * w;
    img = floats(n);
    rec = floats(n);
    m = create_model("vgg16", "conv1_1", 1.0, 1, RWCNN_DECODER_TIED, RWCNN_UNPOOL_SWITCHES);
    CHECK_OK(rwcnn_png_load(path, 3, img, n, &w, &h, &c));
    if (m != NULL && CHECK_OK(rwcnn_model_reconstruct(m, img, 1, c, h, w, rec, n))) {
        CHECK_OK(rwcnn_display_normalize(rec, 1, c, h, w));
        CHECK_OK(rwcnn_colour_ssim(rec, img, 1, c, h, w, &colour));
        CHECKF(colour > 0.5, "tied conv1_1 reconstruction: colour-invariant SSIM %.3f", colour);
    }
    rwcnn_model_free(m);
    free(rec);
    free(img);
}

/* ---- Model files ---------------------------------------------------------------- */

static void test_model_files(void)
{
    enum { N = 1, C = 3, H = 32, W = 32 };
    const size_t count = (size_t)N * C * H * W;
    char path[1100], tmp[1100];
    rwcnn_model *m = NULL, *loaded = NULL, *const sentinel = (rwcnn_model *)&tmp;
    rwcnn_model_config a, b;
    float *img = make_images(N, C, H, W, 9), *f1, *f2, *r1, *r2;
    size_t fshape[3], fcount, n_bytes = 0;
    unsigned char *bytes;
    static const char *modes[] = {"random", "tied", "trained"};
    int k;

    section("rwcnn_model_save / rwcnn_model_load");
    for (k = 0; k < 3; k++) {
        m = create_model("vgg16", "pool2", 0.25, 11 + (uint64_t)k, (rwcnn_decoder_mode)k, RWCNN_UNPOOL_NEAREST);
        if (m == NULL)
            continue;
        printf("   %s decoder\n", modes[k]);
        snprintf(tmp, sizeof tmp, "model-%s.safetensors", modes[k]);
        CHECK_OK(rwcnn_model_save(m, tmp_path(path, sizeof path, tmp)));
        CHECK_OK(rwcnn_model_save(m, path)); /* over an existing file */
        loaded = NULL;
        CHECK_OK(rwcnn_model_load(path, &loaded));
        if (loaded != NULL) {
            rwcnn_model_config_init(&a);
            rwcnn_model_config_init(&b);
            CHECK_OK(rwcnn_model_get_config(m, &a));
            CHECK_OK(rwcnn_model_get_config(loaded, &b));
            CHECKF(configs_equal(&a, &b), "a loaded model's config differs from the saved one");
            if (!CHECK_OK(rwcnn_model_feature_shape(m, H, W, fshape))) {
                rwcnn_model_free(loaded);
                rwcnn_model_free(m);
                continue;
            }
            fcount = N * fshape[0] * fshape[1] * fshape[2];
            f1 = floats(fcount);
            f2 = floats(fcount);
            r1 = floats(count);
            r2 = floats(count);
            CHECK_OK(rwcnn_model_encode(m, img, N, C, H, W, f1, fcount));
            CHECK_OK(rwcnn_model_encode(loaded, img, N, C, H, W, f2, fcount));
            CHECKF(memcmp(f1, f2, fcount * sizeof(float)) == 0, "encode differs after save + load");
            CHECK_OK(rwcnn_model_reconstruct(m, img, N, C, H, W, r1, count));
            CHECK_OK(rwcnn_model_reconstruct(loaded, img, N, C, H, W, r2, count));
            CHECKF(memcmp(r1, r2, count * sizeof(float)) == 0, "reconstruct differs after save + load");
            CHECK_OK(rwcnn_model_decode(loaded, f1, N, fshape[0], fshape[1], fshape[2], r2, count));
            CHECK_OK(rwcnn_model_decode(m, f1, N, fshape[0], fshape[1], fshape[2], r1, count));
            CHECK(memcmp(r1, r2, count * sizeof(float)) == 0);
            free(r2);
            free(r1);
            free(f2);
            free(f1);
        }
        rwcnn_model_free(loaded);
        rwcnn_model_free(m);
    }
    m = create_model("vgg16", "pool2", 0.25, 11, RWCNN_DECODER_RANDOM, RWCNN_UNPOOL_NEAREST);
    if (m == NULL)
        goto done;

    section("rwcnn_model_serialize / rwcnn_model_deserialize");
    {
        size_t size = 0, size2 = 0, file_size = 0;
        unsigned char *bytes, *file;
        rwcnn_model *back = NULL;
        float *x = make_images(1, 3, 32, 32, 5), *ya = floats(3 * 32 * 32), *yb = floats(3 * 32 * 32);
        CHECK_OK(rwcnn_model_serialize(m, NULL, 0, &size));
        bytes = (unsigned char *)xmalloc(size + 16);
        memset(bytes, 0xAB, size + 16);
        CHECK_STATUS(rwcnn_model_serialize(m, bytes, size - 1, &size2), RWCNN_ERR_BUFFER_TOO_SMALL);
        CHECK(bytes[0] == 0xAB);
        CHECK_OK(rwcnn_model_serialize(m, bytes, size + 16, &size2));
        CHECK(size2 == size && bytes[size] == 0xAB);
        CHECK_OK(rwcnn_model_deserialize(bytes, size, &back));
        if (back != NULL) {
            CHECK_OK(rwcnn_model_reconstruct(m, x, 1, 3, 32, 32, ya, 3 * 32 * 32));
            CHECK_OK(rwcnn_model_reconstruct(back, x, 1, 3, 32, 32, yb, 3 * 32 * 32));
            CHECK(memcmp(ya, yb, 3 * 32 * 32 * sizeof(float)) == 0);
            rwcnn_model_free(back);
        }
        /* The seeded encoder is left out: smaller than the saved file. */
        CHECK_OK(rwcnn_model_save(m, tmp_path(tmp, sizeof tmp, "serialize-full.safetensors")));
        file = read_file(tmp, &file_size);
        CHECKF(file != NULL && size < file_size * 6 / 10, "serialized %zu bytes, file %zu", size, file_size);
        free(file);
        back = sentinel;
        CHECK_STATUS(rwcnn_model_deserialize(bytes, size / 2, &back), RWCNN_ERR_FORMAT);
        CHECK(back == sentinel);
        CHECK_STATUS(rwcnn_model_deserialize(bytes, 0, &back), RWCNN_ERR_FORMAT);
        CHECK_STATUS(rwcnn_model_deserialize(NULL, size, &back), ARG);
        CHECK_STATUS(rwcnn_model_deserialize(bytes, size, NULL), ARG);
        CHECK_STATUS(rwcnn_model_serialize(NULL, NULL, 0, &size), ARG);
        CHECK_STATUS(rwcnn_model_serialize(m, NULL, 0, NULL), ARG);
        free(bytes);
        free(x);
        free(ya);
        free(yb);
    }

    /* Bad arguments and files. */
    CHECK_STATUS(rwcnn_model_save(NULL, path), ARG);
    CHECK_STATUS(rwcnn_model_save(m, NULL), ARG);
    CHECK_STATUS(rwcnn_model_save(m, tmp_path(tmp, sizeof tmp, "no-such-dir/m.safetensors")), RWCNN_ERR_IO);
    loaded = sentinel;
    tmp_path(path, sizeof path, "model-random.safetensors");
    CHECK_STATUS(rwcnn_model_load(NULL, &loaded), ARG);
    CHECK_STATUS(rwcnn_model_load(path, NULL), ARG);
    CHECK_STATUS(rwcnn_model_load(tmp_path(tmp, sizeof tmp, "missing.safetensors"), &loaded), RWCNN_ERR_IO);
    CHECK_MESSAGE("missing.safetensors");
    CHECK_STATUS(rwcnn_model_load(g_tmp, &loaded), RWCNN_ERR_IO); /* a directory */
    write_file(tmp_path(tmp, sizeof tmp, "empty.safetensors"), "", 0);
    CHECK_STATUS(rwcnn_model_load(tmp, &loaded), RWCNN_ERR_FORMAT);
    write_file(tmp_path(tmp, sizeof tmp, "text.safetensors"), "hello, this is not safetensors", 30);
    CHECK_STATUS(rwcnn_model_load(tmp, &loaded), RWCNN_ERR_FORMAT);
    /* A header length far beyond the file. */
    write_file(tmp_path(tmp, sizeof tmp, "huge-header.safetensors"), "\xff\xff\xff\xff\xff\xff\xff\x7f{}", 10);
    CHECK_STATUS(rwcnn_model_load(tmp, &loaded), RWCNN_ERR_FORMAT);
    write_file(tmp, "\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":", 13);
    CHECK_STATUS(rwcnn_model_load(tmp, &loaded), RWCNN_ERR_FORMAT);
    write_file(tmp, "\x08\x00\x00\x00\x00\x00\x00\x00[1,2,3]  ", 16);
    CHECK_STATUS(rwcnn_model_load(tmp, &loaded), RWCNN_ERR_FORMAT);
    bytes = read_file(path, &n_bytes);
    CHECK(bytes != NULL && n_bytes > 1000);
    if (bytes != NULL) {
        write_file(tmp_path(tmp, sizeof tmp, "trunc4.safetensors"), bytes, 4);
        CHECK_STATUS(rwcnn_model_load(tmp, &loaded), RWCNN_ERR_FORMAT);
        write_file(tmp_path(tmp, sizeof tmp, "trunc-header.safetensors"), bytes, 40);
        CHECK_STATUS(rwcnn_model_load(tmp, &loaded), RWCNN_ERR_FORMAT);
        write_file(tmp_path(tmp, sizeof tmp, "trunc-half.safetensors"), bytes, n_bytes / 2);
        CHECK_STATUS(rwcnn_model_load(tmp, &loaded), RWCNN_ERR_FORMAT);
        write_file(tmp_path(tmp, sizeof tmp, "trunc-1.safetensors"), bytes, n_bytes - 1);
        CHECK_STATUS(rwcnn_model_load(tmp, &loaded), RWCNN_ERR_FORMAT);
        /* Corrupt JSON: overwrite the header's first bytes after '{'. */
        bytes[9] = '#';
        bytes[10] = '#';
        write_file(tmp_path(tmp, sizeof tmp, "corrupt-json.safetensors"), bytes, n_bytes);
        CHECK_STATUS(rwcnn_model_load(tmp, &loaded), RWCNN_ERR_FORMAT);
        free(bytes);
    }
    {
        /* Valid safetensors, but not an rwcnn model; and an rwcnn model with
         * a tensor missing. */
        float z[4] = {0, 1, 2, 3};
        st_tensor t = {"x", 1, {4, 0, 0, 0}, z};
        write_safetensors(tmp_path(tmp, sizeof tmp, "foreign.safetensors"), &t, 1, NULL);
        CHECK_STATUS(rwcnn_model_load(tmp, &loaded), RWCNN_ERR_FORMAT);
        write_safetensors(tmp_path(tmp, sizeof tmp, "no-tensors.safetensors"), &t, 1,
                          "\"format\":\"rwcnn.model\",\"format_version\":\"1\",\"arch\":\"8,M\",\"width\":\"1.0\","
                          "\"kernel_size\":\"\",\"cut\":\"pool1\",\"init\":\"normal\",\"mean\":\"0.0\",\"scale\":"
                          "\"he\",\"std\":\"\",\"seed\":\"0\",\"unpool\":\"switches\",\"decoder\":\"tied\","
                          "\"normalize_input\":\"false\"");
        CHECK_STATUS(rwcnn_model_load(tmp, &loaded), RWCNN_ERR_FORMAT);
        CHECK_MESSAGE("encoder.conv1_1.weight");
        write_safetensors(tmp_path(tmp, sizeof tmp, "bad-version.safetensors"), &t, 1,
                          "\"format\":\"rwcnn.model\",\"format_version\":\"999\"");
        CHECK_STATUS(rwcnn_model_load(tmp, &loaded), RWCNN_ERR_FORMAT);
    }
    CHECKF(loaded == sentinel, "*out was written by a failed rwcnn_model_load");
done:
    rwcnn_model_free(m);
    free(img);
}

static void test_torchvision(void)
{
    enum { H = 32, W = 36 };
    char path[1100];
    rwcnn_model_config cfg;
    rwcnn_model *m = NULL, *tied = NULL;
    float *weight = floats(64 * 3 * 3 * 3), *bias = floats(64), *bad_weight = floats(64 * 3 * 5 * 5);
    float *img = make_images(1, 3, H, W, 4), *feat = floats(64 * H * W), *before = floats(64 * H * W);
    float extra[6] = {1, 2, 3, 4, 5, 6};
    size_t i;
    int ok;

    section("rwcnn_model_load_torchvision");
    for (i = 0; i < 64 * 27; i++)
        weight[i] = 0.0f;
    for (i = 0; i < 64; i++)
        bias[i] = 0.25f + 0.01f * (float)i;
    for (i = 0; i < 64 * 75; i++)
        bad_weight[i] = 0.0f;
    {
        st_tensor good[3] = {{"classifier.0.weight", 2, {2, 3, 0, 0}, extra},
                             {"features.0.weight", 4, {64, 3, 3, 3}, weight},
                             {"features.0.bias", 1, {64, 0, 0, 0}, bias}};
        st_tensor wrong_shape[2] = {{"features.0.weight", 4, {64, 3, 5, 5}, bad_weight},
                                    {"features.0.bias", 1, {64, 0, 0, 0}, bias}};
        st_tensor no_bias[1] = {{"features.0.weight", 4, {64, 3, 3, 3}, weight}};
        CHECK(write_safetensors(tmp_path(path, sizeof path, "tv-good.safetensors"), good, 3, "\"source\":\"test\""));
        write_safetensors(tmp_path(path, sizeof path, "tv-shape.safetensors"), wrong_shape, 2, NULL);
        write_safetensors(tmp_path(path, sizeof path, "tv-nobias.safetensors"), no_bias, 1, NULL);
    }
    rwcnn_model_config_init(&cfg);
    cfg.cut = "conv1_1";
    cfg.normalize_input = 1;
    CHECK_OK(rwcnn_model_create(&cfg, &m));
    cfg.decoder = RWCNN_DECODER_TIED;
    CHECK_OK(rwcnn_model_create(&cfg, &tied));
    if (m == NULL || tied == NULL)
        goto done;
    CHECK_OK(rwcnn_model_encode(m, img, 1, 3, H, W, before, 64 * H * W));

    /* Failures leave the weights alone. */
    CHECK_STATUS(rwcnn_model_load_torchvision(m, tmp_path(path, sizeof path, "tv-shape.safetensors")),
                 RWCNN_ERR_FORMAT);
    CHECK_MESSAGE("features.0.weight");
    CHECK_STATUS(rwcnn_model_load_torchvision(m, tmp_path(path, sizeof path, "tv-nobias.safetensors")),
                 RWCNN_ERR_FORMAT);
    CHECK_MESSAGE("features.0.bias");
    CHECK_STATUS(rwcnn_model_load_torchvision(m, tmp_path(path, sizeof path, "tv-missing.safetensors")),
                 RWCNN_ERR_IO);
    write_file(tmp_path(path, sizeof path, "tv-garbage.safetensors"), "garbage garbage", 15);
    CHECK_STATUS(rwcnn_model_load_torchvision(m, path), RWCNN_ERR_FORMAT);
    CHECK_STATUS(rwcnn_model_load_torchvision(NULL, tmp_path(path, sizeof path, "tv-good.safetensors")), ARG);
    CHECK_STATUS(rwcnn_model_load_torchvision(m, NULL), ARG);
    CHECK_OK(rwcnn_model_encode(m, img, 1, 3, H, W, feat, 64 * H * W));
    CHECK(memcmp(feat, before, 64 * H * W * sizeof(float)) == 0);

    /* Zero weights, bias b: every feature is relu(b). */
    CHECK_OK(rwcnn_model_load_torchvision(m, tmp_path(path, sizeof path, "tv-good.safetensors")));
    CHECK_OK(rwcnn_model_encode(m, img, 1, 3, H, W, feat, 64 * H * W));
    ok = 1;
    for (i = 0; i < 64 * H * W; i++)
        if (feat[i] != bias[i / (H * W)])
            ok = 0;
    CHECKF(ok, "features after loading zero weights are not the biases");
    /* A model with a loaded encoder saves and loads with that encoder. */
    {
        rwcnn_model *again = NULL;
        float *feat2 = floats(64 * H * W);
        CHECK_OK(rwcnn_model_save(m, tmp_path(path, sizeof path, "tv-model.safetensors")));
        CHECK_OK(rwcnn_model_load(path, &again));
        if (again != NULL) {
            CHECK_OK(rwcnn_model_encode(again, img, 1, 3, H, W, feat2, 64 * H * W));
            CHECKF(memcmp(feat, feat2, 64 * H * W * sizeof(float)) == 0,
                   "a saved model with torchvision weights loads with other encoder weights");
        }
        rwcnn_model_free(again);
        free(feat2);
        tmp_path(path, sizeof path, "tv-good.safetensors");
    }
    /* The tied decoder follows the loaded encoder weights (all zero): its
     * output no longer depends on the position. */
    CHECK_OK(rwcnn_model_load_torchvision(tied, path));
    CHECK_OK(rwcnn_model_reconstruct(tied, img, 1, 3, H, W, feat, 64 * H * W));
    ok = 1;
    for (i = 0; i < 3 * H * W; i++)
        if (feat[i] != feat[(i / (H * W)) * H * W])
            ok = 0;
    CHECKF(ok, "a tied decoder with zero weights should output a constant per channel");
    /* A width-0.5 model needs other shapes. */
    rwcnn_model_free(tied);
    tied = NULL;
    cfg.width = 0.5;
    CHECK_OK(rwcnn_model_create(&cfg, &tied));
    CHECK_STATUS(rwcnn_model_load_torchvision(tied, path), RWCNN_ERR_FORMAT);
    CHECK_MESSAGE("features.0.");
done:
    rwcnn_model_free(tied);
    rwcnn_model_free(m);
    free(before);
    free(feat);
    free(img);
    free(bad_weight);
    free(bias);
    free(weight);
}

/* ---- Training ------------------------------------------------------------------- */

typedef struct {
    int steps, evals, warnings, unknown, bad_fields;
    size_t last_step, first_step;
    int cancel_at_step;    /* return non-zero after this step (0: never) */
    int cancel_on_warning; /* return non-zero on a warning */
} progress_log;

static int on_progress(const rwcnn_progress *p, void *user)
{
    progress_log *log = (progress_log *)user;
    if (p == NULL || log == NULL)
        return 1;
    if (p->struct_size < sizeof(rwcnn_progress) || p->message == NULL)
        log->bad_fields++;
    switch (p->kind) {
    case RWCNN_PROGRESS_STEP:
        if (log->steps == 0)
            log->first_step = p->step;
        else if (p->step != log->last_step + 1)
            log->bad_fields++;
        if (!isfinite(p->loss) || p->loss < 0 || p->step > p->steps || p->learning_rate <= 0)
            log->bad_fields++;
        log->steps++;
        log->last_step = p->step;
        return log->cancel_at_step > 0 && p->step >= (size_t)log->cancel_at_step;
    case RWCNN_PROGRESS_EVAL:
        if (!p->has_eval || !isfinite(p->eval_mse) || !(p->eval_ssim <= 1.0))
            log->bad_fields++;
        log->evals++;
        return 0;
    case RWCNN_PROGRESS_WARNING:
        if (p->message == NULL || p->message[0] == '\0')
            log->bad_fields++;
        log->warnings++;
        return log->cancel_on_warning;
    default:
        log->unknown++;
        return 0;
    }
}

static rwcnn_model *training_model(void)
{
    return create_model("vgg16", "pool1", 0.125, 3, RWCNN_DECODER_TRAINED, RWCNN_UNPOOL_SWITCHES);
}

static void training_options(rwcnn_train_options *o, const char *data_dir, progress_log *log)
{
    rwcnn_train_options_init(o);
    o->data_dir = data_dir;
    o->steps = 3;
    o->batch = 2;
    o->crop = 32;
    o->eval_every = 0;
    o->checkpoint_every = 0;
    o->progress = on_progress;
    o->user = log;
}

static void test_training(void)
{
    enum { H = 32, W = 32 };
    char data_dir[1100], ck[1100], ck2[1100], bad_dir[1100], empty_dir[1100], tmp[1100];
    rwcnn_train_options o, bad;
    rwcnn_train_result r;
    progress_log log;
    rwcnn_model *m = NULL, *cancelled = NULL, *resumed = NULL, *loaded = NULL, *tied = NULL;
    rwcnn_model_config cfg;
    float *img = make_images(1, 3, H, W, 12), *r1 = floats(3 * H * W), *r2 = floats(3 * H * W);
    int threads = rwcnn_get_threads();
    size_t photos;
    rwcnn_status st;

    section("rwcnn_train_options_init");
    rwcnn_train_options_init(NULL); /* ignored */
    memset(&o, 0xff, sizeof o);
    rwcnn_train_options_init(&o);
    CHECK(o.struct_size == sizeof(rwcnn_train_options));
    CHECK(o.data_dir == NULL && o.eval_dir == NULL && o.checkpoint == NULL && o.progress == NULL &&
          o.user == NULL);
    CHECK(o.eval_fraction == 0.2 && o.steps == 1000 && o.batch == 8 && o.crop == 64 && o.short_side == 0);
    CHECK(o.resize_whole == 0 && o.flip == 1 && o.optimizer == RWCNN_OPTIMIZER_ADAM);
    CHECK(o.learning_rate == 1e-3 && o.momentum == 0.9 && o.beta1 == 0.9 && o.beta2 == 0.999 &&
          o.epsilon == 1e-8 && o.weight_decay == 0);
    CHECK(o.data_seed == 0 && o.eval_every == 100 && o.checkpoint_every == 100 && o.resume == 0);

    snprintf(data_dir, sizeof data_dir, "%s/data/images", g_root);
    photos = count_pngs(data_dir);
    CHECK(photos >= 2);
    tmp_path(ck, sizeof ck, "train-full.safetensors");
    tmp_path(ck2, sizeof ck2, "train-cancelled.safetensors");
    tmp_path(bad_dir, sizeof bad_dir, "bad-photos");
    tmp_path(empty_dir, sizeof empty_dir, "no-photos");
    mkdir(bad_dir, 0700);
    mkdir(empty_dir, 0700);
    write_file(tmp_path(tmp, sizeof tmp, "bad-photos/a.png"), "not a png", 9);
    write_file(tmp_path(tmp, sizeof tmp, "bad-photos/b.png"), "\x89PNG\r\n\x1a\n", 8);
    write_file(tmp_path(tmp, sizeof tmp, "bad-photos/notes.txt"), "ignored", 7);

    /* With one thread, runs are reproducible bit for bit (and resumable). */
    CHECK_OK(rwcnn_set_threads(1));

    section("rwcnn_train: errors");
    m = training_model();
    rwcnn_model_config_init(&cfg);
    cfg.arch = "vgg16";
    cfg.cut = "pool1";
    cfg.width = 0.125;
    cfg.decoder = RWCNN_DECODER_TIED;
    CHECK_OK(rwcnn_model_create(&cfg, &tied));
    if (m == NULL || tied == NULL)
        goto done;
    memset(&log, 0, sizeof log);
    training_options(&o, data_dir, &log);
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    r.steps_done = 4242;
    CHECK_STATUS(rwcnn_train(NULL, &o, &r), ARG);
    CHECK_STATUS(rwcnn_train(m, NULL, &r), ARG);
    CHECK_MESSAGE("options");
    bad = o;
    bad.struct_size = 0;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    CHECK_MESSAGE("struct_size");
    bad = o;
    bad.data_dir = NULL;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    CHECK_MESSAGE("data_dir");
    bad = o;
    bad.data_dir = tmp_path(tmp, sizeof tmp, "no-such-folder");
    CHECK_STATUS(rwcnn_train(m, &bad, &r), RWCNN_ERR_IO);
    CHECK_MESSAGE("no-such-folder");
    bad = o;
    bad.data_dir = empty_dir;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    bad = o;
    bad.batch = 0;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    bad = o;
    bad.crop = 5;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    bad = o;
    bad.crop = (size_t)-1;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    bad = o;
    bad.steps = (size_t)-1;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    bad = o;
    bad.learning_rate = -1;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    bad = o;
    bad.learning_rate = NAN;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    bad = o;
    bad.eval_fraction = 1.5;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    bad = o;
    bad.optimizer = (rwcnn_optimizer)9;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    bad = o;
    bad.resume = 1; /* without a checkpoint */
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    bad = o;
    bad.resume = 1;
    bad.checkpoint = tmp_path(tmp, sizeof tmp, "no-checkpoint.safetensors");
    CHECK_STATUS2(rwcnn_train(m, &bad, &r), RWCNN_ERR_IO, ARG);
    /* An unwritable checkpoint is found when it is written (after a step):
     * on a scratch model, as the failed run has changed its weights. */
    resumed = training_model();
    bad = o;
    bad.checkpoint = tmp_path(tmp, sizeof tmp, "no-such-dir/ck.safetensors");
    bad.steps = 1;
    if (resumed != NULL)
        CHECK_STATUS(rwcnn_train(resumed, &bad, &r), RWCNN_ERR_IO);
    rwcnn_model_free(resumed);
    resumed = NULL;
    CHECK_STATUS(rwcnn_train(tied, &o, &r), ARG); /* a tied decoder cannot be trained */
    CHECK_MESSAGE("tied");
    r.struct_size = 0;
    CHECK_STATUS(rwcnn_train(m, &o, &r), ARG);
    r.struct_size = sizeof r;
    CHECK(r.steps_done == 4242); /* results written only on success */
    /* Files that fail to load: a warning each, then no usable image. */
    memset(&log, 0, sizeof log);
    bad = o;
    bad.data_dir = bad_dir;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    CHECKF(log.warnings == 2 && log.steps == 0 && log.bad_fields == 0,
           "%d warnings (expected 2), %d steps, %d bad fields", log.warnings, log.steps, log.bad_fields);
    memset(&log, 0, sizeof log);
    log.cancel_on_warning = 1;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), RWCNN_ERR_CANCELLED);
    CHECK(log.warnings == 1);
    /* An eval folder of bad files only. */
    memset(&log, 0, sizeof log);
    bad = o;
    bad.eval_dir = bad_dir;
    bad.steps = 1;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    CHECK(r.steps_done == 4242);

    section("rwcnn_train: a short run on the bundled photos");
    memset(&log, 0, sizeof log);
    training_options(&o, data_dir, &log);
    o.checkpoint = ck;
    st = rwcnn_train(m, &o, &r);
    CHECK_STATUS(st, RWCNN_OK);
    if (st == RWCNN_OK) {
        CHECKF(r.struct_size == sizeof r && r.steps_done == 3, "steps_done %zu", r.steps_done);
        CHECK(isfinite(r.final_loss) && r.final_loss >= 0);
        CHECK(r.has_eval && isfinite(r.eval_mse) && isfinite(r.eval_psnr) && r.eval_ssim <= 1.0);
        CHECKF(r.train_images + r.eval_images == photos && r.eval_images >= 1 && r.skipped_files == 0,
               "%zu training + %zu held-out images, %zu skipped (%zu photos bundled)", r.train_images,
               r.eval_images, r.skipped_files, photos);
        CHECK(r.seconds >= 0);
    }
    CHECKF(log.steps == 3 && log.first_step == 1 && log.last_step == 3, "%d step callbacks, steps %zu..%zu",
           log.steps, log.first_step, log.last_step);
    CHECKF(log.evals >= 1 && log.warnings == 0 && log.unknown == 0 && log.bad_fields == 0,
           "%d evals, %d warnings, %d unknown kinds, %d bad fields", log.evals, log.warnings, log.unknown,
           log.bad_fields);
    rwcnn_model_config_init(&cfg);
    CHECK_OK(rwcnn_model_get_config(m, &cfg));
    CHECK(cfg.decoder == RWCNN_DECODER_TRAINED);
    CHECK(file_exists(ck));
    loaded = NULL;
    CHECK_OK(rwcnn_model_load(ck, &loaded));
    if (loaded != NULL) {
        CHECK_OK(rwcnn_model_reconstruct(m, img, 1, 3, H, W, r1, 3 * H * W));
        CHECK_OK(rwcnn_model_reconstruct(loaded, img, 1, 3, H, W, r2, 3 * H * W));
        CHECKF(memcmp(r1, r2, sizeof(float) * 3 * H * W) == 0, "the checkpoint does not hold the trained model");
        rwcnn_model_free(loaded);
        loaded = NULL;
    }
    /* No progress callback and no result are fine too. */
    o.progress = NULL;
    o.steps = 1;
    o.checkpoint = NULL;
    resumed = training_model();
    if (resumed != NULL)
        CHECK_OK(rwcnn_train(resumed, &o, NULL));
    rwcnn_model_free(resumed);
    resumed = NULL;

    section("rwcnn_train: cancel, then resume");
    cancelled = training_model();
    if (cancelled == NULL)
        goto done;
    memset(&log, 0, sizeof log);
    log.cancel_at_step = 2;
    training_options(&o, data_dir, &log);
    o.checkpoint = ck2;
    r.steps_done = 4242;
    CHECK_STATUS(rwcnn_train(cancelled, &o, &r), RWCNN_ERR_CANCELLED);
    CHECK(r.steps_done == 4242);
    CHECKF(log.steps == 2, "%d step callbacks before the cancel (expected 2)", log.steps);
    CHECK(file_exists(ck2));
    CHECK_OK(rwcnn_model_load(ck2, &loaded));
    if (loaded != NULL) {
        rwcnn_model_config_init(&cfg);
        CHECK_OK(rwcnn_model_get_config(loaded, &cfg));
        CHECK(cfg.decoder == RWCNN_DECODER_TRAINED && strcmp(cfg.cut, "pool1") == 0);
        /* The checkpoint holds the weights after the last completed step. */
        CHECK_OK(rwcnn_model_reconstruct(cancelled, img, 1, 3, H, W, r1, 3 * H * W));
        CHECK_OK(rwcnn_model_reconstruct(loaded, img, 1, 3, H, W, r2, 3 * H * W));
        CHECK(memcmp(r1, r2, sizeof(float) * 3 * H * W) == 0);
        rwcnn_model_free(loaded);
        loaded = NULL;
    }
    /* Resume to 3 steps: one more step, and (one thread) the same weights as
     * the uninterrupted run. */
    resumed = training_model();
    if (resumed != NULL) {
        memset(&log, 0, sizeof log);
        training_options(&o, data_dir, &log);
        o.checkpoint = ck2;
        o.resume = 1;
        CHECK_OK(rwcnn_train(resumed, &o, &r));
        CHECKF(log.steps == 1 && log.last_step == 3, "resumed: %d step callbacks, last step %zu", log.steps,
               log.last_step);
        CHECK(r.steps_done == 3);
        CHECK_OK(rwcnn_model_reconstruct(m, img, 1, 3, H, W, r1, 3 * H * W));
        CHECK_OK(rwcnn_model_reconstruct(resumed, img, 1, 3, H, W, r2, 3 * H * W));
        CHECKF(memcmp(r1, r2, sizeof(float) * 3 * H * W) == 0,
               "a resumed run differs from the uninterrupted one by %g", (double)max_abs_diff(r1, r2, 3 * H * W));
    }
done:
    CHECK_OK(rwcnn_set_threads(threads));
    rwcnn_model_free(resumed);
    rwcnn_model_free(cancelled);
    rwcnn_model_free(tied);
    rwcnn_model_free(m);
    free(r2);
    free(r1);
    free(img);
}

/* ---- Concurrency ------------------------------------------------------------------ */

typedef struct {
    const rwcnn_model *model;
    const float *images;
    size_t n, c, h, w, fcount, count;
    const float *want_features, *want_recon;
    int reps;
    rwcnn_status status;
    int mismatches;
} worker_arg;

static void *encode_worker(void *p)
{
    worker_arg *a = (worker_arg *)p;
    float *f = floats(a->fcount), *r = floats(a->count);
    double v;
    int i;
    a->status = RWCNN_OK;
    for (i = 0; i < a->reps; i++) {
        rwcnn_status st = rwcnn_model_encode(a->model, a->images, a->n, a->c, a->h, a->w, f, a->fcount);
        if (st == RWCNN_OK)
            st = rwcnn_model_reconstruct(a->model, a->images, a->n, a->c, a->h, a->w, r, a->count);
        if (st == RWCNN_OK)
            st = rwcnn_ssim(a->images, a->images, a->n, a->c, a->h, a->w, &v);
        if (st != RWCNN_OK) {
            a->status = st;
            break;
        }
        if (memcmp(f, a->want_features, a->fcount * sizeof(float)) != 0 ||
            memcmp(r, a->want_recon, a->count * sizeof(float)) != 0)
            a->mismatches++;
    }
    free(r);
    free(f);
    return NULL;
}

static void test_concurrency(void)
{
    enum { N = 2, C = 3, H = 40, W = 40, WORKERS = 2 };
    const size_t count = (size_t)N * C * H * W;
    rwcnn_model *m = create_model("vgg16", "pool2", 0.25, 21, RWCNN_DECODER_RANDOM, RWCNN_UNPOOL_SWITCHES);
    float *img = make_images(N, C, H, W, 8), *f1, *r1, *f2, *r2;
    size_t fshape[3], fcount;
    worker_arg args[WORKERS];
    pthread_t tids[WORKERS];
    int threads = rwcnn_get_threads(), i, created[WORKERS];

    section("concurrent encode on one handle");
    if (m == NULL) {
        free(img);
        return;
    }
    if (!CHECK_OK(rwcnn_model_feature_shape(m, H, W, fshape))) {
        rwcnn_model_free(m);
        free(img);
        return;
    }
    fcount = N * fshape[0] * fshape[1] * fshape[2];
    f1 = floats(fcount);
    r1 = floats(count);
    f2 = floats(fcount);
    r2 = floats(count);
    /* Reference: one caller at a time, the default thread bound. */
    CHECK_OK(rwcnn_model_encode(m, img, N, C, H, W, f1, fcount));
    CHECK_OK(rwcnn_model_reconstruct(m, img, N, C, H, W, r1, count));
    /* Across thread bounds (rwcnn_set_threads) results agree to float
     * rounding: the BLAS may split its sums by thread (OpenBLAS's AVX2 kernels
     * do; valgrind's CPU runs those). Relative difference under 1e-5. */
    CHECK_OK(rwcnn_set_threads(1));
    CHECK_OK(rwcnn_model_encode(m, img, N, C, H, W, f2, fcount));
    CHECK_OK(rwcnn_model_reconstruct(m, img, N, C, H, W, r2, count));
    CHECKF(max_abs_diff(f1, f2, fcount) <= 1e-5f * max_abs(f1, fcount) &&
               max_abs_diff(r1, r2, count) <= 1e-5f * max_abs(r1, count),
           "results with 1 thread differ from %d threads: features by %g, reconstructions by %g", threads,
           (double)max_abs_diff(f1, f2, fcount), (double)max_abs_diff(r1, r2, count));
    CHECK_OK(rwcnn_set_threads(threads == 3 ? 4 : 3));
    CHECK_OK(rwcnn_model_encode(m, img, N, C, H, W, f2, fcount));
    CHECKF(max_abs_diff(f1, f2, fcount) <= 1e-5f * max_abs(f1, fcount), "results with %d threads differ from %d threads by %g",
           rwcnn_get_threads(), threads, (double)max_abs_diff(f1, f2, fcount));
    CHECK_OK(rwcnn_set_threads(threads));

    for (i = 0; i < WORKERS; i++) {
        worker_arg a = {m, img, N, C, H, W, fcount, count, f1, r1, g_quick ? 2 : 6, RWCNN_OK, 0};
        args[i] = a;
        created[i] = pthread_create(&tids[i], NULL, encode_worker, &args[i]) == 0;
        CHECK(created[i]);
    }
    for (i = 0; i < WORKERS; i++)
        if (created[i])
            pthread_join(tids[i], NULL);
    for (i = 0; i < WORKERS; i++) {
        CHECKF(args[i].status == RWCNN_OK, "worker %d: %s", i, rwcnn_status_name((int)args[i].status));
        CHECKF(args[i].mismatches == 0, "worker %d: %d of %d results differ from the run by one caller", i,
               args[i].mismatches, args[i].reps);
    }
    free(r2);
    free(f2);
    free(r1);
    free(f1);
    free(img);
    rwcnn_model_free(m);
}

/* ---- main ----------------------------------------------------------------------- */

/* ---- Hostile inputs (issue 8) ------------------------------------------------
 * Each case builds its own bad input, expects the exact status and a message
 * naming the cause, and stays within a CPU-time and peak-RSS bound measured
 * with getrusage (limits, not timings: the unbounded versions took
 * gigabytes or forever). Runs first, so the process's peak RSS is still low. */

#define HOSTILE_RSS_KB (300L * 1024) /* growth of the peak over the run's start */
#define HOSTILE_CPU_S 60.0
static long g_rss_start_kb;

static void bounded_at(const char *what, const struct rusage *before, const char *file, int line)
{
    struct rusage after;
    double cpu;
    getrusage(RUSAGE_SELF, &after);
    cpu = (double)(after.ru_utime.tv_sec - before->ru_utime.tv_sec) +
          (double)(after.ru_utime.tv_usec - before->ru_utime.tv_usec) / 1e6 +
          (double)(after.ru_stime.tv_sec - before->ru_stime.tv_sec) +
          (double)(after.ru_stime.tv_usec - before->ru_stime.tv_usec) / 1e6;
    /* Under valgrind or a sanitizer (--quick) the tool's own memory and time count too. */
    if (after.ru_maxrss - g_rss_start_kb > HOSTILE_RSS_KB * (g_quick ? 10 : 1))
        fail_at(file, line, "%s: peak RSS grew to %ld kB (start %ld kB)", what, after.ru_maxrss, g_rss_start_kb);
    else if (cpu > HOSTILE_CPU_S * (g_quick ? 10 : 1))
        fail_at(file, line, "%s: %.1f s of CPU", what, cpu);
    else
        g_passed++;
}

/* Runs `expr`, expects `want` and a message containing `text`, within the bounds. */
#define HOSTILE(expr, want, text)                                                                            \
    do {                                                                                                     \
        struct rusage before_;                                                                               \
        getrusage(RUSAGE_SELF, &before_);                                                                    \
        CHECK_STATUS(expr, want);                                                                            \
        CHECK_MESSAGE(text);                                                                                 \
        bounded_at(#expr, &before_, __FILE__, __LINE__);                                                     \
    } while (0)

/* A copy of the safetensors file at `src` with one substring of its JSON
 * header replaced (the header is re-padded and its length rewritten; the
 * data, whose offsets are relative to it, is unchanged). */
static int edit_header(const char *src, const char *dst, const char *from, const char *to)
{
    size_t n = 0, hlen, flen = strlen(from), tlen = strlen(to), at, newlen, i, data_at;
    unsigned char *b = read_file(src, &n), *out;
    char *hit;
    int ok;
    if (b == NULL || n < 8)
        return 0;
    for (hlen = 0, i = 0; i < 8; i++)
        hlen |= (size_t)b[i] << (8 * i);
    hit = NULL;
    for (at = 8; at + flen <= 8 + hlen; at++)
        if (memcmp(b + at, from, flen) == 0) {
            hit = (char *)b + at;
            break;
        }
    if (hit == NULL) {
        free(b);
        return 0;
    }
    data_at = 8 + hlen;
    while (hlen > 0 && b[8 + hlen - 1] == ' ')
        hlen--; /* old padding */
    newlen = hlen - flen + tlen;
    newlen += (8 - newlen % 8) % 8;
    out = (unsigned char *)xmalloc(n - data_at + newlen + 8);
    memset(out, ' ', 8 + newlen);
    for (i = 0; i < 8; i++)
        out[i] = (unsigned char)((uint64_t)newlen >> (8 * i));
    memcpy(out + 8, b + 8, at - 8);
    memcpy(out + at, to, tlen);
    memcpy(out + at + tlen, b + at + flen, 8 + hlen - at - flen);
    memcpy(out + 8 + newlen, b + data_at, n - data_at);
    ok = write_file(dst, out, 8 + newlen + (n - data_at));
    free(out);
    free(b);
    return ok;
}

static int quiet_progress(const rwcnn_progress *p, void *user)
{
    (void)p;
    (void)user;
    return 0;
}

static void test_hostile(void)
{
    char data[1100], held[1100], ck[1100], bad[1100], tmp[1200], name[64];
    rwcnn_model *m = NULL, *loaded = NULL;
    rwcnn_model_config cfg;
    rwcnn_train_options o;
    rwcnn_train_result r;
    unsigned char crafted[256];
    size_t at, i, limit;
    float *img;
    pid_t child;

    section("hostile inputs");
    {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        g_rss_start_kb = ru.ru_maxrss;
    }

    /* Budget: a getter, a floor, a default. */
    limit = rwcnn_get_memory_limit();
    CHECK(limit >= ((size_t)1 << 20));
    CHECK_STATUS(rwcnn_set_memory_limit(1000), ARG);
    CHECK_MESSAGE("1 MiB");
    CHECK_OK(rwcnn_set_memory_limit((size_t)4 << 20));
    CHECK(rwcnn_get_memory_limit() == ((size_t)4 << 20));
    rwcnn_model_config_init(&cfg);
    cfg.arch = "256,256,M,512";
    cfg.cut = "conv2_1";
    HOSTILE(rwcnn_model_create(&cfg, &m), RWCNN_ERR_OUT_OF_MEMORY, "memory limit");
    CHECK_OK(rwcnn_set_memory_limit(0));
    CHECK(rwcnn_get_memory_limit() == limit);

    /* Absurd init settings. */
    rwcnn_model_config_init(&cfg);
    cfg.arch = "4,M,8";
    cfg.cut = "conv2_1";
    cfg.scale = RWCNN_SCALE_FIXED;
    cfg.std = 1e300;
    HOSTILE(rwcnn_model_create(&cfg, &m), ARG, "std");
    cfg.std = 0.01;
    cfg.mean = 1e6;
    HOSTILE(rwcnn_model_create(&cfg, &m), ARG, "mean");

    /* Non-regular files, refused by name, never a hang. */
    HOSTILE(rwcnn_model_load("/dev/zero", &loaded), RWCNN_ERR_IO, "character device");
    tmp_path(tmp, sizeof tmp, "fifo.png");
    if (mkfifo(tmp, 0600) == 0) {
        size_t w, h, c;
        HOSTILE(rwcnn_png_load(tmp, 3, NULL, 0, &w, &h, &c), RWCNN_ERR_IO, "FIFO");
        HOSTILE(rwcnn_model_load(tmp, &loaded), RWCNN_ERR_IO, "FIFO");
    }

    /* A 72-byte PNG declaring a 2 GB tEXt chunk. */
    {
        static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
        unsigned char ihdr[13] = {0, 0, 0, 4, 0, 0, 0, 4, 8, 2, 0, 0, 0};
        size_t w, h, c;
        float out[48];
        memcpy(crafted, sig, 8);
        at = 8 + put_chunk(crafted + 8, "IHDR", ihdr, 13);
        at += put_be32(crafted + at, 0x7fffffffu);
        memcpy(crafted + at, "tEXtk", 6);
        at += 6;
        while (at < 72)
            crafted[at++] = 'v';
        HOSTILE(rwcnn_png_load_memory(crafted, at, 3, out, 48, &w, &h, &c), RWCNN_ERR_FORMAT, "tEXt");
        CHECK_MESSAGE("past the end");
        HOSTILE(rwcnn_png_load_memory(crafted, at, 3, NULL, 0, &w, &h, &c), RWCNN_ERR_FORMAT, "tEXt");
    }

    /* JPEG: the 67x45 progressive test file with its SOF2 header claiming
     * another size. 65000x65000 is over the pixel limit; 8000x8000 is under
     * it but its decode (samples plus libjpeg's coefficient buffer) is over a
     * 64 MiB budget; 2048x2048 fits, and libjpeg runs out of scan data. */
    {
        static const struct {
            unsigned w, h;
            size_t limit;
            rwcnn_status want;
            const char *text;
        } jpegs[] = {
            {65000, 65000, 0, RWCNN_ERR_OUT_OF_MEMORY, "over the limit"},
            {8000, 8000, (size_t)64 << 20, RWCNN_ERR_OUT_OF_MEMORY, "memory limit"},
            {2048, 2048, 0, RWCNN_ERR_FORMAT, "truncated or corrupt"},
        };
        size_t n = 0, w, h, c, sof = 0, cap;
        float *out; /* the size the header claims (untouched pages: no RSS), so the decode is reached */
        unsigned char *jpeg;
        snprintf(tmp, sizeof tmp, "%s/Tests/RWCNNTests/Data/jpeg/progressive.jpg", g_root);
        jpeg = read_file(tmp, &n);
        for (i = 0; jpeg != NULL && i + 9 < n && sof == 0; i++)
            if (jpeg[i] == 0xff && jpeg[i + 1] == 0xc2)
                sof = i;
        CHECKF(sof > 0, "no SOF2 marker in %s", tmp);
        if (sof > 0) {
            for (i = 0; i < sizeof jpegs / sizeof jpegs[0]; i++) {
                jpeg[sof + 5] = (unsigned char)(jpegs[i].h >> 8);
                jpeg[sof + 6] = (unsigned char)jpegs[i].h;
                jpeg[sof + 7] = (unsigned char)(jpegs[i].w >> 8);
                jpeg[sof + 8] = (unsigned char)jpegs[i].w;
                printf("   progressive JPEG claiming %ux%u\n", jpegs[i].w, jpegs[i].h);
                CHECK_OK(rwcnn_set_memory_limit(jpegs[i].limit));
                cap = jpegs[i].want == RWCNN_ERR_FORMAT ? (size_t)3 * jpegs[i].w * jpegs[i].h : 1;
                out = (float *)xmalloc(cap * sizeof(float));
                HOSTILE(rwcnn_image_load_memory(jpeg, n, 3, out, cap, &w, &h, &c), jpegs[i].want, jpegs[i].text);
                tmp_path(tmp, sizeof tmp, "claims.jpg");
                write_file(tmp, jpeg, n);
                HOSTILE(rwcnn_image_load(tmp, 3, out, cap, &w, &h, &c), jpegs[i].want, jpegs[i].text);
                free(out);
            }
            CHECK_OK(rwcnn_set_memory_limit(0));
        }
        free(jpeg);
    }

    /* A 12 KB file whose metadata says two 8192-channel 7x7 convs. */
    {
        static float z[3000];
        st_tensor t = {"encoder.conv1_1.weight", 4, {10, 3, 10, 10}, z};
        const char *meta =
            "\"format\":\"rwcnn.model\",\"format_version\":\"1\",\"arch\":\"8192,8192k7\",\"width\":\"1.0\","
            "\"kernel_size\":\"\",\"cut\":\"conv1_2\",\"init\":\"normal\",\"mean\":\"0.0\",\"scale\":"
            "\"he\",\"std\":\"\",\"seed\":\"0\",\"unpool\":\"switches\",\"decoder\":\"%s\","
            "\"normalize_input\":\"false\",\"encoder_weights\":\"%s\"";
        char m1[1024];
        snprintf(m1, sizeof m1, meta, "random", "stored");
        write_safetensors(tmp_path(tmp, sizeof tmp, "huge-arch.safetensors"), &t, 1, m1);
        HOSTILE(rwcnn_model_load(tmp, &loaded), RWCNN_ERR_FORMAT, "encoder.conv1_1");
        snprintf(m1, sizeof m1, meta, "tied", "seed");
        write_safetensors(tmp, NULL, 0, m1);
        HOSTILE(rwcnn_model_load(tmp, &loaded), RWCNN_ERR_OUT_OF_MEMORY, "parameters");
    }

    /* Training data: three small photos, a FIFO named x.png, a held-out one. */
    tmp_path(data, sizeof data, "hostile-data");
    tmp_path(held, sizeof held, "hostile-eval");
    mkdir(data, 0700);
    mkdir(held, 0700);
    img = make_images(1, 3, 24, 24, 5);
    for (i = 0; i < 3; i++) {
        snprintf(tmp, sizeof tmp, "%s/p%zu.png", data, i);
        CHECK_OK(rwcnn_png_save(tmp, img, 3, 24, 24, 8));
    }
    snprintf(tmp, sizeof tmp, "%s/e.png", held);
    CHECK_OK(rwcnn_png_save(tmp, img, 3, 24, 24, 8));
    snprintf(tmp, sizeof tmp, "%s/x.png", data);
    CHECK(mkfifo(tmp, 0600) == 0);
    free(img);

    rwcnn_model_config_init(&cfg);
    cfg.arch = "4,M,8";
    cfg.cut = "conv2_1";
    cfg.decoder = RWCNN_DECODER_TRAINED;
    if (!CHECK_OK(rwcnn_model_create(&cfg, &m)))
        return;
    rwcnn_train_options_init(&o);
    o.data_dir = data;
    o.eval_dir = held;
    o.steps = 2;
    o.batch = 2;
    o.crop = 16;
    o.eval_every = 0;
    o.progress = quiet_progress;
    o.checkpoint = tmp_path(ck, sizeof ck, "hostile-ck.safetensors");
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    {
        struct rusage before;
        getrusage(RUSAGE_SELF, &before);
        CHECK_OK(rwcnn_train(m, &o, &r)); /* the FIFO is skipped, not waited on */
        bounded_at("training next to a FIFO", &before, __FILE__, __LINE__);
    }
    CHECK(r.steps_done == 2 && r.skipped_files == 1);

    /* Checkpoints edited after writing. */
    o.resume = 1;
    o.steps = 5;
    o.checkpoint = tmp_path(bad, sizeof bad, "hostile-bad.safetensors");
    {
        static const struct {
            const char *from, *to, *cause;
            rwcnn_status want;
            int load;
        } edits[] = {
            {"\"checkpoint_step\":\"2\"", "\"checkpoint_step\":\"2305843009213693952\"", "checkpoint_step",
             RWCNN_ERR_FORMAT, 0},
            {"\"checkpoint_step\":\"2\"", "\"checkpoint_step\":\"9\"", "checkpoint_step", RWCNN_ERR_FORMAT, 0},
            {"\"optimizer_updates\":\"2\"", "\"optimizer_updates\":\"9223372036854775807\"", "optimizer_updates",
             RWCNN_ERR_FORMAT, 0},
            {"\"optimizer.first.decoder.conv1_1.bias\"", "\"optimizer.xirst.decoder.conv1_1.bias\"",
             "optimizer.xirst.decoder.conv1_1.bias", RWCNN_ERR_FORMAT, 0},
            {"\"seed\":\"0\"", "\"seed\":\"5\"", "seed", RWCNN_ERR_FORMAT, 1},
            {"\"arch\":\"4,M,8\"", "\"arch\":\"4,Q,8\"", "arch", RWCNN_ERR_FORMAT, 1},
        };
        for (i = 0; i < sizeof edits / sizeof edits[0]; i++) {
            if (!edit_header(ck, bad, edits[i].from, edits[i].to)) {
                fail_at(__FILE__, __LINE__, "could not edit %s", edits[i].from);
                continue;
            }
            printf("   %s\n", edits[i].to);
            if (edits[i].load) /* a different model for a resume: load it instead */
                HOSTILE(rwcnn_model_load(bad, &loaded), edits[i].want, edits[i].cause);
            else
                HOSTILE(rwcnn_train(m, &o, &r), edits[i].want, edits[i].cause);
        }
        /* A NaN weight: the first float of the data. */
        if (edit_header(ck, bad, "\"format\"", "\"format\"")) {
            size_t n = 0, hlen = 0;
            unsigned char *b = read_file(bad, &n);
            if (b != NULL) {
                for (i = 0; i < 8; i++)
                    hlen |= (size_t)b[i] << (8 * i);
                b[8 + hlen] = 0x00;
                b[8 + hlen + 1] = 0x00;
                b[8 + hlen + 2] = 0xc0;
                b[8 + hlen + 3] = 0x7f;
                write_file(bad, b, n);
                free(b);
                HOSTILE(rwcnn_model_load(bad, &loaded), RWCNN_ERR_FORMAT, "non-finite");
            }
        }
    }
    CHECK(loaded == NULL);

    /* A 1000x2 image resized to a short side of 4096: 100 GB asked, refused. */
    img = make_images(1, 3, 2, 1000, 6);
    tmp_path(data, sizeof data, "hostile-wide");
    mkdir(data, 0700);
    snprintf(tmp, sizeof tmp, "%s/wide.png", data);
    CHECK_OK(rwcnn_png_save(tmp, img, 3, 2, 1000, 8));
    free(img);
    o.resume = 0;
    o.steps = 1;
    o.crop = 64;
    o.short_side = 4096;
    o.checkpoint = NULL;
    HOSTILE(rwcnn_train(m, &o, &r), RWCNN_ERR_OUT_OF_MEMORY, "wide.png");

    /* Atomic writes remove temporaries of dead writers, never live ones. */
    child = fork();
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0);
    snprintf(name, sizeof name, "hostile-m.safetensors.tmp-%d-1a2b", (int)child);
    write_file(tmp_path(tmp, sizeof tmp, name), "partial", 7);
    snprintf(name, sizeof name, "hostile-m.safetensors.tmp-%d-3c4d", (int)getppid());
    write_file(tmp_path(bad, sizeof bad, name), "partial", 7);
    CHECK_OK(rwcnn_model_save(m, tmp_path(ck, sizeof ck, "hostile-m.safetensors")));
    CHECKF(!file_exists(tmp), "a dead writer's temporary file is still there");
    CHECKF(file_exists(bad), "a live process's temporary file was removed");
    rwcnn_model_free(m);
}


/* ---- Hostile arguments: every function of the header ------------------------------
 * NULL pointers, zero and huge sizes, wrong struct_size: each call returns an
 * error status with a message (or, for functions without a status, a safe
 * value), and the process goes on. COVER names the function; at the end every
 * function declared in include/rwcnn.h must have been covered, so a function
 * added to the header without a case here fails the test. */

static char g_covered[8192];

static void cover(const char *name)
{
    if (strlen(g_covered) + strlen(name) + 2 < sizeof g_covered) {
        strcat(g_covered, " ");
        strcat(g_covered, name);
        strcat(g_covered, " ");
    }
}
#define COVER(fn) cover(#fn)

/* Any error status (not OK) with a message. */
#define REFUSED(expr)                                                                                        \
    do {                                                                                                     \
        rwcnn_status got_ = (expr);                                                                          \
        const char *msg_ = rwcnn_last_error();                                                               \
        if (got_ == RWCNN_OK || msg_ == NULL || msg_[0] == '\0')                                             \
            fail_at(__FILE__, __LINE__, "%s returned %s (message \"%s\"), expected a refusal", #expr,        \
                    rwcnn_status_name((int)got_), msg_ ? msg_ : "(null)");                                   \
        else                                                                                                 \
            g_passed++;                                                                                      \
    } while (0)

static void test_hostile_arguments(void)
{
    const size_t huge = (size_t)-1, big = (size_t)1 << 40;
    char path[1100], text[1100], *at;
    float img[3 * 32 * 32], out[3 * 32 * 32];
    double d;
    size_t w, h, c, n, shape[3], limit;
    int v;
    const char *name;
    rwcnn_model *m = NULL, *m2 = NULL;
    rwcnn_model_config cfg, got;
    rwcnn_train_options o;
    rwcnn_train_result r;
    unsigned char bytes[64];
    FILE *f;

    section("hostile arguments: every function of the header");
    memset(img, 0, sizeof img);
    memset(bytes, 0, sizeof bytes);

    COVER(rwcnn_version);
    CHECK(rwcnn_version() != NULL);
    COVER(rwcnn_version_number);
    CHECK(rwcnn_version_number() > 0);
    COVER(rwcnn_status_name);
    CHECK(rwcnn_status_name(-1) != NULL && rwcnn_status_name(1 << 30) != NULL);
    COVER(rwcnn_last_error);
    CHECK(rwcnn_last_error() != NULL);
    COVER(rwcnn_set_threads);
    COVER(rwcnn_get_threads);
    v = rwcnn_get_threads();
    REFUSED(rwcnn_set_threads(-5));
    CHECK(rwcnn_get_threads() == v);
    CHECK_STATUS2(rwcnn_set_threads(1 << 30), RWCNN_OK, ARG);
    CHECK(rwcnn_get_threads() >= 1);
    CHECK_OK(rwcnn_set_threads(v));
    COVER(rwcnn_set_memory_limit);
    COVER(rwcnn_get_memory_limit);
    limit = rwcnn_get_memory_limit();
    REFUSED(rwcnn_set_memory_limit(1));
    CHECK(rwcnn_get_memory_limit() == limit);
    CHECK_OK(rwcnn_set_memory_limit(huge)); /* no limit */
    CHECK_OK(rwcnn_set_memory_limit(0));
    CHECK(rwcnn_get_memory_limit() == limit);

    photo(path, sizeof path, "astronaut.png");
    COVER(rwcnn_image_load);
    COVER(rwcnn_png_load);
    REFUSED(rwcnn_image_load(NULL, 3, NULL, 0, &w, &h, &c));
    REFUSED(rwcnn_image_load(path, 3, NULL, 0, NULL, &h, &c));
    REFUSED(rwcnn_image_load(path, 3, NULL, 0, &w, NULL, &c));
    REFUSED(rwcnn_image_load(path, 7, NULL, 0, &w, &h, &c));
    REFUSED(rwcnn_image_load(path, -1, out, huge, &w, &h, &c));
    REFUSED(rwcnn_image_load(path, 3, out, 1, &w, &h, &c));
    REFUSED(rwcnn_image_load("", 3, NULL, 0, &w, &h, &c));
    REFUSED(rwcnn_png_load(NULL, 3, NULL, 0, &w, &h, &c));
    REFUSED(rwcnn_png_load(path, 3, NULL, 0, NULL, NULL, NULL));
    REFUSED(rwcnn_png_load(path, 2, NULL, 0, &w, &h, &c));
    REFUSED(rwcnn_png_load(path, 3, out, 1, &w, &h, &c));
    COVER(rwcnn_image_load_memory);
    COVER(rwcnn_png_load_memory);
    REFUSED(rwcnn_image_load_memory(NULL, 10, 3, NULL, 0, &w, &h, &c));
    REFUSED(rwcnn_image_load_memory(bytes, 0, 3, NULL, 0, &w, &h, &c));
    REFUSED(rwcnn_image_load_memory(bytes, huge, 3, NULL, 0, &w, &h, &c));
    REFUSED(rwcnn_image_load_memory(bytes, sizeof bytes, 3, NULL, 0, NULL, &h, &c));
    REFUSED(rwcnn_png_load_memory(NULL, 10, 3, NULL, 0, &w, &h, &c));
    REFUSED(rwcnn_png_load_memory(bytes, 0, 3, NULL, 0, &w, &h, &c));
    REFUSED(rwcnn_png_load_memory(bytes, huge, 3, NULL, 0, &w, &h, &c));
    REFUSED(rwcnn_png_load_memory(bytes, sizeof bytes, 9, NULL, 0, &w, &h, &c));

    tmp_path(text, sizeof text, "hostile-args.png");
    COVER(rwcnn_png_save);
    REFUSED(rwcnn_png_save(NULL, img, 3, 32, 32, 8));
    REFUSED(rwcnn_png_save(text, NULL, 3, 32, 32, 8));
    REFUSED(rwcnn_png_save(text, img, 0, 32, 32, 8));
    REFUSED(rwcnn_png_save(text, img, 3, 0, 32, 8));
    REFUSED(rwcnn_png_save(text, img, 3, huge, huge, 8));
    REFUSED(rwcnn_png_save(text, img, 3, 32, big, 8));
    REFUSED(rwcnn_png_save(text, img, 2, 32, 32, 8));
    REFUSED(rwcnn_png_save(text, img, 3, 32, 32, 12));
    COVER(rwcnn_png_encode);
    REFUSED(rwcnn_png_encode(NULL, 3, 32, 32, 8, NULL, 0, &n));
    REFUSED(rwcnn_png_encode(img, 3, 32, 32, 8, NULL, 0, NULL));
    REFUSED(rwcnn_png_encode(img, 0, 32, 32, 8, NULL, 0, &n));
    REFUSED(rwcnn_png_encode(img, 3, huge, huge, 8, NULL, 0, &n));
    REFUSED(rwcnn_png_encode(img, 3, 32, 32, 3, NULL, 0, &n));
    REFUSED(rwcnn_png_encode(img, 3, 32, 32, 8, bytes, 1, &n));

    COVER(rwcnn_enum_name);
    CHECK(rwcnn_enum_name(-1, 0) == NULL || rwcnn_enum_name(-1, 0)[0] != '\0' || 1);
    name = rwcnn_enum_name(1 << 30, -(1 << 30));
    (void)name; /* NULL or a string, never a crash */
    COVER(rwcnn_enum_value);
    REFUSED(rwcnn_enum_value(0, NULL, &v));
    REFUSED(rwcnn_enum_value(0, "normal", NULL));
    REFUSED(rwcnn_enum_value(-7, "normal", &v));
    REFUSED(rwcnn_enum_value(0, "", &v));

    COVER(rwcnn_model_config_init);
    rwcnn_model_config_init(NULL); /* ignored */
    COVER(rwcnn_model_config_init_sized);
    REFUSED(rwcnn_model_config_init_sized(NULL, sizeof cfg));
    REFUSED(rwcnn_model_config_init_sized(&cfg, 0));
    REFUSED(rwcnn_model_config_init_sized(&cfg, huge));
    COVER(rwcnn_train_options_init_sized);
    REFUSED(rwcnn_train_options_init_sized(NULL, sizeof o));
    REFUSED(rwcnn_train_options_init_sized(&o, 1));
    REFUSED(rwcnn_train_options_init_sized(&o, big));
    COVER(rwcnn_synthesis_options_init_sized);
    REFUSED(rwcnn_synthesis_options_init_sized(NULL, 64));
    REFUSED(rwcnn_synthesis_options_init_sized(NULL, huge));
    COVER(rwcnn_fast_style_options_init_sized);
    REFUSED(rwcnn_fast_style_options_init_sized(NULL, 64));
    REFUSED(rwcnn_fast_style_options_init_sized(NULL, 0));
    COVER(rwcnn_model_create);
    REFUSED(rwcnn_model_create(NULL, &m));
    rwcnn_model_config_init(&cfg);
    cfg.arch = "8,M,16";
    cfg.cut = "conv2_1";
    cfg.decoder = RWCNN_DECODER_TIED;
    REFUSED(rwcnn_model_create(&cfg, NULL));
    cfg.struct_size = 0;
    REFUSED(rwcnn_model_create(&cfg, &m));
    CHECK_MESSAGE("struct_size");
    cfg.struct_size = 3;
    REFUSED(rwcnn_model_create(&cfg, &m));
    cfg.struct_size = sizeof cfg;
    cfg.arch = NULL;
    REFUSED(rwcnn_model_create(&cfg, &m));
    cfg.arch = "8,M,16";
    cfg.cut = NULL;
    REFUSED(rwcnn_model_create(&cfg, &m));
    cfg.cut = "conv2_1";
    cfg.width = -1;
    REFUSED(rwcnn_model_create(&cfg, &m));
    cfg.width = 1;
    CHECK(m == NULL);
    if (!CHECK_OK(rwcnn_model_create(&cfg, &m)))
        return;
    COVER(rwcnn_model_free);
    rwcnn_model_free(NULL);

    COVER(rwcnn_model_save);
    REFUSED(rwcnn_model_save(NULL, text));
    REFUSED(rwcnn_model_save(m, NULL));
    REFUSED(rwcnn_model_save(m, ""));
    COVER(rwcnn_model_load);
    REFUSED(rwcnn_model_load(NULL, &m2));
    REFUSED(rwcnn_model_load(text, NULL));
    COVER(rwcnn_model_serialize);
    REFUSED(rwcnn_model_serialize(NULL, NULL, 0, &n));
    REFUSED(rwcnn_model_serialize(m, NULL, 0, NULL));
    REFUSED(rwcnn_model_serialize(m, bytes, 1, &n));
    COVER(rwcnn_model_deserialize);
    REFUSED(rwcnn_model_deserialize(NULL, 10, &m2));
    REFUSED(rwcnn_model_deserialize(bytes, 0, &m2));
    REFUSED(rwcnn_model_deserialize(bytes, huge, &m2));
    REFUSED(rwcnn_model_deserialize(bytes, sizeof bytes, NULL));
    REFUSED(rwcnn_model_deserialize(bytes, sizeof bytes, &m2));
    CHECK(m2 == NULL);

    COVER(rwcnn_model_get_config);
    REFUSED(rwcnn_model_get_config(NULL, &got));
    REFUSED(rwcnn_model_get_config(m, NULL));
    memset(&got, 0, sizeof got);
    got.struct_size = 0;
    REFUSED(rwcnn_model_get_config(m, &got));
    CHECK_MESSAGE("struct_size");
    COVER(rwcnn_model_layer_count);
    REFUSED(rwcnn_model_layer_count(NULL, &n));
    REFUSED(rwcnn_model_layer_count(m, NULL));
    COVER(rwcnn_model_layer);
    REFUSED(rwcnn_model_layer(NULL, 0, 32, 32, &name, shape));
    REFUSED(rwcnn_model_layer(m, huge, 32, 32, &name, shape));
    REFUSED(rwcnn_model_layer(m, 0, huge, huge, &name, shape));
    REFUSED(rwcnn_model_layer(m, 0, 32, 32, NULL, NULL));
    COVER(rwcnn_model_layer_aliases);
    REFUSED(rwcnn_model_layer_aliases(NULL, 0, &name));
    REFUSED(rwcnn_model_layer_aliases(m, huge, &name));
    REFUSED(rwcnn_model_layer_aliases(m, 0, NULL));
    COVER(rwcnn_model_feature_shape);
    REFUSED(rwcnn_model_feature_shape(NULL, 32, 32, shape));
    REFUSED(rwcnn_model_feature_shape(m, 0, 32, shape));
    REFUSED(rwcnn_model_feature_shape(m, huge, huge, shape));
    REFUSED(rwcnn_model_feature_shape(m, 32, 32, NULL));
    COVER(rwcnn_model_decoded_shape);
    REFUSED(rwcnn_model_decoded_shape(NULL, 8, 8, shape));
    REFUSED(rwcnn_model_decoded_shape(m, 0, 8, shape));
    REFUSED(rwcnn_model_decoded_shape(m, huge, huge, shape));
    REFUSED(rwcnn_model_decoded_shape(m, 8, 8, NULL));

    COVER(rwcnn_model_encode);
    REFUSED(rwcnn_model_encode(NULL, img, 1, 3, 32, 32, out, 16 * 16 * 16));
    REFUSED(rwcnn_model_encode(m, NULL, 1, 3, 32, 32, out, 16 * 16 * 16));
    REFUSED(rwcnn_model_encode(m, img, 1, 3, 32, 32, NULL, 16 * 16 * 16));
    REFUSED(rwcnn_model_encode(m, img, 0, 3, 32, 32, out, 16 * 16 * 16));
    REFUSED(rwcnn_model_encode(m, img, 1, 3, 0, 32, out, 16 * 16 * 16));
    REFUSED(rwcnn_model_encode(m, img, huge, 3, 32, 32, out, huge));
    REFUSED(rwcnn_model_encode(m, img, 1, 3, huge, huge, out, huge));
    REFUSED(rwcnn_model_encode(m, img, big, 3, 32, 32, out, huge));
    REFUSED(rwcnn_model_encode(m, img, 1, 2, 32, 32, out, 16 * 16 * 16));
    REFUSED(rwcnn_model_encode(m, img, 1, 3, 32, 32, out, 1));
    COVER(rwcnn_model_decode);
    REFUSED(rwcnn_model_decode(NULL, img, 1, 16, 16, 16, out, 3 * 32 * 32));
    REFUSED(rwcnn_model_decode(m, NULL, 1, 16, 16, 16, out, 3 * 32 * 32));
    REFUSED(rwcnn_model_decode(m, img, 1, 16, 16, 16, NULL, 3 * 32 * 32));
    REFUSED(rwcnn_model_decode(m, img, 0, 16, 16, 16, out, 3 * 32 * 32));
    REFUSED(rwcnn_model_decode(m, img, huge, 16, huge, huge, out, huge));
    REFUSED(rwcnn_model_decode(m, img, 1, 16, big, big, out, huge));
    REFUSED(rwcnn_model_decode(m, img, 1, 5, 16, 16, out, 3 * 32 * 32));
    REFUSED(rwcnn_model_decode(m, img, 1, 16, 16, 16, out, 1));
    COVER(rwcnn_model_reconstruct);
    REFUSED(rwcnn_model_reconstruct(NULL, img, 1, 3, 32, 32, out, 3 * 32 * 32));
    REFUSED(rwcnn_model_reconstruct(m, NULL, 1, 3, 32, 32, out, 3 * 32 * 32));
    REFUSED(rwcnn_model_reconstruct(m, img, 1, 3, 32, 32, NULL, 3 * 32 * 32));
    REFUSED(rwcnn_model_reconstruct(m, img, 0, 3, 32, 32, out, 3 * 32 * 32));
    REFUSED(rwcnn_model_reconstruct(m, img, huge, 3, huge, huge, out, huge));
    REFUSED(rwcnn_model_reconstruct(m, img, big, 3, 32, 32, out, huge));
    REFUSED(rwcnn_model_reconstruct(m, img, 1, 3, 32, 32, out, 1));

    COVER(rwcnn_display_normalize);
    REFUSED(rwcnn_display_normalize(NULL, 1, 3, 32, 32));
    REFUSED(rwcnn_display_normalize(out, 0, 3, 32, 32));
    REFUSED(rwcnn_display_normalize(out, huge, huge, huge, huge));
    REFUSED(rwcnn_display_normalize(out, 1, 3, big, big));
    COVER(rwcnn_mse);
    COVER(rwcnn_psnr);
    COVER(rwcnn_ssim);
    COVER(rwcnn_colour_ssim);
    {
        rwcnn_status (*metrics[4])(const float *, const float *, size_t, size_t, size_t, size_t, double *) = {
            rwcnn_mse, rwcnn_psnr, rwcnn_ssim, rwcnn_colour_ssim};
        for (v = 0; v < 4; v++) {
            REFUSED(metrics[v](NULL, img, 1, 3, 32, 32, &d));
            REFUSED(metrics[v](img, NULL, 1, 3, 32, 32, &d));
            REFUSED(metrics[v](img, out, 1, 3, 32, 32, NULL));
            REFUSED(metrics[v](img, out, 0, 3, 32, 32, &d));
            REFUSED(metrics[v](img, out, huge, huge, huge, huge, &d));
            REFUSED(metrics[v](img, out, 1, 3, big, big, &d));
        }
    }
    COVER(rwcnn_fitted_psnr);
    for (v = 0; v < 2; v++) {
        REFUSED(rwcnn_fitted_psnr(NULL, img, 1, 3, 32, 32, v, &d));
        REFUSED(rwcnn_fitted_psnr(img, NULL, 1, 3, 32, 32, v, &d));
        REFUSED(rwcnn_fitted_psnr(img, out, 1, 3, 32, 32, v, NULL));
        REFUSED(rwcnn_fitted_psnr(img, out, 0, 3, 32, 32, v, &d));
        REFUSED(rwcnn_fitted_psnr(img, out, huge, huge, huge, huge, v, &d));
        REFUSED(rwcnn_fitted_psnr(img, out, 1, 3, big, big, v, &d));
    }
    REFUSED(rwcnn_fitted_psnr(img, out, 1, 3, 32, 32, 2, &d));
    REFUSED(rwcnn_fitted_psnr(img, out, 1, 3, 32, 32, -1, &d));

    COVER(rwcnn_model_load_torchvision);
    REFUSED(rwcnn_model_load_torchvision(NULL, text));
    REFUSED(rwcnn_model_load_torchvision(m, NULL));
    REFUSED(rwcnn_model_load_torchvision(m, ""));

    COVER(rwcnn_train_options_init);
    rwcnn_train_options_init(NULL); /* ignored */
    COVER(rwcnn_train);
    rwcnn_train_options_init(&o);
    o.data_dir = g_tmp;
    o.steps = 1;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    REFUSED(rwcnn_train(NULL, &o, &r));
    REFUSED(rwcnn_train(m, NULL, &r));
    o.struct_size = 0;
    REFUSED(rwcnn_train(m, &o, &r));
    CHECK_MESSAGE("struct_size");
    o.struct_size = sizeof o;
    o.data_dir = NULL;
    REFUSED(rwcnn_train(m, &o, &r));
    o.data_dir = g_tmp;
    o.batch = 0;
    REFUSED(rwcnn_train(m, &o, &r));
    rwcnn_train_options_init(&o);
    o.data_dir = g_tmp;
    o.batch = (int)(1u << 30);
    REFUSED(rwcnn_train(m, &o, &r));
    rwcnn_train_options_init(&o);
    o.data_dir = g_tmp;
    r.struct_size = 0;
    REFUSED(rwcnn_train(m, &o, &r));
    CHECK_MESSAGE("struct_size");

    COVER(rwcnn_image_resize_crop);
    REFUSED(rwcnn_image_resize_crop(NULL, 3, 32, 32, 16, out, 3 * 16 * 16));
    REFUSED(rwcnn_image_resize_crop(img, 3, 32, 32, 16, NULL, 3 * 16 * 16));
    REFUSED(rwcnn_image_resize_crop(img, 0, 32, 32, 16, out, 3 * 16 * 16));
    REFUSED(rwcnn_image_resize_crop(img, 3, 32, 32, 0, out, 3 * 16 * 16));
    REFUSED(rwcnn_image_resize_crop(img, 3, huge, huge, 16, out, huge));
    REFUSED(rwcnn_image_resize_crop(img, 3, 32, 32, big, out, huge));
    REFUSED(rwcnn_image_resize_crop(img, 3, 32, 32, 16, out, 1));
    COVER(rwcnn_image_resize_crop_batch);
    REFUSED(rwcnn_image_resize_crop_batch(NULL, 1, 3, 32, 32, 16, out, 3 * 16 * 16));
    REFUSED(rwcnn_image_resize_crop_batch(img, 1, 3, 32, 32, 16, NULL, 3 * 16 * 16));
    REFUSED(rwcnn_image_resize_crop_batch(img, 0, 3, 32, 32, 16, out, 3 * 16 * 16));
    REFUSED(rwcnn_image_resize_crop_batch(img, 1, 0, 32, 32, 16, out, 3 * 16 * 16));
    REFUSED(rwcnn_image_resize_crop_batch(img, 1, 3, 32, 32, 0, out, 3 * 16 * 16));
    REFUSED(rwcnn_image_resize_crop_batch(img, huge, 3, 32, 32, 16, out, huge));
    REFUSED(rwcnn_image_resize_crop_batch(img, 1, 3, huge, huge, 16, out, huge));
    REFUSED(rwcnn_image_resize_crop_batch(img, 1, 3, 32, 32, big, out, huge));
    REFUSED(rwcnn_image_resize_crop_batch(img, 1, 3, 32, 32, 16, out, 1));
    COVER(rwcnn_model_display);
    REFUSED(rwcnn_model_display(NULL, out, 1, 3, 32, 32));
    REFUSED(rwcnn_model_display(m, NULL, 1, 3, 32, 32));
    REFUSED(rwcnn_model_display(m, out, 0, 3, 32, 32));
    REFUSED(rwcnn_model_display(m, out, huge, huge, huge, huge));
    REFUSED(rwcnn_model_display(m, out, 1, 3, big, big));
    {
        rwcnn_trace *trace = NULL;
        COVER(rwcnn_model_encode_trace);
        REFUSED(rwcnn_model_encode_trace(NULL, img, 1, 3, 32, 32, out, 16 * 16 * 16, &trace));
        REFUSED(rwcnn_model_encode_trace(m, NULL, 1, 3, 32, 32, out, 16 * 16 * 16, &trace));
        REFUSED(rwcnn_model_encode_trace(m, img, 1, 3, 32, 32, out, 16 * 16 * 16, NULL));
        REFUSED(rwcnn_model_encode_trace(m, img, 0, 3, 32, 32, out, 16 * 16 * 16, &trace));
        REFUSED(rwcnn_model_encode_trace(m, img, huge, 3, huge, huge, out, huge, &trace));
        REFUSED(rwcnn_model_encode_trace(m, img, 1, 3, 32, 32, out, 1, &trace));
        CHECK(trace == NULL);
        COVER(rwcnn_model_decode_trace);
        REFUSED(rwcnn_model_decode_trace(m, NULL, img, 1, 16, 16, 16, out, 3 * 32 * 32));
        REFUSED(rwcnn_model_decode_trace(NULL, NULL, img, 1, 16, 16, 16, out, 3 * 32 * 32));
        COVER(rwcnn_trace_shapes);
        {
            size_t in4[4], f4[4];
            REFUSED(rwcnn_trace_shapes(NULL, in4, f4));
        }
        COVER(rwcnn_trace_free);
        rwcnn_trace_free(NULL);
    }
    {
        rwcnn_synthesis_options so;
        rwcnn_synthesis_result sr;
        const char *layers[1] = {"conv2_1"};
        const double weights[1] = {1};
        int centred = 7;
        COVER(rwcnn_synthesis_options_init_task);
        REFUSED(rwcnn_synthesis_options_init_task(&so, sizeof so, 3, &centred));
        REFUSED(rwcnn_synthesis_options_init_task(&so, sizeof so, -1, &centred));
        REFUSED(rwcnn_synthesis_options_init_task(&so, 3, RWCNN_TASK_STYLE, &centred));
        CHECK(centred == 7);
        CHECK_OK(rwcnn_synthesis_options_init_task(NULL, 0, RWCNN_TASK_STYLE, NULL));
        {
            rwcnn_task_defaults td;
            memset(&td, 0x5a, sizeof td);
            COVER(rwcnn_synthesis_task_defaults);
            REFUSED(rwcnn_synthesis_task_defaults(3, &td, sizeof td));
            REFUSED(rwcnn_synthesis_task_defaults(-1, &td, sizeof td));
            REFUSED(rwcnn_synthesis_task_defaults(RWCNN_TASK_STYLE, NULL, sizeof td));
            REFUSED(rwcnn_synthesis_task_defaults(RWCNN_TASK_STYLE, &td, 3));
            REFUSED(rwcnn_synthesis_task_defaults(RWCNN_TASK_STYLE, &td, (size_t)-1));
            CHECK(td.struct_size == 0x5a5a5a5a5a5a5a5aull); /* nothing written */
        }
        COVER(rwcnn_synthesis_options_init);
        rwcnn_synthesis_options_init(NULL); /* ignored */
        rwcnn_synthesis_options_init(&so);
        memset(&sr, 0, sizeof sr);
        sr.struct_size = sizeof sr;
        COVER(rwcnn_invert);
        REFUSED(rwcnn_invert(NULL, img, 1, 3, 32, 32, "conv2_1", 1, &so, out, 3 * 32 * 32, &sr));
        REFUSED(rwcnn_invert(m, NULL, 1, 3, 32, 32, "conv2_1", 1, &so, out, 3 * 32 * 32, &sr));
        REFUSED(rwcnn_invert(m, img, 1, 3, 32, 32, NULL, 1, &so, out, 3 * 32 * 32, &sr));
        REFUSED(rwcnn_invert(m, img, 1, 3, 32, 32, "conv2_1", 1, &so, NULL, 3 * 32 * 32, &sr));
        REFUSED(rwcnn_invert(m, img, 0, 3, 32, 32, "conv2_1", 1, &so, out, 3 * 32 * 32, &sr));
        REFUSED(rwcnn_invert(m, img, huge, 3, huge, huge, "conv2_1", 1, &so, out, huge, &sr));
        REFUSED(rwcnn_invert(m, img, 1, 3, 32, 32, "conv2_1", 1, &so, out, 1, &sr));
        COVER(rwcnn_texture);
        REFUSED(rwcnn_texture(NULL, img, 1, 3, 32, 32, layers, weights, 1, 1, 32, 32, &so, out, 3 * 32 * 32, &sr));
        REFUSED(rwcnn_texture(m, NULL, 1, 3, 32, 32, layers, weights, 1, 1, 32, 32, &so, out, 3 * 32 * 32, &sr));
        REFUSED(rwcnn_texture(m, img, 1, 3, 32, 32, NULL, weights, 1, 1, 32, 32, &so, out, 3 * 32 * 32, &sr));
        REFUSED(rwcnn_texture(m, img, 1, 3, 32, 32, layers, NULL, 1, 1, 32, 32, &so, out, 3 * 32 * 32, &sr));
        REFUSED(rwcnn_texture(m, img, 1, 3, 32, 32, layers, weights, 0, 1, 32, 32, &so, out, 3 * 32 * 32, &sr));
        REFUSED(rwcnn_texture(m, img, 1, 3, 32, 32, layers, weights, 1, huge, huge, huge, &so, out, huge, &sr));
        REFUSED(rwcnn_texture(m, img, 1, 3, 32, 32, layers, weights, 1, 1, 32, 32, &so, out, 1, &sr));
        COVER(rwcnn_style);
        REFUSED(rwcnn_style(NULL, img, 1, 3, 32, 32, img, 1, 32, 32, "conv2_1", 1, layers, weights, 1, &so, out,
                            3 * 32 * 32, &sr));
        REFUSED(rwcnn_style(m, NULL, 1, 3, 32, 32, img, 1, 32, 32, "conv2_1", 1, layers, weights, 1, &so, out,
                            3 * 32 * 32, &sr));
        REFUSED(rwcnn_style(m, img, 1, 3, 32, 32, NULL, 1, 32, 32, "conv2_1", 1, layers, weights, 1, &so, out,
                            3 * 32 * 32, &sr));
        REFUSED(rwcnn_style(m, img, 1, 3, 32, 32, img, 1, 32, 32, "conv2_1", 1, NULL, weights, 1, &so, out,
                            3 * 32 * 32, &sr));
        REFUSED(rwcnn_style(m, img, huge, 3, huge, huge, img, huge, huge, huge, "conv2_1", 1, layers, weights, 1,
                            &so, out, huge, &sr));
        REFUSED(rwcnn_style(m, img, 1, 3, 32, 32, img, 1, 32, 32, "conv2_1", 1, layers, weights, 1, &so, out, 1,
                            &sr));
    }
    {
        rwcnn_train_options to;
        rwcnn_fast_style_options fo;
        rwcnn_train_result tr;
        const char *layers[1] = {"conv2_1"};
        COVER(rwcnn_fast_style_options_init);
        rwcnn_fast_style_options_init(NULL); /* ignored */
        rwcnn_fast_style_options_init(&fo);
        rwcnn_train_options_init(&to);
        to.images = img;
        to.image_count = 1; to.image_height = 32; to.image_width = 32;
        to.eval_images = img;
        to.eval_count = 1; to.eval_height = 32; to.eval_width = 32;
        to.steps = 1; to.batch = 1; to.crop = 16;
        fo.style = img;
        fo.style_height = 32; fo.style_width = 32;
        fo.content_layer = "conv2_1";
        fo.style_layers = layers;
        fo.style_layer_count = 1;
        memset(&tr, 0, sizeof tr);
        tr.struct_size = sizeof tr;
        COVER(rwcnn_train_fast_style);
        REFUSED(rwcnn_train_fast_style(NULL, &to, &fo, &tr));
        REFUSED(rwcnn_train_fast_style(m, NULL, &fo, &tr));
        REFUSED(rwcnn_train_fast_style(m, &to, NULL, &tr));
        fo.style = NULL;
        REFUSED(rwcnn_train_fast_style(m, &to, &fo, &tr));
        fo.style = img;
        fo.style_height = huge; fo.style_width = huge;
        REFUSED(rwcnn_train_fast_style(m, &to, &fo, &tr));
        fo.style_height = 32; fo.style_width = 32;
        fo.content_layer = NULL;
        REFUSED(rwcnn_train_fast_style(m, &to, &fo, &tr));
        fo.content_layer = "conv2_1";
        fo.style_layers = NULL;
        REFUSED(rwcnn_train_fast_style(m, &to, &fo, &tr));
        fo.style_layers = layers;
        fo.style_layer_count = huge;
        REFUSED(rwcnn_train_fast_style(m, &to, &fo, &tr));
        fo.style_layer_count = 1;
        fo.losses = NULL;
        fo.losses_capacity = 5;
        REFUSED(rwcnn_train_fast_style(m, &to, &fo, &tr));
        fo.losses_capacity = huge;
        REFUSED(rwcnn_train_fast_style(m, &to, &fo, &tr));
        fo.losses_capacity = 0;
        fo.struct_size = 1;
        REFUSED(rwcnn_train_fast_style(m, &to, &fo, &tr));
        fo.struct_size = sizeof fo;
        fo.gram_normalization = (rwcnn_gram_normalization)9;
        REFUSED(rwcnn_train_fast_style(m, &to, &fo, &tr));
        fo.gram_normalization = RWCNN_GRAM_SCALED;
        fo.content_weight = -1;
        REFUSED(rwcnn_train_fast_style(m, &to, &fo, &tr));
        fo.content_weight = 1;
        to.struct_size = 0;
        REFUSED(rwcnn_train_fast_style(m, &to, &fo, &tr));
    }
    rwcnn_model_free(m);

    /* Every function the header declares has a case above. */
    snprintf(path, sizeof path, "%s/include/rwcnn.h", g_root);
    f = fopen(path, "r");
    CHECKF(f != NULL, "cannot read %s", path);
    if (f == NULL)
        return;
    while (fgets(text, sizeof text, f) != NULL) {
        char fn[128], key[132];
        size_t k = 0;
        if (text[0] == ' ' || text[0] == '*' || text[0] == '#' || text[0] == '/' || strchr(text, '(') == NULL)
            continue;
        at = strstr(text, "rwcnn_");
        while (at != NULL && at[strspn(at, "abcdefghijklmnopqrstuvwxyz_0123456789")] != '(')
            at = strstr(at + 1, "rwcnn_");
        if (at == NULL)
            continue;
        while (k + 1 < sizeof fn && (at[k] == '_' || (at[k] >= 'a' && at[k] <= 'z') || (at[k] >= '0' && at[k] <= '9')))
            fn[k] = at[k], k++;
        fn[k] = '\0';
        snprintf(key, sizeof key, " %s ", fn);
        CHECKF(strstr(g_covered, key) != NULL, "%s has no hostile-argument case in test_hostile_arguments", fn);
    }
    fclose(f);
}

/* ---- Front-end helpers, input values, older train options (issue 9) ------ */

static int count_progress(const rwcnn_progress *p, void *user)
{
    (void)p;
    ++*(int *)user;
    return 0;
}

static void test_front_end(void)
{
    enum { C = 3, H = 24, W = 40, S = 24, N = C * S * S };
    float *img = make_images(1, C, H, W, 21), *out = canary_floats(N), *flat = floats(3 * 30 * 50);
    float *raw = floats(C * H * W), *shown = floats(C * H * W), *bad = floats(C * H * W);
    rwcnn_model *tied = create_model("8,M,16", "pool1", 1, 5, RWCNN_DECODER_TIED, RWCNN_UNPOOL_NEAREST);
    rwcnn_model *trained = create_model("8,M,16", "pool1", 1, 5, RWCNN_DECODER_TRAINED, RWCNN_UNPOOL_NEAREST);
    rwcnn_model *m = NULL;
    rwcnn_train_options o;
    rwcnn_train_result r;
    size_t i, c, y, x, fs[3];
    char data_dir[1100];
    int calls = 0;
    float d = 0, lo, hi;

    section("rwcnn_image_resize_crop");
    /* The short side is already S: the resize is the identity and the
     * result is the middle S columns, exactly. */
    CHECK_OK(rwcnn_image_resize_crop(img, C, H, W, S, out, N));
    for (c = 0; c < C; c++)
        for (y = 0; y < S; y++)
            for (x = 0; x < S; x++) {
                float e = fabsf(out[(c * S + y) * S + x] - img[(c * H + y) * W + x + (W - S) / 2]);
                d = e > d ? e : d;
            }
    CHECKF(d == 0, "resize_crop at the image's own short side differs from its centre crop by %g", (double)d);
    CHECK(touched(out, N, N + CANARY) == 0);
    /* A real resize keeps a constant image constant (the weights sum to 1). */
    for (i = 0; i < 3 * 30 * 50; i++)
        flat[i] = 0.25f;
    CHECK_OK(rwcnn_image_resize_crop(flat, 3, 30, 50, 16, out, N));
    CHECK(max_abs_diff(out, flat, 3 * 16 * 16) <= 1e-6f);
    CHECK_STATUS(rwcnn_image_resize_crop(NULL, C, H, W, S, out, N), ARG);
    CHECK_STATUS(rwcnn_image_resize_crop(img, C, H, W, S, NULL, N), ARG);
    CHECK_STATUS(rwcnn_image_resize_crop(img, C, H, W, 0, out, N), ARG);
    CHECK_MESSAGE("size");
    CHECK_STATUS(rwcnn_image_resize_crop(img, 0, H, W, S, out, N), ARG);
    CHECK_STATUS(rwcnn_image_resize_crop(img, C, H, W, S, out, N - 1), RWCNN_ERR_BUFFER_TOO_SMALL);
    CHECK_MESSAGE_SIZE(N);
    memcpy(bad, img, C * H * W * sizeof(float));
    bad[7] = NAN;
    CHECK_STATUS(rwcnn_image_resize_crop(bad, C, H, W, S, out, N), ARG);
    CHECK_MESSAGE("NaN");

    section("rwcnn_image_resize_crop_batch");
    {
        /* A batch in one call gives exactly the pixels of one call per image. */
        enum { B = 3, BH = 20, BW = 28, BS = 12, BN = B * C * BS * BS };
        float *batch = make_images(B, C, BH, BW, 33), *all = canary_floats(BN), *one = floats(C * BS * BS);
        CHECK_OK(rwcnn_image_resize_crop_batch(batch, B, C, BH, BW, BS, all, BN));
        CHECK(touched(all, BN, BN + CANARY) == 0);
        for (i = 0; i < B; i++) {
            CHECK_OK(rwcnn_image_resize_crop(batch + i * C * BH * BW, C, BH, BW, BS, one, C * BS * BS));
            CHECKF(memcmp(one, all + i * C * BS * BS, C * BS * BS * sizeof(float)) == 0,
                   "batch image %zu differs from its own call", i);
        }
        CHECK_STATUS(rwcnn_image_resize_crop_batch(batch, B, C, BH, BW, BS, all, BN - 1), RWCNN_ERR_BUFFER_TOO_SMALL);
        CHECK_MESSAGE_SIZE(BN);
        batch[BN / 2] = NAN;
        CHECK_STATUS(rwcnn_image_resize_crop_batch(batch, B, C, BH, BW, BS, all, BN), ARG);
        CHECK_MESSAGE("NaN");
        free(batch);
        free(all);
        free(one);
    }

    section("rwcnn_model_display");
    if (tied == NULL || trained == NULL)
        goto done;
    CHECK_STATUS(rwcnn_model_display(NULL, raw, 1, C, H, W), ARG);
    CHECK_STATUS(rwcnn_model_display(tied, NULL, 1, C, H, W), ARG);
    /* Tied: min-max normalised over the whole image (naive reference). */
    CHECK_OK(rwcnn_model_reconstruct(tied, img, 1, C, H, W, raw, C * H * W));
    memcpy(shown, raw, sizeof(float) * C * H * W);
    CHECK_OK(rwcnn_model_display(tied, shown, 1, C, H, W));
    lo = hi = raw[0];
    for (i = 0; i < C * H * W; i++) {
        lo = raw[i] < lo ? raw[i] : lo;
        hi = raw[i] > hi ? raw[i] : hi;
    }
    d = 0;
    for (i = 0; i < C * H * W; i++) {
        float e = fabsf(shown[i] - (float)(((double)raw[i] - lo) / ((double)hi - lo)));
        d = e > d ? e : d;
    }
    CHECKF(hi > lo && d <= 1e-6f, "tied display differs from min-max normalisation by %g", (double)d);
    /* Trained: clamped to [0, 1] (naive reference), not normalised. */
    CHECK_OK(rwcnn_model_reconstruct(trained, img, 1, C, H, W, raw, C * H * W));
    memcpy(shown, raw, sizeof(float) * C * H * W);
    CHECK_OK(rwcnn_model_display(trained, shown, 1, C, H, W));
    d = 0;
    for (i = 0; i < C * H * W; i++) {
        float want = raw[i] < 0 ? 0 : raw[i] > 1 ? 1 : raw[i];
        float e = fabsf(shown[i] - want);
        d = e > d ? e : d;
    }
    CHECKF(d == 0, "trained display differs from clamping by %g", (double)d);

    section("encoder input values: NaN, infinity, 0..255");
    memcpy(bad, img, C * H * W * sizeof(float));
    bad[11] = NAN;
    CHECK_STATUS(rwcnn_model_reconstruct(tied, bad, 1, C, H, W, raw, C * H * W), ARG);
    CHECK_MESSAGE("NaN");
    CHECK_OK(rwcnn_model_feature_shape(tied, H, W, fs));
    CHECK_STATUS(rwcnn_model_encode(tied, bad, 1, C, H, W, shown, C * H * W), ARG);
    bad[11] = INFINITY;
    CHECK_STATUS(rwcnn_model_encode(tied, bad, 1, C, H, W, shown, C * H * W), ARG);
    CHECK_MESSAGE("infinite");
    for (i = 0; i < C * H * W; i++)
        bad[i] = img[i] * 255.0f;
    CHECK_STATUS(rwcnn_model_reconstruct(tied, bad, 1, C, H, W, raw, C * H * W), ARG);
    CHECK_MESSAGE("0..255");
    /* Features: finite only (their scale is free). */
    for (i = 0; i < fs[0] * fs[1] * fs[2]; i++)
        bad[i] = 1000.0f;
    CHECK_OK(rwcnn_model_decode(tied, bad, 1, fs[0], fs[1], fs[2], raw, C * H * W));
    bad[3] = NAN;
    CHECK_STATUS(rwcnn_model_decode(tied, bad, 1, fs[0], fs[1], fs[2], raw, C * H * W), ARG);
    CHECK_MESSAGE("features");

    section("rwcnn_train_options as an older, smaller struct");
    /* Built against a header without `progress` and `user`: those fields
     * must not be read (here they hold a callback that counts its calls). */
    snprintf(data_dir, sizeof data_dir, "%s/data/images", g_root);
    rwcnn_train_options_init(&o);
    o.data_dir = data_dir;
    o.steps = 1;
    o.batch = 1;
    o.crop = 16;
    o.eval_every = 0;
    o.checkpoint_every = 0;
    o.progress = count_progress;
    o.user = &calls;
    o.struct_size = offsetof(rwcnn_train_options, progress);
    m = create_model("8,M,16", "pool1", 1, 5, RWCNN_DECODER_TRAINED, RWCNN_UNPOOL_NEAREST);
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    if (m != NULL) {
        CHECK_OK(rwcnn_train(m, &o, &r));
        CHECK(r.steps_done == 1 && calls == 0);
        /* The full struct: the callback is called. */
        o.struct_size = sizeof o;
        o.steps = 2;
        CHECK_OK(rwcnn_train(m, &o, &r));
        CHECK(calls > 0);
        /* Older still (up to `resume`): resume = 1 past the end is not read,
         * so no checkpoint is needed. */
        o.struct_size = offsetof(rwcnn_train_options, resume);
        o.resume = 1;
        o.steps = 1;
        CHECK_OK(rwcnn_train(m, &o, &r));
    }

done:
    rwcnn_model_free(m);
    rwcnn_model_free(tied);
    rwcnn_model_free(trained);
    free(img);
    free(out);
    free(flat);
    free(raw);
    free(shown);
    free(bad);
}
/* Training from memory and the encoder trace (issue 9), in a file of their own. */
#include "capi_surfaces.c"
/* ---- fast style transfer (rwcnn_train_fast_style) ------------------------- */

static int fast_style_steps;

static int fast_style_progress(const rwcnn_progress *p, void *user)
{
    (void)user;
    if (p->kind == RWCNN_PROGRESS_STEP) fast_style_steps++;
    return 0;
}

/* A short run from memory: the loss curve, the result, a cancel, a refused
 * resume with another style, a tied decoder. */
static void test_fast_style(const float *x, size_t n, size_t h, size_t w)
{
    rwcnn_model_config cfg;
    rwcnn_train_options to;
    rwcnn_fast_style_options fo;
    rwcnn_train_result tr;
    rwcnn_model *m = NULL, *tied = NULL;
    const char *layers[] = {"conv1_1", "pool1"};
    double losses[8];
    char ckpt[1200];
    size_t i;
    float *style = make_images(1, 3, 20, 20, 9);
    section("rwcnn_train_fast_style");
    rwcnn_model_config_init(&cfg);
    cfg.arch = "8,A,8";
    cfg.cut = "conv2_1";
    cfg.decoder = RWCNN_DECODER_TRAINED;
    CHECK_OK(rwcnn_model_create(&cfg, &m));
    CHECK_OK(rwcnn_fast_style_options_init_sized(&fo, sizeof fo));
    CHECK(fo.struct_size == sizeof fo && fo.content_weight == 1 && fo.tv_weight == 0 && fo.tv_beta == 2 &&
          fo.feature_normalization == RWCNN_FEATURE_RELATIVE && fo.gram_normalization == RWCNN_GRAM_SCALED &&
          fo.output_layer_scale == 0.1);
    fo.style = style;
    fo.style_height = 20; fo.style_width = 20;
    fo.content_layer = "conv2_1";
    fo.style_layers = layers;
    fo.style_layer_count = 2;
    fo.losses = losses;
    fo.losses_capacity = 8;
    rwcnn_train_options_init(&to);
    to.images = x;
    to.image_count = n; to.image_height = h; to.image_width = w;
    to.eval_images = x;
    to.eval_count = n; to.eval_height = h; to.eval_width = w;
    to.steps = 6; to.batch = 2; to.crop = 12; to.learning_rate = 3e-3;
    to.eval_every = 0; to.checkpoint_every = 0;
    to.progress = fast_style_progress;
    snprintf(ckpt, sizeof ckpt, "%s/fast_style.safetensors", g_tmp);
    to.checkpoint = ckpt;
    memset(&tr, 0, sizeof tr);
    tr.struct_size = sizeof tr;
    fast_style_steps = 0;
    CHECK_OK(rwcnn_train_fast_style(m, &to, &fo, &tr));
    CHECK(tr.steps_done == 6 && tr.losses_written == 6 && fast_style_steps == 6 && tr.has_eval);
    for (i = 0; i < 6; i++) CHECK(losses[i] > 0 && losses[i] == losses[i]);
    CHECK(tr.final_loss == losses[5]);
    /* a resume with another style image is refused, naming it */
    fo.style = x;
    fo.style_height = h; fo.style_width = w;
    to.resume = 1;
    to.steps = 8;
    CHECK_STATUS(rwcnn_train_fast_style(m, &to, &fo, &tr), ARG);
    CHECK_MESSAGE("style");
    /* nor as plain reconstruction training */
    CHECK_STATUS(rwcnn_train(m, &to, &tr), ARG);
    CHECK_MESSAGE("fast-style");
    to.resume = 0;
    to.checkpoint = NULL;
    /* plain rwcnn_train writes no loss curve */
    to.steps = 1;
    CHECK_OK(rwcnn_train(m, &to, &tr));
    CHECK(tr.losses_written == 0);
    /* a layer past the cut, no style layers, a tied decoder */
    layers[1] = "conv3_1";
    CHECK_STATUS(rwcnn_train_fast_style(m, &to, &fo, &tr), ARG);
    CHECK_MESSAGE("conv3_1");
    layers[1] = "pool1";
    fo.style_layer_count = 0;
    CHECK_STATUS(rwcnn_train_fast_style(m, &to, &fo, &tr), ARG);
    CHECK_MESSAGE("no style layers");
    fo.style_layer_count = 2;
    fo.output_layer_scale = 1.5;
    CHECK_STATUS(rwcnn_train_fast_style(m, &to, &fo, &tr), ARG);
    CHECK_MESSAGE("output layer scale");
    fo.output_layer_scale = 0.1;
    cfg.decoder = RWCNN_DECODER_TIED;
    CHECK_OK(rwcnn_model_create(&cfg, &tied));
    CHECK_STATUS(rwcnn_train_fast_style(tied, &to, &fo, &tr), ARG);
    CHECK_MESSAGE("tied");
    rwcnn_model_free(tied);
    rwcnn_model_free(m);
    free(style);
}

/* ---- image synthesis (rwcnn_invert / rwcnn_texture / rwcnn_style) ---------- */

static int synthesis_calls;

static int synthesis_progress(const rwcnn_synthesis_progress *p, void *user)
{
    size_t i, count = p->n * p->channels * p->height * p->width;
    synthesis_calls++;
    if (p->struct_size != sizeof(rwcnn_synthesis_progress) || p->image == NULL || p->step != (size_t)synthesis_calls)
        return 1;
    for (i = 0; i < count; i++)
        if (!(p->image[i] >= 0 && p->image[i] <= 1)) return 1; /* clamped */
    return synthesis_calls >= *(int *)user; /* cancel after that many */
}

static void test_synthesis(void)
{
    rwcnn_model_config cfg;
    rwcnn_synthesis_options o;
    rwcnn_synthesis_result r;
    rwcnn_model *m = NULL;
    const size_t h = 16, w = 16, n = 2, count = n * 3 * h * w;
    float *x = make_images(n, 3, h, w, 5), *out = canary_floats(count), *tex = canary_floats(3 * 20 * 12);
    double losses[16];
    const char *layers[] = {"conv1_1", "relu2_1"};
    const char *bad_layers[] = {"conv1_1", "conv7_7"};
    const char *deep[] = {"pool2"};
    double weights[] = {1.0, 0.5}, negative[] = {1.0, -0.5};
    int stop_after = 1000;
    section("rwcnn_invert / rwcnn_texture / rwcnn_style");
    rwcnn_model_config_init(&cfg);
    cfg.arch = "8,A,8,M,8";
    cfg.cut = "conv2_1";
    CHECK_OK(rwcnn_model_create(&cfg, &m));
    rwcnn_synthesis_options_init(NULL);
    rwcnn_synthesis_options_init(&o);
    CHECK(o.struct_size == sizeof o && o.steps == 200 && o.optimizer == RWCNN_SYNTHESIS_ADAM && o.clamp == 1 &&
          o.scales == 1 && o.feature_normalization == RWCNN_FEATURE_RELATIVE && o.gram_normalization == RWCNN_GRAM_SCALED);
    {
        /* per-task defaults: invert as _init on raw input; texture and style L-BFGS on centred input */
        rwcnn_synthesis_options t;
        int centred = 7, task;
        for (task = RWCNN_TASK_INVERT; task <= RWCNN_TASK_STYLE; task++) {
            memset(&t, 0xff, sizeof t);
            CHECK_OK(rwcnn_synthesis_options_init_task(&t, sizeof t, task, &centred));
            CHECK(t.struct_size == sizeof t && t.steps == o.steps && t.learning_rate == o.learning_rate &&
                  t.clamp == 1 && t.progress == NULL && t.losses == NULL && t.losses_capacity == 0);
            CHECK(t.optimizer == (task == RWCNN_TASK_INVERT ? RWCNN_SYNTHESIS_ADAM : RWCNN_SYNTHESIS_LBFGS));
            CHECK(centred == (task == RWCNN_TASK_INVERT ? 0 : 1));
        }
    }
    {
        /* what each task uses when nothing more is named: invert on VGG16's max pools, texture and style
           on average pools, style with Gatys et al.'s layers */
        rwcnn_task_defaults d;
        const char *style_layers[5] = {"conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"};
        size_t i, prefix = offsetof(rwcnn_task_defaults, arch) + sizeof d.arch;
        CHECK_OK(rwcnn_synthesis_task_defaults(RWCNN_TASK_INVERT, &d, sizeof d));
        CHECK(d.struct_size == sizeof d && strcmp(d.arch, "vgg16") == 0 && d.content_layer == NULL &&
              d.content_weight == 0 && d.style_layers == NULL && d.style_layer_count == 0);
        CHECK_OK(rwcnn_synthesis_task_defaults(RWCNN_TASK_TEXTURE, &d, sizeof d));
        CHECK(strcmp(d.arch, "vgg16-avg") == 0 && d.content_layer == NULL && d.style_layer_count == 0);
        CHECK_OK(rwcnn_synthesis_task_defaults(RWCNN_TASK_STYLE, &d, sizeof d));
        CHECK(strcmp(d.arch, "vgg16-avg") == 0 && strcmp(d.content_layer, "conv4_2") == 0 &&
              d.content_weight == 1.0 && d.style_layer_count == 5);
        for (i = 0; i < 5 && d.style_layer_count == 5; i++) CHECK(strcmp(d.style_layers[i], style_layers[i]) == 0);
        /* a shorter (older) struct is written only as far as its size */
        memset(&d, 0x5a, sizeof d);
        CHECK_OK(rwcnn_synthesis_task_defaults(RWCNN_TASK_STYLE, &d, prefix));
        CHECK(d.struct_size == prefix && strcmp(d.arch, "vgg16-avg") == 0 &&
              d.style_layer_count == 0x5a5a5a5a5a5a5a5aull);
    }
    o.steps = 6;
    o.losses = losses;
    o.losses_capacity = 4;
    o.progress = synthesis_progress;
    o.user = &stop_after;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    synthesis_calls = 0;
    CHECK_OK(rwcnn_invert(m, x, n, 3, h, w, "relu2_1", 1.0, &o, out, count, &r));
    CHECK(synthesis_calls == 6 && r.steps_done == 6 && r.losses_written == 4);
    CHECK(r.final_loss < r.start_loss && losses[3] < losses[0]);
    CHECK(touched(out, count, count + CANARY) == 0 && all_finite(out, count));
    /* defaults for NULL options and result */
    o.steps = 2;
    o.progress = NULL;
    CHECK_OK(rwcnn_invert(m, x, 1, 3, h, w, "conv1_1", 1.0, &o, out, count, NULL));
    /* texture at another size, two layers, weights; then style */
    CHECK_OK(rwcnn_texture(m, x, 1, 3, h, w, layers, weights, 2, 1, 20, 12, &o, tex, 3 * 20 * 12, &r));
    CHECK(touched(tex, 3 * 20 * 12, 3 * 20 * 12 + CANARY) == 0 && r.final_loss < r.start_loss);
    CHECK_OK(rwcnn_style(m, x, n, 3, h, w, x, 1, h, w, "conv2_1", 1.0, layers, NULL, 2, &o, out, count, &r));
    /* cancel */
    o.progress = synthesis_progress;
    stop_after = 1;
    synthesis_calls = 0;
    CHECK_STATUS(rwcnn_invert(m, x, n, 3, h, w, "conv2_1", 1.0, &o, out, count, &r), RWCNN_ERR_CANCELLED);
    CHECK(synthesis_calls == 1);
    o.progress = NULL;
    /* bad options, each a clear message */
    CHECK_STATUS(rwcnn_texture(m, x, 1, 3, h, w, layers, NULL, 0, 1, h, w, &o, out, count, &r), ARG);
    CHECK_MESSAGE("no layers given");
    CHECK_STATUS(rwcnn_texture(m, x, 1, 3, h, w, bad_layers, NULL, 2, 1, h, w, &o, out, count, &r), ARG);
    CHECK_MESSAGE("unknown layer");
    CHECK_STATUS(rwcnn_texture(m, x, 1, 3, h, w, deep, NULL, 1, 1, h, w, &o, out, count, &r), ARG);
    CHECK_MESSAGE("past the model's cut");
    CHECK_STATUS(rwcnn_texture(m, x, 1, 3, h, w, layers, negative, 2, 1, h, w, &o, out, count, &r), ARG);
    CHECK_MESSAGE("must be finite and at least 0");
    CHECK_STATUS(rwcnn_invert(m, x, 1, 3, h, w, "conv1_1", -1.0, &o, out, count, &r), ARG);
    CHECK_MESSAGE("at least 0");
    CHECK_STATUS(rwcnn_texture(m, x, 1, 3, h, w, layers, NULL, 2, 1, 1, 12, &o, out, count, &r), ARG);
    CHECK_MESSAGE("too small");
    CHECK_STATUS(rwcnn_invert(m, x, 1, 3, 1, 1, "conv2_1", 1.0, &o, out, count, &r), ARG);
    CHECK_MESSAGE("too small");
    o.steps = 0;
    CHECK_STATUS(rwcnn_invert(m, x, 1, 3, h, w, "conv1_1", 1.0, &o, out, count, &r), ARG);
    CHECK_MESSAGE("steps must be");
    o.steps = 2;
    o.optimizer = (rwcnn_synthesis_optimizer)7;
    CHECK_STATUS(rwcnn_invert(m, x, 1, 3, h, w, "conv1_1", 1.0, &o, out, count, &r), ARG);
    CHECK_MESSAGE("rwcnn_synthesis_optimizer");
    o.optimizer = RWCNN_SYNTHESIS_LBFGS;
    o.learning_rate = -1; /* Adam's only: still checked */
    CHECK_STATUS(rwcnn_invert(m, x, 1, 3, h, w, "conv1_1", 1.0, &o, out, count, &r), ARG);
    CHECK_MESSAGE("learning rate");
    o.learning_rate = 0.05;
    o.losses = NULL;
    CHECK_STATUS(rwcnn_invert(m, x, 1, 3, h, w, "conv1_1", 1.0, &o, out, count, &r), ARG);
    CHECK_MESSAGE("options.losses");
    o.losses_capacity = 0;
    CHECK_STATUS(rwcnn_invert(m, x, 1, 3, h, w, NULL, 1.0, &o, out, count, &r), ARG);
    CHECK_STATUS(rwcnn_invert(m, NULL, 1, 3, h, w, "conv1_1", 1.0, &o, out, count, &r), ARG);
    CHECK_STATUS(rwcnn_invert(NULL, x, 1, 3, h, w, "conv1_1", 1.0, &o, out, count, &r), ARG);
    CHECK_STATUS(rwcnn_texture(m, x, 1, 3, h, w, NULL, NULL, 2, 1, h, w, &o, out, count, &r), ARG);
    CHECK_STATUS(rwcnn_invert(m, x, n, 3, h, w, "conv1_1", 1.0, &o, out, count - 1, &r), RWCNN_ERR_BUFFER_TOO_SMALL);
    CHECK_STATUS(rwcnn_invert(m, x, (size_t)-1, 3, h, w, "conv1_1", 1.0, &o, out, count, &r), ARG);
    o.struct_size = 3;
    CHECK_STATUS(rwcnn_invert(m, x, 1, 3, h, w, "conv1_1", 1.0, &o, out, count, &r), ARG);
    CHECK_MESSAGE("struct_size");
    /* an older, smaller options struct: the fields it lacks take their defaults */
    o.struct_size = offsetof(rwcnn_synthesis_options, optimizer);
    o.steps = 1;
    CHECK_OK(rwcnn_invert(m, x, 1, 3, h, w, "conv1_1", 1.0, &o, out, count, &r));
    CHECK(r.steps_done == 1);
    rwcnn_model_free(m);
    test_fast_style(x, n, h, w);
    free(x);
    free(out);
    free(tex);
}

/* RWCNN_TEST_ONLY=name,name (without "test_") runs only those tests: for
 * targeted runs while working; ctest runs them all. */
static int selected(const char *name)
{
    const char *only = getenv("RWCNN_TEST_ONLY"), *p;
    size_t n = strlen(name);
    if (only == NULL || only[0] == '\0')
        return 1;
    for (p = only; p != NULL; p = strchr(p, ','), p = p ? p + 1 : NULL)
        if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

#define RUN(test)                                                                                            \
    do {                                                                                                     \
        if (selected(#test + 5))                                                                             \
            test();                                                                                          \
    } while (0)

int main(int argc, char **argv)
{
    char probe[1100];
    const char *first_error;
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            g_quick = 1;
        else if (g_root == NULL)
            g_root = argv[i];
        else {
            fprintf(stderr, "usage: test_capi REPO_ROOT [--quick]\n");
            return 2;
        }
    }
    if (g_root == NULL) {
        fprintf(stderr, "usage: test_capi REPO_ROOT [--quick]\n");
        return 2;
    }
    snprintf(probe, sizeof probe, "%s/data/images/astronaut.png", g_root);
    if (!file_exists(probe)) {
        fprintf(stderr, "test_capi: %s not found; pass the repository root\n", probe);
        return 2;
    }
    {
        const char *base = getenv("TMPDIR");
        snprintf(g_tmp, sizeof g_tmp, "%s/rwcnn-test-capi-XXXXXX", base && base[0] ? base : "/tmp");
        if (mkdtemp(g_tmp) == NULL) {
            fprintf(stderr, "test_capi: mkdtemp(%s): %s\n", g_tmp, strerror(errno));
            return 2;
        }
    }

    /* Before any failure on this thread, the message is "". */
    first_error = rwcnn_last_error();
    CHECKF(first_error != NULL && first_error[0] == '\0', "rwcnn_last_error() before any failure: \"%s\"",
           first_error ? first_error : "(null)");

    printf("rwcnn %s, %d threads, temporary files in %s\n", rwcnn_version(), rwcnn_get_threads(), g_tmp);
    RUN(test_hostile);
    RUN(test_hostile_arguments);
    RUN(test_version);
    RUN(test_status_names);
    RUN(test_threads);
    RUN(test_last_error_thread_local);
    RUN(test_enum_names);
    RUN(test_png_load);
    RUN(test_image_load);
    RUN(test_png_save_encode);
    RUN(test_metrics);
    RUN(test_colour_fitted);
    RUN(test_model_config);
    RUN(test_sized_init);
    RUN(test_model_queries);
    RUN(test_encode_decode);
    RUN(test_small_input_before_cut);
    RUN(test_tied_quality);
    RUN(test_model_files);
    RUN(test_torchvision);
    RUN(test_training);
    RUN(test_train_from_memory);
    RUN(test_trace);
    RUN(test_concurrency);
    RUN(test_front_end);
    RUN(test_synthesis);

    if (getenv("RWCNN_TEST_KEEP") == NULL)
        remove_tree(g_tmp);
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
