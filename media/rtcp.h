/* RTCP (RFC 3550, 4585, 5104, REMB, transport-wide-cc-01) as pure functions over byte
 * buffers: a compound iterator that validates every length and yields typed views into the
 * buffer, decoders for the variable parts (report blocks, SDES items, NACK lists, TWCC
 * statuses), and builders that write one packet into a caller buffer.
 * Implemented in rtcp.c (framing, SR/RR/SDES/BYE, NTP), rtcp_fb.c (NACK, PLI, FIR, REMB)
 * and rtcp_twcc.c (transport-cc). */
#ifndef MEDIA_RTCP_H
#define MEDIA_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rtcp_pt {
	RTCP_PT_SR = 200,
	RTCP_PT_RR = 201,
	RTCP_PT_SDES = 202,
	RTCP_PT_BYE = 203,
	RTCP_PT_APP = 204,
	RTCP_PT_RTPFB = 205, /* transport-layer feedback, RFC 4585 */
	RTCP_PT_PSFB = 206,  /* payload-specific feedback, RFC 4585 */
	RTCP_PT_XR = 207,
};

enum rtcp_fmt {
	RTCP_FMT_NACK = 1,  /* RTPFB */
	RTCP_FMT_TWCC = 15, /* RTPFB */
	RTCP_FMT_PLI = 1,   /* PSFB */
	RTCP_FMT_FIR = 4,   /* PSFB */
	RTCP_FMT_AFB = 15,  /* PSFB application layer feedback, REMB among them */
};

enum rtcp_err {
	RTCP_ERR_TRUNCATED = -1,  /* less than a common header left, or empty compound */
	RTCP_ERR_VERSION = -2,    /* version is not 2 */
	RTCP_ERR_LENGTH = -3,     /* length field points past the end of the buffer */
	RTCP_ERR_PADDING = -4,    /* padding count 0 or larger than the packet body */
	RTCP_ERR_SHORT = -5,      /* body too short for the fixed fields or the RC/SC count */
	RTCP_ERR_SDES = -6,       /* SDES chunk or item runs past the packet */
	RTCP_ERR_BYE = -7,        /* BYE reason runs past the packet */
	RTCP_ERR_FCI = -8,        /* feedback FCI empty or not a whole number of entries */
	RTCP_ERR_REMB = -9,       /* REMB length disagrees with its SSRC count */
	RTCP_ERR_TWCC = -10,      /* transport-cc chunks or deltas do not fit the packet */
	RTCP_ERR_TWCC_SYMBOL = -11, /* transport-cc reserved status symbol */
	RTCP_ERR_NOSPACE = -12,   /* caller buffer or array too small */
	RTCP_ERR_ARG = -13,       /* invalid argument to a builder */
	RTCP_ERR_RANGE = -14,     /* transport-cc delta does not fit 16 bits: split the feedback */
};

/* Static snake_case name of an rtcp_err code. */
const char *rtcp_strerror(int err);

/* ---- typed views (pointers into the parsed buffer) ---- */

typedef enum rtcp_kind {
	RTCP_SR,
	RTCP_RR,
	RTCP_SDES,
	RTCP_BYE,
	RTCP_NACK,  /* RTPFB FMT 1 */
	RTCP_TWCC,  /* RTPFB FMT 15 */
	RTCP_PLI,   /* PSFB FMT 1 */
	RTCP_FIR,   /* PSFB FMT 4 */
	RTCP_REMB,  /* PSFB FMT 15 with "REMB" */
	RTCP_OTHER_FB, /* another RTPFB/PSFB: only the fb header is decoded */
	RTCP_OTHER, /* APP, XR or an unknown type: only pt/count/body are set */
} rtcp_kind_t;

typedef struct rtcp_sender_info {
	uint32_t ssrc;
	uint64_t ntp;          /* NTP timestamp, 32.32 fixed-point seconds since 1900 */
	uint32_t rtp_ts;
	uint32_t packet_count;
	uint32_t octet_count;
} rtcp_sender_info_t;

/* One report block (RFC 3550 6.4.1). */
typedef struct rtcp_rb {
	uint32_t ssrc;
	uint8_t fraction_lost; /* fixed point /256 */
	int32_t cum_lost;      /* 24-bit signed on the wire; builders clamp */
	uint32_t ext_high_seq;
	uint32_t jitter;       /* RTP timestamp units */
	uint32_t lsr;          /* middle 32 bits of the last SR's NTP time, 0 if none */
	uint32_t dlsr;         /* 1/65536 s since that SR */
} rtcp_rb_t;

typedef struct rtcp_sr {
	rtcp_sender_info_t info;
	const uint8_t *blocks;  /* block_count raw 24-byte report blocks */
	unsigned block_count;
} rtcp_sr_t;

typedef struct rtcp_rr {
	uint32_t ssrc;
	const uint8_t *blocks;
	unsigned block_count;
} rtcp_rr_t;

typedef struct rtcp_sdes {
	const uint8_t *chunks;  /* chunk_count chunks, already validated */
	size_t len;
	unsigned chunk_count;
} rtcp_sdes_t;

typedef struct rtcp_bye {
	const uint8_t *ssrcs;   /* count big-endian SSRCs: read with rtcp_ssrc_at */
	unsigned count;
	const uint8_t *reason;  /* not NUL-terminated; NULL if absent */
	size_t reason_len;
} rtcp_bye_t;

/* Common header of RTPFB/PSFB packets (RFC 4585 6.1). */
typedef struct rtcp_fb {
	uint32_t sender_ssrc;
	uint32_t media_ssrc;
	const uint8_t *fci;
	size_t fci_len;
} rtcp_fb_t;

typedef struct rtcp_nack {
	rtcp_fb_t fb;
	unsigned item_count;    /* PID/BLP pairs in fb.fci */
} rtcp_nack_t;

typedef struct rtcp_fir_entry {
	uint32_t ssrc;
	uint8_t seq;
} rtcp_fir_entry_t;

typedef struct rtcp_fir {
	rtcp_fb_t fb;
	unsigned item_count;    /* 8-byte FCI entries in fb.fci */
} rtcp_fir_t;

typedef struct rtcp_remb {
	rtcp_fb_t fb;
	uint64_t bitrate;       /* bits per second, saturated at UINT64_MAX */
	const uint8_t *ssrcs;   /* ssrc_count SSRCs, read with rtcp_ssrc_at */
	unsigned ssrc_count;
} rtcp_remb_t;

typedef struct rtcp_twcc {
	rtcp_fb_t fb;
	uint16_t base_seq;
	uint16_t status_count;
	int32_t ref_time;       /* signed 24 bits, units of 64 ms */
	uint8_t fb_count;
	const uint8_t *chunks;  /* packet chunks then receive deltas */
	size_t chunks_len;
} rtcp_twcc_t;

/* One packet of a compound. All pointers reference the buffer being iterated. */
typedef struct rtcp_pkt {
	rtcp_kind_t kind;
	uint8_t pt;
	uint8_t count;          /* the 5-bit RC, SC or FMT field */
	const uint8_t *body;    /* past the 4-byte common header */
	size_t body_len;        /* padding excluded */
	union {
		rtcp_sr_t sr;
		rtcp_rr_t rr;
		rtcp_sdes_t sdes;
		rtcp_bye_t bye;
		rtcp_fb_t fb;   /* PLI and RTCP_OTHER_FB */
		rtcp_nack_t nack;
		rtcp_fir_t fir;
		rtcp_remb_t remb;
		rtcp_twcc_t twcc;
	};
} rtcp_pkt_t;

/* ---- compound parsing ---- */

typedef struct rtcp_iter {
	const uint8_t *p;
	const uint8_t *end;
} rtcp_iter_t;

void rtcp_iter_init(rtcp_iter_t *it, const uint8_t *buf, size_t len);

/* Yields the next packet: 1 with *pkt filled, 0 at the end, or a negative rtcp_err, after
 * which the iterator stays at the end. A compound may begin with any type (rtcp-rsize).
 * Packets already yielded are not retracted by a later error: callers that must treat
 * the compound as a whole use rtcp_parse_compound. */
int rtcp_iter_next(rtcp_iter_t *it, rtcp_pkt_t *pkt);

/* Callback for rtcp_parse_compound; a negative return stops the walk and is returned. */
typedef int (*rtcp_cb_t)(const rtcp_pkt_t *pkt, void *ctx);

/* Validates the whole compound first, then calls cb (may be NULL) for each packet in
 * order, so a malformed packet anywhere means cb never runs. Returns the number of
 * packets, a negative rtcp_err, or the callback's negative return. */
int rtcp_parse_compound(const uint8_t *buf, size_t len, rtcp_cb_t cb, void *ctx);

/* ---- decoders of the variable parts ---- */

/* Report block i (< block_count) of an SR/RR view's blocks. */
void rtcp_report_block(const uint8_t *blocks, unsigned i, rtcp_rb_t *rb);

/* SSRC i of a BYE or REMB list. */
uint32_t rtcp_ssrc_at(const uint8_t *list, unsigned i);

#define RTCP_SDES_CNAME 1

typedef struct rtcp_sdes_item {
	uint32_t ssrc;          /* of the chunk holding the item */
	uint8_t type;           /* RTCP_SDES_CNAME, ... */
	uint8_t len;
	const uint8_t *data;    /* len bytes, not NUL-terminated */
} rtcp_sdes_item_t;

typedef struct rtcp_sdes_iter {
	const uint8_t *start, *p, *end;
	unsigned chunks_left;
	bool in_chunk;
	uint32_t ssrc;
} rtcp_sdes_iter_t;

void rtcp_sdes_iter_init(rtcp_sdes_iter_t *it, const rtcp_sdes_t *s);
/* 1 with *item set, 0 after the last chunk, RTCP_ERR_SDES if malformed. */
int rtcp_sdes_next(rtcp_sdes_iter_t *it, rtcp_sdes_item_t *item);

/* PID/BLP pair i of a NACK. */
void rtcp_nack_item(const rtcp_nack_t *n, unsigned i, uint16_t *pid, uint16_t *blp);
/* Expands every PID/BLP into out[cap] in wire order. Returns the number of sequence
 * numbers or RTCP_ERR_NOSPACE (17 * item_count always suffices). */
int rtcp_nack_expand(const rtcp_nack_t *n, uint16_t *out, size_t cap);

void rtcp_fir_item(const rtcp_fir_t *f, unsigned i, rtcp_fir_entry_t *e);

/* One transport-cc status: decoded from feedback, or given to the builder. */
typedef struct rtcp_twcc_status {
	uint16_t seq;
	bool received;
	int32_t delta_us;       /* decoded: receive delta (multiple of 250), 0 if lost */
	int64_t arrival_us;     /* ref_time * 64 ms + deltas so far; builder input; 0 if lost */
} rtcp_twcc_status_t;

/* Decodes every status of t into out[cap] (status_count entries, in sequence order).
 * Arrival times are in the feedback sender's clock, wrapping with the 24-bit reference
 * time (~12 days); only differences are meaningful. Returns status_count,
 * RTCP_ERR_NOSPACE, or a parse error (views from rtcp_iter_next are already valid). */
int rtcp_twcc_decode(const rtcp_twcc_t *t, rtcp_twcc_status_t *out, size_t cap);

/* ---- builders: write one packet at buf[0..cap), return its length or a negative
 * rtcp_err. A compound is several builders' output laid end to end. ---- */

int rtcp_build_sr(uint8_t *buf, size_t cap, const rtcp_sender_info_t *si,
		  const rtcp_rb_t *rb, unsigned n_rb);          /* n_rb <= 31 */
int rtcp_build_rr(uint8_t *buf, size_t cap, uint32_t ssrc, const rtcp_rb_t *rb,
		  unsigned n_rb);                               /* n_rb <= 31 */
int rtcp_build_sdes_cname(uint8_t *buf, size_t cap, uint32_t ssrc, const char *cname,
			  size_t len);                          /* 1..255 bytes */
int rtcp_build_bye(uint8_t *buf, size_t cap, const uint32_t *ssrcs, unsigned n,
		   const char *reason, size_t reason_len);      /* n <= 31, reason may be NULL */

/* lost[n] in sending order (wrap-aware ascending); packs each run of 17 into PID/BLP;
 * an out-of-order or repeated seq starts a new item or is dropped, never lost. */
int rtcp_build_nack(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
		    const uint16_t *lost, size_t n);
int rtcp_build_pli(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc);
int rtcp_build_fir(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
		   const rtcp_fir_entry_t *e, size_t n);
/* Rounds bitrate down to an 18-bit mantissa. n_ssrcs <= 255. */
int rtcp_build_remb(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint64_t bitrate,
		    const uint32_t *ssrcs, unsigned n_ssrcs);

/* st[n]: statuses in ascending (wrap-aware) seq order, st[0].seq the base; gaps between
 * entries are sent as not received. Uses received entries' arrival_us (a monotonic
 * microsecond clock); the reference time is the first arrival in 64 ms units. Returns
 * RTCP_ERR_RANGE if two consecutive arrivals are over 8 s apart (send two feedbacks). */
int rtcp_build_twcc(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
		    uint8_t fb_count, const rtcp_twcc_status_t *st, size_t n);

/* ---- NTP time (RFC 3550 4, 6.4.1) ---- */

uint64_t rtcp_ntp_from_unix_us(uint64_t unix_us);
uint64_t rtcp_ntp_to_unix_us(uint64_t ntp);

/* The compact form carried in LSR. */
static inline uint32_t rtcp_ntp_mid32(uint64_t ntp)
{
	return (uint32_t)(ntp >> 16);
}

/* Microseconds to the 1/65536 s unit of DLSR, saturating. */
uint32_t rtcp_dlsr_from_us(uint64_t us);

/* Round trip from a report block received at arrival_mid32 (compact NTP of now):
 * microseconds, or -1 when lsr is 0 or the result would be negative. */
int64_t rtcp_rtt_us(uint32_t arrival_mid32, uint32_t lsr, uint32_t dlsr);

#endif
