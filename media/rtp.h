/* RTP packets (RFC 3550) and their header extensions (RFC 8285) as pure functions over
 * byte buffers: parse into offsets, find and rewrite extensions in place, write headers.
 * Nothing here allocates or keeps state; the forwarder and mixer call it once per packet.
 * Also the RFC 7983 first-byte demultiplexer for the shared media socket. */
#ifndef MEDIA_RTP_H
#define MEDIA_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTP_HDR_MIN      12      /* fixed header, no CSRC, no extension */
#define RTP_EXT_ONE_BYTE 0xBEDEu /* RFC 8285 4.2 profile */
#define RTP_EXT_TWO_BYTE 0x1000u /* RFC 8285 4.3 profile; low 4 bits are "appbits" */

enum rtp_err {
	RTP_ERR_TRUNCATED = -1,  /* shorter than the fixed header */
	RTP_ERR_VERSION = -2,    /* version is not 2 */
	RTP_ERR_CSRC = -3,       /* CSRC list runs past the end */
	RTP_ERR_EXT_HDR = -4,    /* extension header or block runs past the end */
	RTP_ERR_PADDING = -5,    /* padding count is 0 or larger than the payload */
	RTP_ERR_EXT_ELEM = -6,   /* an extension element runs past its block */
	RTP_ERR_NOT_FOUND = -7,  /* no extension with that id (or no RFC 8285 block) */
	RTP_ERR_EXT_SIZE = -8,   /* extension value has the wrong size for its kind */
	RTP_ERR_NOSPACE = -9,    /* caller buffer too small */
	RTP_ERR_ARG = -10,       /* invalid argument (id out of range, too many CSRCs...) */
};

/* A parsed header. Offsets index into the buffer given to rtp_parse; the struct is only
 * meaningful together with that buffer. */
typedef struct rtp_hdr {
	bool marker;
	bool padding;          /* P bit */
	bool has_ext;          /* X bit */
	uint8_t cc;            /* CSRC count */
	uint8_t pt;            /* payload type, marker masked off */
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	uint16_t ext_profile;  /* "defined by profile" word; 0 when has_ext is false */
	size_t csrc_off;       /* offset of the CSRC list (always 12) */
	size_t ext_off;        /* offset of the extension elements, past the 4-byte header */
	size_t ext_len;        /* bytes of extension elements (a multiple of 4) */
	size_t payload_off;    /* offset of the payload */
	size_t payload_len;    /* payload bytes, padding excluded */
	uint8_t pad_len;       /* padding bytes at the end (incl. the count byte), 0 if none */
} rtp_hdr_t;

/* Parses the fixed header, CSRCs, the extension block bounds and padding of the packet in
 * buf[0..len). Does not walk extension elements (rtp_ext_next does, lazily).
 * Returns 0 or a negative rtp_err; *h is undefined on error. */
int rtp_parse(const uint8_t *buf, size_t len, rtp_hdr_t *h);

/* Static snake_case name of an rtp_err code ("truncated", "bad_version"...). */
const char *rtp_strerror(int err);

/* CSRC number i (< h->cc) of a parsed packet. */
uint32_t rtp_csrc(const uint8_t *buf, const rtp_hdr_t *h, unsigned i);

/* ---- header extensions (RFC 8285) ---- */

/* Walks the elements of a one-byte or two-byte extension block. */
typedef struct rtp_ext_iter {
	const uint8_t *p;   /* next element */
	const uint8_t *end; /* end of the block */
	bool two_byte;
} rtp_ext_iter_t;

/* Starts a walk. A block with another profile (or no block) yields nothing. */
void rtp_ext_iter_init(rtp_ext_iter_t *it, const uint8_t *buf, const rtp_hdr_t *h);

/* Yields the next element: 1 with *id, *data (into buf) and *len set, 0 at the end of
 * the block (or at one-byte id 15), RTP_ERR_EXT_ELEM if an element overruns the block. */
int rtp_ext_next(rtp_ext_iter_t *it, uint8_t *id, const uint8_t **data, size_t *len);

/* Finds the first element with this id (1..14 one-byte, 1..255 two-byte).
 * Returns 0 with *data and *len pointing into buf, RTP_ERR_NOT_FOUND, or RTP_ERR_EXT_ELEM. */
int rtp_ext_find(const uint8_t *buf, const rtp_hdr_t *h, uint8_t id, const uint8_t **data,
		 size_t *len);

/* Overwrites the value of an existing element with len bytes of data, in place; len must
 * equal the element's current length, so no byte moves (the SRTP layer protects later).
 * Returns 0, RTP_ERR_NOT_FOUND, RTP_ERR_EXT_SIZE or RTP_ERR_EXT_ELEM. */
int rtp_ext_rewrite(uint8_t *buf, const rtp_hdr_t *h, uint8_t id, const uint8_t *data,
		    size_t len);

/* Typed readers for the extensions the media engine negotiates; id is the one the SDP
 * gave it. Each returns 0, or the rtp_ext_find error, or RTP_ERR_EXT_SIZE. */
int rtp_get_audio_level(const uint8_t *buf, const rtp_hdr_t *h, uint8_t id, bool *voice,
			uint8_t *level);                  /* RFC 6464: level in -dBov, 0..127 */
int rtp_get_abs_send_time(const uint8_t *buf, const rtp_hdr_t *h, uint8_t id,
			  uint32_t *t24);                 /* 6.18 fixed-point seconds */
int rtp_get_twcc_seq(const uint8_t *buf, const rtp_hdr_t *h, uint8_t id, uint16_t *seq);
/* mid, rid, repaired-rid: copies the value NUL-terminated into out[cap]; RTP_ERR_NOSPACE
 * if it does not fit, RTP_ERR_EXT_SIZE if empty or holding a NUL byte. */
int rtp_get_string(const uint8_t *buf, const rtp_hdr_t *h, uint8_t id, char *out,
		   size_t cap);

/* In-place rewriters of existing elements (see rtp_ext_rewrite). */
int rtp_set_twcc_seq(uint8_t *buf, const rtp_hdr_t *h, uint8_t id, uint16_t seq);
int rtp_set_abs_send_time(uint8_t *buf, const rtp_hdr_t *h, uint8_t id, uint32_t t24);

/* Encoders of extension values, for rtp_ext_t.data. */
static inline uint8_t rtp_audio_level_byte(bool voice, uint8_t level)
{
	return (uint8_t)((voice ? 0x80 : 0) | (level > 127 ? 127 : level));
}

/* abs-send-time from a microsecond clock: seconds in 6.18 fixed point, wrapping at 64 s. */
static inline uint32_t rtp_abs_send_time_from_us(uint64_t us)
{
	return (uint32_t)(((us << 18) / 1000000u) & 0xFFFFFFu);
}

/* ---- writing ---- */

/* One extension element to write. */
typedef struct rtp_ext {
	uint8_t id;          /* 1..14 for the one-byte form; 1..255 forces the two-byte form */
	uint8_t len;         /* 1..16 for the one-byte form; 0 or >16 forces the two-byte form */
	const uint8_t *data; /* len bytes, not kept */
} rtp_ext_t;

/* What rtp_write_header writes. */
typedef struct rtp_write {
	bool marker;
	uint8_t pt;              /* 0..127 */
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	const uint32_t *csrc;    /* csrc_count entries, may be NULL if 0 */
	uint8_t csrc_count;      /* 0..15 */
	const rtp_ext_t *ext;    /* ext_count elements, may be NULL if 0 */
	size_t ext_count;
} rtp_write_t;

/* Writes the header (no padding bit) into buf[0..cap). The extensions go in the one-byte
 * form when every element allows it, else in the two-byte form; the block is zero-padded
 * to 32 bits. Returns the header length (= payload offset), RTP_ERR_NOSPACE or RTP_ERR_ARG. */
int rtp_write_header(uint8_t *buf, size_t cap, const rtp_write_t *w);

/* In-place rewriters for the forwarder. buf must hold a packet rtp_parse accepted. */
static inline void rtp_set_seq(uint8_t *buf, uint16_t seq)
{
	buf[2] = (uint8_t)(seq >> 8);
	buf[3] = (uint8_t)seq;
}

static inline void rtp_set_ts(uint8_t *buf, uint32_t ts)
{
	buf[4] = (uint8_t)(ts >> 24);
	buf[5] = (uint8_t)(ts >> 16);
	buf[6] = (uint8_t)(ts >> 8);
	buf[7] = (uint8_t)ts;
}

static inline void rtp_set_ssrc(uint8_t *buf, uint32_t ssrc)
{
	buf[8] = (uint8_t)(ssrc >> 24);
	buf[9] = (uint8_t)(ssrc >> 16);
	buf[10] = (uint8_t)(ssrc >> 8);
	buf[11] = (uint8_t)ssrc;
}

/* Keeps the marker bit. */
static inline void rtp_set_pt(uint8_t *buf, uint8_t pt)
{
	buf[1] = (uint8_t)((buf[1] & 0x80) | (pt & 0x7F));
}

static inline void rtp_set_marker(uint8_t *buf, bool marker)
{
	buf[1] = (uint8_t)((buf[1] & 0x7F) | (marker ? 0x80 : 0));
}

/* ---- RFC 7983 / RFC 5761 demultiplexing ---- */

/* With rtcp-mux, RTCP packet types 192..223 sit where RTP would carry marker + PT 64..95,
 * a PT range RFC 5761 forbids for RTP; so the second byte tells them apart. */
static inline bool rtp_is_rtcp(const uint8_t *b, size_t n)
{
	return n >= 2 && b[1] >= 192 && b[1] <= 223;
}

typedef enum demux_kind {
	DEMUX_UNKNOWN = 0,
	DEMUX_STUN,     /* first byte 0..3 */
	DEMUX_DTLS,     /* 20..63 */
	DEMUX_RTP,      /* 128..191: RTP or RTCP, split with rtp_is_rtcp */
} demux_kind_t;

/* Classifies a datagram arriving on the bundled media socket by its first byte. */
static inline demux_kind_t demux_classify(const uint8_t *b, size_t n)
{
	if (n == 0)
		return DEMUX_UNKNOWN;
	if (b[0] <= 3)
		return DEMUX_STUN;
	if (b[0] >= 20 && b[0] <= 63)
		return DEMUX_DTLS;
	if (b[0] >= 128 && b[0] <= 191)
		return DEMUX_RTP;
	return DEMUX_UNKNOWN;
}

#endif
