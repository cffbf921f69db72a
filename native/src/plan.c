// The inference plan's call loop in C (libconta_cpu.so, called from conta.tensor.cpu.DnnlGraph through the FFM API):
// one downcall per plan call instead of one per op.
//
// Why: with the loop in Java, each op is a JNI or FFM call with Java around it, and HotSpot compiles that Java in
// tiers during the first ~500 calls (C1 when a method has run 128 times, C2 after thousands). Each compile runs for
// 3 ms (C1) to ~200 ms (C2) on a compiler thread, which on a 2-core machine takes one of the cores that the op in
// flight splits its work over: ResNet-50 @224 had its slow calls at the same calls run after run (the 2nd, 5th, 14th,
// 19th after 10 warm-up calls), 24 in 3 runs of 100 against 7 after 600 warm-up calls (bench/RESULTS-latency.md,
// session 31). Here the loop is compiled once, by gcc.
//
// The plan is an array of ops of CONTA_PLAN_SLOTS 64-bit slots each (pointers and ints alike), written by DnnlGraph
// after it placed the buffers:
//   OP_DNNL:      primitive, nargs, args (dnnl_exec_arg_t[nargs])
//   OP_WINO, OP_WINO_BF16: x, y, ws, U, bias, h, w, d, cin, cout, relu, threads (conta_wino_conv / conta_wino_bf16_conv)
//   OP_GEMM:      x, y, ws, packed, bias, next_wp, h, w, cin, cout, kh, kw, stride, pad, dil, sum, relu, next_k,
//                 next_cout, threads (conta_gc_conv)
// (slot 0 is the kind; the fields follow from slot 1)
// oneDNN's functions come as pointers (libdnnl is loaded by its Java preset, not linked here).
#include <stdint.h>

#define CONTA_PLAN_SLOTS 24
enum { OP_DNNL = 0, OP_WINO = 1, OP_WINO_BF16 = 2, OP_GEMM = 3 };

typedef int (*dnnl_execute_fn)(const void *primitive, void *stream, int nargs, const void *args);
typedef int (*dnnl_wait_fn)(void *stream);

void conta_wino_conv(const float *x, int h, int w, int d, int cin, int cout, const float *U, const float *bias, int relu,
                     float *y, float *ws, int threads);
void conta_wino_bf16_conv(const unsigned short *x, int h, int w, int d, int cin, int cout, const unsigned short *U,
                          const float *bias, int relu, unsigned short *y, float *ws, int threads);
void conta_gc_conv(const float *x, int h, int w, int cin, int cout, int kh, int kw, int stride, int pad, int dil, const float *Wp,
                   const float *bias, int sum, int relu, float *y, float *ws, const float *next_wp, int next_k, int next_cout,
                   int threads);

int conta_plan_slots(void) { return CONTA_PLAN_SLOTS; }

#define P(i) ((void *)(intptr_t)o[i])
#define I(i) ((int)o[i])

/**
 * Runs ops[0 .. n) in order on `stream` with oneDNN's dnnl_primitive_execute and dnnl_stream_wait at the given
 * addresses, then waits for the stream. Returns -1, or the index of the op whose oneDNN call failed (n: the final
 * wait) with its status in *status.
 */
int conta_plan_run(int64_t ops_address, int n, int64_t stream_address, int64_t execute_address, int64_t wait_address,
                   int64_t status_address) {
  // addresses as integers: the Java side passes longs, so that a call makes no MemorySegment (nor the JIT work of one)
  const int64_t *ops = (const int64_t *)(intptr_t)ops_address;
  void *stream = (void *)(intptr_t)stream_address;
  dnnl_execute_fn execute = (dnnl_execute_fn)(intptr_t)execute_address;
  dnnl_wait_fn wait = (dnnl_wait_fn)(intptr_t)wait_address;
  int *status = (int *)(intptr_t)status_address;
  for (int i = 0; i < n; i++) {
    const int64_t *o = ops + (long)i * CONTA_PLAN_SLOTS;
    int s = 0;
    if (o[0] == OP_DNNL) {
      s = execute(P(1), stream, I(2), P(3));
    } else {
      s = wait(stream); // the kernel's input written (CPU primitives finish in execute; as the Java loop does)
      if (s == 0) {
        if (o[0] == OP_WINO)
          conta_wino_conv(P(1), I(6), I(7), I(8), I(9), I(10), P(4), P(5), I(11), P(2), P(3), I(12));
        else if (o[0] == OP_WINO_BF16)
          conta_wino_bf16_conv(P(1), I(6), I(7), I(8), I(9), I(10), P(4), P(5), I(11), P(2), P(3), I(12));
        else
          conta_gc_conv(P(1), I(7), I(8), I(9), I(10), I(11), I(12), I(13), I(14), I(15), P(4), P(5), I(16), I(17), P(2), P(3),
                        P(6), I(18), I(19), I(20));
      }
    }
    if (s != 0) {
      *status = s;
      return i;
    }
  }
  int s = wait(stream);
  if (s != 0) {
    *status = s;
    return n;
  }
  return -1;
}
