/* Shared by the media/vpx unit tests (test_vpx.c: parsing and rewriting; test_vpx_decode.c:
 * libvpx decodes the forwarded streams): the generated packet fixtures of tests/data/vpx,
 * loaded once by setup(), and helpers that push one packet through a track. */
#ifndef TESTS_UNIT_VPX_FIXTURE_H
#define TESTS_UNIT_VPX_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "media/rtp.h"
#include "media/vpx.h"

#define MAX_PKTS 128

struct meta {
    int key, start, end, tid, sid, pid, tl0, sync, inter, ilp, w, h;
};

struct pkt {
    uint8_t b[1600];
    size_t len;
    struct meta m;
};

struct capture {
    struct pkt p[MAX_PKTS];
    int n;
};

static struct capture g_vp8, g_sim, g_key, g_flex, g_l1;

static inline void load(const char *name, struct capture *c)
{
    const char *dir = getenv("MCU_SRCDIR");
    char path[1024], line[4096];
    snprintf(path, sizeof path, "%s/tests/data/vpx/%s", dir && dir[0] ? dir : ".", name);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open fixture %s", path);
    c->n = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        assert_true(c->n < MAX_PKTS);
        struct pkt *p = &c->p[c->n++];
        char *hash = strchr(line, '#');
        assert_non_null(hash);
        p->len = 0;
        for (char *s = line; s + 1 < hash && s[0] != ' '; s += 2) {
            unsigned v;
            assert_int_equal(sscanf(s, "%2x", &v), 1);
            p->b[p->len++] = (uint8_t)v;
        }
        struct meta *m = &p->m;
        assert_int_equal(sscanf(hash + 1, " key=%d start=%d end=%d tid=%d sid=%d pid=%d tl0=%d "
                                "sync=%d inter=%d ilp=%d w=%d h=%d", &m->key, &m->start, &m->end,
                                &m->tid, &m->sid, &m->pid, &m->tl0, &m->sync, &m->inter,
                                &m->ilp, &m->w, &m->h), 12);
    }
    fclose(f);
    assert_true(c->n > 0);
}

static inline int setup(void **state)
{
    (void)state;
    load("vp8_l1t3.hex", &g_vp8);
    load("vp8_simulcast.hex", &g_sim);
    load("vp9_l3t3_key.hex", &g_key);
    load("vp9_l3t3_flex.hex", &g_flex);
    load("vp9_l1t1.hex", &g_l1);
    return 0;
}

/* Parses packet bytes b into h and d (the codec from the payload type: 96 VP8, 98 VP9). */
static inline int parse(const uint8_t *b, size_t len, rtp_hdr_t *h, struct vpx_desc *d)
{
    assert_int_equal(rtp_parse(b, len, h), 0);
    if (h->pt == 96)
        return vpx_parse_vp8(b + h->payload_off, h->payload_len, d);
    return vpx_parse_vp9(b + h->payload_off, h->payload_len, d);
}


/* One packet through the track, on a copy; returns the rewrite result, the copy in out. */
static inline int forward(struct vpx_track *t, const struct pkt *p, int64_t now, struct pkt *out,
                   rtp_hdr_t *oh, struct vpx_desc *od)
{
    rtp_hdr_t h;
    struct vpx_desc d;
    *out = *p;
    assert_int_equal(parse(out->b, out->len, &h, &d), 0);
    int rc = vpx_track_rewrite(t, out->b, out->len, &h, &d, now);
    if (rc == 0) {
        assert_int_equal(parse(out->b, out->len, oh, od), 0);
    } else {
        assert_memory_equal(out->b, p->b, p->len);   /* refused: untouched */
    }
    return rc;
}

/* Index of the first packet of capture c with this SSRC at or after i that starts a
 * keyframe (or -1). */
static inline int next_key(const struct capture *c, int i, uint32_t ssrc)
{
    rtp_hdr_t h;
    struct vpx_desc d;
    for (; i < c->n; i++) {
        assert_int_equal(parse(c->p[i].b, c->p[i].len, &h, &d), 0);
        if (h.ssrc == ssrc && d.keyframe)
            return i;
    }
    return -1;
}

static inline uint32_t ssrc_of(const struct pkt *p)
{
    rtp_hdr_t h;
    assert_int_equal(rtp_parse(p->b, p->len, &h), 0);
    return h.ssrc;
}

#endif
