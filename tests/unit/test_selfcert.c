/* The self-signed HTTPS certificate: made once with mode 0600, the right key type and
 * names, reused on the next start, and replaced when damaged or near its end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mcu/selfcert.h"

struct paths {
    char dir[64], cert[128], key[128];
};

static int setup(void **state)
{
    struct paths *p = calloc(1, sizeof *p);
    snprintf(p->dir, sizeof p->dir, "/tmp/mcu-selfcert-XXXXXX");
    if (!mkdtemp(p->dir))
        return -1;
    snprintf(p->cert, sizeof p->cert, "%s/c.crt", p->dir);
    snprintf(p->key, sizeof p->key, "%s/c.key", p->dir);
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    struct paths *p = *state;
    unlink(p->cert);
    unlink(p->key);
    rmdir(p->dir);
    free(p);
    return 0;
}

static X509 *read_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    return x;
}

static void test_made_then_reused(void **state)
{
    struct paths *p = *state;
    char fp1[SELFCERT_FP_LEN], fp2[SELFCERT_FP_LEN], err[200];
    assert_int_equal(selfcert_ensure(p->cert, p->key, "192.0.2.10", fp1, err, sizeof err), 1);
    assert_int_equal(strlen(fp1), 95);
    struct stat st;
    assert_int_equal(stat(p->key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(p->cert, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    X509 *x = read_cert(p->cert);
    assert_non_null(x);
    EVP_PKEY *pub = X509_get0_pubkey(x);
    assert_int_equal(EVP_PKEY_get_base_id(pub), EVP_PKEY_EC);
    assert_true(X509_check_host(x, "localhost", 0, 0, NULL) == 1);
    assert_true(X509_check_ip_asc(x, "127.0.0.1", 0) == 1);
    assert_true(X509_check_ip_asc(x, "::1", 0) == 1);
    assert_true(X509_check_ip_asc(x, "192.0.2.10", 0) == 1); /* the listen address */
    assert_true(X509_check_ip_asc(x, "192.0.2.11", 0) != 1);
    X509_free(x);

    assert_int_equal(selfcert_ensure(p->cert, p->key, "192.0.2.10", fp2, err, sizeof err), 0);
    assert_string_equal(fp1, fp2);
}

static void test_damaged_is_replaced(void **state)
{
    struct paths *p = *state;
    char fp1[SELFCERT_FP_LEN], fp2[SELFCERT_FP_LEN], err[200];
    assert_int_equal(selfcert_ensure(p->cert, p->key, "0.0.0.0", fp1, err, sizeof err), 1);
    FILE *f = fopen(p->key, "w");
    fputs("not a key\n", f);
    fclose(f);
    assert_int_equal(selfcert_ensure(p->cert, p->key, "0.0.0.0", fp2, err, sizeof err), 1);
    assert_string_not_equal(fp1, fp2);
}

static void test_unwritable(void **state)
{
    (void)state;
    char err[200] = "";
    assert_int_equal(selfcert_ensure("/nonexistent-dir/c.crt", "/nonexistent-dir/c.key", "::", NULL, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "cannot write"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_made_then_reused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_is_replaced, setup, teardown),
        cmocka_unit_test(test_unwritable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
