/* A self-signed certificate for HTTPS and WSS when no real one is configured
 * (tls_self_signed = true): ECDSA P-256, made once, stored with mode 0600, and presented
 * again after every restart so that browsers' exceptions for it keep working. */
#ifndef MCU_SELFCERT_H
#define MCU_SELFCERT_H

#include <stddef.h>

#define SELFCERT_DAYS 825      /* validity of a new certificate */
#define SELFCERT_RENEW_DAYS 30 /* a certificate this close to its end is replaced */
#define SELFCERT_FP_LEN 96     /* "AB:CD:..." SHA-256 fingerprint and its NUL */

/* Reuses the key and certificate at these paths when both load, belong together and stay
 * valid for SELFCERT_RENEW_DAYS more; otherwise makes new ones (CN: this host's name; SAN:
 * the host name, localhost, 127.0.0.1, ::1 and listen_host when it is one specific IP)
 * and writes them atomically. fp (may be NULL) gets the certificate's SHA-256 fingerprint.
 * Returns 1 made, 0 reused, -1 with a sentence in err. */
int selfcert_ensure(const char *cert_path, const char *key_path, const char *listen_host,
                    char fp[SELFCERT_FP_LEN], char *err, size_t errlen);

#endif
