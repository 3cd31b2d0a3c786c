// SPDX-License-Identifier: GPL-2.0
/*
 * A user-mode driver for QEMU's "edu" PCI device: see edu.h for the model
 * and QEMU's docs/specs/edu.txt for the device.
 *
 * Typical use, as root, with the device bound to guestmem's PCI driver
 * (gm_pci_bind(), or gmem bind), which enables its memory decoding and bus
 * mastering and owns its DMA:
 *
 *	struct edu *edu = edu_open(NULL);	(the first 1234:11e8)
 *	edu_dma_to_device(edu, src_iova, 0, len);	(RAM -> device buffer)
 *	edu_dma_from_device(edu, dst_iova, 0, len);	(device buffer -> RAM)
 *	edu_close(edu);
 *
 * Every call returns 0 or a negative errno, except edu_open(), which returns
 * NULL and sets errno.  The device runs one DMA at a time and this driver
 * waits for each; a handle is not meant to be shared between threads.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "edu.h"

#define PCI_DEVICES		"/sys/bus/pci/devices"
#define EDU_POLL_NS		1000000	/* 1 ms between polls of a busy bit */

struct edu {
	char bdf[sizeof("0000:00:00.0")];
	uint8_t *regs;			/* BAR0, EDU_BAR0_SIZE bytes */
};

/*
 * MMIO accessors.  volatile is what makes each access one load or store of
 * the right width, in program order: user space has no readl()/writel().
 * edu accepts only 4-byte accesses below 0x80 and 4- or 8-byte ones above.
 */
uint32_t edu_read32(struct edu *edu, uint32_t reg)
{
	return *(volatile uint32_t *)(edu->regs + reg);
}

static void edu_write32(struct edu *edu, uint32_t reg, uint32_t val)
{
	*(volatile uint32_t *)(edu->regs + reg) = val;
}

static void edu_write64(struct edu *edu, uint32_t reg, uint64_t val)
{
	*(volatile uint64_t *)(edu->regs + reg) = val;
}

/* "dddd:bb:ss.f" in hex, nothing else: the name becomes part of a path. */
static bool edu_valid_bdf(const char *bdf)
{
	static const char pattern[] = "xxxx:xx:xx.x";
	size_t i;

	if (strlen(bdf) != sizeof(pattern) - 1)
		return false;
	for (i = 0; i < sizeof(pattern) - 1; i++) {
		if (pattern[i] == 'x' ? !isxdigit((unsigned char)bdf[i]) :
					bdf[i] != pattern[i])
			return false;
	}
	return bdf[11] <= '7';
}

/* Read a sysfs attribute of a PCI device holding one number ("0x1234"). */
static int edu_read_attr(const char *bdf, const char *attr, unsigned long *val)
{
	char path[128], buf[32], *end;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/%s", bdf, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do {
		n = read(fd, buf, sizeof(buf) - 1);
	} while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	*val = strtoul(buf, &end, 0);
	return end == buf ? -EIO : 0;
}

static bool edu_is_edu(const char *bdf)
{
	unsigned long vendor, device;

	return !edu_read_attr(bdf, "vendor", &vendor) &&
	       !edu_read_attr(bdf, "device", &device) &&
	       vendor == EDU_VENDOR_ID && device == EDU_DEVICE_ID;
}

/* The lowest-numbered edu device, so that "the first" is well defined. */
static int edu_find(char *bdf, size_t size)
{
	struct dirent *de;
	bool found = false;
	DIR *dir;

	dir = opendir(PCI_DEVICES);
	if (!dir)
		return errno == ENOENT ? -ENODEV : -errno;	/* no PCI */
	while ((de = readdir(dir))) {
		if (!edu_valid_bdf(de->d_name) || !edu_is_edu(de->d_name))
			continue;
		if (!found || strcmp(de->d_name, bdf) < 0)
			snprintf(bdf, size, "%s", de->d_name);
		found = true;
	}
	closedir(dir);
	return found ? 0 : -ENODEV;
}

/* Is @bdf bound to guestmem's PCI driver? */
static bool edu_bound_to_guestmem(const char *bdf)
{
	char path[128], link[256];
	const char *name;
	ssize_t n;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	name = strrchr(link, '/');
	return name && !strcmp(name + 1, "guestmem");
}

static uint64_t edu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Poll until @bit of @reg is clear, for at most EDU_TIMEOUT_MS. */
static int edu_wait_clear(struct edu *edu, uint32_t reg, uint32_t bit)
{
	const struct timespec poll = { .tv_nsec = EDU_POLL_NS };
	uint64_t deadline = edu_now_ms() + EDU_TIMEOUT_MS;

	for (;;) {
		if (!(edu_read32(edu, reg) & bit))
			return 0;
		if (edu_now_ms() > deadline)
			return -ETIMEDOUT;
		nanosleep(&poll, NULL);
	}
}

/**
 * edu_open() - take control of an edu device
 * @bdf: PCI address ("0000:00:03.0"), or NULL for the first edu device
 *
 * Checks that @bdf is an edu device bound to guestmem's PCI driver (which
 * has switched on its memory decoding and bus mastering), maps BAR0, and
 * checks the identification and liveness registers.  Needs root (the
 * resource0 file is root-only).
 *
 * Return: a handle for edu_close(), or NULL with errno set: EINVAL for a
 * malformed @bdf, ENODEV when there is no such edu device or it does not
 * identify itself as one, EBUSY when it is not bound to guestmem, EIO when
 * the liveness check fails, or the errno of a failed open or mmap (EACCES
 * when not root).
 */
struct edu *edu_open(const char *bdf)
{
	struct edu *edu;
	struct stat st;
	char path[128];
	int ret, fd;
	void *regs;

	edu = calloc(1, sizeof(*edu));
	if (!edu)
		return NULL;
	if (!bdf) {
		ret = edu_find(edu->bdf, sizeof(edu->bdf));
		if (ret)
			goto out_free;
	} else if (!edu_valid_bdf(bdf)) {
		ret = -EINVAL;
		goto out_free;
	} else {
		snprintf(edu->bdf, sizeof(edu->bdf), "%s", bdf);
	}
	if (!edu_is_edu(edu->bdf)) {
		ret = -ENODEV;
		goto out_free;
	}

	/* guestmem owns its DMA; another driver (or none) would not. */
	if (!edu_bound_to_guestmem(edu->bdf)) {
		ret = -EBUSY;
		goto out_free;
	}

	/* O_SYNC asks for an uncached mapping, as MMIO needs. */
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/resource0", edu->bdf);
	fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto out_free;
	}
	if (fstat(fd, &st) || st.st_size < EDU_BAR0_SIZE) {
		ret = -ENODEV;
		close(fd);
		goto out_free;
	}
	regs = mmap(NULL, EDU_BAR0_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		    fd, 0);
	ret = regs == MAP_FAILED ? -errno : 0;
	close(fd);		/* the mapping keeps the BAR */
	if (ret)
		goto out_free;
	edu->regs = regs;

	if ((edu_id(edu) & EDU_ID_MAGIC_MASK) != EDU_ID_MAGIC) {
		ret = -ENODEV;
		goto out_unmap;
	}
	ret = edu_check_alive(edu);
	if (ret)
		goto out_unmap;
	return edu;

out_unmap:
	munmap(edu->regs, EDU_BAR0_SIZE);
out_free:
	free(edu);
	errno = -ret;
	return NULL;
}

/**
 * edu_close() - give an edu device back
 * @edu: handle from edu_open(), or NULL
 *
 * Unmaps BAR0.  A DMA still running (after -ETIMEDOUT) is not waited for;
 * bus mastering stays on while the device is bound to guestmem.
 */
void edu_close(struct edu *edu)
{
	if (!edu)
		return;
	munmap(edu->regs, EDU_BAR0_SIZE);
	free(edu);
}

/**
 * edu_bdf() - the PCI address of an open edu device
 * @edu: handle from edu_open()
 *
 * Return: "dddd:bb:ss.f", valid until edu_close().
 */
const char *edu_bdf(const struct edu *edu)
{
	return edu->bdf;
}

/**
 * edu_id() - read the identification register
 * @edu: handle from edu_open()
 *
 * Return: 0xRRrr00ed, RR.rr being the device version (0x010000ed in QEMU).
 */
uint32_t edu_id(struct edu *edu)
{
	return edu_read32(edu, EDU_REG_ID);
}

static bool edu_liveness_probe(struct edu *edu, uint32_t val)
{
	edu_write32(edu, EDU_REG_LIVENESS, val);
	return edu_read32(edu, EDU_REG_LIVENESS) == ~val;
}

/**
 * edu_check_alive() - check that the device answers
 * @edu: handle from edu_open()
 *
 * The liveness register reads back the complement of what was written.
 *
 * Return: 0, or -EIO when it does not.
 */
int edu_check_alive(struct edu *edu)
{
	if (edu_liveness_probe(edu, 0) && edu_liveness_probe(edu, 0x5a5aa5a5) &&
	    edu_liveness_probe(edu, 0xffffffff))
		return 0;
	return -EIO;
}

/**
 * edu_factorial() - have the device compute a factorial
 * @edu: handle from edu_open()
 * @n: the argument
 * @result: where n! modulo 2^32 is stored (exact up to n = 12)
 *
 * Return: 0, or -ETIMEDOUT when the device stays busy.
 */
int edu_factorial(struct edu *edu, uint32_t n, uint32_t *result)
{
	int ret;

	/* A write while a computation runs is ignored: wait for it first. */
	ret = edu_wait_clear(edu, EDU_REG_STATUS, EDU_STATUS_COMPUTING);
	if (ret)
		return ret;
	edu_write32(edu, EDU_REG_FACTORIAL, n);
	ret = edu_wait_clear(edu, EDU_REG_STATUS, EDU_STATUS_COMPUTING);
	if (ret)
		return ret;
	*result = edu_read32(edu, EDU_REG_FACTORIAL);
	return 0;
}

/**
 * edu_dma_start() - start one DMA and return at once
 * @edu: handle from edu_open()
 * @iova: bus address of the memory side, as the device sees it
 * @dev_off: offset in the device's 4 KiB buffer
 * @len: bytes to copy
 * @to_ram: device buffer -> memory (else memory -> device buffer)
 * @irq: raise the DMA-completion interrupt (EDU_IRQ_DMA) when done
 *
 * Return: 0; -EINVAL for a transfer edu_dma_to_device() refuses; -EBUSY
 * when a DMA is already running.
 */
int edu_dma_start(struct edu *edu, uint64_t iova, uint32_t dev_off,
		  uint32_t len, bool to_ram, bool irq)
{
	uint64_t dev = EDU_DMA_BUF_ADDR + dev_off;

	/* QEMU 7.2 aborts on a transfer ending at the buffer's end (edu.h). */
	if (!len || len > EDU_DMA_BUF_USABLE ||
	    dev_off > EDU_DMA_BUF_USABLE - len || iova + len - 1 < iova)
		return -EINVAL;
	/* Writes to the DMA registers are ignored while a DMA runs. */
	if (edu_read32(edu, EDU_REG_DMA_CMD) & EDU_DMA_START)
		return -EBUSY;

	edu_write64(edu, EDU_REG_DMA_SRC, to_ram ? dev : iova);
	edu_write64(edu, EDU_REG_DMA_DST, to_ram ? iova : dev);
	edu_write64(edu, EDU_REG_DMA_COUNT, len);
	/* The caller's stores to the source buffer before the device reads. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	edu_write64(edu, EDU_REG_DMA_CMD,
		    EDU_DMA_START | (to_ram ? EDU_DMA_TO_RAM : 0) |
		    (irq ? EDU_DMA_IRQ : 0));
	return 0;
}

/**
 * edu_dma_wait() - wait for the running DMA to finish
 * @edu: handle from edu_open()
 *
 * Return: 0, or -ETIMEDOUT after EDU_TIMEOUT_MS.
 */
int edu_dma_wait(struct edu *edu)
{
	int ret = edu_wait_clear(edu, EDU_REG_DMA_CMD, EDU_DMA_START);

	/* The device's stores before the caller's loads of the destination. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return ret;
}

/**
 * edu_irq_status() - the device's pending interrupt bits
 * @edu: handle from edu_open()
 *
 * Return: EDU_IRQ_* bits; the interrupt line stays raised while any is set.
 */
uint32_t edu_irq_status(struct edu *edu)
{
	return edu_read32(edu, EDU_REG_IRQ_STATUS);
}

/**
 * edu_irq_ack() - clear interrupt bits (lowers the line when none is left)
 * @edu: handle from edu_open()
 * @bits: EDU_IRQ_* bits to clear
 */
void edu_irq_ack(struct edu *edu, uint32_t bits)
{
	edu_write32(edu, EDU_REG_IRQ_ACK, bits);
}

static int edu_dma(struct edu *edu, uint64_t iova, uint32_t dev_off,
		   uint32_t len, bool to_ram)
{
	int ret = edu_dma_start(edu, iova, dev_off, len, to_ram, false);

	return ret ? ret : edu_dma_wait(edu);
}

/**
 * edu_dma_to_device() - DMA from memory into the device's buffer
 * @edu: handle from edu_open()
 * @iova: bus address of the source, as the device sees it
 * @dev_off: offset in the device's 4 KiB buffer
 * @len: bytes to copy
 *
 * Programs one DMA and waits for it (edu takes about 100 ms).  The device
 * reports no errors: a DMA the IOMMU blocks completes all the same, with an
 * IOMMU fault (DMAR, SMMUv3 event) in the kernel log and nothing transferred.
 *
 * Return: 0; -EINVAL when @len is 0, @dev_off + @len exceeds 4095 (QEMU 7.2
 * aborts on a transfer that ends at byte 4096, see edu.h) or @iova + @len
 * wraps; -EBUSY when a DMA is already running; -ETIMEDOUT when it does not
 * finish within EDU_TIMEOUT_MS.
 */
int edu_dma_to_device(struct edu *edu, uint64_t iova, uint32_t dev_off,
		      uint32_t len)
{
	return edu_dma(edu, iova, dev_off, len, false);
}

/**
 * edu_dma_from_device() - DMA from the device's buffer into memory
 * @edu: handle from edu_open()
 * @iova: bus address of the destination, as the device sees it
 * @dev_off: offset in the device's 4 KiB buffer
 * @len: bytes to copy
 *
 * As edu_dma_to_device(), in the other direction.
 *
 * Return: as edu_dma_to_device().
 */
int edu_dma_from_device(struct edu *edu, uint64_t iova, uint32_t dev_off,
			uint32_t len)
{
	return edu_dma(edu, iova, dev_off, len, true);
}
