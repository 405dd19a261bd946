/*
 * rwcnn.h — the C ABI of rwcnn, an engine for studying what random-weight
 * convolutional networks keep of an image.
 *
 * Build a CNN (VGG16, VGG19 or a custom stack) whose weights are drawn at
 * random, take the features at any layer, and reconstruct the image from them
 * with a mirrored deconvolutional network (DeCNN) that is random, tied to the
 * encoder (its adjoint) or trained. Measure what survives with MSE, PSNR, SSIM
 * and a colour-invariant SSIM.
 *
 * Conventions
 * - Every fallible function returns an rwcnn_status, RWCNN_OK = 0 on success; results go
 *   through out parameters, which are written only on success.
 *   rwcnn_last_error() gives a message for the last failure on the calling
 *   thread.
 * - Nothing here traps, aborts or prints: every pointer, size and string is
 *   validated, and shape arithmetic is checked for overflow.
 * - Handles are opaque; every create or load call has a free call that
 *   accepts NULL.
 * - Buffers belong to the caller. Images are float32, CHW per image, in
 *   [0, 1], N images back to back: element (n, c, y, x) is at
 *   ((n*C + c)*H + y)*W + x. Each call takes the buffer's capacity in floats
 *   (or bytes, where stated); a buffer that is too small is
 *   RWCNN_ERR_BUFFER_TOO_SMALL with a message naming the size needed, never
 *   a write past its end. Size queries (rwcnn_image_load or rwcnn_png_load with out == NULL,
 *   rwcnn_model_feature_shape, rwcnn_model_decoded_shape) come first.
 * - Options structs start with their struct_size and are read as a prefix
 *   of it. Fill them with their _init_sized function, as in
 *   rwcnn_model_config_init_sized(&cfg, sizeof cfg): it writes no byte past
 *   that size, so a program built against an older header is safe with a
 *   newer library, and the fields its struct lacks take their defaults.
 * - Threads: reading calls (encode, decode, reconstruct, feature shapes,
 *   metrics, images) may run concurrently, also on one model handle. Calls that
 *   change a handle (rwcnn_train, rwcnn_model_load_torchvision) need
 *   exclusive use of it. rwcnn_set_threads() bounds all worker threads, BLAS
 *   included.
 *
 * Minimal use:
 *
 *     rwcnn_model_config cfg;
 *     rwcnn_model_config_init_sized(&cfg, sizeof cfg);
 *     cfg.cut = "pool2";
 *     rwcnn_model *m = NULL;
 *     if (rwcnn_model_create(&cfg, &m) != RWCNN_OK)
 *         fprintf(stderr, "%s\n", rwcnn_last_error());
 */
#ifndef RWCNN_H
#define RWCNN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Version ------------------------------------------------------------ */

#define RWCNN_VERSION_MAJOR 0
#define RWCNN_VERSION_MINOR 1
#define RWCNN_VERSION_PATCH 0
#define RWCNN_VERSION_NUMBER \
    (RWCNN_VERSION_MAJOR * 10000 + RWCNN_VERSION_MINOR * 100 + RWCNN_VERSION_PATCH)

/** The library's version as "MAJOR.MINOR.PATCH"; a static string. */
const char *rwcnn_version(void);

/** The library's version as MAJOR*10000 + MINOR*100 + PATCH; compare with
 *  RWCNN_VERSION_NUMBER to detect a header/library mismatch. */
int rwcnn_version_number(void);

/* ---- Status and errors -------------------------------------------------- */

/** Status codes. Values are pinned and will not change. */
typedef enum rwcnn_status {
    RWCNN_OK = 0,
    /** An argument is invalid: NULL pointer, bad size or shape, unknown
     *  name. */
    RWCNN_ERR_ARGUMENT = 1,
    /** A file could not be opened, read, written or renamed. */
    RWCNN_ERR_IO = 2,
    /** A file or buffer is not in the expected format: corrupt, truncated,
     *  wrong metadata, mismatched tensor names or shapes. */
    RWCNN_ERR_FORMAT = 3,
    /** A size beyond what can be allocated or beyond a limit (for example
     *  the PNG pixel limit). */
    RWCNN_ERR_OUT_OF_MEMORY = 4,
    /** A progress callback returned non-zero. */
    RWCNN_ERR_CANCELLED = 5,
    /** A bug in rwcnn; please report it with the message. */
    RWCNN_ERR_INTERNAL = 6,
    /** A caller's buffer is smaller than the result; the message names the
     *  size needed (nothing was written). */
    RWCNN_ERR_BUFFER_TOO_SMALL = 7
} rwcnn_status;

/** A static name for a status ("RWCNN_OK", "RWCNN_ERR_ARGUMENT", ...);
 *  "RWCNN_UNKNOWN_STATUS" for values not listed above. */
const char *rwcnn_status_name(int status);

/** Message for the last failure on the calling thread, "" if none yet.
 *  The string belongs to the library and stays valid until the next rwcnn
 *  call on this thread. */
const char *rwcnn_last_error(void);

/* ---- Threads ------------------------------------------------------------ */

/** Bounds the worker threads (rwcnn's own and BLAS's) to n >= 1.
 *  Returns RWCNN_ERR_ARGUMENT for n < 1. Process-wide; do not call while
 *  other rwcnn calls run. Weights never depend on the thread count, and
 *  outputs are bit-identical run to run at a given count; across counts
 *  they can differ in the last bits where the BLAS splits its sums by thread
 *  (OpenBLAS's AVX2 kernels do; its AVX-512 ones give identical results). */
rwcnn_status rwcnn_set_threads(int n);

/** The current thread bound (defaults to the number of online CPUs). */
int rwcnn_get_threads(void);

/* ---- Memory ------------------------------------------------------------- */

/** Sets the memory budget in bytes: the most any one large allocation may
 *  take (a whole-file read, a decoded PNG, a resize target, a training
 *  batch or image set, a model's weights, the working memory of a pass:
 *  encode, decode, reconstruct or a training step, with its optimiser
 *  state, estimated from the network's layers). A call that
 *  would need more fails with RWCNN_ERR_OUT_OF_MEMORY and a message naming
 *  the allocation, checked before allocating; rwcnn never aborts on a
 *  failed allocation it can foresee. bytes = 0 restores the default (half
 *  of physical memory); below 1 MiB is RWCNN_ERR_ARGUMENT. Process-wide;
 *  do not call while other rwcnn calls run. */
rwcnn_status rwcnn_set_memory_limit(size_t bytes);

/** The current memory budget in bytes. */
size_t rwcnn_get_memory_limit(void);

/* ---- PNG images --------------------------------------------------------- */
/* ---- Images: PNG and JPEG ------------------------------------------------ */

/** Loads a PNG or a JPEG, whichever the file's first bytes say it is (the
 *  name does not matter), into a float32 CHW buffer in [0, 1]. PNGs as for
 *  rwcnn_png_load; JPEGs (baseline or progressive, gray or colour, decoded
 *  by libjpeg-turbo with its accurate IDCT and smooth upsampling, as Pillow
 *  does) have 1 or 3 channels. `channels`, the query-then-fill protocol and
 *  the 64-megapixel limit (checked on the header, before any allocation:
 *  RWCNN_ERR_OUT_OF_MEMORY) are as for rwcnn_png_load. Missing file:
 *  RWCNN_ERR_IO. Neither format, truncated or corrupt (libjpeg's warnings
 *  count as errors), or a CMYK JPEG: RWCNN_ERR_FORMAT. */
rwcnn_status rwcnn_image_load(const char *path, int channels, float *out, size_t capacity,
                              size_t *width, size_t *height, size_t *out_channels);

/** As rwcnn_image_load, from `size` bytes at `data` (borrowed for the call). */
rwcnn_status rwcnn_image_load_memory(const void *data, size_t size, int channels, float *out,
                                     size_t capacity, size_t *width, size_t *height,
                                     size_t *out_channels);


/** Loads a PNG (8/16-bit gray, gray+alpha, RGB, RGBA or palette) into a
 *  float32 CHW buffer in [0, 1].
 *  channels: 3 gives RGB (gray is replicated), 1 gives gray (colour files
 *  are converted with BT.601 luma), 0 keeps the file's colour channels.
 *  Alpha is always dropped, not composited: colour under transparent
 *  pixels is kept as stored.
 *  Query, then fill: with out == NULL only *width, *height and *out_channels
 *  are set (from the header; nothing is decoded); the buffer needs
 *  out_channels*height*width floats. out_channels may be NULL.
 *  The pixel limit (64 megapixels) and the memory budget are checked before
 *  any allocation: RWCNN_ERR_OUT_OF_MEMORY. Missing file, or not a regular
 *  file (FIFO, device, folder; opened non-blocking, so never a hang):
 *  RWCNN_ERR_IO. Not a PNG, truncated or corrupt (a chunk running past the
 *  data, image data too short for the header): RWCNN_ERR_FORMAT. Every
 *  ancillary chunk but tRNS (text, ICC, EXIF...) is skipped unread, so the
 *  cost of a call is bounded by the size of the input. */
rwcnn_status rwcnn_png_load(const char *path, int channels, float *out, size_t capacity,
                            size_t *width, size_t *height, size_t *out_channels);

/** As rwcnn_png_load, from `size` bytes at `data` (borrowed for the call). */
rwcnn_status rwcnn_png_load_memory(const void *data, size_t size, int channels, float *out,
                                   size_t capacity, size_t *width, size_t *height,
                                   size_t *out_channels);

/** Writes a CHW float32 image (channels 1, 3 or 4; values clamped to
 *  [0, 1]) as an 8- or 16-bit PNG (bit_depth 8 or 16). Atomic: a temporary
 *  file is renamed over `path`. */
rwcnn_status rwcnn_png_save(const char *path, const float *image, size_t channels,
                            size_t height, size_t width, int bit_depth);

/** Encodes a CHW float32 image as PNG bytes into `out` (capacity in bytes).
 *  Query, then fill: with out == NULL *size is set to an upper bound of the
 *  encoded size, computed without encoding; the fill call sets *size to the
 *  bytes written. */
rwcnn_status rwcnn_png_encode(const float *image, size_t channels, size_t height, size_t width,
                              int bit_depth, void *out, size_t capacity, size_t *size);

/* ---- Models ------------------------------------------------------------- */

typedef enum rwcnn_distribution {
    RWCNN_DIST_NORMAL = 0,
    RWCNN_DIST_UNIFORM = 1,
    RWCNN_DIST_LAPLACE = 2,
    RWCNN_DIST_LOGISTIC = 3
} rwcnn_distribution;

/** Standard deviation of the weight draws; every distribution is scaled to
 *  the same variance. fan_in = in_channels*k*k of the operation. */
typedef enum rwcnn_scale_rule {
    RWCNN_SCALE_HE = 0,     /**< sqrt(2 / fan_in) */
    RWCNN_SCALE_GLOROT = 1, /**< sqrt(2 / (fan_in + fan_out)) */
    RWCNN_SCALE_FIXED = 2   /**< the config's `std` */
} rwcnn_scale_rule;

/** How the decoder undoes a max pool. */
typedef enum rwcnn_unpool_mode {
    RWCNN_UNPOOL_SWITCHES = 0, /**< at the pool's argmax */
    RWCNN_UNPOOL_NEAREST = 1,  /**< copied to the whole window */
    RWCNN_UNPOOL_ZEROS = 2     /**< top-left of each window, zeros elsewhere */
} rwcnn_unpool_mode;

/** Where the decoder's weights come from. */
typedef enum rwcnn_decoder_mode {
    RWCNN_DECODER_RANDOM = 0,  /**< an independent random draw */
    RWCNN_DECODER_TIED = 1,    /**< the encoder's weights (the adjoint) */
    RWCNN_DECODER_TRAINED = 2  /**< trainable: He-normal init, zero biases */
} rwcnn_decoder_mode;

/** The enums of this header by name, for bindings and command lines: names are the
 *  lower-case last word of each value ("normal", "he", "switches",
 *  "trained", "adam", "step", ...). */
typedef enum rwcnn_enum_kind {
    RWCNN_ENUM_DISTRIBUTION = 0,
    RWCNN_ENUM_SCALE_RULE = 1,
    RWCNN_ENUM_UNPOOL_MODE = 2,
    RWCNN_ENUM_DECODER_MODE = 3,
    RWCNN_ENUM_OPTIMIZER = 4,
    RWCNN_ENUM_PROGRESS_KIND = 5,
    /* image synthesis (below) */
    RWCNN_ENUM_SYNTHESIS_OPTIMIZER = 6,
    RWCNN_ENUM_SYNTHESIS_START = 7,
    RWCNN_ENUM_FEATURE_NORMALIZATION = 8,
    RWCNN_ENUM_GRAM_NORMALIZATION = 9,
    /* metrics (below) */
    RWCNN_ENUM_COLOUR_MAP = 10,
    /* image synthesis, continued */
    RWCNN_ENUM_SYNTHESIS_TASK = 11
} rwcnn_enum_kind;

/** The name of `value` of enum `kind` (a static string), or NULL when there
 *  is no such value: walking value = 0, 1, ... until NULL lists them all. */
const char *rwcnn_enum_name(int kind, int value);

/** The value of `name` (case-insensitive) in enum `kind`. An unknown name is
 *  RWCNN_ERR_ARGUMENT with a message listing the valid ones. */
rwcnn_status rwcnn_enum_value(int kind, const char *name, int *value);

/** Model configuration. Fill with rwcnn_model_config_init, then change
 *  fields; strings are borrowed for the duration of rwcnn_model_create. */
typedef struct rwcnn_model_config {
    size_t struct_size;            /**< sizeof(rwcnn_model_config), set by _init; a caller built
                                        against an older, smaller struct passes its size and the
                                        fields it lacks take their defaults */
    const char *arch;              /**< "vgg16" (default), "vgg19" or a spec such as "64,M,128k5,M" */
    const char *cut;               /**< layer name, default "pool2"; aliases such as "relu4_2", "block4_conv2", "features.22" too */
    double width;                  /**< channel multiplier, default 1 */
    int kernel_size;               /**< odd conv kernel for every layer; 0 (default) keeps the arch's */
    rwcnn_distribution distribution; /**< default RWCNN_DIST_NORMAL */
    rwcnn_scale_rule scale;        /**< default RWCNN_SCALE_HE */
    double mean;                   /**< mean of the weight draws, default 0; finite, within +-100 */
    double std;                    /**< std for RWCNN_SCALE_FIXED, default 0.01; finite, in [0, 100] */
    uint64_t seed;                 /**< default 0 */
    rwcnn_unpool_mode unpool;      /**< default RWCNN_UNPOOL_SWITCHES */
    rwcnn_decoder_mode decoder;    /**< default RWCNN_DECODER_RANDOM */
    int normalize_input;           /**< non-zero: ImageNet mean/std before the encoder */
} rwcnn_model_config;

/** Fills `config` with the defaults above. NULL is ignored. It writes the
 *  struct of ABI 0.1 (the one above) and nothing more, whatever later
 *  libraries add to it; fields added after 0.1 are written by
 *  rwcnn_model_config_init_sized only. */
void rwcnn_model_config_init(rwcnn_model_config *config);

/** Fills the first `size` bytes of `config` with the defaults and sets
 *  config->struct_size = size; nothing past `size` is written, so a program
 *  built against an older, smaller struct is safe with a newer library:
 *  call it as rwcnn_model_config_init_sized(&cfg, sizeof cfg). Bytes of a
 *  larger, newer struct that this library does not know are zeroed. NULL,
 *  or a size below sizeof(size_t) or above 65536, is RWCNN_ERR_ARGUMENT and
 *  writes nothing. The same holds for every rwcnn_*_init_sized. */
rwcnn_status rwcnn_model_config_init_sized(rwcnn_model_config *config, size_t size);

/** An encoder up to a cut and its mirrored decoder. */
typedef struct rwcnn_model rwcnn_model;

/** Builds a model and draws its weights; the same config gives the same
 *  weights bit for bit, in every binding and for every thread count.
 *  *out must be freed with rwcnn_model_free. A bad spec or unknown layer is
 *  RWCNN_ERR_ARGUMENT; the message lists the valid names. */
rwcnn_status rwcnn_model_create(const rwcnn_model_config *config, rwcnn_model **out);

/** Frees a model; NULL is ignored. */
void rwcnn_model_free(rwcnn_model *model);

/** Writes the model as safetensors (every weight plus metadata that rebuilds
 *  it), atomically. */
rwcnn_status rwcnn_model_save(const rwcnn_model *model, const char *path);

/** Reads a model written by rwcnn_model_save or by training (a checkpoint
 *  loads as its model). *out must be freed with rwcnn_model_free.
 *  Nothing in the file is trusted before it is checked: bad metadata, a
 *  tensor missing, unknown or of the wrong shape, a non-finite weight, or
 *  an encoder fingerprint that does not match the metadata (an edited
 *  decoder-only file) is RWCNN_ERR_FORMAT naming the field or tensor, and
 *  the parameter size the architecture implies is checked against the
 *  memory budget (RWCNN_ERR_OUT_OF_MEMORY), all before any weight is drawn.
 *  Only regular files are read (RWCNN_ERR_IO otherwise). */
rwcnn_status rwcnn_model_load(const char *path, rwcnn_model **out);

/** The model as safetensors bytes (the format of rwcnn_model_save), for
 *  pickling or sending to another process. The encoder's weights are left
 *  out while they are the draw of the config's seed (they are redrawn on
 *  load), so a seeded model with a trained decoder costs only the decoder.
 *  Query, then fill: with out == NULL only *size is set; a capacity below
 *  *size is RWCNN_ERR_ARGUMENT naming the size. */
rwcnn_status rwcnn_model_serialize(const rwcnn_model *model, void *out, size_t capacity,
                                   size_t *size);

/** A model from `size` bytes written by rwcnn_model_serialize (or the
 *  contents of a file of rwcnn_model_save); bit-identical to the original.
 *  *out must be freed with rwcnn_model_free. */
rwcnn_status rwcnn_model_deserialize(const void *data, size_t size, rwcnn_model **out);

/** The model's configuration. String fields point into the model and stay
 *  valid until it is freed (only the fields within config->struct_size are
 *  written). config->struct_size must be set by the caller
 *  (rwcnn_model_config_init does). */
rwcnn_status rwcnn_model_get_config(const rwcnn_model *model, rwcnn_model_config *config);

/** Number of layers of the model's whole architecture (not only to the cut). */
rwcnn_status rwcnn_model_layer_count(const rwcnn_model *model, size_t *count);

/** Name of layer `index` (a static-for-the-model string, valid until the
 *  model is freed) and its output shape for an input of height x width;
 *  shape may be NULL. */
rwcnn_status rwcnn_model_layer(const rwcnn_model *model, size_t index, size_t height, size_t width,
                               const char **name, size_t shape[3]);

/** The other names of layer `index`, space-separated (a string valid until
 *  the model is freed): Caffe/Gatys "relu<b>_<i>", Keras "block<b>_conv<i>"
 *  or "block<b>_pool", and torchvision "features.<i>" (for a conv, the ReLU
 *  module and then the conv module: rwcnn's conv output is after the
 *  ReLU). Wherever a layer name is taken (config.cut), these are too, and
 *  rwcnn_model_get_config gives back the rwcnn name. */
rwcnn_status rwcnn_model_layer_aliases(const rwcnn_model *model, size_t index, const char **aliases);

/** Feature shape {C, H, W} at the cut for an input of height x width. */
rwcnn_status rwcnn_model_feature_shape(const rwcnn_model *model, size_t height, size_t width,
                                       size_t shape[3]);

/** Image shape {C, H, W} that rwcnn_model_decode produces from features of
 *  fheight x fwidth. */
rwcnn_status rwcnn_model_decoded_shape(const rwcnn_model *model, size_t fheight, size_t fwidth,
                                       size_t shape[3]);

/** Features at the cut for n images (n x channels x height x width floats).
 *  `features` needs n * C*H*W floats of rwcnn_model_feature_shape. */
rwcnn_status rwcnn_model_encode(const rwcnn_model *model, const float *images, size_t n,
                                size_t channels, size_t height, size_t width,
                                float *features, size_t capacity);

/** Images from features alone (n x C x fheight x fwidth, C the cut's
 *  channels). Unpooling sizes follow rwcnn_model_decoded_shape. A model with
 *  RWCNN_UNPOOL_SWITCHES and a pool before the cut needs the switches:
 *  RWCNN_ERR_ARGUMENT, use rwcnn_model_reconstruct. Raw output (see
 *  rwcnn_display_normalize). */
rwcnn_status rwcnn_model_decode(const rwcnn_model *model, const float *features, size_t n,
                                size_t channels, size_t fheight, size_t fwidth,
                                float *images, size_t capacity);

/** Encoder then decoder: n images in, n raw reconstructions of the same
 *  shape out (capacity >= n*channels*height*width). `out` may not overlap
 *  `images`. */
rwcnn_status rwcnn_model_reconstruct(const rwcnn_model *model, const float *images, size_t n,
                                     size_t channels, size_t height, size_t width,
                                     float *out, size_t capacity);

/* ---- Encode now, decode later (issue 9: the encoder's trace) ------------ */

/** The encoder's trace of one encode: every layer's input size and every
 *  pool's switches (argmax positions), which decoding needs to unpool by
 *  switches and to give back odd sizes exactly. It holds no reference to the
 *  model: it may outlive it and decode with any model of the same
 *  architecture and cut. Read-only once made (concurrent decodes may share it). */
typedef struct rwcnn_trace rwcnn_trace;

/** As rwcnn_model_encode, and writes the pass's trace to *trace (on success
 *  only), for rwcnn_model_decode_trace. *trace must be freed with
 *  rwcnn_trace_free. */
rwcnn_status rwcnn_model_encode_trace(const rwcnn_model *model, const float *images, size_t n,
                                      size_t channels, size_t height, size_t width, float *features,
                                      size_t capacity, rwcnn_trace **trace);

/** Images from features and the trace of the encode that made them (the
 *  features may be edited, but their shape n x C x fheight x fwidth must be
 *  the trace's). The output has the traced input's shape (rwcnn_trace_shapes),
 *  raw as rwcnn_model_decode's. A trace that does not fit the model (other
 *  architecture or cut) is RWCNN_ERR_ARGUMENT. */
rwcnn_status rwcnn_model_decode_trace(const rwcnn_model *model, const rwcnn_trace *trace,
                                      const float *features, size_t n, size_t channels,
                                      size_t fheight, size_t fwidth, float *images, size_t capacity);

/** The traced pass's input {N, C, H, W} and feature {N, C, h, w} shapes;
 *  either array may be NULL. */
rwcnn_status rwcnn_trace_shapes(const rwcnn_trace *trace, size_t input[4], size_t features[4]);

/** Frees a trace; NULL is ignored. */
void rwcnn_trace_free(rwcnn_trace *trace);

/* ---- Metrics and display ------------------------------------------------ */

/** In place: maps each of the n images to [0, 1] by its own min and max over
 *  all channels (colour relations kept; a constant image becomes 0.5). */
rwcnn_status rwcnn_display_normalize(float *images, size_t n, size_t channels, size_t height,
                                     size_t width);

/** Mean squared error between two image batches of the same shape (over
 *  every value; equal to the mean of the per-image MSEs). */
rwcnn_status rwcnn_mse(const float *a, const float *b, size_t n, size_t channels, size_t height,
                       size_t width, double *out);

/** PSNR in dB with peak 1.0 (+infinity for identical inputs); for a batch,
 *  the mean of the per-image PSNRs. */
rwcnn_status rwcnn_psnr(const float *a, const float *b, size_t n, size_t channels, size_t height,
                        size_t width, double *out);

/** SSIM (Gaussian window 11, sigma 1.5, K1 0.01, K2 0.03, data range 1),
 *  averaged over channels and images. Images must be at least 11x11. */
rwcnn_status rwcnn_ssim(const float *a, const float *b, size_t n, size_t channels, size_t height,
                        size_t width, double *out);

/* ---- Colour-fitted figures (issue 11; docs/METRICS.md) ----------------- */

/** Colour-invariant structure score, per image the highest SSIM against
 *  `original` of three versions of `reconstruction`: itself (so never below
 *  plain SSIM), and the affine colour map (a channels x channels matrix plus
 *  an offset, clamped to [0,1]) fitted by least squares on raw pixels, or on
 *  detail (each channel minus its Gaussian local mean in SSIM's window, the
 *  offset matching the means); the mean over images. Positions kept with
 *  colours changed, scaled or mixed score high; an unrelated image scores
 *  about what a constant one does (compare with a cross-image baseline).
 *  Images at least 11x11, at most 512 channels. */
rwcnn_status rwcnn_colour_ssim(const float *reconstruction, const float *original, size_t n,
                               size_t channels, size_t height, size_t width, double *out);

/** The colour maps rwcnn_fitted_psnr may fit. */
typedef enum rwcnn_colour_map {
    RWCNN_COLOUR_CHANNEL = 0,  /**< a gain and an offset per channel */
    RWCNN_COLOUR_MATRIX = 1    /**< a full channels x channels matrix plus an offset */
} rwcnn_colour_map;

/** PSNR (dB, peak 1) of `reconstruction` after the least-squares affine
 *  colour map onto `original` on raw pixels, fitted per image and clamped to
 *  [0,1]: `colour_map` is a value of the rwcnn_colour_map enum, and any
 *  other value is RWCNN_ERR_ARGUMENT; the mean over images. The best MSE any such
 *  recolouring reaches, so never below plain PSNR. Same shapes and limits as
 *  rwcnn_colour_ssim. */
rwcnn_status rwcnn_fitted_psnr(const float *reconstruction, const float *original, size_t n,
                               size_t channels, size_t height, size_t width, int colour_map,
                               double *out);
/* ---- Front-end helpers: what the CLI does, for C callers ---------------- */
/* The same core functions as `rwcnn reconstruct`, so a C program and the
 * CLI give the same pixels for the same photo. */

/** Resizes a CHW float32 image (`channels` x `height` x `width`) so that its
 *  shorter side is `size` (the longer to round(long * size / short)) with
 *  the antialiased triangle filter, then crops the central size x size
 *  square into `out` (capacity >= channels*size*size floats). `out` may not
 *  overlap `image`. size must be >= 1; values must be finite. */
rwcnn_status rwcnn_image_resize_crop(const float *image, size_t channels, size_t height,
                                     size_t width, size_t size, float *out, size_t capacity);

/** rwcnn_image_resize_crop for `n` images of one size at once (n x channels
 *  x height x width, back to back) into `out` (capacity >= n*channels*size*size
 *  floats): the same pixels as n calls, in one. */
rwcnn_status rwcnn_image_resize_crop_batch(const float *images, size_t n, size_t channels,
                                           size_t height, size_t width, size_t size, float *out,
                                           size_t capacity);

/** In place: maps the model's raw reconstructions (n x channels x height x
 *  width) to [0, 1] for viewing and scoring, by the rule the CLI uses:
 *  display normalisation (as rwcnn_display_normalize) for random and tied
 *  decoders, whose scale is arbitrary; clamping to [0, 1] for a trained
 *  decoder. */
rwcnn_status rwcnn_model_display(const rwcnn_model *model, float *images, size_t n,
                                 size_t channels, size_t height, size_t width);

/* ---- Training the decoder ----------------------------------------------- */

/** Replaces the encoder's weights with torchvision VGG16/VGG19 weights from a
 *  safetensors file (names features.<i>.weight / .bias, as written by
 *  scripts/export_torchvision_vgg.py). Only layers up to the cut are read.
 *  A missing tensor or a shape mismatch is RWCNN_ERR_FORMAT naming the
 *  tensor. Create the model with normalize_input = 1 for these weights.
 *  Needs exclusive use of the model. */
rwcnn_status rwcnn_model_load_torchvision(rwcnn_model *model, const char *path);

typedef enum rwcnn_optimizer {
    RWCNN_OPTIMIZER_ADAM = 0,
    RWCNN_OPTIMIZER_SGD = 1   /**< with momentum */
} rwcnn_optimizer;

typedef enum rwcnn_progress_kind {
    RWCNN_PROGRESS_STEP = 0,    /**< after every training step */
    RWCNN_PROGRESS_EVAL = 1,    /**< after every held-out evaluation */
    RWCNN_PROGRESS_WARNING = 2  /**< e.g. a file that could not be loaded was skipped */
} rwcnn_progress_kind;

/** What a progress callback is told. Valid only during the callback. */
typedef struct rwcnn_progress {
    size_t struct_size;
    rwcnn_progress_kind kind;
    size_t step;               /**< steps completed */
    size_t steps;              /**< steps of the whole run */
    double loss;               /**< loss of the last step: the MSE, or the fast-style loss of
                                    rwcnn_train_fast_style (NaN before the first) */
    double learning_rate;
    double images_per_second;  /**< NaN where not measured yet */
    double eta_seconds;        /**< NaN where not measured yet */
    int has_eval;              /**< non-zero when the eval_* fields hold held-out metrics */
    double eval_mse, eval_psnr, eval_ssim;
    const char *message;       /**< warnings: what happened; "" otherwise */
} rwcnn_progress;

/** Called on the thread that called rwcnn_train (or rwcnn_train_fast_style).
 *  Return 0 to go on, non-zero to cancel: the call then writes the
 *  checkpoint (if one is set) for the last completed step and returns
 *  RWCNN_ERR_CANCELLED. */
typedef int (*rwcnn_progress_fn)(const rwcnn_progress *progress, void *user);

/* ---- Training from memory (issue 9: images or a batch callback instead of data_dir) ---- */

/** The batch a rwcnn_batch_fn fills. Valid only during the callback. */
typedef struct rwcnn_batch {
    size_t struct_size;
    size_t step;          /**< 0-based index of the step the batch is for (a resumed run starts
                               after its checkpoint's step) */
    size_t batch, channels, height, width; /**< the shape to fill: options.batch x 3 x crop x crop */
    float *images;        /**< batch*channels*height*width floats, CHW per image, in [0, 1]; owned by
                               the library and valid during the call; preset to NaN, so a value left
                               unwritten stops the run (RWCNN_ERR_ARGUMENT) */
    size_t capacity;      /**< floats at `images` */
    char *message;        /**< owned by the library, message_capacity bytes, starts as "": a
                               callback that fails may write a NUL-terminated reason here, and
                               rwcnn_last_error() then gives it (after the step's number) */
    size_t message_capacity;
} rwcnn_batch;

/** Fills the batch of one step: called on the thread that called rwcnn_train,
 *  before every step. The samples are trained on as given (no crop, no flip:
 *  the callback owns its sampling). Return RWCNN_OK when the batch is filled.
 *  Any other value stops training: the checkpoint (if set) is written for the
 *  last completed step and rwcnn_train returns that status (RWCNN_ERR_IO,
 *  _FORMAT, _OUT_OF_MEMORY, _CANCELLED or _ARGUMENT; any other value becomes
 *  RWCNN_ERR_ARGUMENT), with a message naming the step and the callback's
 *  own reason if it wrote one into batch->message. The callback must not
 *  use the model being trained. */
typedef int (*rwcnn_batch_fn)(const rwcnn_batch *batch, void *user);

/** Training options. Fill with rwcnn_train_options_init, then change fields.
 *  Strings are borrowed for the duration of rwcnn_train. */
typedef struct rwcnn_train_options {
    size_t struct_size;          /**< sizeof(rwcnn_train_options), set by _init; read as a
                                      prefix, as for rwcnn_model_config */
    const char *data_dir;        /**< PNG and JPEG files, searched recursively; or see `images` and `batch_fn` */
    const char *eval_dir;        /**< held-out PNG and JPEG files; NULL: seeded split of data_dir */
    double eval_fraction;        /**< share held out when eval_dir is NULL, default 0.2 */
    size_t steps;                /**< default 1000 */
    size_t batch;                /**< default 8 */
    size_t crop;                 /**< square crop side, default 64 */
    size_t short_side;           /**< resize so the shorter side is this first; 0 (default) keeps */
    int resize_whole;            /**< non-zero: whole images resized to crop x crop, no random crop */
    int flip;                    /**< random horizontal flips, default 1 */
    rwcnn_optimizer optimizer;   /**< default RWCNN_OPTIMIZER_ADAM */
    double learning_rate;        /**< default 1e-3 */
    double momentum;             /**< SGD, default 0.9 */
    double beta1, beta2, epsilon;/**< Adam, defaults 0.9, 0.999, 1e-8 */
    double weight_decay;         /**< L2, default 0 */
    uint64_t data_seed;          /**< split, data order, crops, flips; default 0 (the model's
                                      weights have their own seed, rwcnn_model_config.seed) */
    size_t eval_every;           /**< steps between evaluations; 0: at the end only; default 100 */
    const char *checkpoint;      /**< checkpoint path (safetensors, atomic writes); NULL for none */
    size_t checkpoint_every;     /**< steps between checkpoints; 0: at the end only; default 100 */
    int resume;                  /**< non-zero: continue from `checkpoint` (must exist) */
    rwcnn_progress_fn progress;  /**< may be NULL */
    void *user;                  /**< passed to `progress` */
    /* Training from memory: set exactly one of data_dir, images and batch_fn. */
    const float *images;         /**< image_count x 3 x image_height x image_width floats in [0, 1]
                                      (CHW per image, back to back), used as a folder's files are
                                      (short_side resize, seeded crops and flips); copied at the start
                                      of rwcnn_train, borrowed for the call; NULL: none */
    size_t image_count, image_height, image_width;
    const float *eval_images;    /**< held-out images, eval_count x 3 x eval_height x eval_width
                                      floats; with `images`, NULL holds out a seeded eval_fraction by
                                      image; required with batch_fn; not with data_dir (eval_dir) */
    size_t eval_count, eval_height, eval_width;
    rwcnn_batch_fn batch_fn;     /**< fills each step's batch (see rwcnn_batch_fn); NULL: none */
    void *batch_user;            /**< passed to batch_fn */
    /* Images of different sizes, as a folder's files may be: */
    const size_t *image_shapes;  /**< NULL: every image is image_height x image_width. Else
                                      2 x image_count values, (height, width) of each image in
                                      turn; `images` then holds each 3 x height x width image
                                      back to back, and image_height, image_width must be 0 */
    const size_t *eval_shapes;   /**< the same for eval_images (eval_count pairs; eval_height,
                                      eval_width 0) */
} rwcnn_train_options;

/** Fills `options` with the defaults above. NULL is ignored. Writes the
 *  struct of ABI 0.1 only, as rwcnn_model_config_init does. */
void rwcnn_train_options_init(rwcnn_train_options *options);

/** The defaults into the first `size` bytes (see rwcnn_model_config_init_sized):
 *  rwcnn_train_options_init_sized(&o, sizeof o). */
rwcnn_status rwcnn_train_options_init_sized(rwcnn_train_options *options, size_t size);

/** Outcome of rwcnn_train. Set struct_size = sizeof(rwcnn_train_result)
 *  (a smaller, older size gets only the fields it has). */
typedef struct rwcnn_train_result {
    size_t struct_size;
    size_t steps_done;
    double final_loss;
    int has_eval;
    double eval_mse, eval_psnr, eval_ssim;  /**< held-out metrics after the last step */
    double seconds;
    size_t train_images, eval_images, skipped_files;
    size_t losses_written;  /**< rwcnn_train_fast_style: entries written to style->losses; rwcnn_train: 0 */
} rwcnn_train_result;

/** Trains the model's decoder to reconstruct the input from the cut's
 *  features (MSE), the encoder fixed, starting from the decoder's current
 *  weights; the model's decoder mode becomes RWCNN_DECODER_TRAINED. With one
 *  thread a resumed run continues bit for bit as the uninterrupted one.
 *  Files that fail to load are reported through the callback
 *  (RWCNN_PROGRESS_WARNING) and skipped; no usable image is
 *  RWCNN_ERR_ARGUMENT. A tied decoder cannot be trained (RWCNN_ERR_ARGUMENT).
 *  An image, resize or batch over the memory budget is
 *  RWCNN_ERR_OUT_OF_MEMORY, and so is a run whose working memory (the
 *  step's plan, the held-out crops and the evaluation's plans, kept side by
 *  side) is over it. On resume the checkpoint's counters are bounded (step
 *  at most `steps`), its optimiser state must be complete and it must
 *  record the run's settings (older checkpoints without them cannot be
 *  checked; their weights still load with rwcnn_model_load):
 *  RWCNN_ERR_FORMAT otherwise.
 *  `result` may be NULL. Needs exclusive use of the model.
 *  The samples come from data_dir, from `images` or from batch_fn (see
 *  rwcnn_train_options): the same images in memory and in a folder (in
 *  sorted-path order) give the same run. A checkpoint records the data
 *  source and the sampling and optimiser options; a resume with any of them
 *  changed is RWCNN_ERR_ARGUMENT naming it (steps, eval_every and
 *  checkpoint_every may change). */
rwcnn_status rwcnn_train(rwcnn_model *model, const rwcnn_train_options *options,
                         rwcnn_train_result *result);

/* ---- Image synthesis: invert, texture, style (issue 10) ----------------- */
/* Optimise the pixels of an image against losses on a model's random
 * features (He, Wang & Hopcroft, NIPS 2016): invert a layer, synthesise a
 * texture from Gram matrices, transfer a style. Every layer named must be
 * at or before the model's cut (create the model with the deepest one as
 * its cut); names may be aliases ("relu4_2", "block4_conv2"). The calls
 * only read the model: they may run concurrently on one handle. The same
 * options give the same image at a fixed thread count. See docs/ENGINE.md,
 * "Synthesis", for every loss and its normalisation. Each task has its
 * own defaults (rwcnn_synthesis_options_init_task, and what NULL options
 * mean): textures and styles that look like their source want
 * RWCNN_SYNTHESIS_LBFGS and a model created with normalize_input = 1
 * (centred input); inversion does well with Adam on the raw input. */

/** The tasks, for their defaults. */
typedef enum rwcnn_synthesis_task {
    RWCNN_TASK_INVERT = 0,
    RWCNN_TASK_TEXTURE = 1,
    RWCNN_TASK_STYLE = 2
} rwcnn_synthesis_task;

typedef enum rwcnn_synthesis_optimizer {
    RWCNN_SYNTHESIS_ADAM = 0,   /**< Adam on the pixels, one gradient per step */
    RWCNN_SYNTHESIS_LBFGS = 1   /**< L-BFGS, one iteration (a strong-Wolfe line search) per step */
} rwcnn_synthesis_optimizer;

typedef enum rwcnn_synthesis_start {
    RWCNN_START_NOISE = 0,      /**< seeded white noise, uniform in (0, 1) */
    RWCNN_START_CONTENT = 1     /**< the content image (rwcnn_style only) */
} rwcnn_synthesis_start;

typedef enum rwcnn_feature_normalization {
    RWCNN_FEATURE_MEAN = 0,     /**< sum (F - T)^2 / count */
    RWCNN_FEATURE_RELATIVE = 1  /**< sum (F - T)^2 / sum T^2 (the default) */
} rwcnn_feature_normalization;

typedef enum rwcnn_gram_normalization {
    RWCNN_GRAM_SCALED = 0,      /**< sum ||G - A||^2 / sum ||A||^2 (the default; 1 at a black image) */
    RWCNN_GRAM_GATYS = 1        /**< sum ||G - A||^2 / (4 C^2) */
} rwcnn_gram_normalization;

/** What a synthesis progress callback is told after each step. Valid only
 *  during the callback. */
typedef struct rwcnn_synthesis_progress {
    size_t struct_size;
    size_t step;           /**< steps completed, over all scales */
    size_t steps;          /**< scales x steps */
    size_t scale, scales;  /**< current scale (1-based) and their number */
    double loss;           /**< total loss at the current image */
    double seconds;        /**< since the call started */
    const float *image;    /**< the current image(s), n x channels x height x width */
    size_t n, channels, height, width;
} rwcnn_synthesis_progress;

/** Called on the calling thread after every step; return non-zero to
 *  cancel (the call then returns RWCNN_ERR_CANCELLED and writes nothing to
 *  `out`: keep the image from the callback to save partial work). */
typedef int (*rwcnn_synthesis_progress_fn)(const rwcnn_synthesis_progress *progress, void *user);

/** Synthesis options. Fill with rwcnn_synthesis_options_init_sized, then change
 *  fields; read as a prefix of struct_size bytes, as for rwcnn_model_config. */
typedef struct rwcnn_synthesis_options {
    size_t struct_size;
    size_t steps;                        /**< optimiser steps at each scale, default 200 */
    rwcnn_synthesis_optimizer optimizer; /**< default RWCNN_SYNTHESIS_ADAM */
    double learning_rate;                /**< Adam's step in pixel units, default 0.05 */
    int clamp;                           /**< non-zero (default): pixels kept in [0, 1] after each step */
    size_t scales;                       /**< coarse-to-fine scales, default 1 (final size only) */
    double scale_factor;                 /**< size ratio between scales, default 2 */
    uint64_t seed;                       /**< seed of the white-noise start, default 0 */
    rwcnn_synthesis_start start;         /**< default RWCNN_START_NOISE */
    double tv_weight, tv_beta;           /**< beta-TV prior, defaults 0 (off) and 2 */
    double alpha_weight, alpha;          /**< alpha-norm prior (centred at 0.5), defaults 0 (off) and 6 */
    rwcnn_feature_normalization feature_normalization; /**< default RWCNN_FEATURE_RELATIVE */
    rwcnn_gram_normalization gram_normalization;       /**< default RWCNN_GRAM_SCALED */
    rwcnn_synthesis_progress_fn progress; /**< may be NULL */
    void *user;                          /**< passed to `progress` */
    double *losses;                      /**< optional loss curve: the total loss at each step
                                              (Adam: before the step; L-BFGS: after it) */
    size_t losses_capacity;              /**< entries `losses` holds; the first ones are written */
} rwcnn_synthesis_options;

/** Fills `options` with the defaults above (those of RWCNN_TASK_INVERT).
 *  NULL is ignored. Writes the struct of ABI 0.1 only, as
 *  rwcnn_model_config_init does. */
void rwcnn_synthesis_options_init(rwcnn_synthesis_options *options);

/** The defaults into the first `size` bytes (see rwcnn_model_config_init_sized):
 *  rwcnn_synthesis_options_init_sized(&o, sizeof o). */
rwcnn_status rwcnn_synthesis_options_init_sized(rwcnn_synthesis_options *options, size_t size);

/** The defaults of `task` (an rwcnn_synthesis_task) into the first `size`
 *  bytes of `options`, as rwcnn_synthesis_options_init_sized writes them:
 *  those above, but RWCNN_SYNTHESIS_LBFGS for texture and style. These are
 *  what rwcnn_invert, rwcnn_texture and rwcnn_style use for NULL options.
 *  When `normalize_input` is not NULL it receives the model setting the
 *  task wants (1 for texture and style, 0 for invert; the model is the
 *  caller's, so this is advice). `options` may be NULL (then `size` is not
 *  read). An unknown task or a bad size is RWCNN_ERR_ARGUMENT and writes
 *  nothing:
 *  rwcnn_synthesis_options_init_task(&o, sizeof o, RWCNN_TASK_TEXTURE, &centred). */
rwcnn_status rwcnn_synthesis_options_init_task(rwcnn_synthesis_options *options, size_t size, int task,
                                               int *normalize_input);

/** What a task uses when the caller names nothing more: the architecture
 *  to build its model from, and for RWCNN_TASK_STYLE its content layer,
 *  content weight and style layers. The CLI and Python take these. Strings
 *  are static; fields a task has no use for are NULL or 0. */
typedef struct rwcnn_task_defaults {
    size_t struct_size;
    const char *arch;                 /**< "vgg16" (invert) or "vgg16-avg" */
    const char *content_layer;        /**< style: "conv4_2" */
    double content_weight;            /**< style: 1 */
    const char *const *style_layers;  /**< style: conv1_1, conv2_1, conv3_1, conv4_1, conv5_1 */
    size_t style_layer_count;
} rwcnn_task_defaults;

/** The defaults of `task` into the first `size` bytes of `defaults`, as
 *  rwcnn_synthesis_options_init_task writes options. An unknown task, NULL
 *  `defaults` or a bad size is RWCNN_ERR_ARGUMENT and writes nothing:
 *  rwcnn_synthesis_task_defaults(RWCNN_TASK_STYLE, &d, sizeof d). */
rwcnn_status rwcnn_synthesis_task_defaults(int task, rwcnn_task_defaults *defaults, size_t size);

/** Outcome of a synthesis call. Set struct_size = sizeof(rwcnn_synthesis_result). */
typedef struct rwcnn_synthesis_result {
    size_t struct_size;
    size_t steps_done;
    double start_loss;     /**< total loss at the start image (first scale) */
    double final_loss;     /**< total loss at the result */
    double seconds;
    size_t losses_written; /**< entries written to options->losses */
} rwcnn_synthesis_result;

/** Reconstructs n images (n x channels x height x width) from their
 *  features at `layer`: feature loss times `weight` (>= 0) plus the
 *  priors, from seeded noise. `out` needs n*channels*height*width floats.
 *  `options` and `result` may be NULL (defaults; no result). No layer, an
 *  unknown layer or one past the cut, a negative weight, zero steps, an
 *  image too small for the layer's pools (at any scale) or a bad option is
 *  RWCNN_ERR_ARGUMENT with a message naming it. */
rwcnn_status rwcnn_invert(const rwcnn_model *model, const float *images, size_t n, size_t channels,
                          size_t height, size_t width, const char *layer, double weight,
                          const rwcnn_synthesis_options *options, float *out, size_t capacity,
                          rwcnn_synthesis_result *result);

/** Synthesises `count` textures of out_height x out_width whose Gram
 *  matrices at `layers` (layer_count names, weighted by `weights`, NULL: 1
 *  each) match those of `source` (one image, or n = count images: texture
 *  i follows source i). count 0 means n. `out` needs
 *  count*channels*out_height*out_width floats. Errors as for rwcnn_invert. */
rwcnn_status rwcnn_texture(const rwcnn_model *model, const float *source, size_t n, size_t channels,
                           size_t height, size_t width, const char *const *layers, const double *weights,
                           size_t layer_count, size_t count, size_t out_height, size_t out_width,
                           const rwcnn_synthesis_options *options, float *out, size_t capacity,
                           rwcnn_synthesis_result *result);

/** Style transfer: the features of n content images at `content_layer`
 *  (weight `content_weight`) plus the Grams of `style` (style_n = 1 image
 *  shared by all, or n) at `style_layers` (weights `style_weights`, NULL: 1
 *  each). The result has the content's size: `out` needs
 *  n*channels*height*width floats. Errors as for rwcnn_invert. */
rwcnn_status rwcnn_style(const rwcnn_model *model, const float *content, size_t n, size_t channels,
                         size_t height, size_t width, const float *style, size_t style_n,
                         size_t style_height, size_t style_width, const char *content_layer,
                         double content_weight, const char *const *style_layers,
                         const double *style_weights, size_t style_layer_count,
                         const rwcnn_synthesis_options *options, float *out, size_t capacity,
                         rwcnn_synthesis_result *result);

/* ---- Fast style transfer with a random CNN-DeCNN (issue 10) ------------- */
/* The later version of the seed paper (ICLR 2020 submission) trains the
 * decoder of a random encoder so that decoding a photo's features carries a
 * style image's Gram statistics: after training, rwcnn_reconstruct
 * stylises any photo in one pass. The loss of a batch of photos x with
 * outputs y = decode(encode(x)), on the same fixed random encoder phi:
 *   content_weight * feature loss(phi_c(y), phi_c(x))
 *   + sum_l style_weights[l] * Gram loss(phi_l(y), Gram(phi_l(style)))
 *   + tv_weight * beta-TV(y),
 * normalised as rwcnn_style's terms (docs/ENGINE.md, "Fast style"). */

/** Fast-style settings. Fill with rwcnn_fast_style_options_init_sized, then set
 *  at least style, its size, content_layer and style_layers; read as a
 *  prefix of struct_size bytes. Pointers are borrowed for the call. */
typedef struct rwcnn_fast_style_options {
    size_t struct_size;
    const float *style;               /**< one style image, 3 x style_height x style_width floats (CHW) in [0, 1] */
    size_t style_height, style_width;
    const char *content_layer;        /**< layer whose features of the output match the input's */
    double content_weight;            /**< default 1 */
    const char *const *style_layers;  /**< style_layer_count layer names */
    const double *style_weights;      /**< one per style layer; NULL: 1 each */
    size_t style_layer_count;
    double tv_weight, tv_beta;        /**< beta-TV prior on the output, defaults 0 (off) and 2 */
    rwcnn_feature_normalization feature_normalization; /**< default RWCNN_FEATURE_RELATIVE */
    rwcnn_gram_normalization gram_normalization;       /**< default RWCNN_GRAM_SCALED */
    double *losses;                   /**< optional loss curve: the total loss of each step this call ran */
    size_t losses_capacity;           /**< entries `losses` holds; the first ones are written */
    double output_layer_scale;        /**< in [0, 1], default 0.1: a run that does not resume first multiplies the
                                           decoder's image layer by it and sets that layer's bias to the ImageNet
                                           mean colour (the output starts faint on a flat colour); 1: untouched */
} rwcnn_fast_style_options;

/** Fills `options` with the defaults above (no style image, no layers). NULL is ignored.
 *  Writes the struct of ABI 0.1 only, as rwcnn_model_config_init does: every
 *  field before output_layer_scale, which then takes its default when read. */
void rwcnn_fast_style_options_init(rwcnn_fast_style_options *options);

/** The defaults into the first `size` bytes (see rwcnn_model_config_init_sized):
 *  rwcnn_fast_style_options_init_sized(&o, sizeof o). */
rwcnn_status rwcnn_fast_style_options_init_sized(rwcnn_fast_style_options *options, size_t size);

/** Trains the model's decoder for fast style transfer: everything of
 *  rwcnn_train (data from data_dir, images or batch_fn; checkpoints, resume,
 *  progress with cancel, held-out evaluation, bit-for-bit runs with one
 *  thread) with the loss above instead of the MSE. The progress and result
 *  losses are that total; the held-out metrics compare each output with its
 *  input photo (the content kept). Every layer must be at or before the
 *  model's cut. A checkpoint records the style image and settings, and a
 *  resume with others (or of a plain rwcnn_train checkpoint, or the other
 *  way round) is RWCNN_ERR_ARGUMENT naming the difference. No style image,
 *  no style layer, an unknown layer or one past the cut, a negative weight,
 *  a style image too small for the deepest style layer or a tied decoder is
 *  RWCNN_ERR_ARGUMENT. `result` may be NULL. Needs exclusive use of the model. */
rwcnn_status rwcnn_train_fast_style(rwcnn_model *model, const rwcnn_train_options *options,
                                    const rwcnn_fast_style_options *style, rwcnn_train_result *result);

#ifdef __cplusplus
}
#endif

#endif /* RWCNN_H */
