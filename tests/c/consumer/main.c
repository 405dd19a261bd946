/* A minimal user of an installed rwcnn: checks that header and library agree
 * and runs one small reconstruction. Built by tests through find_package and
 * through pkg-config. */
#include <rwcnn.h>

#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    enum { H = 16, W = 16, C = 3 };
    static float image[C * H * W], out[C * H * W];
    rwcnn_model_config cfg;
    rwcnn_model *model = NULL;
    size_t i;
    double psnr = 0;

    if (rwcnn_version_number() != RWCNN_VERSION_NUMBER) {
        fprintf(stderr, "header %d, library %d\n", RWCNN_VERSION_NUMBER, rwcnn_version_number());
        return 1;
    }
    for (i = 0; i < C * H * W; i++)
        image[i] = (float)(i % 17) / 16.0f;
    rwcnn_model_config_init_sized(&cfg, sizeof cfg);
    cfg.arch = "8,M";
    cfg.cut = "pool1";
    cfg.decoder = RWCNN_DECODER_TIED;
    if (rwcnn_model_create(&cfg, &model) != RWCNN_OK ||
        rwcnn_model_reconstruct(model, image, 1, C, H, W, out, C * H * W) != RWCNN_OK ||
        rwcnn_display_normalize(out, 1, C, H, W) != RWCNN_OK ||
        rwcnn_psnr(out, image, 1, C, H, W, &psnr) != RWCNN_OK) {
        fprintf(stderr, "rwcnn: %s\n", rwcnn_last_error());
        rwcnn_model_free(model);
        return 1;
    }
    rwcnn_model_free(model);
    printf("rwcnn %s: reconstruction PSNR %.2f dB\n", rwcnn_version(), psnr);
    return 0;
}
