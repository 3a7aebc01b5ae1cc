/* The recorder's thread and its queue (see rec.h): the media thread copies each input into a
 * fixed ring under a mutex held only for that copy, and the recorder thread takes them out
 * one at a time and hands them to media/rec_mux.c, where all encoding and I/O happens. */
#include "media/rec.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "media/rec_mux.h"

#define QUEUE_ITEMS 1024          /* ~3 s of video packets plus audio: rides out I/O stalls */
#define ITEM_BYTES  1920          /* 20 ms of 48 kHz mono; an RTP packet is smaller */
#define ITEM_SAMPLES (ITEM_BYTES / 2)

enum { ITEM_AUDIO, ITEM_VIDEO };

struct item {
    int64_t t_ms;
    uint16_t len;                 /* bytes in data */
    uint8_t kind, codec;
    uint8_t data[ITEM_BYTES];
};

struct rec {
    pthread_mutex_t lock;         /* the queue fields below */
    pthread_cond_t cond;
    struct item *q;
    unsigned head, count;
    bool stop, waiting;           /* stop requested; the thread sleeps on cond */
    atomic_bool failed;           /* pushes are useless: drop them early */
    atomic_uint_fast64_t dropped;
    atomic_bool want_key;
    pthread_mutex_t st_lock;      /* st */
    struct rec_status st;
    struct rec_mux *mux;          /* the recorder thread's only */
    struct item cur;              /* the item being handled, out of the lock */
    pthread_t thread;
};

static void enqueue(struct rec *r, uint8_t kind, uint8_t codec, const void *data, size_t len,
                    int64_t t_ms)
{
    if (atomic_load_explicit(&r->failed, memory_order_relaxed) || len > ITEM_BYTES)
        return;
    pthread_mutex_lock(&r->lock);
    if (r->count == QUEUE_ITEMS || r->stop) {
        pthread_mutex_unlock(&r->lock);
        atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
        return;
    }
    struct item *it = &r->q[(r->head + r->count) % QUEUE_ITEMS];
    it->t_ms = t_ms;
    it->len = (uint16_t)len;
    it->kind = kind;
    it->codec = codec;
    memcpy(it->data, data, len);
    r->count++;
    bool wake = r->waiting;
    pthread_mutex_unlock(&r->lock);
    if (wake)
        pthread_cond_signal(&r->cond);
}

void rec_push_audio(struct rec *r, const int16_t *pcm, int samples, int64_t t_ms)
{
    for (int off = 0; r && pcm && off < samples; off += ITEM_SAMPLES) {
        int n = samples - off < ITEM_SAMPLES ? samples - off : ITEM_SAMPLES;
        enqueue(r, ITEM_AUDIO, 0, pcm + off, (size_t)n * 2, t_ms + off / 48);
    }
}

void rec_push_video(struct rec *r, enum vpx_codec codec, const uint8_t *rtp, size_t len,
                    int64_t t_ms)
{
    if (!r || !rtp)
        return;
    if (len > ITEM_BYTES) {
        atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
        return;
    }
    enqueue(r, ITEM_VIDEO, (uint8_t)codec, rtp, len, t_ms);
}

bool rec_keyframe_wanted(struct rec *r)
{
    return r && atomic_exchange(&r->want_key, false);
}

void rec_status(struct rec *r, struct rec_status *st)
{
    pthread_mutex_lock(&r->st_lock);
    *st = r->st;
    pthread_mutex_unlock(&r->st_lock);
    st->dropped = atomic_load(&r->dropped);
}

/* Recorder thread: makes the mux's state visible to rec_status and the pushers. */
static void publish(struct rec *r)
{
    struct rec_status st;
    struct timespec cpu;
    memset(&st, 0, sizeof(st));
    rec_mux_status(r->mux, &st);
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0)
        st.cpu_ms = (int64_t)cpu.tv_sec * 1000 + cpu.tv_nsec / 1000000;
    pthread_mutex_lock(&r->st_lock);
    r->st = st;
    pthread_mutex_unlock(&r->st_lock);
    if (rec_mux_failed(r->mux))
        atomic_store(&r->failed, true);
    if (rec_mux_take_key_request(r->mux))
        atomic_store(&r->want_key, true);
}

/* Takes the oldest item into r->cur; false once stopped and empty. */
static bool take(struct rec *r)
{
    pthread_mutex_lock(&r->lock);
    while (r->count == 0 && !r->stop) {
        r->waiting = true;
        pthread_cond_wait(&r->cond, &r->lock);
        r->waiting = false;
    }
    bool got = r->count > 0;
    if (got) {
        const struct item *it = &r->q[r->head];
        memcpy(&r->cur, it, offsetof(struct item, data) + it->len);
        r->head = (r->head + 1) % QUEUE_ITEMS;
        r->count--;
    }
    pthread_mutex_unlock(&r->lock);
    return got;
}

static void *run(void *arg)
{
    struct rec *r = arg;
    while (take(r)) {
        const struct item *it = &r->cur;
        if (it->kind == ITEM_AUDIO)
            rec_mux_audio(r->mux, (const int16_t *)(const void *)it->data, it->len / 2,
                          it->t_ms);
        else
            rec_mux_video(r->mux, it->codec, it->data, it->len, it->t_ms);
        publish(r);
    }
    rec_mux_finish(r->mux);
    publish(r);
    return NULL;
}

static int check_opts(const struct rec_opts *o, char *err, size_t errlen)
{
    if (o->rtmp_url) {
        snprintf(err, errlen, "rtmp_url: not supported (FLV in FFmpeg 5.1 carries neither "
                 "VP8/VP9 nor Opus)");
        return -ENOTSUP;
    }
    if (!o->webm_path && !o->hls_dir) {
        snprintf(err, errlen, "nothing to record to: no webm_path and no hls_dir");
        return -EINVAL;
    }
    if (o->hls_dir && mkdir(o->hls_dir, 0755) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "hls_dir %s: %s", o->hls_dir, strerror(errno));
        return -errno;
    }
    return 0;
}

static void destroy(struct rec *r)
{
    rec_mux_free(r->mux);
    free(r->q);
    pthread_mutex_destroy(&r->lock);
    pthread_mutex_destroy(&r->st_lock);
    pthread_cond_destroy(&r->cond);
    free(r);
}

struct rec *rec_start(const struct rec_opts *o, char *err, size_t errlen)
{
    if (check_opts(o, err, errlen) < 0)
        return NULL;
    struct rec *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&r->lock, NULL);
    pthread_mutex_init(&r->st_lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    atomic_init(&r->failed, false);
    atomic_init(&r->dropped, 0);
    atomic_init(&r->want_key, false);
    if (!(r->q = malloc(sizeof(*r->q) * QUEUE_ITEMS))) {
        snprintf(err, errlen, "out of memory");
        goto out_destroy;
    }
    if (!(r->mux = rec_mux_new(o, err, errlen)))
        goto out_destroy;
    int rc = pthread_create(&r->thread, NULL, run, r);
    if (rc != 0) {
        snprintf(err, errlen, "recorder thread: %s", strerror(rc));
        goto out_destroy;
    }
    return r;
out_destroy:
    destroy(r);
    return NULL;
}

void rec_stop(struct rec *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    pthread_mutex_unlock(&r->lock);
    pthread_cond_signal(&r->cond);
    pthread_join(r->thread, NULL);
    destroy(r);
}
