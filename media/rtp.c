/* RTP header parsing, RFC 8285 extension walking and in-place rewriting, header writing.
 * Every function works on a caller buffer and an rtp_hdr_t of offsets into it, so the
 * forwarder can rewrite a packet where it lies and hand it straight to SRTP. */
#include "media/bytes.h"
#include "media/rtp.h"

#include <string.h>





int rtp_parse(const uint8_t *buf, size_t len, rtp_hdr_t *h)
{
	if (len < RTP_HDR_MIN)
		return RTP_ERR_TRUNCATED;
	if (buf[0] >> 6 != 2)
		return RTP_ERR_VERSION;
	h->padding = buf[0] & 0x20;
	h->has_ext = buf[0] & 0x10;
	h->cc = buf[0] & 0x0F;
	h->marker = buf[1] & 0x80;
	h->pt = buf[1] & 0x7F;
	h->seq = be_rd16(buf + 2);
	h->ts = be_rd32(buf + 4);
	h->ssrc = be_rd32(buf + 8);
	h->csrc_off = RTP_HDR_MIN;

	size_t off = RTP_HDR_MIN + 4u * h->cc;
	if (off > len)
		return RTP_ERR_CSRC;

	h->ext_profile = 0;
	h->ext_off = off;
	h->ext_len = 0;
	if (h->has_ext) {
		if (len - off < 4)
			return RTP_ERR_EXT_HDR;
		h->ext_profile = be_rd16(buf + off);
		size_t words = be_rd16(buf + off + 2);
		off += 4;
		if (len - off < 4 * words)
			return RTP_ERR_EXT_HDR;
		h->ext_off = off;
		h->ext_len = 4 * words;
		off += h->ext_len;
	}

	h->pad_len = 0;
	if (h->padding) {
		/* The count includes itself, so 0 is impossible; it may not eat the header. */
		uint8_t pad = buf[len - 1];
		if (pad == 0 || pad > len - off)
			return RTP_ERR_PADDING;
		h->pad_len = pad;
	}
	h->payload_off = off;
	h->payload_len = len - off - h->pad_len;
	return 0;
}

const char *rtp_strerror(int err)
{
	switch (err) {
	case 0: return "ok";
	case RTP_ERR_TRUNCATED: return "truncated";
	case RTP_ERR_VERSION: return "bad_version";
	case RTP_ERR_CSRC: return "csrc_overflow";
	case RTP_ERR_EXT_HDR: return "bad_extension_length";
	case RTP_ERR_PADDING: return "bad_padding";
	case RTP_ERR_EXT_ELEM: return "bad_extension_element";
	case RTP_ERR_NOT_FOUND: return "extension_not_found";
	case RTP_ERR_EXT_SIZE: return "bad_extension_size";
	case RTP_ERR_NOSPACE: return "no_space";
	case RTP_ERR_ARG: return "bad_argument";
	default: return "unknown_error";
	}
}

uint32_t rtp_csrc(const uint8_t *buf, const rtp_hdr_t *h, unsigned i)
{
	return i < h->cc ? be_rd32(buf + h->csrc_off + 4u * i) : 0;
}

/* ---- extensions ---- */

void rtp_ext_iter_init(rtp_ext_iter_t *it, const uint8_t *buf, const rtp_hdr_t *h)
{
	bool one = h->ext_profile == RTP_EXT_ONE_BYTE;
	bool two = (h->ext_profile & 0xFFF0u) == RTP_EXT_TWO_BYTE;

	it->two_byte = two;
	it->p = buf + h->ext_off;
	it->end = (h->has_ext && (one || two)) ? it->p + h->ext_len : it->p;
}

/* One-byte form: 4-bit id, 4-bit length-minus-one. A zero byte is padding; id 15 (and
 * id 0 with a nonzero length, which is no padding a sender may write) ends the block. */
static int next_one_byte(rtp_ext_iter_t *it, uint8_t *id, const uint8_t **data, size_t *len)
{
	while (it->p < it->end && *it->p == 0)
		it->p++;
	if (it->p == it->end)
		return 0;
	uint8_t b = *it->p;
	if (b >> 4 == 15 || b >> 4 == 0) {
		it->p = it->end;
		return 0;
	}
	size_t l = (size_t)(b & 0x0F) + 1;
	if ((size_t)(it->end - it->p - 1) < l)
		return RTP_ERR_EXT_ELEM;
	*id = b >> 4;
	*data = it->p + 1;
	*len = l;
	it->p += 1 + l;
	return 1;
}

/* Two-byte form: 8-bit id, 8-bit length (0..255). A zero id byte is one byte of padding. */
static int next_two_byte(rtp_ext_iter_t *it, uint8_t *id, const uint8_t **data, size_t *len)
{
	while (it->p < it->end && *it->p == 0)
		it->p++;
	if (it->p == it->end)
		return 0;
	if (it->end - it->p < 2)
		return RTP_ERR_EXT_ELEM;
	size_t l = it->p[1];
	if ((size_t)(it->end - it->p - 2) < l)
		return RTP_ERR_EXT_ELEM;
	*id = it->p[0];
	*data = it->p + 2;
	*len = l;
	it->p += 2 + l;
	return 1;
}

int rtp_ext_next(rtp_ext_iter_t *it, uint8_t *id, const uint8_t **data, size_t *len)
{
	int rc = it->two_byte ? next_two_byte(it, id, data, len)
			      : next_one_byte(it, id, data, len);
	if (rc < 0)
		it->p = it->end; /* a broken block stays broken: no half-walks after an error */
	return rc;
}

int rtp_ext_find(const uint8_t *buf, const rtp_hdr_t *h, uint8_t id, const uint8_t **data,
		 size_t *len)
{
	rtp_ext_iter_t it;
	uint8_t eid;
	int rc;

	if (id == 0)
		return RTP_ERR_NOT_FOUND;
	rtp_ext_iter_init(&it, buf, h);
	while ((rc = rtp_ext_next(&it, &eid, data, len)) > 0)
		if (eid == id)
			return 0;
	return rc < 0 ? rc : RTP_ERR_NOT_FOUND;
}

int rtp_ext_rewrite(uint8_t *buf, const rtp_hdr_t *h, uint8_t id, const uint8_t *data,
		    size_t len)
{
	const uint8_t *at;
	size_t cur;
	int rc = rtp_ext_find(buf, h, id, &at, &cur);

	if (rc < 0)
		return rc;
	if (cur != len)
		return RTP_ERR_EXT_SIZE;
	/* at points into buf, which the caller gave us writable. */
	memmove(buf + (at - buf), data, len);
	return 0;
}

int rtp_get_audio_level(const uint8_t *buf, const rtp_hdr_t *h, uint8_t id, bool *voice,
			uint8_t *level)
{
	const uint8_t *d;
	size_t n;
	int rc = rtp_ext_find(buf, h, id, &d, &n);

	if (rc < 0)
		return rc;
	/* RFC 6464 defines one byte; the two-byte form may pad it, so only require >= 1. */
	if (n < 1)
		return RTP_ERR_EXT_SIZE;
	*voice = d[0] & 0x80;
	*level = d[0] & 0x7F;
	return 0;
}

int rtp_get_abs_send_time(const uint8_t *buf, const rtp_hdr_t *h, uint8_t id, uint32_t *t24)
{
	const uint8_t *d;
	size_t n;
	int rc = rtp_ext_find(buf, h, id, &d, &n);

	if (rc < 0)
		return rc;
	if (n != 3)
		return RTP_ERR_EXT_SIZE;
	*t24 = (uint32_t)d[0] << 16 | (uint32_t)d[1] << 8 | d[2];
	return 0;
}

int rtp_get_twcc_seq(const uint8_t *buf, const rtp_hdr_t *h, uint8_t id, uint16_t *seq)
{
	const uint8_t *d;
	size_t n;
	int rc = rtp_ext_find(buf, h, id, &d, &n);

	if (rc < 0)
		return rc;
	if (n != 2)
		return RTP_ERR_EXT_SIZE;
	*seq = be_rd16(d);
	return 0;
}

int rtp_get_string(const uint8_t *buf, const rtp_hdr_t *h, uint8_t id, char *out, size_t cap)
{
	const uint8_t *d;
	size_t n;
	int rc = rtp_ext_find(buf, h, id, &d, &n);

	if (rc < 0)
		return rc;
	if (n == 0 || memchr(d, 0, n))
		return RTP_ERR_EXT_SIZE;
	if (n >= cap)
		return RTP_ERR_NOSPACE;
	memcpy(out, d, n);
	out[n] = '\0';
	return 0;
}

int rtp_set_twcc_seq(uint8_t *buf, const rtp_hdr_t *h, uint8_t id, uint16_t seq)
{
	uint8_t v[2];

	be_wr16(v, seq);
	return rtp_ext_rewrite(buf, h, id, v, sizeof(v));
}

int rtp_set_abs_send_time(uint8_t *buf, const rtp_hdr_t *h, uint8_t id, uint32_t t24)
{
	uint8_t v[3] = { (uint8_t)(t24 >> 16), (uint8_t)(t24 >> 8), (uint8_t)t24 };

	return rtp_ext_rewrite(buf, h, id, v, sizeof(v));
}

/* ---- writing ---- */

static bool fits_one_byte(const rtp_ext_t *e)
{
	return e->id >= 1 && e->id <= 14 && e->len >= 1 && e->len <= 16;
}

/* Bytes of extension elements (before padding to 32 bits), or RTP_ERR_ARG. */
static int ext_elems_size(const rtp_write_t *w, bool *two_byte)
{
	size_t n = 0;

	*two_byte = false;
	for (size_t i = 0; i < w->ext_count; i++) {
		if (w->ext[i].id == 0 || (w->ext[i].len && !w->ext[i].data))
			return RTP_ERR_ARG;
		if (!fits_one_byte(&w->ext[i]))
			*two_byte = true;
	}
	for (size_t i = 0; i < w->ext_count; i++)
		n += (*two_byte ? 2u : 1u) + w->ext[i].len;
	/* 16-bit word count in the extension header */
	if (n > 4u * 0xFFFF)
		return RTP_ERR_ARG;
	return (int)n;
}

static void write_ext_elems(uint8_t *p, const rtp_write_t *w, bool two_byte)
{
	for (size_t i = 0; i < w->ext_count; i++) {
		const rtp_ext_t *e = &w->ext[i];
		if (two_byte) {
			*p++ = e->id;
			*p++ = e->len;
		} else {
			*p++ = (uint8_t)(e->id << 4 | (e->len - 1));
		}
		if (e->len)
			memcpy(p, e->data, e->len);
		p += e->len;
	}
}

int rtp_write_header(uint8_t *buf, size_t cap, const rtp_write_t *w)
{
	bool two_byte = false;
	int elems = 0;

	if (w->pt > 127 || w->csrc_count > 15 || (w->csrc_count && !w->csrc))
		return RTP_ERR_ARG;
	if (w->ext_count) {
		if (!w->ext)
			return RTP_ERR_ARG;
		elems = ext_elems_size(w, &two_byte);
		if (elems < 0)
			return elems;
	}
	size_t ext_words = ((size_t)elems + 3) / 4;
	size_t total = RTP_HDR_MIN + 4u * w->csrc_count + (w->ext_count ? 4 + 4 * ext_words : 0);
	if (total > cap)
		return RTP_ERR_NOSPACE;

	buf[0] = (uint8_t)(0x80 | (w->ext_count ? 0x10 : 0) | w->csrc_count);
	buf[1] = (uint8_t)((w->marker ? 0x80 : 0) | w->pt);
	be_wr16(buf + 2, w->seq);
	be_wr32(buf + 4, w->ts);
	be_wr32(buf + 8, w->ssrc);
	uint8_t *p = buf + RTP_HDR_MIN;
	for (unsigned i = 0; i < w->csrc_count; i++, p += 4)
		be_wr32(p, w->csrc[i]);
	if (w->ext_count) {
		be_wr16(p, two_byte ? RTP_EXT_TWO_BYTE : RTP_EXT_ONE_BYTE);
		be_wr16(p + 2, (uint16_t)ext_words);
		p += 4;
		memset(p, 0, 4 * ext_words);
		write_ext_elems(p, w, two_byte);
	}
	return (int)total;
}
