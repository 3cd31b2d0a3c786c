/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Direct access, the data path's side (direct.c has the rest): where this
 * process can reach guest memory itself, an access is a load, a store, a
 * compare-exchange or a copy on that memory, made fault-tolerant.
 *
 * Fault tolerance.  Every instruction that touches guest memory (or the
 * caller's buffer) lies in a range listed in the section gm_ft_fixup, each
 * entry naming where to resume when that range faults.  The library's
 * SIGSEGV/SIGBUS handler looks the faulting instruction's address up there
 * and, when it is listed, resumes at the entry's fixup: a C label for the
 * single instructions below (asm goto), the failure exit of the copy and
 * set routines in ft-<arch>.S, which then return -1.  Nothing is kept per
 * thread; the address of the instruction is the whole story.  A caller that
 * sees a fault redoes the whole access through the kernel, so the error it
 * reports (errno, kind, gpa, cause, message) is the kernel path's.
 */
#ifndef GUESTMEM_DIRECT_H
#define GUESTMEM_DIRECT_H

#include "internal.h"

#if defined(__x86_64__) || defined(__aarch64__)
#define GM_DIRECT_ARCH 1
#else
#define GM_DIRECT_ARCH 0        /* every access takes the kernel path */
#endif

#define GM_HIDDEN __attribute__((visibility("hidden")))

enum { GM_DIRECT_UNSET, GM_DIRECT_READY };

/*
 * The process-wide switch reaches the data path through the canaries
 * (direct.c): while direct access is off, both carry GM_EPOCH_OFF, which
 * no handle's epoch has, so every window check fails.
 */
#define GM_EPOCH_OFF (1ULL << 63)

/*
 * Set once the calling thread has been found able to take faults: the
 * handler is installed and the thread does not block SIGSEGV or SIGBUS.
 */
extern __thread uint8_t gm_direct_thread_ok
	__attribute__((tls_model("initial-exec"))) GM_HIDDEN;

/* The switch itself (direct.c); GM_DIRECT_MODE_OFF: every call takes the ioctl. */
enum { GM_DIRECT_MODE_UNSET, GM_DIRECT_MODE_ON, GM_DIRECT_MODE_OFF };
extern _Atomic int gm_direct_mode GM_HIDDEN;

static inline bool gm_direct_off(void)
{
	return atomic_load_explicit(&gm_direct_mode, memory_order_relaxed) == GM_DIRECT_MODE_OFF;
}

/* direct.c */
uint8_t *gm_direct_va_slow(struct gm *gm, uint64_t gpa, uint64_t len) GM_HIDDEN;
uint64_t gm_direct_epoch(void) GM_HIDDEN;
void gm_direct_inherit(struct gm *base, struct gm *view, uint64_t offset) GM_HIDDEN;
void gm_direct_release(struct gm *gm) GM_HIDDEN;

/* ft-<arch>.S: memmove and memset that return 0, or -1 after a fault. */
int gm_ft_copy(void *dst, const void *src, size_t len) GM_HIDDEN;
int gm_ft_set(void *dst, int c, size_t len) GM_HIDDEN;

/*
 * The common case, inline and without a call: [gpa, gpa + len) lies in the
 * handle's one window and the calling thread may go direct.  Its address
 * in this process, or NULL (then ask gm_direct_va()).
 */
static inline uint8_t *gm_direct_window(struct gm *gm, uint64_t gpa, uint64_t len)
{
#if GM_DIRECT_ARCH
	uint64_t wlen = atomic_load_explicit(&gm->direct_len, memory_order_acquire);

	if (__builtin_expect(gpa < wlen && len <= wlen - gpa, 1) &&
	    __builtin_expect(gm_direct_thread_ok, 1) &&
	    __builtin_expect(*gm->direct_canary == gm->direct_epoch, 1))
		return gm->direct_base + gpa;
#else
	(void)gm;
	(void)gpa;
	(void)len;
#endif
	return NULL;
}

/*
 * The same for an 8-byte access, the hottest case, in fewer instructions:
 * one bound (direct_end8: the guest addresses where 8 bytes fit).  True,
 * with *@va set, when it may go direct.
 */
static inline bool gm_direct_window8(struct gm *gm, uint64_t gpa, uint8_t **va)
{
#if GM_DIRECT_ARCH
	if (__builtin_expect(gpa < atomic_load_explicit(&gm->direct_end8, memory_order_acquire),
			     1) &&
	    __builtin_expect(gm_direct_thread_ok, 1) &&
	    __builtin_expect(*gm->direct_canary == gm->direct_epoch, 1)) {
		*va = gm->direct_base + gpa;
		return true;
	}
#else
	(void)gm;
	(void)gpa;
	(void)va;
#endif
	return false;
}

/*
 * Where [gpa, gpa + len) (len > 0) is in this process, when the calling
 * thread may touch it directly; NULL sends the access to the kernel.
 */
static inline uint8_t *gm_direct_va(struct gm *gm, uint64_t gpa, uint64_t len)
{
	uint8_t *va = gm_direct_window(gm, gpa, len);

	return va ? va : gm_direct_va_slow(gm, gpa, len);
}

/* One entry of gm_ft_fixup: a fault in [from, to) resumes at fix. */
#define GM_FT_FIXUP(from, to, fix)                                            \
	".pushsection gm_ft_fixup,\"aR\"\n\t"                                 \
	".balign 4\n\t"                                                       \
	".long " from " - .\n\t"                                              \
	".long " to " - .\n\t"                                                \
	".long " fix " - .\n\t"                                               \
	".popsection\n\t"

#if defined(__x86_64__)

/* One load of @size at @src, stored to @out: true, or false after a fault. */
#define GM_FT_LOAD(name, load, store)                                         \
static inline bool name(void *out, const void *src)                           \
{                                                                             \
	asm goto("1:	" load " (%[src]), %%eax\n\t"                         \
		 "	" store ", (%[out])\n\t"                              \
		 "2:\n\t"                                                     \
		 GM_FT_FIXUP("1b", "2b", "%l[fault]")                         \
		 : : [src] "r" (src), [out] "r" (out)                         \
		 : "rax", "memory" : fault);                                  \
	return true;                                                          \
fault:                                                                        \
	return false;                                                         \
}

GM_FT_LOAD(gm_ft_load1, "movzbl", "movb %%al")
GM_FT_LOAD(gm_ft_load2, "movzwl", "movw %%ax")
GM_FT_LOAD(gm_ft_load4, "movl", "movl %%eax")

static inline bool gm_ft_load8(void *out, const void *src)
{
	asm goto("1:	movq (%[src]), %%rax\n\t"
		 "	movq %%rax, (%[out])\n\t"
		 "2:\n\t"
		 GM_FT_FIXUP("1b", "2b", "%l[fault]")
		 : : [src] "r" (src), [out] "r" (out)
		 : "rax", "memory" : fault);
	return true;
fault:
	return false;
}

/* One store of @size bytes, read from @in, at @dst. */
#define GM_FT_STORE(name, load, store)                                        \
static inline bool name(void *dst, const void *in)                            \
{                                                                             \
	asm goto("1:	" load " (%[in]), %%eax\n\t"                          \
		 "	" store ", (%[dst])\n\t"                              \
		 "2:\n\t"                                                     \
		 GM_FT_FIXUP("1b", "2b", "%l[fault]")                         \
		 : : [dst] "r" (dst), [in] "r" (in)                           \
		 : "rax", "memory" : fault);                                  \
	return true;                                                          \
fault:                                                                        \
	return false;                                                         \
}

GM_FT_STORE(gm_ft_store1, "movzbl", "movb %%al")
GM_FT_STORE(gm_ft_store2, "movzwl", "movw %%ax")
GM_FT_STORE(gm_ft_store4, "movl", "movl %%eax")

static inline bool gm_ft_store8(void *dst, const void *in)
{
	asm goto("1:	movq (%[in]), %%rax\n\t"
		 "	movq %%rax, (%[dst])\n\t"
		 "2:\n\t"
		 GM_FT_FIXUP("1b", "2b", "%l[fault]")
		 : : [dst] "r" (dst), [in] "r" (in)
		 : "rax", "memory" : fault);
	return true;
fault:
	return false;
}

/*
 * One lock cmpxchg at @dst: 1 = exchanged, 0 = not (*@cur now holds what
 * was found), -1 = a fault (nothing stored: the instruction faults before
 * it writes).  @sfx is the size suffix, @a and @d the accumulator and the
 * new value's register of that width.
 */
#define GM_FT_CMPXCHG(name, load, sfx, a, d, store)                           \
static inline int name(void *dst, void *cur, const void *newv)                \
{                                                                             \
	asm goto("1:	" load " (%[cur]), %%eax\n\t"                         \
		 "	" load " (%[newv]), %%edx\n\t"                        \
		 "	lock cmpxchg" sfx " %%" d ", (%[dst])\n\t"            \
		 "	je %l[exchanged]\n\t"                                 \
		 "	" store " %%" a ", (%[cur])\n\t"                      \
		 "2:\n\t"                                                     \
		 GM_FT_FIXUP("1b", "2b", "%l[fault]")                         \
		 : : [dst] "r" (dst), [cur] "r" (cur), [newv] "r" (newv)      \
		 : "rax", "rdx", "cc", "memory" : exchanged, fault);          \
	return 0;                                                             \
exchanged:                                                                    \
	return 1;                                                             \
fault:                                                                        \
	return -1;                                                            \
}

GM_FT_CMPXCHG(gm_ft_cmpxchg1, "movzbl", "b", "al", "dl", "movb")
GM_FT_CMPXCHG(gm_ft_cmpxchg2, "movzwl", "w", "ax", "dx", "movw")
GM_FT_CMPXCHG(gm_ft_cmpxchg4, "movl", "l", "eax", "edx", "movl")

static inline int gm_ft_cmpxchg8(void *dst, void *cur, const void *newv)
{
	asm goto("1:	movq (%[cur]), %%rax\n\t"
		 "	movq (%[newv]), %%rdx\n\t"
		 "	lock cmpxchgq %%rdx, (%[dst])\n\t"
		 "	je %l[exchanged]\n\t"
		 "	movq %%rax, (%[cur])\n\t"
		 "2:\n\t"
		 GM_FT_FIXUP("1b", "2b", "%l[fault]")
		 : : [dst] "r" (dst), [cur] "r" (cur), [newv] "r" (newv)
		 : "rax", "rdx", "cc", "memory" : exchanged, fault);
	return 0;
exchanged:
	return 1;
fault:
	return -1;
}

#elif defined(__aarch64__)

/* x16 and x17 (IP0, IP1) and x15 are scratch registers of the AAPCS64. */
#define GM_FT_LOAD(name, ld, st, reg)                                         \
static inline bool name(void *out, const void *src)                           \
{                                                                             \
	asm goto("1:	" ld " " reg "16, [%[src]]\n\t"                       \
		 "	" st " " reg "16, [%[out]]\n\t"                       \
		 "2:\n\t"                                                     \
		 GM_FT_FIXUP("1b", "2b", "%l[fault]")                         \
		 : : [src] "r" (src), [out] "r" (out)                         \
		 : "x16", "memory" : fault);                                  \
	return true;                                                          \
fault:                                                                        \
	return false;                                                         \
}

GM_FT_LOAD(gm_ft_load1, "ldrb", "strb", "w")
GM_FT_LOAD(gm_ft_load2, "ldrh", "strh", "w")
GM_FT_LOAD(gm_ft_load4, "ldr", "str", "w")
GM_FT_LOAD(gm_ft_load8, "ldr", "str", "x")

#define GM_FT_STORE(name, ld, st, reg)                                        \
static inline bool name(void *dst, const void *in)                            \
{                                                                             \
	asm goto("1:	" ld " " reg "16, [%[in]]\n\t"                        \
		 "	" st " " reg "16, [%[dst]]\n\t"                       \
		 "2:\n\t"                                                     \
		 GM_FT_FIXUP("1b", "2b", "%l[fault]")                         \
		 : : [dst] "r" (dst), [in] "r" (in)                           \
		 : "x16", "memory" : fault);                                  \
	return true;                                                          \
fault:                                                                        \
	return false;                                                         \
}

GM_FT_STORE(gm_ft_store1, "ldrb", "strb", "w")
GM_FT_STORE(gm_ft_store2, "ldrh", "strh", "w")
GM_FT_STORE(gm_ft_store4, "ldr", "str", "w")
GM_FT_STORE(gm_ft_store8, "ldr", "str", "x")

/*
 * A load-acquire/store-release exclusive loop that always stores: the new
 * value when the old one matched, else the old one back.  Storing either
 * way makes it need write access as x86's lock cmpxchg and the kernel's
 * FOLL_WRITE pin do, and ldaxr/stlxr is the C11 sequentially consistent
 * exchange.  A fault leaves memory as it was (a faulting store-exclusive
 * stores nothing).
 */
#define GM_FT_CMPXCHG(name, ld, st, ldx, stx, reg)                            \
static inline int name(void *dst, void *cur, const void *newv)                \
{                                                                             \
	asm goto("1:	" ld " " reg "16, [%[cur]]\n\t"                      \
		 "	" ld " " reg "17, [%[newv]]\n\t"                     \
		 "3:	" ldx " " reg "15, [%[dst]]\n\t"                     \
		 "	cmp " reg "15, " reg "16\n\t"                        \
		 "	csel " reg "14, " reg "17, " reg "15, eq\n\t"        \
		 "	" stx " w13, " reg "14, [%[dst]]\n\t"                \
		 "	cbnz w13, 3b\n\t"                                    \
		 "	cmp " reg "15, " reg "16\n\t"                        \
		 "	b.eq %l[exchanged]\n\t"                              \
		 "	" st " " reg "15, [%[cur]]\n\t"                      \
		 "2:\n\t"                                                    \
		 GM_FT_FIXUP("1b", "2b", "%l[fault]")                         \
		 : : [dst] "r" (dst), [cur] "r" (cur), [newv] "r" (newv)      \
		 : "x13", "x14", "x15", "x16", "x17", "cc", "memory"          \
		 : exchanged, fault);                                         \
	return 0;                                                             \
exchanged:                                                                    \
	return 1;                                                             \
fault:                                                                        \
	return -1;                                                            \
}

GM_FT_CMPXCHG(gm_ft_cmpxchg1, "ldrb", "strb", "ldaxrb", "stlxrb", "w")
GM_FT_CMPXCHG(gm_ft_cmpxchg2, "ldrh", "strh", "ldaxrh", "stlxrh", "w")
GM_FT_CMPXCHG(gm_ft_cmpxchg4, "ldr", "str", "ldaxr", "stlxr", "w")
GM_FT_CMPXCHG(gm_ft_cmpxchg8, "ldr", "str", "ldaxr", "stlxr", "x")

#endif /* architectures */

#endif /* GUESTMEM_DIRECT_H */
