/* Per-worker counters. Each counter has exactly one writer (its worker), so updates are a
 * relaxed load + store, not a locked read-modify-write; readers on other threads (/metrics,
 * /healthz, benches) see values that are at most a moment old. */
#ifndef MCU_STATS_H
#define MCU_STATS_H

#include <stdatomic.h>
#include <stdint.h>

/* Why an incoming datagram (or an outgoing one) was dropped; names appear in /metrics. */
#define DROP_REASONS(X)                                                   \
    X(DROP_UNKNOWN_KIND, "unknown_kind")       /* RFC 7983 first byte */ \
    X(DROP_TRUNCATED, "truncated")             /* larger than a buffer */ \
    X(DROP_NO_SESSION, "no_session")           /* from an unknown peer */ \
    X(DROP_STUN_MALFORMED, "stun_malformed")                              \
    X(DROP_STUN_FINGERPRINT, "stun_fingerprint")                          \
    X(DROP_STUN_UNKNOWN_USER, "stun_unknown_user")                        \
    X(DROP_STUN_AUTH, "stun_auth")                                        \
    X(DROP_STUN_UNEXPECTED, "stun_unexpected")                            \
    X(DROP_DTLS_UNKNOWN_ADDR, "dtls_unknown_addr")                        \
    X(DROP_DTLS_ERROR, "dtls_error")                                      \
    X(DROP_RTP_UNKNOWN_ADDR, "rtp_unknown_addr")                          \
    X(DROP_RTP_NOT_READY, "rtp_not_ready")                                \
    X(DROP_RTP_MALFORMED, "rtp_malformed")                                \
    X(DROP_RTCP_MALFORMED, "rtcp_malformed")                              \
    X(DROP_SRTP_AUTH, "srtp_auth")                                        \
    X(DROP_SRTP_REPLAY, "srtp_replay")                                    \
    X(DROP_SRTP_OTHER, "srtp_other")                                      \
    X(DROP_AUDIO_LATE, "audio_late")           /* behind the playout point */ \
    X(DROP_AUDIO_DUPLICATE, "audio_duplicate")                            \
    X(DROP_AUDIO_UNUSABLE, "audio_unusable")   /* too big, not 20 ms */   \
    X(DROP_VIDEO_MALFORMED, "video_malformed") /* bad VP8/VP9 descriptor or RTX */ \
    X(DROP_VIDEO_UNKNOWN_STREAM, "video_unknown_stream") /* SSRC/rid not announced */ \
    X(DROP_RATE_LIMITED, "rate_limited")       /* over its source's packet budget */ \
    X(DROP_TX_QUEUE_FULL, "tx_queue_full")                                \
    X(DROP_TX_ERROR, "tx_error")                                          \
    X(DROP_EVENT_QUEUE_FULL, "event_queue_full")

#define DROP_ENUM(e, s) e,
enum drop_reason { DROP_REASONS(DROP_ENUM) DROP_MAX };
#undef DROP_ENUM

const char *drop_reason_name(enum drop_reason r);

/* Tick jitter histogram: 1 µs buckets up to 20 ms, the last bucket collects the rest. */
#define JITTER_BUCKETS 20001

struct worker_stats {
    _Atomic uint64_t rx_packets, rx_bytes;  /* datagrams received */
    _Atomic uint64_t tx_packets, tx_bytes;  /* datagrams sent */
    _Atomic uint64_t drops[DROP_MAX];       /* by reason */
    _Atomic uint64_t ticks;                 /* 20 ms ticks handled */
    _Atomic uint64_t ticks_missed;          /* expirations folded into a late tick */
    _Atomic int64_t last_tick_ns;           /* CLOCK_MONOTONIC of the last tick */
    _Atomic uint32_t lag_last_us;           /* last tick: handled this late after its due time */
    _Atomic uint32_t lag_max_us;            /* the worst such lateness */
    _Atomic uint32_t jitter_max_us;         /* worst |interval - 20 ms| */
    _Atomic uint64_t cmds, events;          /* messages taken from / given to signaling */
    _Atomic uint64_t busy_ns;               /* time spent handling, not waiting */
    _Atomic uint32_t sessions;              /* media sessions the worker owns */
    _Atomic uint32_t jitter_hist[JITTER_BUCKETS]; /* |interval - 20 ms| in µs */
};

static inline void stat_add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static inline uint64_t stat_get(_Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* Quantile q (0..1) of a jitter histogram snapshot, in µs. */
uint32_t stats_hist_quantile(const uint32_t *hist, double q);

#endif
