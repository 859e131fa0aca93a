// internal.h: what the parent side, the child side and the filter builder must agree on.
#ifndef NK_SANDBOX_INTERNAL_H
#define NK_SANDBOX_INTERNAL_H

#include "nk_sandbox.h"

#include <linux/sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

// Fixed descriptor numbers the child parks its two private fds on. The seccomp filter is
// built before any child exists, so the one execveat it allows must name a number known
// in advance. Both are O_CLOEXEC: the executed service never sees them.
enum {
    NK_FD_EXE = 1000,      // O_PATH fd of the executable, for execveat(AT_EMPTY_PATH)
    NK_FD_CHANNEL = 1001,  // the child's end of the spawn channel
};

// Child steps, in the order the child runs them; reported to the parent on failure.
enum nk_step {
    NK_STEP_WAIT_GO = 1,
    NK_STEP_SIGNALS,              // index = signal number
    NK_STEP_PDEATHSIG,
    NK_STEP_SETSID,
    NK_STEP_IDENTITY,             // index: 0 setgroups, 1 setresgid, 2 setresuid
    NK_STEP_RESERVE_FDS,          // index = the fixed fd number
    NK_STEP_KEEP_FD,              // index = position in keep_fds
    NK_STEP_NULL_INPUT,           // opening /dev/null for fd 0
    NK_STEP_OUTPUT,               // index = the fd (1 or 2) being replaced
    NK_STEP_ROOT_PRIVATE,         // making the mount namespace private
    NK_STEP_ROOT_EXE,             // carrying the executable into the new root
    NK_STEP_ROOT_READ_ONLY,       // index = position in read_only_paths
    NK_STEP_ROOT_READ_WRITE,      // index = position in read_write_paths
    NK_STEP_ROOT_TMPFS,
    NK_STEP_ROOT_PROC,            // index: 0 mkdir, 1 mount
    NK_STEP_ROOT_PIVOT,           // index: 0 chdir, 1 pivot_root, 2 detach, 3 chdir /, 4 read-only
    NK_STEP_OPEN_EXE,
    NK_STEP_CLOSE_FDS,
    NK_STEP_CAPABILITIES,         // index: 0 bounding set, 1 ambient set, 2 capset
    NK_STEP_NO_NEW_PRIVS,
    NK_STEP_LANDLOCK_ABI,
    NK_STEP_LANDLOCK_RULESET,
    NK_STEP_LANDLOCK_EXE,
    NK_STEP_LANDLOCK_READ_ONLY,   // index = position in read_only_paths
    NK_STEP_LANDLOCK_READ_WRITE,  // index = position in read_write_paths
    NK_STEP_LANDLOCK_RESTRICT,
    NK_STEP_RLIMIT,               // index = RLIMIT_* resource
    NK_STEP_SIGNAL_MASK,
    NK_STEP_SECCOMP,
    NK_STEP_SEND_LISTENER,
    NK_STEP_EXEC,
};

// The only message type on the spawn channel (a SOCK_SEQPACKET socketpair).
// Child to parent: FAILED (then the child exits) or READY (just before execveat, with the
// seccomp listener attached as SCM_RIGHTS when there is one); then end-of-file when
// execveat closes the channel. Parent to child: one byte, "go".
enum nk_msg_kind { NK_MSG_FAILED = 1, NK_MSG_READY = 2 };

typedef struct nk_child_msg {
    int32_t kind;
    int32_t step;
    int32_t index;
    int32_t error;  // errno
} nk_child_msg;

// The child side of nk_spawn_domain (child.c). Never returns.
_Noreturn void nk_child_main(const nk_spawn_spec *spec, int channel, int parent_end);

// Child-side helpers: raw syscalls only.
_Noreturn void nk_child_fail(int channel, enum nk_step step, int index, int error);
void nk_child_landlock(const nk_spawn_spec *spec, int exe_fd, int channel);  // landlock.c
void nk_child_enter_own_root(const nk_spawn_spec *spec, int channel);         // root.c

// Parent side.

// Formats a message into err and returns -1, so failures read `return nk_error(...)`.
__attribute__((format(printf, 3, 4))) static inline int nk_error(char *err, size_t err_len,
                                                                 const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (err != NULL && err_len > 0)
        vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -1;
}

// The clone3 flags for a set of NK_NS_* bits.
static inline uint64_t nk_namespace_clone_flags(uint32_t namespaces) {
    static const struct { uint32_t ns; uint64_t flag; } map[] = {
        {NK_NS_USER, CLONE_NEWUSER}, {NK_NS_PID, CLONE_NEWPID},   {NK_NS_NET, CLONE_NEWNET},
        {NK_NS_IPC, CLONE_NEWIPC},   {NK_NS_UTS, CLONE_NEWUTS},   {NK_NS_MOUNT, CLONE_NEWNS},
        {NK_NS_CGROUP, CLONE_NEWCGROUP},
    };
    uint64_t flags = 0;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (namespaces & map[i].ns)
            flags |= map[i].flag;
    return flags;
}

// Fills v->syscall_name and v->description (describe.c). id is the notification's id,
// to check that v->pid is still the process that trapped while reading its memory.
void nk_describe_violation(nk_violation *v, int notify_fd, uint64_t id);

// The number of arguments x86_64 syscall nr takes, or 6 when unknown (argcount.c).
int nk_syscall_arg_count(int nr);

#endif
