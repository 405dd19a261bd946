// include/rwcnn.h must compile alone as C++ (extern "C", no C-only syntax),
// with every warning an error. Built by the ctest `header_check`.
#include "rwcnn.h"

#include <cstddef>

namespace {

// Declarations resolve to C linkage and the expected types.
struct Table {
    const char *(*version)();
    rwcnn_status (*model_create)(const rwcnn_model_config *, rwcnn_model **);
    void (*model_free)(rwcnn_model *);
    rwcnn_status (*train)(rwcnn_model *, const rwcnn_train_options *, rwcnn_train_result *);
    rwcnn_status (*model_layer)(const rwcnn_model *, std::size_t, std::size_t, std::size_t,
                                const char **, std::size_t *);
};

int progress(const rwcnn_progress *p, void *user)
{
    return p->kind == RWCNN_PROGRESS_STEP && user != nullptr;
}

} // namespace

int rwcnn_header_check_cxx();

int rwcnn_header_check_cxx()
{
    static const Table table = {rwcnn_version, rwcnn_model_create, rwcnn_model_free, rwcnn_train,
                                rwcnn_model_layer};
    rwcnn_progress_fn fn = progress;
    rwcnn_model_config config = rwcnn_model_config();
    config.decoder = RWCNN_DECODER_TIED;
    static_assert(RWCNN_OK == 0, "RWCNN_OK is 0");
    static_assert(RWCNN_ERR_CANCELLED == 5, "pinned status values");
    static_assert(offsetof(rwcnn_model_config, struct_size) == 0, "config starts with its size");
    return (table.version != nullptr) + (fn != nullptr) + static_cast<int>(config.decoder);
}
