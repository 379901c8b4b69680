/* SPDX-License-Identifier: MIT */
/*
 * CPU feature probe and the OpenSSL algorithms wharf uses. OpenSSL picks
 * its SHA-NI and AES-NI code paths itself; this decides only whether
 * wharf prefers them over libsodium's portable primitives.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#elif defined(__aarch64__)
#include <sys/auxv.h>
#endif

#include "wharf/accel.h"

static pthread_once_t accel_once = PTHREAD_ONCE_INIT;
static int have_sha, have_aes;
static EVP_MD *sha256_md;
static EVP_CIPHER *aes256gcm;

static int
masked(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

static void
probe_cpu(void)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned int a, b, c, d;

	/* Leaf 1 ECX: bit 25 AES, bit 1 PCLMULQDQ. */
	if (__get_cpuid(1, &a, &b, &c, &d))
		have_aes = (c & (1u << 25)) && (c & (1u << 1));
	/* Leaf 7 sub-leaf 0 EBX bit 29: SHA extensions. */
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d))
		have_sha = (b & (1u << 29)) != 0;
#elif defined(__aarch64__)
	unsigned long hw = getauxval(AT_HWCAP);

#ifdef HWCAP_SHA2
	have_sha = (hw & HWCAP_SHA2) != 0;
#endif
#if defined(HWCAP_AES) && defined(HWCAP_PMULL)
	have_aes = (hw & HWCAP_AES) && (hw & HWCAP_PMULL);
#endif
	(void)hw;
#endif
}

static void
accel_setup(void)
{
	probe_cpu();
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	aes256gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	if (sha256_md == NULL || masked("WHARF_DISABLE_SHANI"))
		have_sha = 0;
	if (aes256gcm == NULL || masked("WHARF_DISABLE_AESNI"))
		have_aes = 0;
}

void
accel_init(void)
{
	(void)pthread_once(&accel_once, accel_setup);
}

int
accel_have_sha256(void)
{
	accel_init();
	return have_sha;
}

int
accel_have_aes(void)
{
	accel_init();
	return have_aes;
}

EVP_MD *
accel_sha256_md(void)
{
	accel_init();
	return sha256_md;
}

EVP_CIPHER *
accel_aes256gcm_cipher(void)
{
	accel_init();
	return aes256gcm;
}
