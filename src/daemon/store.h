/*
 * corrald's files: each domain's definition (the xl.cfg text it was created
 * from, with the overrides and the identity corrald gave it appended) under
 * the state directory, and its runtime state (ID, VMM pid, state) as JSON in
 * its run directory, next to the VMM's sockets and log. Every file is
 * written whole to a temporary name, synced and renamed over the old one,
 * so a crash at any moment leaves the old or the new version, never half.
 */
#ifndef CORRAL_DAEMON_STORE_H
#define CORRAL_DAEMON_STORE_H

#include <stddef.h>

/* Writes `len` bytes to `path` atomically (mode 0600). 0 or -errno (logged). */
int store_write(const char *path, const char *data, size_t len);

/* Reads a whole file of at most `max` bytes into a NUL-terminated buffer
 * (free() it). 0 or -errno. */
int store_read(const char *path, size_t max, char **data, size_t *len);

/* mkdir -p with mode 0700 for what it creates. 0 or -errno (logged). */
int store_mkdirs(const char *path);

/* Removes a directory and the files in it (not recursive beyond that). */
void store_remove_dir(const char *path);

#endif
