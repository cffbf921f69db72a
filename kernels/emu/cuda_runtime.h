// A host stand-in for <cuda_runtime.h>, so that conta's kernels (kernels/*.cu) compile with g++ and run on the CPU:
// each block's threads are real std::threads meeting at a std::barrier for __syncthreads, blocks run one after the
// other (a __shared__ array is a function-local static, shared by the block that runs). For checking a kernel's logic
// (indices, guards, the order of its sums) against another kernel or a plain reference where no GPU is at hand; it says
// nothing about speed, and nothing about races between blocks (there are none in these kernels: no atomics).
#pragma once
#include <algorithm>
#include <cmath>
#include <barrier>
#include <thread>
#include <vector>

struct dim3 { unsigned x = 1, y = 1, z = 1; };
inline thread_local dim3 threadIdx, blockIdx;
inline dim3 blockDim, gridDim;
inline std::barrier<>* emu_block_barrier = nullptr;

struct alignas(16) float4 { float x, y, z, w; };
inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }

#define __global__
#define __device__
#define __host__
#define __shared__ static
#define __syncthreads() emu_block_barrier->arrive_and_wait()
using std::max;
using std::min;
using std::exp;
using std::log;
using std::sqrt;

// kernel<<<grid, block>>>(args...) as emu_launch(grid, block, [&] { kernel(args...); })
template <class F> void emu_launch(unsigned grid, unsigned block, F body) {
    gridDim.x = grid;
    blockDim.x = block;
    for (unsigned b = 0; b < grid; b++) {
        std::barrier<> bar(block);
        emu_block_barrier = &bar;
        std::vector<std::thread> threads;
        threads.reserve(block);
        for (unsigned t = 0; t < block; t++)
            threads.emplace_back([&, b, t] { blockIdx.x = b; threadIdx.x = t; body(); });
        for (auto& th : threads) th.join();
    }
    emu_block_barrier = nullptr;
}
