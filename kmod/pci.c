// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem as the driver of the PCI devices it maps memory for.
 *
 * DOC: PCI devices
 *
 * The DMA API is only defined for a device that has a driver, and a device
 * that another driver owns must not see guestmem's mappings.  So guestmem
 * is a PCI driver, like vfio-pci and uio_pci_generic: "guestmem", with no
 * id table, bound with driver_override.  Probe enables the device (memory
 * decoding) and bus mastering and gives it a 64-bit DMA mask; the
 * user-mode driver maps its BARs through sysfs.
 *
 * &struct gm_pci is the binding.  It is referenced by the binding itself,
 * by every object attached to the device (dma.c) and by the PCI fd, so it
 * outlives the device's removal for as long as anything points at it.
 *
 * Removal (unbind, hot-unplug, SR-IOV VF teardown) cannot wait for user
 * space.  remove() marks the binding gone, frees the interrupts and, for
 * every attached object, unmaps every DMA mapping (gm_dma_revoke()) while
 * the device is still there; from then on nothing calls the DMA API on the
 * device again, locks and IOVA queries of those objects fail with -ENODEV,
 * and reads, writes and unlocks go on as before.
 *
 * The PCI fd (GUESTMEM_OPEN_PCI, one at a time per device) routes the
 * device's MSI-X, MSI or INTx vectors to eventfds, as VFIO_DEVICE_SET_IRQS
 * does: the handler signals the vector's eventfd.  INTx is level-triggered
 * and may be shared: the handler masks it at the device
 * (pci_check_and_mask_intx()) and user space unmasks it once it has
 * quietened the device.
 *
 * Lock order: gm_pci.lock (attach list, interrupts, the fd, gone) ->
 * mem->lock_mutex of an attached object.  probe() and remove() run under
 * the device lock, which attach and open take only to look at the binding,
 * with nothing else held.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/dma-mapping.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/interrupt.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "guestmem_private.h"

static struct pci_driver gm_pci_driver;

/* One routed interrupt vector. */
struct gm_pci_irq {
	struct gm_pci *gpci;
	int irq;
	struct eventfd_ctx *trigger;
	char name[40];
};

static void gm_pci_free(struct kref *ref)
{
	struct gm_pci *gpci = container_of(ref, struct gm_pci, ref);

	WARN_ON(!list_empty(&gpci->objects));
	mutex_destroy(&gpci->lock);
	pci_dev_put(gpci->pdev);
	kfree(gpci);
}

/**
 * gm_pci_put() - drop a reference to a binding
 * @gpci: the binding
 */
void gm_pci_put(struct gm_pci *gpci)
{
	kref_put(&gpci->ref, gm_pci_free);
}

/**
 * gm_pci_get() - the guestmem binding of a PCI device
 * @domain: PCI segment
 * @bus: bus number
 * @devfn: device and function
 *
 * Return: the binding, referenced, or ERR_PTR(-ENODEV) (no such device)
 * or ERR_PTR(-EBUSY) (bound to another driver, or to none).
 */
struct gm_pci *gm_pci_get(u32 domain, u32 bus, u32 devfn)
{
	struct gm_pci *gpci = ERR_PTR(-EBUSY);
	struct pci_dev *pdev;

	if (domain > INT_MAX || bus > 0xff || devfn > 0xff)
		return ERR_PTR(-ENODEV);
	pdev = pci_get_domain_bus_and_slot(domain, bus, devfn);
	if (!pdev)
		return ERR_PTR(-ENODEV);
	/* The binding cannot change while the device lock is held. */
	device_lock(&pdev->dev);
	if (pdev->dev.driver == &gm_pci_driver.driver) {
		gpci = pci_get_drvdata(pdev);
		kref_get(&gpci->ref);
	} else {
		pci_info_ratelimited(pdev, "bound to %s, not guestmem\n",
				     pdev->dev.driver ? pdev->dev.driver->name :
							"no driver");
	}
	device_unlock(&pdev->dev);
	pci_dev_put(pdev);
	return gpci;
}

/* 64 bits if the platform allows, as an unknown device may use them all. */
static int gm_pci_set_dma_mask(struct pci_dev *pdev, unsigned int bits)
{
	return dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(bits));
}

static int gm_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct gm_pci *gpci;
	int rc;

	/* A bridge forwards other devices' traffic: not a DMA endpoint. */
	if (pdev->hdr_type != PCI_HEADER_TYPE_NORMAL)
		return -EINVAL;
	gpci = kzalloc(sizeof(*gpci), GFP_KERNEL);
	if (!gpci)
		return -ENOMEM;
	kref_init(&gpci->ref);
	mutex_init(&gpci->lock);
	INIT_LIST_HEAD(&gpci->objects);
	gpci->pdev = pci_dev_get(pdev);
	rc = pci_enable_device(pdev);
	if (rc)
		goto out_put;
	rc = gm_pci_set_dma_mask(pdev, 64);
	if (rc)
		rc = gm_pci_set_dma_mask(pdev, 32);
	if (rc)
		goto out_disable;
	gpci->dma_mask_bits = dma_get_mask(&pdev->dev) == DMA_BIT_MASK(64) ?
			      64 : 32;
	pci_set_master(pdev);
	pci_set_drvdata(pdev, gpci);
	pci_info(pdev, "bound to guestmem\n");
	return 0;

out_disable:
	pci_disable_device(pdev);
out_put:
	gm_pci_put(gpci);
	return rc;
}

/* Free every routed vector and the PCI vectors behind them. */
static void gm_pci_irqs_free_locked(struct gm_pci *gpci)
{
	unsigned int i;

	lockdep_assert_held(&gpci->lock);
	for (i = 0; i < gpci->nr_irqs; i++) {
		free_irq(gpci->irqs[i].irq, &gpci->irqs[i]);
		eventfd_ctx_put(gpci->irqs[i].trigger);
	}
	if (gpci->irq_type != GUESTMEM_IRQ_NONE)
		pci_free_irq_vectors(gpci->pdev);
	kfree(gpci->irqs);
	gpci->irqs = NULL;
	gpci->nr_irqs = 0;
	gpci->irq_type = GUESTMEM_IRQ_NONE;
}

static void gm_pci_remove(struct pci_dev *pdev)
{
	struct gm_pci *gpci = pci_get_drvdata(pdev);
	unsigned int n = 0;
	struct gm_dma *dma;

	mutex_lock(&gpci->lock);
	gpci->gone = true;
	gm_pci_irqs_free_locked(gpci);
	/* While the device is still there: its domain goes with it. */
	list_for_each_entry(dma, &gpci->objects, node) {
		gm_dma_revoke(dma);
		n++;
	}
	mutex_unlock(&gpci->lock);
	pci_clear_master(pdev);
	pci_disable_device(pdev);
	pci_set_drvdata(pdev, NULL);
	if (n)
		pci_info(pdev, "unbound from guestmem: the mappings of %u objects revoked\n",
			 n);
	gm_pci_put(gpci);
}

static struct pci_driver gm_pci_driver = {
	.name = "guestmem",
	.id_table = NULL,	/* bound with driver_override only */
	.probe = gm_pci_probe,
	.remove = gm_pci_remove,
};

/**
 * gm_pci_register() - register the PCI driver
 *
 * Return: 0 or a negative errno.
 */
int gm_pci_register(void)
{
	return pci_register_driver(&gm_pci_driver);
}

/**
 * gm_pci_unregister() - unregister it (unbinds every device)
 */
void gm_pci_unregister(void)
{
	pci_unregister_driver(&gm_pci_driver);
}

/* The PCI fd. */

static irqreturn_t gm_pci_msi_handler(int irq, void *arg)
{
	struct gm_pci_irq *v = arg;

	gm_eventfd_signal(v->trigger);
	return IRQ_HANDLED;
}

/* INTx may be shared: only ours if the device asserts it; then mask it. */
static irqreturn_t gm_pci_intx_handler(int irq, void *arg)
{
	struct gm_pci_irq *v = arg;

	if (!pci_check_and_mask_intx(v->gpci->pdev))
		return IRQ_NONE;
	gm_eventfd_signal(v->trigger);
	return IRQ_HANDLED;
}

static unsigned int gm_pci_irq_flags(u32 type)
{
	switch (type) {
	case GUESTMEM_IRQ_INTX:
		return PCI_IRQ_INTX;
	case GUESTMEM_IRQ_MSI:
		return PCI_IRQ_MSI;
	default:
		return PCI_IRQ_MSIX;
	}
}

/* Route @count vectors of @type to the eventfds @fds (nothing routed). */
static int gm_pci_irqs_route_locked(struct gm_pci *gpci, u32 type, u32 count,
				    const s32 *fds)
{
	struct pci_dev *pdev = gpci->pdev;
	struct gm_pci_irq *v;
	unsigned int i;
	int rc;

	lockdep_assert_held(&gpci->lock);
	gpci->irqs = kcalloc(count, sizeof(*gpci->irqs), GFP_KERNEL_ACCOUNT);
	if (!gpci->irqs)
		return -ENOMEM;
	rc = pci_alloc_irq_vectors(pdev, count, count, gm_pci_irq_flags(type));
	if (rc < 0)
		goto out_free;
	gpci->irq_type = type;
	for (i = 0; i < count; i++) {
		v = &gpci->irqs[i];
		v->gpci = gpci;
		v->irq = pci_irq_vector(pdev, i);
		snprintf(v->name, sizeof(v->name), "guestmem[%u](%s)", i,
			 pci_name(pdev));
		v->trigger = eventfd_ctx_fdget(fds[i]);
		if (IS_ERR(v->trigger)) {
			rc = PTR_ERR(v->trigger);
			goto out_unroute;
		}
		if (type == GUESTMEM_IRQ_INTX) {
			/* Start unmasked; the handler masks what it takes. */
			pci_intx(pdev, 1);
			rc = request_irq(v->irq, gm_pci_intx_handler,
					 IRQF_SHARED, v->name, v);
		} else {
			rc = request_irq(v->irq, gm_pci_msi_handler, 0,
					 v->name, v);
		}
		if (rc) {
			eventfd_ctx_put(v->trigger);
			goto out_unroute;
		}
		gpci->nr_irqs++;
	}
	return 0;

out_unroute:
	gm_pci_irqs_free_locked(gpci);
	return rc;
out_free:
	kfree(gpci->irqs);
	gpci->irqs = NULL;
	return rc;
}

/* NONE with no vector, INTx with one, MSI or MSI-X with a few. */
static bool gm_pci_irqs_valid(u32 type, u32 count)
{
	switch (type) {
	case GUESTMEM_IRQ_NONE:
		return !count;
	case GUESTMEM_IRQ_INTX:
		return count == 1;
	case GUESTMEM_IRQ_MSI:
	case GUESTMEM_IRQ_MSIX:
		return count && count <= GUESTMEM_PCI_MAX_IRQS;
	default:
		return false;
	}
}

static int gm_pci_set_irqs(struct gm_pci *gpci,
			   struct guestmem_pci_set_irqs *cmd)
{
	s32 *fds = NULL;
	int rc;

	if (cmd->flags & ~GUESTMEM_PCI_UNMASK_INTX)
		return -EOPNOTSUPP;
	if (cmd->flags & GUESTMEM_PCI_UNMASK_INTX) {
		if (cmd->irq_type || cmd->count || cmd->eventfds_uptr)
			return -EINVAL;
		mutex_lock(&gpci->lock);
		rc = gpci->gone ? -ENODEV :
		     gpci->irq_type != GUESTMEM_IRQ_INTX ? -EINVAL : 0;
		if (!rc)
			pci_check_and_unmask_intx(gpci->pdev);
		mutex_unlock(&gpci->lock);
		return rc;
	}
	if (!gm_pci_irqs_valid(cmd->irq_type, cmd->count))
		return -EINVAL;
	if (cmd->count) {
		fds = memdup_user(u64_to_user_ptr(cmd->eventfds_uptr),
				  cmd->count * sizeof(*fds));
		if (IS_ERR(fds))
			return PTR_ERR(fds);
	}
	mutex_lock(&gpci->lock);
	if (gpci->gone) {
		rc = -ENODEV;
		goto out_unlock;
	}
	gm_pci_irqs_free_locked(gpci);
	rc = cmd->count ? gm_pci_irqs_route_locked(gpci, cmd->irq_type,
						   cmd->count, fds) : 0;
out_unlock:
	mutex_unlock(&gpci->lock);
	kfree(fds);
	return rc;
}

static int gm_pci_info(struct gm_pci *gpci, struct guestmem_pci_info *cmd)
{
	struct pci_dev *pdev = gpci->pdev;
	int n;

	if (cmd->flags)
		return -EOPNOTSUPP;
	cmd->out_flags = 0;
	cmd->out_msix_count = 0;
	cmd->out_msi_count = 0;
	mutex_lock(&gpci->lock);
	if (gpci->gone) {
		cmd->out_flags |= GUESTMEM_PCI_GONE;
	} else {
		if (gm_dma_iova_is_phys(&pdev->dev))
			cmd->out_flags |= GUESTMEM_PCI_IOVA_PHYS;
		if (pdev->irq && pdev->pin)
			cmd->out_flags |= GUESTMEM_PCI_HAS_INTX;
		n = pci_msix_vec_count(pdev);
		cmd->out_msix_count = n > 0 ? n : 0;
		n = pci_msi_vec_count(pdev);
		cmd->out_msi_count = n > 0 ? n : 0;
	}
	cmd->out_irq_type = gpci->irq_type;
	cmd->out_irq_count = gpci->nr_irqs;
	cmd->out_dma_mask_bits = gpci->dma_mask_bits;
	mutex_unlock(&gpci->lock);
	return 0;
}

static int gm_pci_dma_mask(struct gm_pci *gpci,
			   struct guestmem_pci_set_dma_mask *cmd)
{
	int rc;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	if (cmd->bits < 24 || cmd->bits > 64)
		return -EINVAL;
	mutex_lock(&gpci->lock);
	if (gpci->gone)
		rc = -ENODEV;
	else if (!list_empty(&gpci->objects))
		rc = -EBUSY;	/* their mappings were made for the old mask */
	else
		rc = gm_pci_set_dma_mask(gpci->pdev, cmd->bits);
	if (!rc)
		gpci->dma_mask_bits = cmd->bits;
	mutex_unlock(&gpci->lock);
	return rc;
}

int gm_ioctl_pci_info(struct gm_ucmd *ucmd)
{
	return gm_pci_info(ucmd->gpci, ucmd->cmd);
}

int gm_ioctl_pci_set_irqs(struct gm_ucmd *ucmd)
{
	return gm_pci_set_irqs(ucmd->gpci, ucmd->cmd);
}

int gm_ioctl_pci_set_dma_mask(struct gm_ucmd *ucmd)
{
	return gm_pci_dma_mask(ucmd->gpci, ucmd->cmd);
}

/**
 * gm_pci_release_fd() - the PCI fd's last close
 * @gpci: the binding the fd held
 *
 * Interrupts routed through the fd go with it.
 */
void gm_pci_release_fd(struct gm_pci *gpci)
{
	mutex_lock(&gpci->lock);
	if (!gpci->gone)
		gm_pci_irqs_free_locked(gpci);
	gpci->fd_open = false;
	mutex_unlock(&gpci->lock);
	gm_pci_put(gpci);
}

int gm_ioctl_open_pci(struct gm_ucmd *ucmd)
{
	struct guestmem_open_pci *cmd = ucmd->cmd;
	struct gm_pci *gpci;
	int rc;

	if (cmd->flags || cmd->__reserved || cmd->__reserved2)
		return -EOPNOTSUPP;
	if (!capable(CAP_SYS_RAWIO))
		return -EPERM;
	gpci = gm_pci_get(cmd->pci_domain, cmd->pci_bus, cmd->pci_devfn);
	if (IS_ERR(gpci))
		return PTR_ERR(gpci);
	mutex_lock(&gpci->lock);
	rc = gpci->gone ? -ENODEV : gpci->fd_open ? -EBUSY : 0;
	if (!rc)
		gpci->fd_open = true;
	mutex_unlock(&gpci->lock);
	if (rc) {
		gm_pci_put(gpci);
		return rc;
	}
	/* The fd takes the reference (or gm_pci_release_fd() drops it). */
	return gm_pci_publish(ucmd, gpci, &cmd->out_fd);
}
