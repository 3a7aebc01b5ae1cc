/* One libavformat output of the recorder: a WebM file or an HLS playlist with fMP4 segments,
 * holding an Opus track and optionally a VP8/VP9 track, fed with already encoded packets
 * (no transcoding here). Isolates every libavformat call of the recorder. Used by the
 * recorder thread only; not thread-safe. */
#ifndef MEDIA_REC_OUT_H
#define MEDIA_REC_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rec_out;

struct rec_out_spec {
    const char *format;           /* libavformat muxer name: "webm" or "hls" */
    const char *url;              /* file or playlist path */
    const char *const *opts;      /* muxer options: NULL-terminated name, value pairs */
    bool flush_packets;           /* flush the file after every packet the muxer writes */
    const uint8_t *opus_head;     /* OpusHead (RFC 7845 5.1), copied */
    size_t opus_head_len;
    int opus_preskip;             /* samples the decoder drops at the start */
    int video_codec;              /* enum vpx_codec; 0: audio only */
    int width, height;            /* video track size */
};

/* Opens the output and writes its header. Returns 0 with *out set (the caller closes it with
 * rec_out_close), or a negative AVERROR with a message in err. */
int rec_out_open(struct rec_out **out, const struct rec_out_spec *spec, char *err, size_t errlen);

/* Writes one packet, copied: audio with pts and duration in 1/48000 s, video in 1/90000 s.
 * Timestamps are made strictly increasing per track. A video packet is held until the next
 * one gives its duration. Returns 0 or a negative AVERROR (e.g. AVERROR(ENOSPC)). */
int rec_out_write(struct rec_out *o, bool video, const uint8_t *data, size_t len, int64_t pts,
                  int64_t duration, bool key);

/* Bytes written so far (file outputs: the file size; HLS: media bytes). */
int64_t rec_out_bytes(const struct rec_out *o);

/* With trailer: writes the held packet and the trailer (index, duration; HLS: end of list).
 * Always frees o. Returns 0 or the first error. */
int rec_out_close(struct rec_out *o, bool trailer);

#endif
