// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Device attach and IOVAs: the seed's iova(gpa), its batch form, and runs.
 *
 * An object attached to a PCI device (gm_attach_device) has its locked
 * pages DMA-mapped for that device; allocated memory is mapped as a whole,
 * so every address has an IOVA (the seed's base_iova model).  Without an
 * attached device, or for an address that is not locked, there is no IOVA:
 * -ENOENT, where the seed returns None.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* "dddd:bb:dd.f", all hex, as sysfs names PCI devices. */
int gm_parse_bdf(const char *bdf, uint32_t *domain, uint32_t *bus, uint32_t *devfn)
{
	static const char pattern[] = "xxxx:xx:xx.x";
	unsigned int d, b, s, f;
	size_t i;

	if (!bdf || strlen(bdf) != sizeof(pattern) - 1)
		return -EINVAL;
	for (i = 0; i < sizeof(pattern) - 1; i++) {
		if (pattern[i] == 'x' ? !isxdigit((unsigned char)bdf[i]) : bdf[i] != pattern[i])
			return -EINVAL;
	}
	if (sscanf(bdf, "%4x:%2x:%2x.%1x", &d, &b, &s, &f) != 4 || s > 0x1f || f > 7)
		return -EINVAL;
	*domain = d;
	*bus = b;
	*devfn = s << 3 | f;
	return 0;
}

int gm_attach_device(struct gm *gm, const char *bdf)
{
	struct gm_fault f = { .kind = GM_ERROR_OTHER, .op = GM_OP_ATTACH };
	struct guestmem_attach_device a = { .size = sizeof(a) };
	char driver[64] = "";
	int ret;

	ret = gm_parse_bdf(bdf, &a.pci_domain, &a.pci_bus, &a.pci_devfn);
	if (ret) {
		f.errnum = -ret;
		return gm_fail_usage(&f, gm->name, "'%s' is not a PCI address (dddd:bb:dd.f)",
				     bdf ? bdf : "(null)");
	}
	ret = gm_ioctl(gm->fd, GUESTMEM_ATTACH_DEVICE, &a);
	f.errnum = -ret;
	if (ret == -EBUSY && !gm_pci_driver(bdf, driver, sizeof(driver)) &&
	    strcmp(driver, "guestmem"))
		return gm_fail_usage(&f, gm->name, "cannot attach %s: bound to %s, not guestmem",
				     bdf, driver[0] ? driver : "no driver");
	if (ret == -EOPNOTSUPP)
		return gm_fail_usage(&f, gm->name, "cannot attach %s: its DMA would be bounced "
				     "or need cache syncs", bdf);
	if (ret)
		return gm_fail_usage(&f, gm->name, "cannot attach %s: %s", bdf, strerror(-ret));
	return 0;
}

/* Record a failed GUESTMEM_IOVA or GUESTMEM_IOVA_RUNS. */
static int gm_fail_iova(struct gm *gm, int ret, const struct guestmem_fault *kf)
{
	struct gm_fault f = { .kind = GM_ERROR_OTHER, .op = GM_OP_IOVA, .errnum = -ret };

	if (ret == -ENOENT && (kf->flags & GUESTMEM_FAULT_HAS_INDEX)) {
		f.has_gpa = true;
		f.gpa = kf->gpn * GM_PAGE_SIZE;
		return gm_fail_usage(&f, gm->name, "no IOVA for gpn 0x%" PRIx64
				     " (not locked, or no device attached)",
				     (uint64_t)kf->gpn);
	}
	if (ret == -ENOENT)
		return gm_fail_usage(&f, gm->name, "no IOVA (no device attached)");
	if (kf->flags & GUESTMEM_FAULT_VALID)
		return gm_fail_ioctl(gm, ret, GM_OP_IOVA, false, 0, 0, kf);
	return gm_fail_usage(&f, gm->name, "%s", strerror(-ret));
}

int gm_iova_gpns(struct gm *gm, const uint64_t *gpns, size_t count, uint64_t *iovas)
{
	struct guestmem_iova a = {
		.size = sizeof(a),
		.gpns_uptr = (uintptr_t)gpns,
		.gpn_count = count,
		.iovas_uptr = (uintptr_t)iovas,
	};
	int ret;

	if (!count)
		return 0;
	ret = gm_ioctl(gm->fd, GUESTMEM_IOVA, &a);
	return ret ? gm_fail_iova(gm, ret, &a.out_fault) : 0;
}

int gm_iova_runs(struct gm *gm, uint64_t gpn, uint64_t count, struct gm_iova_run *runs,
		 size_t *nr_runs)
{
	struct guestmem_iova_runs a = {
		.size = sizeof(a),
		.gpn = gpn,
		.gpn_count = count,
		.runs_uptr = (uintptr_t)runs,
		.max_runs = *nr_runs > UINT32_MAX ? UINT32_MAX : (uint32_t)*nr_runs,
	};
	int ret;

	/* The kernel's run is this struct, field for field. */
	_Static_assert(sizeof(struct gm_iova_run) == sizeof(struct guestmem_iova_run), "");
	*nr_runs = 0;
	if (!count)
		return 0;
	if (!a.max_runs)
		return -ENOSPC;
	ret = gm_ioctl(gm->fd, GUESTMEM_IOVA_RUNS, &a);
	*nr_runs = a.out_nr_runs;
	if (ret)
		return gm_fail_iova(gm, ret, &a.out_fault);
	return a.out_gpn_count < count ? -ENOSPC : 0;
}

int gm_iova(struct gm *gm, uint64_t gpa, uint64_t *iova)
{
	uint64_t gpn = gpa / GM_PAGE_SIZE, page_iova;
	int ret;

	ret = gm_iova_gpns(gm, &gpn, 1, &page_iova);
	if (ret)
		return ret;
	*iova = page_iova + gpa % GM_PAGE_SIZE;
	return 0;
}
