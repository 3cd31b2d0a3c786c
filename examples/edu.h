/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A user-mode driver for QEMU's "edu" teaching device (PCI 1234:11e8).
 *
 * The device is driven from user space the way user-mode drivers on
 * guestmem do it: the device is bound to guestmem's PCI driver (which owns
 * its DMA and switches on memory decoding and bus mastering), BAR0 is
 * mmapped through sysfs (resource0), and DMA is started by writing the DMA
 * registers and then polling the command register or waiting for the
 * DMA-completion interrupt (routed to an eventfd by a guestmem PCI fd).
 *
 * The driver knows nothing about memory: the caller hands it an IOVA, the
 * address the device puts on the bus.  Where that comes from is the caller's
 * business: a guest memory object attached to the device (guestmem), or, with
 * no translating IOMMU in the way, the physical address of pinned memory.
 */
#ifndef EDU_H
#define EDU_H

#include <stdbool.h>
#include <stdint.h>

/* PCI identity and BAR0 register map, from QEMU's docs/specs/edu.txt. */
#define EDU_VENDOR_ID		0x1234
#define EDU_DEVICE_ID		0x11e8
#define EDU_BAR0_SIZE		(1u << 20)

#define EDU_REG_ID		0x00	/* RO: 0xRRrr00ed, major/minor version */
#define EDU_REG_LIVENESS	0x04	/* RW: reads back ~value written */
#define EDU_REG_FACTORIAL	0x08	/* RW: write n, read n! when not busy */
#define EDU_REG_STATUS		0x20	/* RW: see EDU_STATUS_* */
#define EDU_REG_IRQ_STATUS	0x24	/* RO: pending EDU_IRQ_* bits */
#define EDU_REG_IRQ_RAISE	0x60	/* WO: set bits (raises the line) */
#define EDU_REG_IRQ_ACK		0x64	/* WO: clear bits */
#define EDU_REG_DMA_SRC		0x80	/* RW, 64-bit */
#define EDU_REG_DMA_DST		0x88	/* RW, 64-bit */
#define EDU_REG_DMA_COUNT	0x90	/* RW, 64-bit */
#define EDU_REG_DMA_CMD		0x98	/* RW, 64-bit: see EDU_DMA_* */

#define EDU_ID_MAGIC_MASK	0x0000ffffu
#define EDU_ID_MAGIC		0x000000edu
#define EDU_STATUS_COMPUTING	0x01	/* factorial in progress */
#define EDU_DMA_START		0x1	/* set to start; clears when done */
#define EDU_DMA_TO_RAM		0x2	/* direction: device buffer -> RAM */
#define EDU_DMA_IRQ		0x4	/* raise EDU_IRQ_DMA when done */
#define EDU_IRQ_DMA		0x100	/* the DMA-completion interrupt bit */

/*
 * The device's DMA buffer: 4096 bytes at this device-side address.  QEMU 7.2
 * checks a transfer against it off by one: one that reaches the buffer's last
 * byte (4096 bytes at offset 0, 4095 at offset 1, ...) makes it call
 * hw_error(), and QEMU aborts.  So this driver allows dev_off + len <= 4095
 * only; newer QEMUs merely log an out-of-range transfer.
 */
#define EDU_DMA_BUF_ADDR	0x40000u
#define EDU_DMA_BUF_SIZE	4096u
#define EDU_DMA_BUF_USABLE	(EDU_DMA_BUF_SIZE - 1)

/* Bound on one DMA or factorial computation; edu takes 100 ms per DMA. */
#define EDU_TIMEOUT_MS		5000

struct edu;

struct edu *edu_open(const char *bdf);
void edu_close(struct edu *edu);
const char *edu_bdf(const struct edu *edu);
uint32_t edu_id(struct edu *edu);
int edu_check_alive(struct edu *edu);
int edu_factorial(struct edu *edu, uint32_t n, uint32_t *result);
int edu_dma_to_device(struct edu *edu, uint64_t iova, uint32_t dev_off,
		      uint32_t len);
int edu_dma_from_device(struct edu *edu, uint64_t iova, uint32_t dev_off,
			uint32_t len);
int edu_dma_start(struct edu *edu, uint64_t iova, uint32_t dev_off,
		  uint32_t len, bool to_ram, bool irq);
int edu_dma_wait(struct edu *edu);
uint32_t edu_irq_status(struct edu *edu);
void edu_irq_ack(struct edu *edu, uint32_t bits);
/* One 4-byte register read of BAR0 (EDU_REG_*), for tests. */
uint32_t edu_read32(struct edu *edu, uint32_t reg);

#endif /* EDU_H */
