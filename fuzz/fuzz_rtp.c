/* libFuzzer target for media/rtp: parses the input, walks every header extension with
 * the typed readers, then rewrites the header through rtp_write_header and checks the
 * copy parses back to the same fields and extension values. */
#include <stdlib.h>
#include <string.h>

#include "media/rtp.h"

#define MAX_EXT 32

static void check_rewritten(const uint8_t *data, const rtp_hdr_t *h, const rtp_ext_t *ext,
			    size_t n_ext)
{
	static uint8_t out[12 + 60 + 4 + MAX_EXT * 257 + 4];
	uint32_t csrc[15];
	rtp_hdr_t h2;

	for (unsigned i = 0; i < h->cc; i++)
		csrc[i] = rtp_csrc(data, h, i);
	rtp_write_t w = { .marker = h->marker, .pt = h->pt, .seq = h->seq, .ts = h->ts,
			  .ssrc = h->ssrc, .csrc = csrc, .csrc_count = h->cc,
			  .ext = ext, .ext_count = n_ext };
	int len = rtp_write_header(out, sizeof(out), &w);
	if (len < 0)
		abort();
	if (rtp_parse(out, (size_t)len, &h2) != 0)
		abort();
	if (h2.seq != h->seq || h2.ts != h->ts || h2.ssrc != h->ssrc || h2.pt != h->pt ||
	    h2.marker != h->marker || h2.cc != h->cc || h2.payload_len != 0)
		abort();
	for (size_t i = 0; i < n_ext; i++) {
		const uint8_t *d;
		size_t l;
		/* the first element with an id is the one both copies find */
		if (rtp_ext_find(out, &h2, ext[i].id, &d, &l) != 0)
			abort();
		const uint8_t *d0;
		size_t l0;
		if (rtp_ext_find(data, h, ext[i].id, &d0, &l0) != 0 || l != l0 ||
		    (l && memcmp(d, d0, l) != 0))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rtp_hdr_t h;
	rtp_ext_iter_t it;
	rtp_ext_t ext[MAX_EXT];
	size_t n_ext = 0;
	uint8_t id;
	const uint8_t *d;
	size_t l;
	int rc;

	(void)demux_classify(data, size);
	(void)rtp_is_rtcp(data, size);
	if (rtp_parse(data, size, &h) != 0)
		return 0;
	if (h.payload_off + h.payload_len + h.pad_len != size)
		abort();

	rtp_ext_iter_init(&it, data, &h);
	while ((rc = rtp_ext_next(&it, &id, &d, &l)) > 0) {
		if (d < data || d + l > data + size)
			abort();
		if (n_ext < MAX_EXT)
			ext[n_ext++] = (rtp_ext_t){ id, (uint8_t)l, d };
		bool voice;
		uint8_t level;
		uint32_t t24;
		uint16_t seq;
		char s[32];
		(void)rtp_get_audio_level(data, &h, id, &voice, &level);
		(void)rtp_get_abs_send_time(data, &h, id, &t24);
		(void)rtp_get_twcc_seq(data, &h, id, &seq);
		(void)rtp_get_string(data, &h, id, s, sizeof(s));
	}
	if (rc == 0)
		check_rewritten(data, &h, ext, n_ext);

	/* in-place rewriting on a copy must leave it parseable with the new values */
	uint8_t *copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	rtp_set_seq(copy, (uint16_t)(h.seq + 1));
	rtp_set_ts(copy, h.ts + 960);
	rtp_set_ssrc(copy, ~h.ssrc);
	rtp_set_pt(copy, (uint8_t)(h.pt ^ 1));
	if (n_ext)
		(void)rtp_set_twcc_seq(copy, &h, ext[0].id, 0x1234);
	rtp_hdr_t h2;
	if (rtp_parse(copy, size, &h2) != 0 || h2.seq != (uint16_t)(h.seq + 1) ||
	    h2.ssrc != ~h.ssrc || h2.payload_len != h.payload_len)
		abort();
	free(copy);
	return 0;
}
