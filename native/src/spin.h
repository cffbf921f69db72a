/* How long oneDNN's OpenMP workers (libgomp) spin before they sleep, as a count of GOMP_SPINCOUNT rounds.
 *
 * An inference call runs ~55 primitives; between two of them a worker that has gone to sleep costs a futex wake-up of
 * the other core (a VM exit on these hosts), 50 us or more. Spinning ~20 us first covered most gaps (ResNet-50 batch
 * 1, bench/RESULTS-latency.md, sessions 12 and 28), but a worker still slept ~9 times a call (ops whose two halves end
 * 30-150 us apart), and on these VMs (guest_halt_poll_ns 0) its idle vCPU halted and could lose its core to the host
 * for milliseconds: 14-29 of 600 calls were over p50 + 2.5 ms with no other guest task running, against 1-9 with a
 * 100 us spin, which also held the loaded p50 lower (2.10-2.25x the quiet one against 2.49-2.53x; session 32). Hence
 * CONTA_SPIN_US. libgomp counts rounds of `pause`, and a pause takes ~20 ns on the AMD
 * EPYC hosts but ~10 ns on the Intel Xeon ones: 1000 rounds, chosen on AMD, was a 10 us spin on Intel, where calls
 * then woke sleeping workers (p50 1.03x ONNX Runtime's against 0.94x with 20 us). So the count is measured: the
 * rounds that take `micros` microseconds on this CPU.
 *
 * Header-only: libconta.so (conta.c) and the launcher's helper (spin.c) share it. */
#ifndef CONTA_SPIN_H
#define CONTA_SPIN_H
#include <time.h>

/* The spin of the launcher's inference commands and libconta.so, in microseconds (above). */
#define CONTA_SPIN_US 100

/* The rounds for `micros` us at `pause_ns` ns a round, within [250, 20000] (a measurement gone wrong must not give
 * libgomp's 300000-round default back, nor a spin too short to cover anything). */
static unsigned long conta_spin_rounds_for(double micros, double pause_ns) {
    if (!(pause_ns > 0) || !(micros > 0)) return 1000;
    double r = micros * 1000.0 / pause_ns + 0.5;
    return r < 250 ? 250 : r > 20000 ? 20000 : (unsigned long) r;
}

/* ns per `pause` on this CPU: the fastest of 7 batches of 20000 (a batch that lost the core only comes out slower).
 * ~2 ms. 0 where there is no pause instruction to time (not x86). */
static double conta_pause_ns(void) {
#if defined(__x86_64__) || defined(__i386__)
    double best = 0;
    for (int b = 0; b < 7; b++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < 20000; i++) __builtin_ia32_pause();
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 20000.0;
        if (b == 0 || ns < best) best = ns;
    }
    return best;
#else
    return 0;
#endif
}

/* The GOMP_SPINCOUNT for a spin of `micros` us on this CPU (1000, the count chosen on AMD, where it cannot tell). */
static unsigned long conta_spin_rounds(double micros) { return conta_spin_rounds_for(micros, conta_pause_ns()); }
#endif
