/* include/rwcnn.h must compile alone (it is included first) as strict C99
 * with every warning an error. Built by the ctest `header_check`. */
#include "rwcnn.h"
#include "rwcnn.h" /* include guard */

#include <stddef.h>

/* Every declaration is usable from C: take each function's address. */
typedef void (*rwcnn_any_fn)(void);
const void *rwcnn_header_check_table(size_t *count);

const void *rwcnn_header_check_table(size_t *count)
{
    static const struct {
        const char *(*version)(void);
        int (*version_number)(void);
        const char *(*status_name)(int);
        const char *(*last_error)(void);
        rwcnn_status (*set_threads)(int);
        int (*get_threads)(void);
        rwcnn_status (*png_load)(const char *, int, float *, size_t, size_t *, size_t *, size_t *);
        rwcnn_status (*png_load_memory)(const void *, size_t, int, float *, size_t, size_t *, size_t *, size_t *);
        rwcnn_status (*png_save)(const char *, const float *, size_t, size_t, size_t, int);
        rwcnn_status (*png_encode)(const float *, size_t, size_t, size_t, int, void *, size_t, size_t *);
        void (*model_config_init)(rwcnn_model_config *);
        rwcnn_status (*model_create)(const rwcnn_model_config *, rwcnn_model **);
        void (*model_free)(rwcnn_model *);
        rwcnn_status (*model_save)(const rwcnn_model *, const char *);
        rwcnn_status (*model_load)(const char *, rwcnn_model **);
        rwcnn_status (*model_get_config)(const rwcnn_model *, rwcnn_model_config *);
        rwcnn_status (*model_layer_count)(const rwcnn_model *, size_t *);
        rwcnn_status (*model_layer)(const rwcnn_model *, size_t, size_t, size_t, const char **, size_t *);
        rwcnn_status (*model_feature_shape)(const rwcnn_model *, size_t, size_t, size_t *);
        rwcnn_status (*model_decoded_shape)(const rwcnn_model *, size_t, size_t, size_t *);
        rwcnn_status (*model_encode)(const rwcnn_model *, const float *, size_t, size_t, size_t, size_t, float *, size_t);
        rwcnn_status (*model_decode)(const rwcnn_model *, const float *, size_t, size_t, size_t, size_t, float *, size_t);
        rwcnn_status (*model_reconstruct)(const rwcnn_model *, const float *, size_t, size_t, size_t, size_t, float *, size_t);
        rwcnn_status (*display_normalize)(float *, size_t, size_t, size_t, size_t);
        rwcnn_status (*mse)(const float *, const float *, size_t, size_t, size_t, size_t, double *);
        rwcnn_status (*psnr)(const float *, const float *, size_t, size_t, size_t, size_t, double *);
        rwcnn_status (*ssim)(const float *, const float *, size_t, size_t, size_t, size_t, double *);
        rwcnn_status (*colour_ssim)(const float *, const float *, size_t, size_t, size_t, size_t, double *);
        rwcnn_status (*fitted_psnr)(const float *, const float *, size_t, size_t, size_t, size_t, int, double *);
        rwcnn_status (*model_load_torchvision)(rwcnn_model *, const char *);
        void (*train_options_init)(rwcnn_train_options *);
        rwcnn_status (*train)(rwcnn_model *, const rwcnn_train_options *, rwcnn_train_result *);
    } table = {
        rwcnn_version, rwcnn_version_number, rwcnn_status_name, rwcnn_last_error,
        rwcnn_set_threads, rwcnn_get_threads,
        rwcnn_png_load, rwcnn_png_load_memory, rwcnn_png_save, rwcnn_png_encode,
        rwcnn_model_config_init, rwcnn_model_create, rwcnn_model_free, rwcnn_model_save,
        rwcnn_model_load, rwcnn_model_get_config, rwcnn_model_layer_count, rwcnn_model_layer,
        rwcnn_model_feature_shape, rwcnn_model_decoded_shape, rwcnn_model_encode,
        rwcnn_model_decode, rwcnn_model_reconstruct,
        rwcnn_display_normalize, rwcnn_mse, rwcnn_psnr, rwcnn_ssim, rwcnn_colour_ssim, rwcnn_fitted_psnr,
        rwcnn_model_load_torchvision, rwcnn_train_options_init, rwcnn_train,
    };
    /* The enums' pinned values. */
    typedef char ok_is_zero[RWCNN_OK == 0 ? 1 : -1];
    typedef char internal_is_six[RWCNN_ERR_INTERNAL == 6 ? 1 : -1];
    typedef char options_start_with_size[offsetof(rwcnn_train_options, struct_size) == 0 ? 1 : -1];
    typedef char config_starts_with_size[offsetof(rwcnn_model_config, struct_size) == 0 ? 1 : -1];
    typedef char version_number[RWCNN_VERSION_NUMBER ==
        RWCNN_VERSION_MAJOR * 10000 + RWCNN_VERSION_MINOR * 100 + RWCNN_VERSION_PATCH ? 1 : -1];
    (void)sizeof(ok_is_zero); (void)sizeof(internal_is_six);
    (void)sizeof(options_start_with_size); (void)sizeof(config_starts_with_size);
    (void)sizeof(version_number);
    *count = sizeof table / sizeof(void (*)(void));
    return &table;
}
