/* libavformat outputs of the recorder (see rec_out.h). Packets go through
 * av_interleaved_write_frame with a short max_interleave_delta: audio is encoded as it comes
 * while video frames arrive later (reordering wait), and a stalled video track must not hold
 * audio back for long, or a killed server would lose it. */
#include "media/rec_out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>

#include "media/vpx.h"

#define INTERLEAVE_US 500000   /* how long a track may wait for the other before writing */

struct rec_out {
    AVFormatContext *fc;
    AVStream *st[2];          /* audio, video (NULL: audio only) */
    int64_t last_dts[2];      /* newest timestamp written per track, stream time base */
    bool have_dts[2];
    AVPacket *held;           /* newest video packet, waiting for its duration */
    int64_t last_vdur;        /* duration of the video packet before it */
    int64_t media_bytes;
    bool header;              /* written: the trailer is due */
};

static const AVRational TB[2] = { { 1, 48000 }, { 1, 90000 } };

static int add_audio(struct rec_out *o, const struct rec_out_spec *s)
{
    AVStream *st = avformat_new_stream(o->fc, NULL);
    if (!st)
        return AVERROR(ENOMEM);
    AVCodecParameters *p = st->codecpar;
    p->codec_type = AVMEDIA_TYPE_AUDIO;
    p->codec_id = AV_CODEC_ID_OPUS;
    p->sample_rate = 48000;
    av_channel_layout_default(&p->ch_layout, 1);
    p->initial_padding = s->opus_preskip;
    p->frame_size = 960;
    p->extradata = av_mallocz(s->opus_head_len + AV_INPUT_BUFFER_PADDING_SIZE);
    if (!p->extradata)
        return AVERROR(ENOMEM);
    memcpy(p->extradata, s->opus_head, s->opus_head_len);
    p->extradata_size = (int)s->opus_head_len;
    st->time_base = TB[0];
    o->st[0] = st;
    return 0;
}

static int add_video(struct rec_out *o, const struct rec_out_spec *s)
{
    AVStream *st = avformat_new_stream(o->fc, NULL);
    if (!st)
        return AVERROR(ENOMEM);
    AVCodecParameters *p = st->codecpar;
    p->codec_type = AVMEDIA_TYPE_VIDEO;
    p->codec_id = s->video_codec == VPX_VP8 ? AV_CODEC_ID_VP8 : AV_CODEC_ID_VP9;
    p->width = s->width;
    p->height = s->height;
    p->format = AV_PIX_FMT_YUV420P;           /* the MP4 vpcC box derives chroma and depth */
    st->time_base = TB[1];
    o->st[1] = st;
    return 0;
}

static int set_opts(AVDictionary **d, const char *const *kv)
{
    for (; kv && kv[0] && kv[1]; kv += 2)
        if (av_dict_set(d, kv[0], kv[1], 0) < 0)
            return AVERROR(ENOMEM);
    return 0;
}

static void say(char *err, size_t errlen, const char *what, const char *url, int rc)
{
    char buf[AV_ERROR_MAX_STRING_SIZE] = "";
    av_strerror(rc, buf, sizeof(buf));
    snprintf(err, errlen, "%s %s: %s", what, url, buf);
}

/* Streams, the file and the header; o->fc is set. */
static int open_fc(struct rec_out *o, const struct rec_out_spec *s, char *err, size_t errlen)
{
    AVDictionary *opts = NULL;
    int rc = add_audio(o, s);
    if (rc == 0 && s->video_codec)
        rc = add_video(o, s);
    if (rc < 0) {
        say(err, errlen, "streams of", s->url, rc);
        return rc;
    }
    if (!(o->fc->oformat->flags & AVFMT_NOFILE) &&
        (rc = avio_open(&o->fc->pb, s->url, AVIO_FLAG_WRITE)) < 0) {
        say(err, errlen, "open", s->url, rc);
        return rc;
    }
    o->fc->flush_packets = s->flush_packets ? 1 : 0;
    o->fc->max_interleave_delta = INTERLEAVE_US;
    if ((rc = set_opts(&opts, s->opts)) == 0)
        rc = avformat_write_header(o->fc, &opts);
    if (rc >= 0 && av_dict_count(opts) > 0) {
        snprintf(err, errlen, "%s: unknown muxer option %s", s->url, av_dict_get(opts, "", NULL,
                 AV_DICT_IGNORE_SUFFIX)->key);
        rc = AVERROR(EINVAL);
    } else if (rc < 0) {
        say(err, errlen, "write header of", s->url, rc);
    } else {
        o->header = true;
    }
    av_dict_free(&opts);
    return rc < 0 ? rc : 0;
}

int rec_out_open(struct rec_out **out, const struct rec_out_spec *s, char *err, size_t errlen)
{
    /* libav's default level logs every HLS segment it opens; a server wants warnings only
     * (process-wide, but nothing else here uses libav; a level set by the caller is kept) */
    if (av_log_get_level() == AV_LOG_INFO)
        av_log_set_level(AV_LOG_WARNING);
    struct rec_out *o = calloc(1, sizeof(*o));
    if (!o) {
        snprintf(err, errlen, "out of memory");
        return AVERROR(ENOMEM);
    }
    int rc = avformat_alloc_output_context2(&o->fc, NULL, s->format, s->url);
    if (rc < 0) {
        say(err, errlen, "muxer for", s->url, rc);
        free(o);
        return rc;
    }
    if ((rc = open_fc(o, s, err, errlen)) < 0) {
        o->header = false;
        rec_out_close(o, false);
        return rc;
    }
    *out = o;
    return 0;
}

static int write_pkt(struct rec_out *o, AVPacket *p)
{
    o->media_bytes += p->size;
    int rc = av_interleaved_write_frame(o->fc, p);
    av_packet_free(&p);
    return rc;
}

/* The held video packet, now that its duration is known. */
static int write_held(struct rec_out *o, int64_t next_pts)
{
    AVPacket *h = o->held;
    if (!h)
        return 0;
    o->held = NULL;
    if (next_pts > h->pts)
        o->last_vdur = next_pts - h->pts;
    h->duration = o->last_vdur;
    return write_pkt(o, h);
}

int rec_out_write(struct rec_out *o, bool video, const uint8_t *data, size_t len, int64_t pts,
                  int64_t duration, bool key)
{
    int i = video ? 1 : 0;
    AVStream *st = o->st[i];
    if (!st || len > INT32_MAX)
        return st ? AVERROR(EINVAL) : 0;
    AVPacket *p = av_packet_alloc();
    if (!p || av_new_packet(p, (int)len) < 0) {
        av_packet_free(&p);
        return AVERROR(ENOMEM);
    }
    memcpy(p->data, data, len);
    p->stream_index = st->index;
    p->pts = av_rescale_q(pts, TB[i], st->time_base);
    if (o->have_dts[i] && p->pts <= o->last_dts[i])
        p->pts = o->last_dts[i] + 1;           /* rounding to the muxer's clock may collide */
    p->dts = p->pts;
    o->last_dts[i] = p->pts;
    o->have_dts[i] = true;
    p->duration = av_rescale_q(duration, TB[i], st->time_base);
    if (key)
        p->flags |= AV_PKT_FLAG_KEY;
    if (!video)
        return write_pkt(o, p);
    int rc = write_held(o, p->pts);
    o->held = p;
    return rc;
}

int64_t rec_out_bytes(const struct rec_out *o)
{
    if (o->fc->pb && !(o->fc->oformat->flags & AVFMT_NOFILE))
        return avio_tell(o->fc->pb);
    return o->media_bytes;
}

int rec_out_close(struct rec_out *o, bool trailer)
{
    int rc = 0, r;
    if (!o)
        return 0;
    if (trailer && o->header) {
        rc = write_held(o, 0);
        if ((r = av_write_trailer(o->fc)) < 0 && rc == 0)
            rc = r;
    }
    av_packet_free(&o->held);
    if (o->fc) {
        if (o->fc->pb && !(o->fc->oformat->flags & AVFMT_NOFILE)) {
            avio_flush(o->fc->pb);
            if (o->fc->pb->error < 0 && rc == 0)
                rc = o->fc->pb->error;
            if ((r = avio_closep(&o->fc->pb)) < 0 && rc == 0)
                rc = r;
        }
        avformat_free_context(o->fc);
    }
    free(o);
    return rc;
}
