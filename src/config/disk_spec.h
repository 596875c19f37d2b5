/*
 * One entry of a domain's `disk = [...]` list, in xl-disk-configuration(5)
 * syntax: comma-separated positional parameters (target, format, vdev,
 * access, in that order), `key=value` parameters and flags, e.g.
 * "/srv/web.img,raw,xvda,rw", "format=raw, vdev=hdc, access=ro,
 * devtype=cdrom, target=/root/image.iso", and the deprecated forms xm files
 * still carry: "phy:/dev/vg/web,xvda,w", "file:/srv/web.img,hda,r",
 * "tap:aio:/srv/web.img,xvda,w", "raw:/img,hdc:cdrom,ro".
 *
 * This is syntax only: it does not look at files or decide which formats
 * corral can run; domain_config does.
 */
#ifndef CORRAL_CONFIG_DISK_SPEC_H
#define CORRAL_CONFIG_DISK_SPEC_H

#include <stdbool.h>
#include <stddef.h>

struct disk_spec {
	char *target;		/* path; NULL for an empty CD-ROM drive */
	char *format;		/* "raw" unless given: raw, qcow, qcow2, vhd, qed */
	char *vdev;		/* as written: "xvda", "hdc", "sda1", "wd0d" */
	bool readonly;		/* access=ro/r (rw/w is the default) */
	bool cdrom;		/* devtype=cdrom or the :cdrom suffix of vdev */
	char *backendtype;	/* phy, qdisk or tap if given, else NULL */
	char *script;		/* script=, or the block script a prefix names */
	char *serial;		/* serial= (corral's: the guest sees it as the disk's ID) */
};

/*
 * Parses `spec` into `out` (which it initialises; free with
 * disk_spec_free() in any case). Returns 0, or -EINVAL with a one-line
 * reason in `err` (what is wrong and which parameter), -ENOMEM.
 */
int disk_spec_parse(const char *spec, struct disk_spec *out, char *err, size_t errlen);
void disk_spec_free(struct disk_spec *ds);

#endif
