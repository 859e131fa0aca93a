// Process and thread helpers: pidfds (how the kernel watches a domain die) and CPU
// placement (where a thread waits decides how fast it is woken).
#define _GNU_SOURCE
#include "nk_syscalls.h"
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#include <string.h>
#include <unistd.h>

int nk_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int nk_pidfd_send_signal(int pidfd, int sig) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

pid_t nk_gettid(void) { return (pid_t)syscall(SYS_gettid); }

int nk_pin_thread(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (cpu < 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        for (long i = 0; i < n && i < CPU_SETSIZE; i++) CPU_SET((int)i, &set);
    } else {
        CPU_SET(cpu, &set);
    }
    return sched_setaffinity(0, sizeof(set), &set);
}

int nk_current_cpu(void) { return sched_getcpu(); }

void nk_set_thread_name(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }

int nk_pidfd_reap(int pidfd, int *code, int *status) {
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    if (waitid(P_PIDFD, (id_t)pidfd, &info, WEXITED | WNOHANG) != 0) return -1;
    if (info.si_pid == 0) return 0;
    *code = info.si_code;
    *status = info.si_status;
    return 1;
}
