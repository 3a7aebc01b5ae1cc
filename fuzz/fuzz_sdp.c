/* libFuzzer target for media/sdp: parse arbitrary text as an offer; whenever it is one we
 * would answer, build the answer (also into a too-small buffer) and require that our own
 * answer parses and validates again, with the same m-sections. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/sdp.h"

static sdp_offer_t offer, answer;
static char out[65536];

static void fill_params(sdp_answer_params_t *p)
{
    static const sdp_candidate_t cands[2] = { { "192.0.2.1", 10000 }, { "2001:db8::1", 10000 } };
    memset(p, 0, sizeof *p);
    p->ice_ufrag = "fuzz";
    p->ice_pwd = "0123456789abcdefghijklmn";
    p->fingerprint = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                     "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";
    p->candidates = cands;
    p->n_candidates = 2;
    p->session_id = 1;
    p->session_version = 1;
    p->codecs = SDP_CODEC_OPUS | SDP_CODEC_VP8 | SDP_CODEC_VP9;
    p->cname = "fuzz";
    for (int i = 0; i < SDP_MAX_MSECTIONS; i++)
        p->send[i] = (sdp_send_t){ 100u + (uint32_t)i, 200u + (uint32_t)i, "s", "t" };
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (sdp_parse_offer(text, size, &offer) == 0) {
        sdp_answer_params_t p;
        sdp_choice_t ch;
        fill_params(&p);
        p.prefer_vp9 = size & 1;
        int len = sdp_build_answer_ex(&offer, &p, out, sizeof out, &ch);
        if (len >= 0) {
            if (sdp_parse_offer(out, (size_t)len, &answer) != 0 || answer.n_m != offer.n_m)
                abort(); /* our own answer must always be acceptable SDP */
            for (unsigned i = 0; i < offer.n_m; i++)
                if (strcmp(answer.m[i].mid, offer.m[i].mid) != 0 ||
                    (answer.m[i].port != 0) != ch.m[i].accepted)
                    abort();
            size_t small = (size_t)len / 2 + 1;
            char *buf = malloc(small);
            if (buf && sdp_build_answer(&offer, &p, buf, small) != SDP_ERR_SPACE)
                abort();
            free(buf);
        } else if (len != SDP_ERR_NO_OPUS && len != SDP_ERR_SPACE) {
            abort(); /* parameters are valid; a valid offer can only lack usable audio */
        }
    }
    free(text);
    return 0;
}
