// nk_hostile.h: attacks a hostile service (nk-hostile, test-only) runs from inside its
// own protection domain, with raw system calls where libc would hide what is tried.
//
// Every attack reports the errno that stopped it (0: the attack got through, which a
// test treats as a hole in the sandbox) and one line of detail. An attack the sandbox
// refuses with its seccomp filter never returns: the kernel stops the whole domain.
#ifndef NK_HOSTILE_H
#define NK_HOSTILE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// What the Swift side of the service hands an attack.
typedef struct nk_attack_env {
    int64_t target;              // a host pid (the kernel's, a sibling's), when the attack needs one
    const char *path;            // a path (a file, the kernel's control socket), when needed
    // The service's client binding to "clock": its A-stack memfd and mapping.
    int astack_fd;
    void *astack_base;
    size_t astack_size;
    size_t astack_stride;
    uint32_t astack_slots;
    // That binding's object, for traps posted by hand.
    uint32_t bo_index;
    uint32_t bo_generation;
    uint64_t bo_secret;
    // Slots of a binding to the service's own interface (its call records hold as many).
    uint32_t own_slots;
} nk_attack_env;

typedef struct nk_attack_result {
    int32_t error;               // errno that stopped the attack; 0 = it got through
    char detail[200];
} nk_attack_result;

// Runs the attack `name`. Returns 0, or -1 when there is no such attack.
int nk_attack_run(const char *name, const nk_attack_env *env, nk_attack_result *out);

// Names of every attack nk_attack_run knows, NULL-terminated.
const char *const *nk_attack_names(void);

// `nk-hostile --hold-in-flight ID` (inflight.c): run by a root test outside any kernel,
// holds SCM_RIGHTS descriptors in flight as host uid ID until stdin closes.
int nk_hold_in_flight(unsigned id);

#ifdef __cplusplus
}
#endif
#endif
