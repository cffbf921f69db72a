/*
 * conta C ABI: run a trained conta model (a bundle from `conta export`) from C or C++.
 *
 * The library starts one Java VM per process on the first conta_open (libjvm.so from CONTA_JAVA_HOME, JAVA_HOME or
 * the JDK it was built with; the class path from CONTA_CLASSPATH or the build's target/conta-engine.jar and
 * every jar in target/lib; extra JVM flags from CONTA_JVM_OPTS). Every function is thread-safe; a calling thread attaches to
 * the VM once. Functions return CONTA_OK (0) or an error code; conta_last_error() gives the calling thread's
 * message. No Java exception ever reaches the caller.
 */
#ifndef CONTA_H
#define CONTA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum conta_status {
    CONTA_OK = 0,
    CONTA_ERR_ARGUMENT = 1,  /* bad argument: null pointer, wrong buffer size, closed handle */
    CONTA_ERR_NOT_FOUND = 2, /* bundle or image file does not exist */
    CONTA_ERR_MODEL = 3,     /* not a conta bundle, newer format, missing tensor */
    CONTA_ERR_IMAGE = 4,     /* undecodable image, outside 16..8192 px a side, or over 33.6 million pixels */
    CONTA_ERR_KIND = 5,      /* label maps from a classifier, CAMs from a segmentation bundle */
    CONTA_ERR_DEVICE = 6,    /* device unavailable or unknown */
    CONTA_ERR_JVM = 7,       /* the Java VM could not start (libjvm.so or class path not found) */
    CONTA_ERR_INTERNAL = 8   /* anything else (out of memory, a bug): see conta_last_error() */
};

typedef struct conta_model conta_model;

/* Opens a bundle file (or pipeline run folder) on device "cpu", "cuda:N" or "auto" (NULL = "cpu"). */
int conta_open(const char *bundle_path, const char *device, conta_model **model);

/* The same with the arithmetic of the CPU's inference plans: "fp32" (NULL), "bf16" (bfloat16 weights and activations,
 * f32 accumulation; about half fp32's latency on AVX512-BF16/AMX CPUs, labels differ only where two classes' scores
 * are within bf16 rounding) or "auto" (bf16 where the CPU has AMX). A bad value is CONTA_ERR_ARGUMENT. */
int conta_open_precision(const char *bundle_path, const char *device, const char *precision, conta_model **model);

/* Label map of an RGB8 image (rows of interleaved R,G,B, width*height*3 bytes) into labels (labels_len must equal
 * width*height): the class index of each pixel, 0 = background. Segmentation bundles. */
int conta_segment_rgb8(conta_model *model, const uint8_t *rgb, int width, int height, uint8_t *labels, size_t labels_len);

/* CAMs of every class into cams (cams_len floats = conta_num_classes(model, 1) * width * height; plane i is class
 * i + 1, values in [0, 1]). Classifier bundles. */
int conta_cams(conta_model *model, const uint8_t *rgb, int width, int height, float *cams, size_t cams_len);

/* The classifier's probability of each class into scores (scores_len floats = conta_num_classes(model, 1); index i is
 * class i + 1): the sigmoid of its logits for the image at scale 1; a class is present where it is >= 0.5. Each CAM is
 * normalised to its own maximum, so these say which CAM planes to read. Classifier bundles. */
int conta_class_scores(conta_model *model, const uint8_t *rgb, int width, int height, float *scores, size_t scores_len);

/* Label-map classes with background (cams = 0) or CAM planes (cams = 1) into *n. */
int conta_num_classes(conta_model *model, int cams, int *n);

/* Name of class k (0 = background) copied into buf as UTF-8 (NUL-terminated; truncated to buf_len at a character
 * boundary). */
int conta_class_name(conta_model *model, int k, char *buf, size_t buf_len);

/* Frees the model. NULL is allowed. A closed handle stays harmless: closing it again, or passing it to any other
 * function, returns CONTA_ERR_ARGUMENT ("invalid or closed model handle"); handles are never reused. */
int conta_close(conta_model *model);

/* The calling thread's last error message as UTF-8 ("" if none); valid until its next conta call. */
const char *conta_last_error(void);

/* The library's conta version (Maven's project version, "dev" for a build outside Maven); starts nothing. */
const char *conta_version(void);

/* Helpers for programs without an image library: decode a JPEG/PNG/BMP file to RGB8 (free *rgb with
 * conta_free), and write a label map as a VOC-palette PNG. */
int conta_image_read(const char *path, uint8_t **rgb, int *width, int *height);
int conta_labels_write_png(const char *path, const uint8_t *labels, int width, int height);
void conta_free(void *p);

#ifdef __cplusplus
}
#endif
#endif
