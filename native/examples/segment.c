/* Segments an image file with a conta bundle and writes the label map as a VOC-palette PNG.
 *   conta-segment BUNDLE IMAGE OUT.png [cpu|cuda:0|auto]
 * Build: gcc segment.c -Inative/include -Ltarget/native -lconta -Wl,-rpath,target/native -o conta-segment */
#include <stdio.h>
#include <stdlib.h>

#include "conta.h"

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s BUNDLE IMAGE OUT.png [device]\n", argv[0]);
        return 2;
    }
    conta_model *m = NULL;
    int rc = conta_open(argv[1], argc > 4 ? argv[4] : "cpu", &m);
    if (rc) { fprintf(stderr, "open: error %d: %s\n", rc, conta_last_error()); return 1; }
    uint8_t *rgb = NULL;
    int w = 0, h = 0;
    rc = conta_image_read(argv[2], &rgb, &w, &h);
    if (rc) { fprintf(stderr, "read: error %d: %s\n", rc, conta_last_error()); conta_close(m); return 1; }
    uint8_t *labels = malloc((size_t) w * h);
    rc = conta_segment_rgb8(m, rgb, w, h, labels, (size_t) w * h);
    if (rc) { fprintf(stderr, "segment: error %d: %s\n", rc, conta_last_error()); return 1; }
    int n = 0;
    conta_num_classes(m, 0, &n);
    long counts[256] = {0};
    for (long i = 0; i < (long) w * h; i++) counts[labels[i]]++;
    for (int k = 0; k < n; k++) {
        char name[128];
        if (counts[k] && conta_class_name(m, k, name, sizeof name) == 0) printf("%-16s %6.2f%%\n", name, 100.0 * counts[k] / ((double) w * h));
    }
    rc = conta_labels_write_png(argv[3], labels, w, h);
    if (rc) fprintf(stderr, "write: error %d: %s\n", rc, conta_last_error());
    conta_free(rgb);
    free(labels);
    conta_close(m);
    return rc ? 1 : 0;
}
