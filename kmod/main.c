// SPDX-License-Identifier: GPL-2.0
/*
 * guestmem: guest memory objects for user-mode VMMs and DMA drivers.
 *
 * Skeleton: registers /dev/guestmem and answers every ioctl with -ENOTTY.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

static long guestmem_dev_ioctl(struct file *file, unsigned int cmd,
			       unsigned long arg)
{
	return -ENOTTY;
}

static const struct file_operations guestmem_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = guestmem_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice guestmem_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "guestmem",
	.fops = &guestmem_dev_fops,
	.mode = 0666,
};

static int __init guestmem_init(void)
{
	return misc_register(&guestmem_miscdev);
}

static void __exit guestmem_exit(void)
{
	misc_deregister(&guestmem_miscdev);
}

module_init(guestmem_init);
module_exit(guestmem_exit);

MODULE_DESCRIPTION("Guest memory objects for user-mode VMMs and DMA drivers");
MODULE_LICENSE("GPL");
