/* libFuzzer target for the recorder's depacketizer (media/rec_depack.c, which runs
 * media/rec_vp9.c on every VP9 superframe). The input is a list of packets, each
 *   [flags] [seq delta] [len hi] [len lo] [len payload bytes]
 * flags: bit 0 VP9 (else VP8), bit 1 RTP marker, bits 2-3 timestamp step (same, +3000,
 * -3000, +2^31), bits 4-7 clock advance in 20 ms steps. The harness writes the RTP header so
 * the fuzzer spends its time in descriptors and frame data. Frames are popped after every
 * push and flushed at the end; each one is checked: not empty, and a superframe index that
 * adds up whenever it holds several layer frames. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "media/rec_depack.h"

static struct rec_depack g_d;   /* 1.5 MB: static, reset per input */

static void check(const struct rec_dp_frame *f)
{
    if (f->len == 0 || f->len > sizeof(g_d.out))
        __builtin_trap();
    if (f->layers <= 1)
        return;
    uint8_t m = f->data[f->len - 1];
    size_t n = (m & 7) + 1u, mag = ((m >> 3) & 3) + 1u, idx = 2 + n * mag, sum = 0;
    if ((m & 0xE0) != 0xC0 || n != f->layers || f->len < idx || f->data[f->len - idx] != m)
        __builtin_trap();
    for (size_t i = 0; i < n; i++)
        for (size_t b = 0; b < mag; b++)
            sum += (size_t)f->data[f->len - idx + 1 + i * mag + b] << (8 * b);
    if (sum != f->len - idx)
        __builtin_trap();
}

static void drain(int64_t t, bool flush)
{
    struct rec_dp_frame f;
    while (rec_depack_pop(&g_d, t, flush, &f) == 1)
        check(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t steps[4] = { 0, 3000, (uint32_t)-3000, 0x80000000u };
    uint8_t pkt[12 + 2048];
    uint16_t seq = 1000;
    uint32_t ts = 0;
    int64_t t = 0;

    rec_depack_init(&g_d, 50);
    while (size >= 4) {
        uint8_t fl = data[0];
        size_t len = (size_t)(data[2] << 8 | data[3]) % 2048;
        seq = (uint16_t)(seq + (int8_t)data[1]);
        data += 4, size -= 4;
        if (len > size)
            len = size;
        ts += steps[(fl >> 2) & 3];
        t += 20 * (fl >> 4);
        memset(pkt, 0, 12);
        pkt[0] = 0x80;
        pkt[1] = (uint8_t)((fl & 2 ? 0x80 : 0) | 96);
        pkt[2] = (uint8_t)(seq >> 8), pkt[3] = (uint8_t)seq;
        pkt[4] = (uint8_t)(ts >> 24), pkt[5] = (uint8_t)(ts >> 16);
        pkt[6] = (uint8_t)(ts >> 8), pkt[7] = (uint8_t)ts;
        memcpy(pkt + 12, data, len);
        rec_depack_push(&g_d, fl & 1 ? VPX_VP9 : VPX_VP8, pkt, 12 + len, t);
        drain(t, false);
        data += len, size -= len;
    }
    drain(t + 1000, true);
    return 0;
}
