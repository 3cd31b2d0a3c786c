/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fault-tolerant memmove and memset for direct access (aarch64): the
 * counterpart of ft-x86_64.S, same contract.
 *
 *	int gm_ft_copy(void *dst, const void *src, size_t len);
 *	int gm_ft_set(void *dst, int c, size_t len);
 *
 * 0, or -1 when an access faulted: the signal handler finds the faulting
 * instruction inside [gm_ft_begin, gm_ft_fail) and resumes at gm_ft_fail,
 * which returns -1 to the caller.  Leaf routines: they touch neither the
 * stack nor x30, and use only x0-x10 and v0-v7 (call-clobbered; v8-v15
 * are not touched), so resuming there is a plain return.  Up to 64 bytes:
 * head and tail loads that may overlap, all before any store (memmove-safe);
 * above, 64-byte blocks with the last (backwards: the first) 64 bytes
 * loaded before the loop and stored after it.
 */
#ifdef __aarch64__

	.text

	.p2align 4
	.globl gm_ft_copy
	.hidden gm_ft_copy
	.type gm_ft_copy, %function
gm_ft_begin:
gm_ft_copy:
	add x4, x1, x2			/* source end */
	add x5, x0, x2			/* destination end */
	cmp x2, #16
	b.lo .Lc_lt16
	cmp x2, #32
	b.hi .Lc_gt32
	ldr q0, [x1]
	ldur q1, [x4, #-16]
	str q0, [x0]
	stur q1, [x5, #-16]
	mov w0, #0
	ret
.Lc_lt16:
	cmp x2, #8
	b.lo .Lc_lt8
	ldr x6, [x1]
	ldur x7, [x4, #-8]
	str x6, [x0]
	stur x7, [x5, #-8]
	mov w0, #0
	ret
.Lc_lt8:
	cmp x2, #4
	b.lo .Lc_lt4
	ldr w6, [x1]
	ldur w7, [x4, #-4]
	str w6, [x0]
	stur w7, [x5, #-4]
	mov w0, #0
	ret
.Lc_lt4:
	cbz x2, .Lc_done
	ldurb w7, [x4, #-1]
	cmp x2, #1
	b.eq .Lc_1
	ldrh w6, [x1]
	strh w6, [x0]
	sturb w7, [x5, #-1]
	mov w0, #0
	ret
.Lc_1:
	strb w7, [x0]
.Lc_done:
	mov w0, #0
	ret
.Lc_gt32:
	cmp x2, #64
	b.hi .Lc_gt64
	ldp q0, q1, [x1]
	ldp q2, q3, [x4, #-32]
	stp q0, q1, [x0]
	stp q2, q3, [x5, #-32]
	mov w0, #0
	ret
.Lc_gt64:
	/* dst - src < len (unsigned): dst starts inside the source, copy backwards. */
	sub x3, x0, x1
	cmp x3, x2
	b.lo .Lc_backward
	ldp q4, q5, [x4, #-64]
	ldp q6, q7, [x4, #-32]
	mov x8, x1
	mov x9, x0
	sub x10, x4, #64		/* blocks start below this */
1:	ldp q0, q1, [x8]
	ldp q2, q3, [x8, #32]
	add x8, x8, #64
	stp q0, q1, [x9]
	stp q2, q3, [x9, #32]
	add x9, x9, #64
	cmp x8, x10
	b.lo 1b
	stp q4, q5, [x5, #-64]
	stp q6, q7, [x5, #-32]
	mov w0, #0
	ret
.Lc_backward:
	ldp q4, q5, [x1]
	ldp q6, q7, [x1, #32]
	mov x8, x4
	mov x9, x5
	add x10, x1, #64		/* blocks end above this */
2:	ldp q0, q1, [x8, #-64]
	ldp q2, q3, [x8, #-32]
	sub x8, x8, #64
	stp q0, q1, [x9, #-64]
	stp q2, q3, [x9, #-32]
	sub x9, x9, #64
	cmp x8, x10
	b.hi 2b
	stp q4, q5, [x0]
	stp q6, q7, [x0, #32]
	mov w0, #0
	ret
	.size gm_ft_copy, . - gm_ft_copy

	.p2align 4
	.globl gm_ft_set
	.hidden gm_ft_set
	.type gm_ft_set, %function
gm_ft_set:
	and w1, w1, #0xff
	mov x3, #0x0101010101010101
	mul x3, x1, x3
	add x5, x0, x2			/* destination end */
	cmp x2, #16
	b.lo .Ls_lt16
	dup v0.2d, x3
	cmp x2, #32
	b.hi .Ls_gt32
	str q0, [x0]
	stur q0, [x5, #-16]
	mov w0, #0
	ret
.Ls_lt16:
	cmp x2, #8
	b.lo .Ls_lt8
	str x3, [x0]
	stur x3, [x5, #-8]
	mov w0, #0
	ret
.Ls_lt8:
	cmp x2, #4
	b.lo .Ls_lt4
	str w3, [x0]
	stur w3, [x5, #-4]
	mov w0, #0
	ret
.Ls_lt4:
	cbz x2, .Ls_done
	strb w3, [x0]
	sturb w3, [x5, #-1]
	cmp x2, #2
	b.ls .Ls_done
	strb w3, [x0, #1]
.Ls_done:
	mov w0, #0
	ret
.Ls_gt32:
	cmp x2, #64
	b.hi .Ls_gt64
	stp q0, q0, [x0]
	stp q0, q0, [x5, #-32]
	mov w0, #0
	ret
.Ls_gt64:
	mov x9, x0
	sub x10, x5, #64
3:	stp q0, q0, [x9]
	stp q0, q0, [x9, #32]
	add x9, x9, #64
	cmp x9, x10
	b.lo 3b
	stp q0, q0, [x5, #-64]
	stp q0, q0, [x5, #-32]
	mov w0, #0
	ret
	.size gm_ft_set, . - gm_ft_set

	/* Where the handler resumes a faulting gm_ft_copy or gm_ft_set. */
gm_ft_fail:
	mov w0, #-1
	ret

	.pushsection gm_ft_fixup, "aR"
	.balign 4
	.long gm_ft_begin - .
	.long gm_ft_fail - .
	.long gm_ft_fail - .
	.popsection

#endif /* __aarch64__ */

	.section .note.GNU-stack, "", %progbits
