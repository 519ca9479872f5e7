/*
 * The x86 XSAVE area as core-<tid>.img carries it (core-dump.c writes it,
 * core-restore.c puts it back): the extended components upstream's images
 * hold, by their XSAVE feature bit, and where this CPU keeps each one in
 * the standard (non-compacted) layout that PTRACE_GETREGSET and
 * PTRACE_SETREGSET with NT_X86_XSTATE use.
 */
#ifndef CRIU_TASK_XSAVE_H
#define CRIU_TASK_XSAVE_H

#include <cpuid.h>
#include <stdbool.h>
#include <stddef.h>

/* XSAVE components upstream's images carry: their feature bit numbers. */
enum xsave_feature {
	XF_YMM = 2,	  /* upper halves of the YMM registers */
	XF_OPMASK = 5,	  /* AVX-512 k0..k7 */
	XF_ZMM_HI256 = 6, /* upper halves of ZMM0..15 */
	XF_HI16_ZMM = 7,  /* ZMM16..31 */
	XF_PKRU = 9,	  /* protection keys */
};

/* The XSAVE header (xstate_bv...), after the 512-byte legacy FXSAVE area. */
#define XSAVE_HDR_OFF 512

/*
 * Where this CPU's XSAVE area keeps component `f` (CPUID leaf 0xd): its
 * offset and size in bytes; false when the CPU has no place for it.
 */
static inline bool xsave_component(enum xsave_feature f, size_t *off, size_t *size)
{
	unsigned int sz, o, ecx, edx;

	__cpuid_count(0xd, f, sz, o, ecx, edx);
	*off = o;
	*size = sz;
	return o != 0;
}

#endif
