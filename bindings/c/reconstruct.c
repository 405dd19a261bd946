/*
 * rwcnn_reconstruct: one image through a random-weight VGG16 and back.
 *
 *   rwcnn_reconstruct IMAGE LAYER OUT.png [--decoder tied|random] [--seed N] [--size N]
 *
 * Loads IMAGE (PNG) as RGB, resizes its shorter side to --size (default 224;
 * 0 keeps the image as it is) and centre-crops a square, builds a VGG16 with
 * random weights (He-scaled normal draws from --seed) cut at LAYER (conv1_1
 * ... pool5), reconstructs the image from the features at LAYER with a
 * decoder that is the encoder's adjoint (tied, the default) or an independent
 * random draw, display-normalises the raw output to [0, 1], writes OUT.png,
 * and prints PSNR, SSIM and the colour-invariant SSIM against the input.
 *
 * Exit status: 0 on success, 1 if rwcnn reports an error (the message from
 * rwcnn_last_error() goes to stderr), 2 for a usage error.
 *
 * Build (see README.md):  cc reconstruct.c $(pkg-config --cflags --libs rwcnn) -lm
 */
#include <rwcnn.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: rwcnn_reconstruct IMAGE LAYER OUT.png [--decoder tied|random] [--seed N] [--size N]\n"
    "  IMAGE      PNG file (gray, RGB, RGBA or palette; read as RGB)\n"
    "  LAYER      VGG16 layer to reconstruct from: conv1_1 ... conv5_3, pool1 ... pool5\n"
    "  OUT.png    output image (display-normalised reconstruction)\n"
    "  --decoder  tied: the encoder's adjoint (default); random: an independent draw\n"
    "  --seed N   weight seed (default 0)\n"
    "  --size N   resize the shorter side to N and centre-crop N x N (default 224; 0 keeps)\n";

/* Reports a failed rwcnn call; returns 1 for main's exit status. */
static int fail(const char *what, rwcnn_status status)
{
    fprintf(stderr, "rwcnn_reconstruct: %s failed (%s): %s\n", what, rwcnn_status_name((int)status),
            rwcnn_last_error());
    return 1;
}

/* Parses a whole non-negative decimal number. */
static int parse_u64(const char *text, uint64_t *out)
{
    char *end = NULL;
    unsigned long long v;
    if (text == NULL || *text == '\0' || *text == '-' || *text == '+')
        return 0;
    errno = 0;
    v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return 0;
    *out = (uint64_t)v;
    return 1;
}

/* n floats, or NULL if the count overflows or malloc fails. */
static float *alloc_floats(size_t a, size_t b, size_t c)
{
    if (a == 0 || b == 0 || c == 0)
        return NULL;
    if (b > SIZE_MAX / a || c > SIZE_MAX / (a * b) || a * b * c > SIZE_MAX / sizeof(float))
        return NULL;
    return (float *)malloc(a * b * c * sizeof(float));
}

/*
 * Resamples one line of n_src values (stride src_step) to n_dst values
 * (stride dst_step) with a triangle filter stretched by the scale factor
 * when shrinking, so downscaling averages instead of aliasing (bilinear when
 * enlarging). Pixel centres are at i + 0.5.
 */
static void resample_line(const float *src, size_t n_src, size_t src_step, float *dst, size_t n_dst,
                          size_t dst_step)
{
    double scale = (double)n_src / (double)n_dst;
    double support = scale > 1.0 ? scale : 1.0;
    size_t i;
    for (i = 0; i < n_dst; i++) {
        double centre = ((double)i + 0.5) * scale - 0.5;
        long first = (long)floor(centre - support), last = (long)ceil(centre + support);
        double sum = 0.0, weights = 0.0;
        long j;
        for (j = first; j <= last; j++) {
            double w = 1.0 - fabs((double)j - centre) / support;
            long k = j < 0 ? 0 : (j >= (long)n_src ? (long)n_src - 1 : j);
            if (w <= 0.0)
                continue;
            sum += w * src[(size_t)k * src_step];
            weights += w;
        }
        dst[i * dst_step] = (float)(weights > 0.0 ? sum / weights : src[0]);
    }
}

/*
 * Resizes a CHW image so that its shorter side is `side`, then crops the
 * centre side x side square. Returns a new buffer (NULL when out of memory).
 */
static float *resize_and_crop(const float *image, size_t channels, size_t height, size_t width, size_t side)
{
    size_t rh, rw, c, y, x, top, left;
    float *tmp, *resized, *out;
    if (height <= width) {
        rh = side;
        rw = (size_t)((double)width * (double)side / (double)height + 0.5);
        if (rw < side)
            rw = side;
    } else {
        rw = side;
        rh = (size_t)((double)height * (double)side / (double)width + 0.5);
        if (rh < side)
            rh = side;
    }
    tmp = alloc_floats(channels, height, rw);
    resized = alloc_floats(channels, rh, rw);
    out = alloc_floats(channels, side, side);
    if (tmp == NULL || resized == NULL || out == NULL) {
        free(tmp);
        free(resized);
        free(out);
        return NULL;
    }
    for (c = 0; c < channels; c++) {
        const float *plane = image + c * height * width;
        float *t = tmp + c * height * rw, *r = resized + c * rh * rw;
        for (y = 0; y < height; y++)
            resample_line(plane + y * width, width, 1, t + y * rw, rw, 1);
        for (x = 0; x < rw; x++)
            resample_line(t + x, height, rw, r + x, rh, rw);
    }
    top = (rh - side) / 2;
    left = (rw - side) / 2;
    for (c = 0; c < channels; c++)
        for (y = 0; y < side; y++)
            memcpy(out + (c * side + y) * side, resized + (c * rh + top + y) * rw + left, side * sizeof(float));
    free(tmp);
    free(resized);
    return out;
}

int main(int argc, char **argv)
{
    const char *image_path = NULL, *layer = NULL, *out_path = NULL;
    rwcnn_decoder_mode decoder = RWCNN_DECODER_TIED;
    uint64_t seed = 0, size = 224;
    size_t width = 0, height = 0, channels = 0, count, features[3];
    float *image = NULL, *recon = NULL;
    rwcnn_model_config cfg;
    rwcnn_model *model = NULL;
    rwcnn_status st;
    double psnr = 0, ssim = 0, colour = 0;
    int positional = 0, rc = 1, i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(a, "--decoder") == 0 || strcmp(a, "--seed") == 0 || strcmp(a, "--size") == 0) {
            const char *v = i + 1 < argc ? argv[++i] : NULL;
            if (v == NULL) {
                fprintf(stderr, "rwcnn_reconstruct: %s needs a value\n%s", a, usage);
                return 2;
            }
            if (strcmp(a, "--decoder") == 0) {
                if (strcmp(v, "tied") == 0)
                    decoder = RWCNN_DECODER_TIED;
                else if (strcmp(v, "random") == 0)
                    decoder = RWCNN_DECODER_RANDOM;
                else {
                    fprintf(stderr, "rwcnn_reconstruct: --decoder must be tied or random, got \"%s\"\n", v);
                    return 2;
                }
            } else if (!parse_u64(v, strcmp(a, "--seed") == 0 ? &seed : &size) ||
                       (strcmp(a, "--size") == 0 && size > 65536)) {
                fprintf(stderr, "rwcnn_reconstruct: bad %s value \"%s\"\n", a, v);
                return 2;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "rwcnn_reconstruct: unknown option %s\n%s", a, usage);
            return 2;
        } else if (positional == 0) {
            image_path = a, positional++;
        } else if (positional == 1) {
            layer = a, positional++;
        } else if (positional == 2) {
            out_path = a, positional++;
        } else {
            fprintf(stderr, "rwcnn_reconstruct: unexpected argument %s\n%s", a, usage);
            return 2;
        }
    }
    if (positional != 3) {
        fputs(usage, stderr);
        return 2;
    }

    /* The image: ask for its size, then fill a buffer of that size. */
    st = rwcnn_png_load(image_path, 3, NULL, 0, &width, &height, &channels);
    if (st != RWCNN_OK)
        return fail("reading the PNG header", st);
    image = alloc_floats(channels, height, width);
    if (image == NULL) {
        fprintf(stderr, "rwcnn_reconstruct: out of memory for a %zux%zu image\n", width, height);
        return 1;
    }
    count = channels * height * width;
    st = rwcnn_png_load(image_path, 3, image, count, &width, &height, &channels);
    if (st != RWCNN_OK) {
        rc = fail("loading the PNG", st);
        goto done;
    }
    if (size > 0) {
        float *square = resize_and_crop(image, channels, height, width, (size_t)size);
        if (square == NULL) {
            fprintf(stderr, "rwcnn_reconstruct: out of memory resizing to %llu\n", (unsigned long long)size);
            goto done;
        }
        free(image);
        image = square;
        height = width = (size_t)size;
        count = channels * height * width;
    }

    /* A random VGG16 cut at LAYER. */
    rwcnn_model_config_init(&cfg);
    cfg.arch = "vgg16";
    cfg.cut = layer;
    cfg.seed = seed;
    cfg.decoder = decoder;
    st = rwcnn_model_create(&cfg, &model);
    if (st != RWCNN_OK) {
        rc = fail("creating the model", st);
        goto done;
    }
    st = rwcnn_model_feature_shape(model, height, width, features);
    if (st != RWCNN_OK) {
        rc = fail("computing the feature shape", st);
        goto done;
    }

    recon = alloc_floats(channels, height, width);
    if (recon == NULL) {
        fprintf(stderr, "rwcnn_reconstruct: out of memory\n");
        goto done;
    }
    st = rwcnn_model_reconstruct(model, image, 1, channels, height, width, recon, count);
    if (st != RWCNN_OK) {
        rc = fail("reconstructing", st);
        goto done;
    }
    st = rwcnn_display_normalize(recon, 1, channels, height, width);
    if (st != RWCNN_OK) {
        rc = fail("normalising for display", st);
        goto done;
    }
    st = rwcnn_png_save(out_path, recon, channels, height, width, 8);
    if (st != RWCNN_OK) {
        rc = fail("writing the output PNG", st);
        goto done;
    }

    printf("%s: %zux%zu, random VGG16 (seed %llu), %s features %zux%zux%zu, %s decoder\n", image_path, width,
           height, (unsigned long long)seed, layer, features[0], features[1], features[2],
           decoder == RWCNN_DECODER_TIED ? "tied" : "random");
    st = rwcnn_psnr(recon, image, 1, channels, height, width, &psnr);
    if (st != RWCNN_OK) {
        rc = fail("PSNR", st);
        goto done;
    }
    if (height >= 11 && width >= 11) {
        st = rwcnn_ssim(recon, image, 1, channels, height, width, &ssim);
        if (st != RWCNN_OK) {
            rc = fail("SSIM", st);
            goto done;
        }
        st = rwcnn_colour_ssim(recon, image, 1, channels, height, width, &colour);
        if (st != RWCNN_OK) {
            rc = fail("colour-invariant SSIM", st);
            goto done;
        }
        printf("PSNR %.2f dB  SSIM %.4f  colour-invariant SSIM %.4f -> %s\n", psnr, ssim, colour, out_path);
    } else {
        printf("PSNR %.2f dB  SSIM n/a (image under 11x11) -> %s\n", psnr, out_path);
    }
    rc = 0;

done:
    rwcnn_model_free(model);
    free(recon);
    free(image);
    return rc;
}
