/* Self-signed certificate for the HTTPS listener (see selfcert.h). Only OpenSSL's EVP and
 * X509 calls; the files are written to a temporary name and renamed, so a crash never
 * leaves half a key behind. */
#include "mcu/selfcert.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The certificate at cert_path if it and the key at key_path load, match, and stay valid
 * long enough; NULL otherwise (missing, damaged or expiring files are simply replaced). */
static X509 *load_existing(const char *cert_path, const char *key_path)
{
    FILE *fc = fopen(cert_path, "r"), *fk = fopen(key_path, "r");
    X509 *x = fc ? PEM_read_X509(fc, NULL, NULL, NULL) : NULL;
    EVP_PKEY *k = fk ? PEM_read_PrivateKey(fk, NULL, NULL, NULL) : NULL;
    if (fc)
        fclose(fc);
    if (fk)
        fclose(fk);
    time_t until = time(NULL) + (time_t)SELFCERT_RENEW_DAYS * 86400;
    bool ok = x && k && X509_check_private_key(x, k) == 1 && X509_cmp_time(X509_get0_notAfter(x), &until) > 0;
    EVP_PKEY_free(k);
    if (!ok) {
        X509_free(x);
        ERR_clear_error();
        return NULL;
    }
    return x;
}

static bool dns_name_ok(const char *h)
{
    if (!*h || strlen(h) > 253)
        return false;
    for (const char *p = h; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
              *p == '.'))
            return false;
    return true;
}

/* subjectAltName: the names and addresses a browser on this host or the LAN may use. */
static void san_text(const char *host, const char *listen_host, char *out, size_t cap)
{
    unsigned char a[16];
    size_t n = (size_t)snprintf(out, cap, "DNS:localhost,IP:127.0.0.1,IP:::1");
    if (dns_name_ok(host) && strcmp(host, "localhost") && n < cap)
        n += (size_t)snprintf(out + n, cap - n, ",DNS:%s", host);
    bool specific = strcmp(listen_host, "0.0.0.0") && strcmp(listen_host, "::") && strcmp(listen_host, "127.0.0.1") &&
                    strcmp(listen_host, "::1");
    if (specific && n < cap && (inet_pton(AF_INET, listen_host, a) == 1 || inet_pton(AF_INET6, listen_host, a) == 1))
        snprintf(out + n, cap - n, ",IP:%s", listen_host);
}

static int add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    int rc = ext && X509_add_ext(x, ext, -1) == 1 ? 0 : -1;
    X509_EXTENSION_free(ext);
    return rc;
}

/* A new certificate for key, signed by itself. NULL on any OpenSSL failure. */
static X509 *make_cert(EVP_PKEY *key, const char *listen_host)
{
    char host[256] = "localhost", san[512];
    if (gethostname(host, sizeof host - 1) < 0 || !host[0])
        snprintf(host, sizeof host, "localhost");
    host[64] = 0; /* the longest CN X.509 allows */
    unsigned char serial[16];
    X509 *x = X509_new();
    BIGNUM *bn = RAND_bytes(serial, sizeof serial) == 1 ? BN_bin2bn(serial, sizeof serial, NULL) : NULL;
    X509_NAME *name = x ? X509_get_subject_name(x) : NULL;
    san_text(host, listen_host, san, sizeof san);
    bool ok = x && bn && name && X509_set_version(x, 2) == 1 &&
              BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) &&
              X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
              X509_gmtime_adj(X509_getm_notAfter(x), (long)SELFCERT_DAYS * 86400) &&
              X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)host, -1, -1, 0) == 1 &&
              X509_set_issuer_name(x, name) == 1 && X509_set_pubkey(x, key) == 1 &&
              add_ext(x, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
              add_ext(x, NID_key_usage, "critical,digitalSignature") == 0 &&
              add_ext(x, NID_ext_key_usage, "serverAuth") == 0 && add_ext(x, NID_subject_alt_name, san) == 0 &&
              X509_sign(x, key, EVP_sha256()) > 0;
    BN_free(bn);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* Writes path atomically with mode 0600: a temporary file, then rename. */
static int write_pem(const char *path, X509 *x, EVP_PKEY *k)
{
    char tmp[1024];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return -1;
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    bool ok = x ? PEM_write_X509(f, x) == 1 : PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;
    ok = fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
}

static void fingerprint(X509 *x, char fp[SELFCERT_FP_LEN])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    fp[0] = 0;
    if (X509_digest(x, EVP_sha256(), md, &n) != 1)
        return;
    for (unsigned int i = 0; i < n && 3 * i + 3 <= SELFCERT_FP_LEN; i++)
        snprintf(fp + 3 * i, 4, i + 1 < n ? "%02X:" : "%02X", md[i]);
}

int selfcert_ensure(const char *cert_path, const char *key_path, const char *listen_host,
                    char fp[SELFCERT_FP_LEN], char *err, size_t errlen)
{
    X509 *x = load_existing(cert_path, key_path);
    if (x) {
        if (fp)
            fingerprint(x, fp);
        X509_free(x);
        return 0;
    }
    EVP_PKEY *k = EVP_EC_gen("P-256");
    x = k ? make_cert(k, listen_host) : NULL;
    if (!x) {
        snprintf(err, errlen, "cannot make a self-signed certificate (OpenSSL error)");
        EVP_PKEY_free(k);
        ERR_clear_error();
        return -1;
    }
    /* The key first: a certificate without its key on disk would be useless next time. */
    int rc = write_pem(key_path, NULL, k) < 0 ? -1 : write_pem(cert_path, x, NULL);
    if (rc < 0)
        snprintf(err, errlen, "cannot write the self-signed certificate to %s and %s: %s", cert_path, key_path,
                 strerror(errno));
    else if (fp)
        fingerprint(x, fp);
    X509_free(x);
    EVP_PKEY_free(k);
    return rc < 0 ? -1 : 1;
}
