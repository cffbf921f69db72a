/* The C ABI test program CAbiTest compiles and runs against libconta.so:
 *   abi_check BUNDLE IMAGE OUT.raw CORRUPT_IMAGE [CALLS]
 * writes IMAGE's label map to OUT.raw, prints "NAME RC MESSAGE" for each error case, "threads N-equal" after
 * segmenting from 4 threads at once, and with CALLS the median time of that many conta_segment_rgb8 calls. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conta.h"

static conta_model *model;
static uint8_t *rgb, *ref;
static int w, h;

static void report(const char *name, int rc) { printf("%s %d %s\n", name, rc, rc ? conta_last_error() : ""); fflush(stdout); }

static void *worker(void *arg) {
    (void) arg;
    uint8_t *out = malloc((size_t) w * h);
    long same = 0;
    for (int r = 0; r < 2; r++)
        if (conta_segment_rgb8(model, rgb, w, h, out, (size_t) w * h) == 0 && memcmp(out, ref, (size_t) w * h) == 0) same++;
    free(out);
    return (void *) same;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: abi_check BUNDLE IMAGE OUT.raw CORRUPT [CALLS]\n"); return 2; }
    conta_model *none = NULL;
    report("missing_bundle", conta_open("/nonexistent/model.safetensors", "cpu", &none));
    report("bad_device", conta_open(argv[1], "tpu:7", &none));
    int rc = conta_open(argv[1], "cpu", &model);
    report("open", rc);
    if (rc) return 1;
    rc = conta_image_read(argv[2], &rgb, &w, &h);
    report("read", rc);
    if (rc) return 1;
    ref = malloc((size_t) w * h);
    rc = conta_segment_rgb8(model, rgb, w, h, ref, (size_t) w * h);
    report("segment", rc);
    FILE *f = fopen(argv[3], "wb");
    fwrite(ref, 1, (size_t) w * h, f);
    fclose(f);

    uint8_t *junk = NULL;
    int jw, jh;
    report("corrupt_image", conta_image_read(argv[4], &junk, &jw, &jh));
    report("missing_image", conta_image_read("/nonexistent/image.jpg", &junk, &jw, &jh));
    uint8_t *small = malloc((size_t) w * h);
    report("wrong_buffer", conta_segment_rgb8(model, rgb, w, h, small, (size_t) w * h - 1));
    report("zero_width", conta_segment_rgb8(model, rgb, 0, h, small, 0));
    report("huge_image", conta_segment_rgb8(model, rgb, 100000, 16, small, 1600000));
    report("null_image", conta_segment_rgb8(model, NULL, w, h, small, (size_t) w * h));
    float cams[16];
    report("cams_of_seg", conta_cams(model, rgb, w, h, cams, 16));
    report("scores_of_seg", conta_class_scores(model, rgb, w, h, cams, 16));
    report("bad_precision", conta_open_precision(argv[1], "cpu", "fp16", &none));
    conta_model *half = NULL;
    rc = conta_open_precision(argv[1], "cpu", "bf16", &half);
    report("open_bf16", rc);
    if (rc == 0) {
        uint8_t *lab16 = malloc((size_t) w * h);
        report("segment_bf16", conta_segment_rgb8(half, rgb, w, h, lab16, (size_t) w * h));
        long agree = 0;
        for (long i = 0; i < (long) w * h; i++) agree += lab16[i] == ref[i];
        printf("bf16_agree %ld of %ld\n", agree, (long) w * h);
        free(lab16);
        report("close_bf16", conta_close(half));
    }
    int n = 0;
    report("classes", conta_num_classes(model, 0, &n));
    printf("num_classes %d\n", n);

    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, worker, NULL);
    long same = 0;
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        same += (long) r;
    }
    printf("threads %ld-equal\n", same);

    if (argc > 5) {
        int calls = atoi(argv[5]);
        double *ms = malloc(sizeof(double) * calls);
        for (int i = 0; i < calls; i++) {
            struct timespec a, b;
            clock_gettime(CLOCK_MONOTONIC, &a);
            conta_segment_rgb8(model, rgb, w, h, small, (size_t) w * h);
            clock_gettime(CLOCK_MONOTONIC, &b);
            ms[i] = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
        }
        qsort(ms, calls, sizeof(double), cmp);
        printf("median_ms %.4f\n", ms[calls / 2]);
        for (int i = 0; i < calls; i++) { /* a JNI round trip with no model work: the ABI's fixed cost per call */
            struct timespec a, b;
            int k;
            clock_gettime(CLOCK_MONOTONIC, &a);
            conta_num_classes(model, 0, &k);
            clock_gettime(CLOCK_MONOTONIC, &b);
            ms[i] = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
        }
        qsort(ms, calls, sizeof(double), cmp);
        printf("roundtrip_median_ms %.5f\n", ms[calls / 2]);
    }
    report("close", conta_close(model));
    report("close_again", conta_close(model));             /* a closed handle is unknown, not freed memory */
    report("use_after_close", conta_num_classes(model, 0, &n));
    char name[8];
    report("class_name_no_room", conta_class_name(model, 1, name, 0));
    conta_free(rgb);
    free(ref);
    free(small);
    printf("done\n");
    return 0;
}
