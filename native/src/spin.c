/* conta-spin: prints the GOMP_SPINCOUNT that spins about US microseconds on this CPU (spin.h says why a count has to
 * be measured). The ./conta launcher runs it for predict and bench latency.
 *   conta-spin [US]                 rounds for US us (default CONTA_SPIN_US, 100)
 *   conta-spin US --pause-ns NS     rounds for US us at NS ns a round (no measurement)
 *   conta-spin --pause-ns           the measured ns of one round */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "spin.h"

int main(int argc, char **argv) {
    if (argc == 2 && !strcmp(argv[1], "--pause-ns")) {
        printf("%.2f\n", conta_pause_ns());
        return 0;
    }
    char *end = NULL;
    double us = argc > 1 ? strtod(argv[1], &end) : CONTA_SPIN_US;
    if ((argc > 1 && (end == argv[1] || *end || !(us > 0))) || (argc != 1 && argc != 2 && !(argc == 4 && !strcmp(argv[2], "--pause-ns")))) {
        fprintf(stderr, "usage: conta-spin [US] [--pause-ns NS] | conta-spin --pause-ns   (US > 0 microseconds)\n");
        return 2;
    }
    if (argc == 4) {
        double ns = strtod(argv[3], &end);
        if (end == argv[3] || *end || !(ns > 0)) {
            fprintf(stderr, "conta-spin: --pause-ns %s: give the ns of one round, a number > 0\n", argv[3]);
            return 2;
        }
        printf("%lu\n", conta_spin_rounds_for(us, ns));
        return 0;
    }
    printf("%lu\n", conta_spin_rounds(us));
    return 0;
}
