// Internal to CHostile: a message carrying copies of one descriptor (SCM_RIGHTS).
#pragma once
#include <stddef.h>

enum { DESCRIPTOR_COPIES = 8 };

int nk_send_descriptor_copies(int socket, int fd, const void *payload, size_t length, int flags);
