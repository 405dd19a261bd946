/*
 * Part of test_capi (included by test_capi.c, so it shares its runner and
 * helpers): training from memory (rwcnn_train_options.images / batch_fn) and
 * the encoder trace (rwcnn_trace), good and hostile arguments.
 */

/* ---- Training from memory ----------------------------------------------------------- */

typedef struct {
    const float *batch;      /* what to fill (batch x 3 x crop x crop floats), NULL: leave the NaNs */
    size_t floats;
    int fail_at_step;        /* 1-based step to return `status` at (0: never) */
    int status;
    const char *reason;      /* written into batch->message with the failure (NULL: none) */
    int calls, bad_fields;
    size_t first_step, last_step;
} batch_log;

static int fill_batch(const rwcnn_batch *b, void *user)
{
    batch_log *log = (batch_log *)user;
    if (b == NULL || log == NULL)
        return RWCNN_ERR_ARGUMENT;
    if (b->struct_size < sizeof(rwcnn_batch) || b->images == NULL || b->channels != 3 ||
        b->capacity != b->batch * b->channels * b->height * b->width || b->height != b->width)
        log->bad_fields++;
    if (log->calls == 0)
        log->first_step = b->step;
    else if (b->step != log->last_step + 1)
        log->bad_fields++;
    log->last_step = b->step;
    log->calls++;
    if (b->message == NULL || b->message_capacity < 256 || b->message[0] != '\0')
        log->bad_fields++;
    if (log->fail_at_step > 0 && b->step + 1 == (size_t)log->fail_at_step) {
        if (log->reason != NULL && b->message != NULL)
            snprintf(b->message, b->message_capacity, "%s", log->reason);
        return log->status;
    }
    if (log->batch != NULL && log->floats == b->capacity)
        memcpy(b->images, log->batch, b->capacity * sizeof(float));
    return RWCNN_OK;
}

static void memory_options(rwcnn_train_options *o, const float *images, size_t n, size_t side)
{
    rwcnn_train_options_init(o);
    o->images = images;
    o->image_count = n;
    o->image_height = side;
    o->image_width = side;
    o->steps = 2;
    o->batch = 2;
    o->crop = 32;
    o->eval_every = 0;
    o->checkpoint_every = 0;
}

/* Trains m on `o` (images in memory) and m2 on the folders holding the same
 * files with the same settings: the two runs must agree exactly. */
static void check_same_run_as_folders(rwcnn_model *m, rwcnn_model *m2, const rwcnn_train_options *o,
                                      const char *dir, const char *eval_dir, const char *what,
                                      rwcnn_train_result *r, rwcnn_train_result *r2)
{
    rwcnn_train_options f;
    memset(r, 0, sizeof *r);
    r->struct_size = sizeof *r;
    CHECK_OK(rwcnn_train(m, o, r));
    rwcnn_train_options_init(&f);
    f.data_dir = dir;
    f.eval_dir = eval_dir;
    f.steps = o->steps;
    f.batch = o->batch;
    f.crop = o->crop;
    f.eval_every = o->eval_every;
    f.checkpoint_every = o->checkpoint_every;
    memset(r2, 0, sizeof *r2);
    r2->struct_size = sizeof *r2;
    CHECK_OK(rwcnn_train(m2, &f, r2));
    CHECKF(r->final_loss == r2->final_loss && r->eval_mse == r2->eval_mse,
           "%s: loss %.9g eval %.9g; folder: loss %.9g eval %.9g", what, r->final_loss, r->eval_mse,
           r2->final_loss, r2->eval_mse);
}

static void test_train_from_memory(void)
{
    enum { N = 4, S = 40, C = 32 };
    float *images = make_images(N, 3, S, S, 5), *held = make_images(2, 3, S, S, 9);
    float *crops = make_images(2, 3, C, C, 2);
    float *nan_images = make_images(N, 3, S, S, 5);
    char dir[1100], eval_dir[1100], path[1100], ck[1100];
    rwcnn_train_options o, bad;
    rwcnn_train_result r, r2;
    batch_log log;
    rwcnn_model *m = training_model(), *m2 = training_model();
    int threads = rwcnn_get_threads();
    size_t i, w_, h_;

    section("rwcnn_train from images: the same run as the folder of the same images");
    CHECK_OK(rwcnn_set_threads(1));
    if (m == NULL || m2 == NULL)
        goto done;
    /* The images in memory are the PNG files as the library reads them back. */
    tmp_path(dir, sizeof dir, "memory-photos");
    tmp_path(eval_dir, sizeof eval_dir, "memory-held");
    mkdir(dir, 0700);
    mkdir(eval_dir, 0700);
    for (i = 0; i < N; i++) {
        char name[64];
        snprintf(name, sizeof name, "memory-photos/%zu.png", i);
        CHECK_OK(rwcnn_png_save(tmp_path(path, sizeof path, name), images + i * 3 * S * S, 3, S, S, 8));
        CHECK_OK(rwcnn_png_load(path, 3, images + i * 3 * S * S, 3 * S * S, &w_, &h_, NULL));
    }
    for (i = 0; i < 2; i++) {
        char name[64];
        snprintf(name, sizeof name, "memory-held/%zu.png", i);
        CHECK_OK(rwcnn_png_save(tmp_path(path, sizeof path, name), held + i * 3 * S * S, 3, S, S, 8));
        CHECK_OK(rwcnn_png_load(path, 3, held + i * 3 * S * S, 3 * S * S, &w_, &h_, NULL));
    }
    memory_options(&o, images, N, S);
    o.eval_images = held;
    o.eval_count = 2;
    o.eval_height = S;
    o.eval_width = S;
    check_same_run_as_folders(m, m2, &o, dir, eval_dir, "images", &r, &r2);
    CHECK(r.train_images == N && r.eval_images == 2 && r2.train_images == N);

    section("rwcnn_train from images of different sizes (image_shapes): the folder's run");
    {
        static const size_t sizes[N][2] = {{40, 40}, {36, 48}, {44, 34}, {40, 52}};
        size_t shapes[2 * N], held_shapes[4] = {S, S, S, S}, total = 0, at = 0;
        float *mixed, *one;
        char mixed_dir[1100];
        for (i = 0; i < N; i++) {
            shapes[2 * i] = sizes[i][0];
            shapes[2 * i + 1] = sizes[i][1];
            total += 3 * sizes[i][0] * sizes[i][1];
        }
        mixed = floats(total);
        tmp_path(mixed_dir, sizeof mixed_dir, "memory-mixed");
        mkdir(mixed_dir, 0700);
        for (i = 0; i < N; i++) {
            char name[64];
            size_t n = 3 * sizes[i][0] * sizes[i][1];
            one = make_images(1, 3, sizes[i][0], sizes[i][1], (unsigned)(40 + i));
            snprintf(name, sizeof name, "memory-mixed/%zu.png", i);
            CHECK_OK(rwcnn_png_save(tmp_path(path, sizeof path, name), one, 3, sizes[i][0], sizes[i][1], 8));
            CHECK_OK(rwcnn_png_load(path, 3, mixed + at, n, &w_, &h_, NULL));
            at += n;
            free(one);
        }
        memory_options(&o, mixed, N, 0);
        o.image_shapes = shapes;
        o.eval_images = held;
        o.eval_count = 2;
        o.eval_shapes = held_shapes;
        check_same_run_as_folders(m, m2, &o, mixed_dir, eval_dir, "image_shapes", &r, &r2);
        CHECK(r.train_images == N && r2.train_images == N);
        /* Hostile shapes. */
        bad = o;
        bad.image_height = 40;
        CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
        CHECK_MESSAGE("image_height");
        bad = o;
        bad.images = NULL;
        bad.data_dir = mixed_dir;
        bad.eval_images = NULL;
        bad.eval_shapes = NULL;
        CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
        CHECK_MESSAGE("image_shapes");
        bad = o;
        bad.eval_images = NULL;
        CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
        CHECK_MESSAGE("eval_shapes");
        shapes[3] = 0;
        CHECK_STATUS(rwcnn_train(m, &o, &r), ARG);
        CHECK_MESSAGE("image 1");
        shapes[2] = shapes[3] = (size_t)1 << 40;
        CHECK_STATUS2(rwcnn_train(m, &o, &r), ARG, RWCNN_ERR_OUT_OF_MEMORY);
        shapes[2] = 16; /* smaller than the crop: refused as a folder's small file is not */
        shapes[3] = 16;
        CHECK_STATUS(rwcnn_train(m, &o, &r), ARG);
        CHECK_MESSAGE("crop");
        free(mixed);
    }

    section("rwcnn_train from images: hostile options");
    memory_options(&o, images, N, S);
    bad = o;
    bad.data_dir = dir;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    CHECK_MESSAGE("exactly one");
    bad = o;
    bad.batch_fn = fill_batch;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    CHECK_MESSAGE("exactly one");
    bad = o;
    bad.images = NULL; /* nothing set */
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    bad = o;
    bad.image_count = 0;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    CHECK_MESSAGE("options.images");
    bad = o;
    bad.image_count = (size_t)-1;
    CHECK_STATUS2(rwcnn_train(m, &bad, &r), ARG, RWCNN_ERR_OUT_OF_MEMORY);
    bad = o;
    bad.image_height = (size_t)1 << 40;
    bad.image_width = (size_t)1 << 40;
    CHECK_STATUS2(rwcnn_train(m, &bad, &r), ARG, RWCNN_ERR_OUT_OF_MEMORY);
    bad = o;
    bad.image_height = 16; /* smaller than the crop */
    bad.image_width = 16;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    CHECK_MESSAGE("crop");
    bad = o;
    bad.image_count = 1; /* no held-out images, one image: no split */
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    nan_images[3 * S * S + 7] = NAN;
    bad = o;
    bad.images = nan_images;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    CHECK_MESSAGE("non-finite");
    bad = o;
    bad.eval_dir = eval_dir;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    CHECK_MESSAGE("eval_dir");
    bad = o;
    bad.eval_images = held;
    bad.eval_count = 0;
    bad.eval_height = S;
    bad.eval_width = S;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    CHECK_MESSAGE("eval_images");
    rwcnn_train_options_init(&bad);
    bad.data_dir = dir;
    bad.eval_images = held;
    bad.eval_count = 2;
    bad.eval_height = S;
    bad.eval_width = S;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    CHECK_MESSAGE("eval_images");

    section("rwcnn_train from a batch callback");
    memset(&log, 0, sizeof log);
    log.batch = crops;
    log.floats = 2 * 3 * C * C;
    rwcnn_train_options_init(&o);
    o.batch_fn = fill_batch;
    o.batch_user = &log;
    o.eval_images = held;
    o.eval_count = 2;
    o.eval_height = S;
    o.eval_width = S;
    o.steps = 3;
    o.batch = 2;
    o.crop = C;
    o.eval_every = 0;
    o.checkpoint_every = 0;
    r.steps_done = 4242;
    CHECK_OK(rwcnn_train(m, &o, &r));
    CHECKF(log.calls == 3 && log.first_step == 0 && log.last_step == 2 && log.bad_fields == 0,
           "%d calls, steps %zu..%zu, %d bad fields", log.calls, log.first_step, log.last_step, log.bad_fields);
    CHECK(r.steps_done == 3 && r.train_images == 0 && r.eval_images == 2);
    bad = o;
    bad.eval_images = NULL;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    CHECK_MESSAGE("eval_images");
    /* A callback that fills nothing: the NaN preset is refused. */
    memset(&log, 0, sizeof log);
    r.steps_done = 4242;
    CHECK_STATUS(rwcnn_train(m, &o, &r), ARG);
    CHECK_MESSAGE("non-finite");
    CHECK(r.steps_done == 4242);
    /* A callback's error status stops the run with that status; the checkpoint keeps step 1. */
    memset(&log, 0, sizeof log);
    log.batch = crops;
    log.floats = 2 * 3 * C * C;
    log.fail_at_step = 2;
    log.status = RWCNN_ERR_IO;
    bad = o;
    bad.checkpoint = tmp_path(ck, sizeof ck, "memory-callback.safetensors");
    CHECK_STATUS(rwcnn_train(m, &bad, &r), RWCNN_ERR_IO);
    CHECK_MESSAGE("batch callback");
    CHECK_MESSAGE("step 2");
    CHECK(log.calls == 2 && file_exists(ck));
    /* The callback's own reason, written into batch->message, is the message's end. */
    memset(&log, 0, sizeof log);
    log.batch = crops;
    log.floats = 2 * 3 * C * C;
    log.fail_at_step = 1;
    log.status = RWCNN_ERR_IO;
    log.reason = "the loader lost /data/shard-7";
    CHECK_STATUS(rwcnn_train(m, &o, &r), RWCNN_ERR_IO);
    CHECK_MESSAGE("step 1: the loader lost /data/shard-7");
    CHECK(log.bad_fields == 0);
    {
        static const int odd[] = {RWCNN_ERR_CANCELLED, RWCNN_ERR_FORMAT, RWCNN_ERR_OUT_OF_MEMORY, RWCNN_ERR_INTERNAL,
                                  RWCNN_ERR_BUFFER_TOO_SMALL, -1, 12345, INT_MIN};
        static const rwcnn_status want[] = {RWCNN_ERR_CANCELLED, RWCNN_ERR_FORMAT, RWCNN_ERR_OUT_OF_MEMORY, ARG, ARG,
                                            ARG, ARG, ARG};
        size_t k;
        for (k = 0; k < sizeof odd / sizeof odd[0]; k++) {
            memset(&log, 0, sizeof log);
            log.fail_at_step = 1;
            log.status = odd[k];
            CHECKF(rwcnn_train(m, &o, &r) == want[k], "callback status %d gave %s", odd[k],
                   rwcnn_status_name(rwcnn_train(m, &o, &r)));
        }
    }

    section("rwcnn_train: a resume with other options or data is refused");
    memory_options(&o, images, N, S);
    o.checkpoint = tmp_path(ck, sizeof ck, "memory-resume.safetensors");
    CHECK_OK(rwcnn_train(m, &o, &r));
    o.resume = 1;
    o.steps = 3;
    bad = o;
    bad.crop = 24;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    CHECK_MESSAGE("crop");
    bad = o;
    bad.learning_rate = 0.01;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    CHECK_MESSAGE("learning_rate");
    bad = o;
    bad.image_count = N - 1;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    CHECK_MESSAGE("data source");
    bad = o;
    bad.images = NULL;
    bad.data_dir = dir;
    CHECK_STATUS(rwcnn_train(m, &bad, &r), ARG);
    CHECK_MESSAGE("data source");
    CHECK_OK(rwcnn_train(m, &o, &r)); /* the same options resume */
    CHECK(r.steps_done == 3);

done:
    CHECK_OK(rwcnn_set_threads(threads));
    rwcnn_model_free(m2);
    rwcnn_model_free(m);
    free(nan_images);
    free(crops);
    free(held);
    free(images);
}

/* ---- The encoder trace -------------------------------------------------------------- */

static void test_trace(void)
{
    enum { H = 37, W = 45 };
    float *img = make_images(2, 3, H, W, 4), *f = NULL, *out = floats(2 * 3 * H * W), *want = floats(2 * 3 * H * W);
    rwcnn_model *m = create_model("vgg16", "pool2", 0.125, 3, RWCNN_DECODER_RANDOM, RWCNN_UNPOOL_SWITCHES);
    rwcnn_model *same = create_model("vgg16", "pool2", 0.125, 3, RWCNN_DECODER_RANDOM, RWCNN_UNPOOL_SWITCHES);
    rwcnn_model *other = create_model("vgg16", "pool1", 0.125, 3, RWCNN_DECODER_RANDOM, RWCNN_UNPOOL_SWITCHES);
    rwcnn_trace *t = NULL, *t2 = (rwcnn_trace *)&g_passed; /* a canary: must stay untouched on failure */
    size_t fs[3], in4[4], f4[4], fcount;

    section("rwcnn_model_encode_trace / rwcnn_model_decode_trace");
    rwcnn_trace_free(NULL); /* ignored */
    if (m == NULL || same == NULL || other == NULL)
        goto done;
    CHECK_OK(rwcnn_model_feature_shape(m, H, W, fs));
    fcount = 2 * fs[0] * fs[1] * fs[2];
    f = floats(fcount);
    CHECK_OK(rwcnn_model_encode_trace(m, img, 2, 3, H, W, f, fcount, &t));
    CHECK(t != NULL);
    if (t == NULL)
        goto done;
    CHECK_OK(rwcnn_trace_shapes(t, in4, f4));
    CHECK(in4[0] == 2 && in4[1] == 3 && in4[2] == H && in4[3] == W);
    CHECK(f4[0] == 2 && f4[1] == fs[0] && f4[2] == fs[1] && f4[3] == fs[2]);
    CHECK_OK(rwcnn_trace_shapes(t, NULL, NULL));
    /* Decoding later gives what reconstruct gives, bit for bit; also with another
     * handle of the same model, and after the encoding model is freed. */
    CHECK_OK(rwcnn_model_reconstruct(m, img, 2, 3, H, W, want, 2 * 3 * H * W));
    CHECK_OK(rwcnn_model_decode_trace(m, t, f, 2, fs[0], fs[1], fs[2], out, 2 * 3 * H * W));
    CHECK(memcmp(out, want, sizeof(float) * 2 * 3 * H * W) == 0);
    rwcnn_model_free(m);
    m = NULL;
    memset(out, 0, sizeof(float) * 2 * 3 * H * W);
    CHECK_OK(rwcnn_model_decode_trace(same, t, f, 2, fs[0], fs[1], fs[2], out, 2 * 3 * H * W));
    CHECK(memcmp(out, want, sizeof(float) * 2 * 3 * H * W) == 0);

    section("rwcnn_trace: hostile arguments");
    CHECK_STATUS(rwcnn_model_encode_trace(same, img, 2, 3, H, W, f, fcount, NULL), ARG);
    CHECK_STATUS(rwcnn_model_encode_trace(NULL, img, 2, 3, H, W, f, fcount, &t2), ARG);
    CHECK_STATUS(rwcnn_model_encode_trace(same, NULL, 2, 3, H, W, f, fcount, &t2), ARG);
    CHECK_STATUS(rwcnn_model_encode_trace(same, img, 2, 3, H, W, f, fcount - 1, &t2), RWCNN_ERR_BUFFER_TOO_SMALL);
    CHECK_STATUS(rwcnn_model_encode_trace(same, img, 2, 3, 1, 1, f, fcount, &t2), ARG);
    CHECK_STATUS2(rwcnn_model_encode_trace(same, img, (size_t)-1, 3, H, W, f, fcount, &t2), ARG,
                  RWCNN_ERR_OUT_OF_MEMORY);
    CHECK(t2 == (rwcnn_trace *)&g_passed);
    CHECK_STATUS(rwcnn_model_decode_trace(same, NULL, f, 2, fs[0], fs[1], fs[2], out, 2 * 3 * H * W), ARG);
    CHECK_MESSAGE("trace");
    CHECK_STATUS(rwcnn_model_decode_trace(NULL, t, f, 2, fs[0], fs[1], fs[2], out, 2 * 3 * H * W), ARG);
    CHECK_STATUS(rwcnn_model_decode_trace(same, t, NULL, 2, fs[0], fs[1], fs[2], out, 2 * 3 * H * W), ARG);
    CHECK_STATUS(rwcnn_model_decode_trace(same, t, f, 2, fs[0], fs[1], fs[2], NULL, 2 * 3 * H * W), ARG);
    CHECK_STATUS(rwcnn_model_decode_trace(same, t, f, 1, fs[0], fs[1], fs[2], out, 2 * 3 * H * W), ARG);
    CHECK_MESSAGE("trace is of features");
    CHECK_STATUS(rwcnn_model_decode_trace(same, t, f, 2, fs[0], fs[1] - 1, fs[2], out, 2 * 3 * H * W), ARG);
    CHECK_STATUS(rwcnn_model_decode_trace(same, t, f, 2, fs[0], fs[1], fs[2], out, 2 * 3 * H * W - 1),
                 RWCNN_ERR_BUFFER_TOO_SMALL);
    CHECK_MESSAGE_SIZE(2 * 3 * H * W);
    CHECK_STATUS(rwcnn_model_decode_trace(same, t, f, (size_t)-1, fs[0], fs[1], fs[2], out, 2 * 3 * H * W), ARG);
    /* A trace of another model (cut pool1) does not fit a pool2 model. */
    CHECK_STATUS(rwcnn_model_decode_trace(other, t, f, 2, fs[0], fs[1], fs[2], out, 2 * 3 * H * W), ARG);
    CHECK_STATUS(rwcnn_trace_shapes(NULL, in4, f4), ARG);
    /* Encoding again gives a fresh trace each time; every one is freed. */
    {
        int k;
        for (k = 0; k < (g_quick ? 2 : 20); k++) {
            rwcnn_trace *tk = NULL;
            CHECK_OK(rwcnn_model_encode_trace(same, img, 2, 3, H, W, f, fcount, &tk));
            rwcnn_trace_free(tk);
        }
    }
    rwcnn_trace_free(t);

done:
    rwcnn_model_free(other);
    rwcnn_model_free(same);
    rwcnn_model_free(m);
    free(f);
    free(want);
    free(out);
    free(img);
}
