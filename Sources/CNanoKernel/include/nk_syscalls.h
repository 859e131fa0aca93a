// nk_syscalls.h: the few Linux calls Swift cannot make directly (variadic syscall(),
// macros such as CMSG_*, _GNU_SOURCE-only declarations), plus C11 atomics on words
// that live in shared memory. Everything here is a thin wrapper; errors come back as
// -1 with errno set, like the syscall.
#ifndef NK_SYSCALLS_H
#define NK_SYSCALLS_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: shared-memory words (futex words and counters used across processes)

static inline uint32_t nk_load_acquire(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline uint32_t nk_load_relaxed(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline uint32_t nk_load_seq(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline void nk_store_release(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline void nk_store_seq(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
static inline void nk_store_relaxed(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
static inline uint32_t nk_exchange(uint32_t *p, uint32_t v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
static inline uint32_t nk_fetch_or(uint32_t *p, uint32_t v) { return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST); }
static inline uint32_t nk_fetch_add(uint32_t *p, uint32_t v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
static inline int nk_compare_exchange(uint32_t *p, uint32_t expected, uint32_t desired) {
    return __atomic_compare_exchange_n(p, &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
static inline uint32_t nk_fetch_and(uint32_t *p, uint32_t v) { return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST); }
static inline uint64_t nk_load64_relaxed(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void nk_store64_relaxed(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
static inline uint64_t nk_fetch_add64(uint64_t *p, uint64_t v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
static inline void nk_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

// MARK: futexes on MAP_SHARED memory (never FUTEX_PRIVATE: the peer is another process)

// Sleep while *word == expected, for at most timeout_ns (0 = forever).
// Returns 0 when woken or the word changed, -1 with errno ETIMEDOUT/EINTR/EAGAIN.
int nk_futex_wait(uint32_t *word, uint32_t expected, uint64_t timeout_ns);
// Sleep while *word == expected, at most until `deadline_ns` on CLOCK_MONOTONIC
// (absolute: FUTEX_WAIT_BITSET, as cheap as FUTEX_WAIT; the caller passes a deadline it
// already has, so a wait reads no clock). Returns 0 or -1 with errno as nk_futex_wait.
int nk_futex_wait_until(uint32_t *word, uint32_t expected, uint64_t deadline_ns);
// Wake up to `count` waiters. Returns the number woken or -1.
int nk_futex_wake(uint32_t *word, int count);
// Sleep until either word differs from its expected value (futex_waitv, Linux 5.16+),
// at most until `deadline_ns` on CLOCK_MONOTONIC (absolute, as futex_waitv takes it: the
// caller passes a deadline it already has, so a wait reads no clock).
// Returns the index of the word that woke us, or -1 with errno.
int nk_futex_wait2_until(uint32_t *first, uint32_t first_expected,
                         uint32_t *second, uint32_t second_expected, uint64_t deadline_ns);

// MARK: memory

// An anonymous memfd of `size` bytes, sealed so it can never grow, shrink or be
// re-sealed, and never executable (MFD_NOEXEC_SEAL where the host has it).
int nk_memfd_sealed(const char *name, size_t size);
// The seals in force on fd (F_GET_SEALS), or -1.
int nk_memfd_seals(int fd);

// MARK: descriptors over Unix sockets

// Send `len` bytes and up to 8 fds in one SOCK_SEQPACKET message.
ssize_t nk_send_with_fds(int socket, const void *data, size_t len, const int *fds, int fd_count);
// Receive one message; fds land in fds[0..*fd_count). *fd_count is the capacity on entry.
// Returns the byte count, 0 on orderly close, -1 on error. A truncated message or
// more fds than the capacity is EMSGSIZE (any fds received are closed).
ssize_t nk_recv_with_fds(int socket, void *data, size_t len, int *fds, int *fd_count);
// The uid and pid of a Unix socket's peer (SO_PEERCRED).
int nk_peer_credentials(int socket, uid_t *uid, pid_t *pid);
int nk_set_cloexec(int fd);
int nk_set_nonblocking(int fd, int on);

// MARK: processes

int nk_pidfd_open(pid_t pid);
int nk_pidfd_send_signal(int pidfd, int sig);
pid_t nk_gettid(void);
// Pin the calling thread to one CPU (cpu < 0: allow every CPU).
int nk_pin_thread(int cpu);
// The CPU the calling thread runs on now.
int nk_current_cpu(void);
// Reap a dead child through its pidfd without blocking. Returns 1 and fills *code
// (CLD_EXITED, CLD_KILLED, CLD_DUMPED) and *status (exit code or signal) when it has
// exited, 0 while it still runs, -1 on error.
int nk_pidfd_reap(int pidfd, int *code, int *status);
// Set this thread's name (shows in /proc and debuggers).
void nk_set_thread_name(const char *name);

// MARK: paths beneath a directory (the file service)

// RESOLVE_* flags of openat2 (linux/openat2.h), named here so Swift sees them.
// O_PATH is _GNU_SOURCE-only in the headers Swift imports.
#define NK_O_PATH 010000000
#define NK_RESOLVE_NO_XDEV 0x01
#define NK_RESOLVE_NO_MAGICLINKS 0x02
#define NK_RESOLVE_NO_SYMLINKS 0x04
#define NK_RESOLVE_BENEATH 0x08
// openat2(dirfd, path, {flags, mode, resolve}): -1 with errno (EXDEV when the path would
// leave dirfd, ELOOP on a refused symlink, EAGAIN when a rename raced the lookup).
int nk_openat2(int dirfd, const char *path, int flags, unsigned mode, uint64_t resolve);
int nk_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned flags);

#ifdef __cplusplus
}
#endif
#endif
