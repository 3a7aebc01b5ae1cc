/* Per-peer link quality as the server sees it: bytes and datagrams each way, loss from the
 * sequence numbers of the peer's RTP streams, RFC 3550 interarrival jitter of its audio, and
 * the round trip from its receiver reports on our streams. Pure: the caller feeds it packet
 * facts and times; nothing here does I/O or allocates. A zeroed struct is a valid start. */
#ifndef MEDIA_QSTATS_H
#define MEDIA_QSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QSTATS_STREAMS 4 /* uplink SSRCs followed: audio and three simulcast layers */

/* One uplink RTP stream (one SSRC). */
struct qstats_stream {
    uint32_t ssrc;
    bool used;
    uint32_t clock_hz;        /* RTP clock of its jitter; 0 = no jitter kept */
    uint16_t max_seq;         /* highest sequence number seen, modulo 2^16 */
    uint32_t cycles;          /* wraps of max_seq, in units of 65536 */
    uint32_t base_seq;        /* the first sequence number counted */
    uint32_t bad_seq;         /* after a large jump: the next number that confirms a restart */
    uint64_t received;        /* packets counted since base_seq, duplicates included */
    uint64_t expected_prior;  /* expected and received at the last interval */
    uint64_t received_prior;
    bool have_prev;           /* a previous packet exists for the jitter difference */
    uint32_t ts_prev;         /* its RTP timestamp */
    double arrival_prev;      /* its arrival, in RTP clock units */
    double jitter;            /* RFC 3550 J, in RTP clock units */
};

struct qstats {
    struct qstats_stream s[QSTATS_STREAMS];
    uint64_t bytes_in, bytes_out;       /* UDP payload, SRTP/SRTCP as carried */
    uint64_t pkts_in, pkts_out;         /* datagrams */
    uint64_t bytes_in_prior, bytes_out_prior, pkts_in_prior, pkts_out_prior;
    uint32_t audio_pkts_out;            /* our audio stream to the peer, for sender reports */
    uint32_t audio_octets_out;          /* its RTP payload octets */
    int64_t last_sr_ns;                 /* when our last sender report went out */
    bool have_rtt;
    int64_t rtt_us;                     /* last round trip measured, valid with have_rtt */
};

/* What happened since the previous call of qstats_interval. */
struct qstats_interval {
    uint64_t bytes_in, bytes_out;
    uint64_t pkts_in, pkts_out;
    uint64_t expected;        /* uplink RTP packets expected, all streams */
    int64_t lost;             /* ... and not received; negative when duplicates outnumber losses */
    double jitter_ms;         /* the audio stream's current jitter; -1 before any audio */
    int32_t rtt_ms;           /* -1 unknown */
};

/* A datagram from the peer (before decryption), or one sent to it. */
static inline void qstats_received(struct qstats *q, size_t len)
{
    q->bytes_in += len;
    q->pkts_in++;
}

static inline void qstats_sent(struct qstats *q, size_t len)
{
    q->bytes_out += len;
    q->pkts_out++;
}

/* An RTP packet of our audio stream to the peer, with payload_len octets. */
static inline void qstats_sent_audio(struct qstats *q, size_t payload_len)
{
    q->audio_pkts_out++;
    q->audio_octets_out += (uint32_t)payload_len;
}

/* A decrypted RTP packet from the peer, arriving at arrival_ns (a monotonic clock). clock_hz
 * is the RTP clock when the stream's jitter is wanted (the audio), else 0. A new SSRC takes a
 * free slot; once QSTATS_STREAMS are taken, further SSRCs are not counted. */
void qstats_rtp(struct qstats *q, uint32_t ssrc, uint16_t seq, uint32_t ts, uint32_t clock_hz,
                int64_t arrival_ns);

/* A decrypted RTCP compound from the peer: report blocks (in SR or RR) about our_ssrc give the
 * round trip, with now_mid32 the compact NTP time of its arrival on the clock our sender
 * reports use. Returns 0, or a negative rtcp_err if the compound is malformed (blocks before
 * the error are used). */
int qstats_rtcp(struct qstats *q, const uint8_t *buf, size_t len, uint32_t our_ssrc, uint32_t now_mid32);

/* Fills *out with the counts since the previous call and starts a new interval. */
void qstats_interval(struct qstats *q, struct qstats_interval *out);

#endif
