/*
 * rwcnn_reconstruct: one image through a random-weight VGG16 and back.
 *
 *   rwcnn_reconstruct IMAGE LAYER OUT.png [--decoder tied|random] [--seed N] [--size N]
 *
 * Loads IMAGE (PNG or JPEG) as RGB, resizes its shorter side to --size
 * (default 224; 0 keeps the image as it is) and centre-crops a square with
 * rwcnn_image_resize_crop (the resampler of `rwcnn reconstruct`, so both
 * give the same pixels for the same photo), builds a VGG16 with
 * random weights (He-scaled normal draws from --seed) cut at LAYER (conv1_1
 * ... pool5), reconstructs the image from the features at LAYER with a
 * decoder that is the encoder's adjoint (tied, the default) or an independent
 * random draw, maps the raw output to [0, 1] for display as the CLI does
 * (rwcnn_model_display: normalised for these decoders), writes OUT.png,
 * and prints PSNR, SSIM and the colour-invariant SSIM against the input.
 *
 * Exit status: 0 on success, 1 if rwcnn reports an error (the message from
 * rwcnn_last_error() goes to stderr), 2 for a usage error.
 *
 * Build (see README.md):  cc reconstruct.c $(pkg-config --cflags --libs rwcnn)
 */
#include <rwcnn.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: rwcnn_reconstruct IMAGE LAYER OUT.png [--decoder tied|random] [--seed N] [--size N]\n"
    "  IMAGE      PNG or JPEG file (read as RGB)\n"
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
    st = rwcnn_image_load(image_path, 3, NULL, 0, &width, &height, &channels);
    if (st != RWCNN_OK)
        return fail("reading the image header", st);
    image = alloc_floats(channels, height, width);
    if (image == NULL) {
        fprintf(stderr, "rwcnn_reconstruct: out of memory for a %zux%zu image\n", width, height);
        return 1;
    }
    count = channels * height * width;
    st = rwcnn_image_load(image_path, 3, image, count, &width, &height, &channels);
    if (st != RWCNN_OK) {
        rc = fail("loading the image", st);
        goto done;
    }
    if (size > 0) {
        float *square = alloc_floats(channels, (size_t)size, (size_t)size);
        if (square == NULL) {
            fprintf(stderr, "rwcnn_reconstruct: out of memory resizing to %llu\n", (unsigned long long)size);
            goto done;
        }
        st = rwcnn_image_resize_crop(image, channels, height, width, (size_t)size, square,
                                     channels * (size_t)size * (size_t)size);
        if (st != RWCNN_OK) {
            free(square);
            rc = fail("resizing", st);
            goto done;
        }
        free(image);
        image = square;
        height = width = (size_t)size;
        count = channels * height * width;
    }

    /* A random VGG16 cut at LAYER. */
    rwcnn_model_config_init_sized(&cfg, sizeof cfg);
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
    st = rwcnn_model_display(model, recon, 1, channels, height, width);
    if (st != RWCNN_OK) {
        rc = fail("mapping for display", st);
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
