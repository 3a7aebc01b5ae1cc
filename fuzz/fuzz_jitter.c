/* libFuzzer target for media/jitter: the input is a script of puts (sequence and timestamp
 * steps, sizes), gets and clock steps. After every step the buffer's invariants must hold;
 * every frame handed out must be a packet that was put (its payload names its sequence
 * number and timestamp) and, within one timeline, frames must come out in timestamp order
 * (checked on the script's own unwrapped 64-bit timestamps, also carried in the payload). */
#include <stdlib.h>
#include <string.h>

#include "media/jitter.h"

#define MS 1000000LL

struct script {
    const uint8_t *p;
    size_t left;
};

static uint8_t next(struct script *s)
{
    if (!s->left)
        return 0;
    s->left--;
    return *s->p++;
}

/* Checks the payload against the frame's fields; returns the unwrapped timestamp. */
static int64_t check_frame(const struct jb_frame *f)
{
    if (!f->data || f->len < 14 || f->len > JB_MAX_PAYLOAD)
        abort();
    uint16_t seq = (uint16_t)(f->data[0] << 8 | f->data[1]);
    uint32_t ts = (uint32_t)f->data[2] << 24 | (uint32_t)f->data[3] << 16 |
                  (uint32_t)f->data[4] << 8 | f->data[5];
    if (seq != f->seq || ts != f->ts || f->tag != (seq & 0x7f))
        abort();
    int64_t vts;
    memcpy(&vts, f->data + 6, sizeof(vts));
    if ((uint32_t)vts != ts)
        abort();
    return vts;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct script s = { data, size };
    int min_ms = next(&s) % 200;
    struct jb_cfg cfg = { .min_ms = min_ms, .max_ms = min_ms + next(&s) % 300 * 2,
                          .frame_ms = 20, .clock_hz = 48000 };
    struct jb *jb = jb_new(&cfg);
    if (!jb)
        abort();
    uint16_t seq = (uint16_t)(next(&s) << 8 | next(&s));
    int64_t ts = (int64_t)((uint32_t)next(&s) << 24 | (uint32_t)next(&s) << 8);
    int64_t now = 0;
    uint64_t resets = 0, accepted = 0, out_frames = 0;
    bool have_last = false;
    int64_t last_ts = 0;
    uint8_t pkt[JB_MAX_PAYLOAD + 8];

    while (s.left) {
        uint8_t op = next(&s);
        switch (op & 3) {
        case 0:
        case 1: { /* put */
            int8_t dseq = (int8_t)next(&s), dfr = (int8_t)next(&s);
            uint8_t b = next(&s);
            seq = (uint16_t)(seq + dseq);
            ts += dfr * 960 + (op & 0x80 ? (b & 7) * 97 : 0);
            if (op & 0x40) /* a wild jump */
                ts += (int64_t)b << 20;
            size_t len = b == 255 ? JB_MAX_PAYLOAD + 1 : 14 + b % 64u;
            memset(pkt, 0xEE, len);
            pkt[0] = (uint8_t)(seq >> 8), pkt[1] = (uint8_t)seq;
            pkt[2] = (uint8_t)(ts >> 24), pkt[3] = (uint8_t)(ts >> 16);
            pkt[4] = (uint8_t)(ts >> 8), pkt[5] = (uint8_t)ts;
            memcpy(pkt + 6, &ts, sizeof(ts));
            int rc = jb_put(jb, seq, (uint32_t)ts, pkt, len, seq & 0x7f, now);
            if (rc == 0)
                accepted++;
            else if (rc != JB_ERR_LATE && rc != JB_ERR_DUPLICATE && rc != JB_ERR_TOO_BIG)
                abort();
            if ((rc == JB_ERR_TOO_BIG) != (len > JB_MAX_PAYLOAD))
                abort();
            break;
        }
        case 2: { /* get, one tick */
            struct jb_frame f;
            enum jb_kind k = jb_get(jb, now, &f);
            if (k != f.kind)
                abort();
            struct jb_stats st;
            jb_get_stats(jb, &st);
            if (st.resets != resets) { /* a new timeline may start anywhere */
                resets = st.resets;
                have_last = false;
            }
            int64_t vts = 0;
            if (k == JB_FRAME || k == JB_FEC) {
                vts = check_frame(&f);
                if (have_last && vts <= last_ts)
                    abort();
            }
            if (k == JB_FRAME) {
                have_last = true;
                last_ts = vts;
                out_frames++;
            }
            if ((k == JB_EMPTY || k == JB_PLC) && (f.data || f.len))
                abort();
            now += 20 * MS;
            break;
        }
        case 3: /* the clock moves without a tick */
            now += (int64_t)(op >> 2) * (op & 0x80 ? 50 * MS : MS);
            break;
        }
        if (!jb_check(jb))
            abort();
        /* whole frames: min_ms rounds up, max_ms down but never below that */
        int t = jb_target_ms(jb), lo = cfg.min_ms ? (cfg.min_ms + 19) / 20 * 20 : 20;
        if (t < cfg.min_ms || t > (cfg.max_ms < lo ? lo : cfg.max_ms) ||
            t % 20 || jb_depth_ms(jb) < 0)
            abort();
    }
    if (out_frames > accepted)
        abort();
    jb_free(jb);
    return 0;
}
