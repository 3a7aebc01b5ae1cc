/* Per-address connection counts (see connlimit.h): a chained hash of the keys (an IPv4
 * address, an IPv6 /64) that have connections open; an entry lives exactly as long as its
 * count is above zero. */
#include "signaling/connlimit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 1024
#define EXEMPT_MAX 16

struct connlimit_addr {
    char text[CONNLIMIT_ADDR_MAX]; /* the key (count_key) */
    int count;                     /* connections open, > 0 */
    struct connlimit_addr *next;   /* the bucket's chain */
};

struct connlimit {
    int max;                                   /* per address; 0 = no limit */
    double rate, burst;                        /* requests per second and at once, per connection */
    int nexempt;
    char exempt[EXEMPT_MAX][CONNLIMIT_ADDR_MAX]; /* canonical text, never counted */
    struct connlimit_addr *buckets[BUCKETS];
};

static unsigned hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % BUCKETS;
}

/* The canonical text of an address written any valid way ("::0001" is "::1"). */
static int canonical(const char *in, char out[CONNLIMIT_ADDR_MAX])
{
    struct sockaddr_in6 s6;
    struct sockaddr_in s4;
    memset(&s6, 0, sizeof s6);
    memset(&s4, 0, sizeof s4);
    if (inet_pton(AF_INET, in, &s4.sin_addr) == 1) {
        s4.sin_family = AF_INET;
        return connlimit_addr_text((struct sockaddr *)&s4, out);
    }
    if (inet_pton(AF_INET6, in, &s6.sin6_addr) == 1) {
        s6.sin6_family = AF_INET6;
        return connlimit_addr_text((struct sockaddr *)&s6, out);
    }
    return -1;
}

struct connlimit *connlimit_new(int max_per_addr, const char *exempt, double rate, double burst)
{
    struct connlimit *cl = calloc(1, sizeof *cl);
    if (!cl || max_per_addr < 0 || rate <= 0 || burst < 1)
        goto fail;
    cl->max = max_per_addr;
    cl->rate = rate;
    cl->burst = burst;
    char buf[EXEMPT_MAX * CONNLIMIT_ADDR_MAX];
    if (!exempt)
        return cl;
    if (strlen(exempt) >= sizeof buf)
        goto fail;
    memcpy(buf, exempt, strlen(exempt) + 1);
    for (char *save = NULL, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        if (!strcmp(t, "none"))
            continue;
        if (cl->nexempt == EXEMPT_MAX || canonical(t, cl->exempt[cl->nexempt]) < 0)
            goto fail;
        cl->nexempt++;
    }
    return cl;
fail:
    free(cl);
    return NULL;
}

void connlimit_free(struct connlimit *cl)
{
    if (!cl)
        return;
    for (int i = 0; i < BUCKETS; i++)
        while (cl->buckets[i]) {
            struct connlimit_addr *a = cl->buckets[i];
            cl->buckets[i] = a->next;
            free(a);
        }
    free(cl);
}

int connlimit_addr_text(const struct sockaddr *sa, char out[CONNLIMIT_ADDR_MAX])
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        return inet_ntop(AF_INET, &s4->sin_addr, out, CONNLIMIT_ADDR_MAX) ? 0 : -1;
    }
    if (sa->sa_family != AF_INET6)
        return -1;
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
    if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) /* a dual-stack socket's IPv4 peer */
        return inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], out, CONNLIMIT_ADDR_MAX) ? 0 : -1;
    return inet_ntop(AF_INET6, &s6->sin6_addr, out, CONNLIMIT_ADDR_MAX) ? 0 : -1;
}

/* What an address is counted under: an IPv4 address itself, an IPv6 address its /64
 * ("2001:db8:1:2::/64"). One subscriber (a home, a host, a VM) is normally given a whole /64,
 * so keyed by address it could open max_per_addr connections from each of 2^64 of them. */
static void count_key(const char *addr, char out[CONNLIMIT_ADDR_MAX])
{
    struct in6_addr a6;
    if (strchr(addr, ':') && inet_pton(AF_INET6, addr, &a6) == 1) {
        if (IN6_IS_ADDR_V4MAPPED(&a6) && inet_ntop(AF_INET, &a6.s6_addr[12], out, CONNLIMIT_ADDR_MAX))
            return;
        memset(&a6.s6_addr[8], 0, 8);
        if (inet_ntop(AF_INET6, &a6, out, CONNLIMIT_ADDR_MAX - 3)) {
            strcat(out, "/64");
            return;
        }
    }
    snprintf(out, CONNLIMIT_ADDR_MAX, "%s", addr);
}

static bool is_exempt(const struct connlimit *cl, const char *addr)
{
    for (int i = 0; i < cl->nexempt; i++)
        if (!strcmp(cl->exempt[i], addr))
            return true;
    return false;
}

static struct connlimit_addr *find(const struct connlimit *cl, const char *addr)
{
    struct connlimit_addr *a = cl->buckets[hash(addr)];
    while (a && strcmp(a->text, addr))
        a = a->next;
    return a;
}

struct connlimit_conn *connlimit_open(struct connlimit *cl, const char *addr, const void *owner)
{
    struct connlimit_conn *cc = calloc(1, sizeof *cc);
    if (!cc)
        return NULL;
    cc->owner = owner;
    if (is_exempt(cl, addr) || strlen(addr) >= CONNLIMIT_ADDR_MAX)
        return cc; /* not counted: addr stays NULL */
    char key[CONNLIMIT_ADDR_MAX];
    count_key(addr, key);
    struct connlimit_addr *a = find(cl, key);
    if (!a) {
        a = calloc(1, sizeof *a);
        if (!a) {
            free(cc);
            return NULL;
        }
        memcpy(a->text, key, strlen(key) + 1);
        unsigned h = hash(key);
        a->next = cl->buckets[h];
        cl->buckets[h] = a;
    }
    a->count++;
    cc->addr = a;
    cc->over = cl->max && a->count > cl->max;
    return cc;
}

void connlimit_close(struct connlimit *cl, struct connlimit_conn *cc)
{
    if (!cc)
        return;
    struct connlimit_addr *a = cc->addr;
    free(cc);
    if (!a || --a->count > 0)
        return;
    for (struct connlimit_addr **pp = &cl->buckets[hash(a->text)]; *pp; pp = &(*pp)->next)
        if (*pp == a) {
            *pp = a->next;
            free(a);
            return;
        }
}

bool connlimit_take(const struct connlimit *cl, struct connlimit_conn *cc, int64_t now_ms)
{
    if (!cc->tokens_at_ms)
        cc->tokens = cl->burst;
    else if (now_ms > cc->tokens_at_ms)
        cc->tokens += (double)(now_ms - cc->tokens_at_ms) * cl->rate / 1000.0;
    if (cc->tokens > cl->burst)
        cc->tokens = cl->burst;
    cc->tokens_at_ms = now_ms;
    if (cc->tokens < 1.0)
        return false;
    cc->tokens -= 1.0;
    return true;
}

int connlimit_count(const struct connlimit *cl, const char *addr)
{
    if (is_exempt(cl, addr) || strlen(addr) >= CONNLIMIT_ADDR_MAX)
        return 0;
    char key[CONNLIMIT_ADDR_MAX];
    count_key(addr, key);
    const struct connlimit_addr *a = find(cl, key);
    return a ? a->count : 0;
}

int connlimit_max(const struct connlimit *cl)
{
    return cl->max;
}
