// Futex wrappers. Words live in MAP_SHARED memory mapped by two processes, so every
// operation is the shared (non-PRIVATE) variant.
#define _GNU_SOURCE
#include "nk_syscalls.h"
#include <errno.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

// Older kernel headers lack futex_waitv's types; the ABI is stable, so spell it out.
struct nk_futex_waitv {
    uint64_t val;
    uint64_t uaddr;
    uint32_t flags;
    uint32_t reserved;
};
enum { NK_FUTEX2_SIZE_U32 = 0x02 };

static struct timespec relative_timeout(uint64_t ns) {
    struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ull), .tv_nsec = (long)(ns % 1000000000ull) };
    return ts;
}

int nk_futex_wait(uint32_t *word, uint32_t expected, uint64_t timeout_ns) {
    struct timespec ts = relative_timeout(timeout_ns);
    long r = syscall(SYS_futex, word, FUTEX_WAIT, expected, timeout_ns ? &ts : NULL, NULL, 0);
    return r == -1 ? -1 : 0;
}

int nk_futex_wake(uint32_t *word, int count) {
    return (int)syscall(SYS_futex, word, FUTEX_WAKE, count, NULL, NULL, 0);
}

// futex_waitv takes an absolute CLOCK_MONOTONIC deadline.
int nk_futex_wait2(uint32_t *first, uint32_t first_expected,
                   uint32_t *second, uint32_t second_expected, uint64_t timeout_ns) {
    struct nk_futex_waitv waiters[2] = {
        { .val = first_expected, .uaddr = (uintptr_t)first, .flags = NK_FUTEX2_SIZE_U32 },
        { .val = second_expected, .uaddr = (uintptr_t)second, .flags = NK_FUTEX2_SIZE_U32 },
    };
    struct timespec deadline;
    if (timeout_ns) {
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        uint64_t total = (uint64_t)deadline.tv_nsec + timeout_ns % 1000000000ull;
        deadline.tv_sec += (time_t)(timeout_ns / 1000000000ull + total / 1000000000ull);
        deadline.tv_nsec = (long)(total % 1000000000ull);
    }
    long r = syscall(SYS_futex_waitv, waiters, 2, 0, timeout_ns ? &deadline : NULL, CLOCK_MONOTONIC);
    return (int)r;
}
