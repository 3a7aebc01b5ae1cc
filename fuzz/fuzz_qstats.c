/* libFuzzer target for media/qstats: the input is a script of packet facts (RTP sequence
 * numbers, timestamps and arrival times over a few SSRCs, datagram sizes) and RTCP compounds,
 * with intervals taken in between. Checks that the counts stay consistent: every received
 * packet is accounted for, jitter is finite and non-negative, a round trip is never negative. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "media/qstats.h"

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void check(struct qstats *q, uint64_t *exp_total, int64_t *lost_total)
{
    struct qstats_interval qi;
    qstats_interval(q, &qi);
    if (qi.jitter_ms != -1 && (!isfinite(qi.jitter_ms) || qi.jitter_ms < 0))
        abort();
    if (qi.rtt_ms < -1)
        abort();
    *exp_total += qi.expected;
    *lost_total += qi.lost;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qstats q;
    memset(&q, 0, sizeof q);
    uint64_t exp_total = 0;
    int64_t lost_total = 0;
    int64_t now = 1000000000;
    while (size >= 1) {
        uint8_t op = data[0];
        data++, size--;
        if (op < 0xC0 && size >= 8) { /* an RTP packet: ssrc index, seq, ts, arrival step */
            uint32_t ssrc = 1000 + (op & 7);
            uint16_t seq = (uint16_t)(data[0] << 8 | data[1]);
            uint32_t ts = rd32(data + 2);
            now += (int64_t)(data[6] << 8 | data[7]) * 100000;
            qstats_rtp(&q, ssrc, seq, ts, (op & 8) ? 48000 : 0, now);
            qstats_received(&q, 100);
            data += 8, size -= 8;
        } else if (op < 0xF0 && size >= 2) { /* an RTCP compound of the next n bytes */
            size_t n = (size_t)(data[0] << 8 | data[1]) % 1500;
            data += 2, size -= 2;
            if (n > size)
                n = size;
            qstats_rtcp(&q, data, n, 0x5555, rd32((const uint8_t *)"\x12\x34\x56\x78"));
            data += n, size -= n;
        } else {
            check(&q, &exp_total, &lost_total);
        }
    }
    check(&q, &exp_total, &lost_total);
    if (q.bytes_in != q.pkts_in * 100)
        abort();
    return 0;
}
