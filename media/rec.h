/* Recording and live streaming of a conference (issue #10): the audio mix and the one
 * continuous video stream the server forwards are written by a recorder thread, through
 * FFmpeg's libavformat, to a WebM file (Opus + VP8/VP9) and/or an HLS playlist (fMP4
 * segments). The real-time media thread only copies into a bounded queue.
 *
 * Policies:
 * - Header delay: Matroska and MP4 declare their tracks before the first packet, so the
 *   outputs are opened at the first complete video keyframe, or header_wait_ms (2 s) of
 *   stream time after the first push, whichever comes first; encoded audio is buffered until
 *   then. If by then no keyframe came, the video track is declared only if
 *   opts.video_codec says which codec will come (its size is then a 640x360 placeholder until
 *   the first keyframe; decoders use the bitstream's size); otherwise the recording is
 *   audio-only and later video is counted in video_ignored.
 * - One clock: t_ms (CLOCK_MONOTONIC ms of arrival) of the first push is time 0. Audio pts
 *   counts samples; a gap of more than 60 ms in t_ms is filled with silence (up to 5 s; a
 *   longer one moves the audio timestamps instead). Video pts follow the unwrapped RTP
 *   timestamp, anchored to t_ms of the first frame; re-anchored if they drift more than 2 s
 *   from t_ms; never decreasing.
 * - Losses: a video frame that lost a packet (waited for 300 ms) is dropped, and so is
 *   everything after it until the next keyframe: rec_keyframe_wanted() tells the caller
 *   when to ask the source for one (PLI). Sequence numbers missing between frames whose
 *   picture ids follow each other (VP8 as the router rewrites it) cost nothing.
 * - VP9 SVC: the layer frames of a picture become one superframe; lower layers are marked
 *   "not shown" so players (FFmpeg) show one picture per timestamp, the top layer.
 * - Surviving SIGKILL: WebM clusters are closed every second (cluster_time_limit) and the
 *   file is flushed after each one, so a killed recorder leaves a file that plays up to
 *   about 1 s before the kill (no index or duration; players cope). HLS segments and the
 *   playlist are written to temporary names and renamed, so they are whole or absent.
 * - HLS: fMP4 segments (MPEG-TS cannot carry VP8/VP9). FFmpeg 5.1 cannot put VP8 in MP4 at
 *   all, so for VP8 the HLS video is transcoded to VP9 (libvpx real time, at most 640x360,
 *   a keyframe every segment); VP9 goes through untouched (segments are cut at the source's
 *   keyframes: the caller should request one every hls_segment_ms, which
 *   rec_keyframe_wanted() does). Opus is never re-encoded. Old segments are deleted.
 * - RTMP is not supported: FLV in FFmpeg 5.1 carries neither VP8/VP9 nor Opus, so rtmp_url
 *   must be NULL (rec_start fails otherwise).
 * - Write errors (ENOSPC...) stop the whole recorder: status.error and msg say why, pushes
 *   become no-ops, rec_stop still finalizes what it can and frees.
 * - libav's log level is lowered to warnings on first use if nobody set it (it would log
 *   every HLS segment).
 * Cost (2 cores of this machine): WebM or HLS of VP9 without transcoding ~1% of a core;
 * HLS of VP8 (decode + VP9 encode) 10% of a core for 360p input, 16% for 720p. */
#ifndef MEDIA_REC_H
#define MEDIA_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/vpx.h"

struct rec_opts {
    const char *webm_path;        /* WebM file to write, or NULL */
    const char *hls_dir;          /* directory for index.m3u8 + segments (created), or NULL */
    int hls_segment_ms;           /* segment length, e.g. 2000 (0: 2000) */
    int hls_list_size;            /* playlist entries kept, e.g. 6 (0: 6) */
    const char *rtmp_url;         /* must be NULL: not supported, see above */
    enum vpx_codec video_codec;   /* the conference's video codec if known, else 0 */
    int header_wait_ms;           /* how long to wait for a video keyframe (0: 2000) */
    int opus_kbps;                /* Opus bit rate (0: 48) */
    int hls_vp9_kbps;             /* VP8 transcoded for HLS: VP9 bit rate (0: 600) */
};

struct rec_status {
    int64_t bytes;                /* WebM file size (else HLS media bytes) so far */
    int64_t duration_ms;          /* newest timestamp written */
    int error;                    /* 0, or -errno (e.g. -ENOSPC) / negative AVERROR */
    char msg[128];                /* what failed, "" while fine */
    uint64_t dropped;             /* pushes dropped because the queue was full */
    uint64_t video_frames;        /* video frames written */
    uint64_t video_lost;          /* frames dropped for losses or while waiting for a keyframe */
    uint64_t video_ignored;       /* frames no track could take (other codec, audio-only) */
    int64_t cpu_ms;               /* CPU time of the recorder thread */
};

struct rec;

/* Checks the options, creates hls_dir if missing, starts the recorder thread. Outputs are
 * opened later (see "header delay"), so an unwritable path shows up in rec_status. Returns
 * the recorder, or NULL with a message in err[errlen]. */
struct rec *rec_start(const struct rec_opts *o, char *err, size_t errlen);

/* Real-time thread: copy into the queue, never block on I/O; a full queue drops (counted).
 * t_ms: CLOCK_MONOTONIC milliseconds of arrival. Audio: 48 kHz mono, any count (20 ms = 960).
 * Video: one clear RTP packet of the forwarded stream (continuous seq/ts across switches). */
void rec_push_audio(struct rec *r, const int16_t *pcm, int samples, int64_t t_ms);
void rec_push_video(struct rec *r, enum vpx_codec codec, const uint8_t *rtp, size_t len,
                    int64_t t_ms);

/* True (once per request) when the recorder needs a video keyframe: at the start, after a
 * loss, and every hls_segment_ms for VP9 HLS. The caller sends a PLI to the current source. */
bool rec_keyframe_wanted(struct rec *r);

/* Thread-safe snapshot. */
void rec_status(struct rec *r, struct rec_status *st);

/* Writes what is queued, flushes, writes trailers, joins the thread and frees r. No push may
 * run during or after it. */
void rec_stop(struct rec *r);

#endif
