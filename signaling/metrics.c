/* GET /metrics in the Prometheus text format: process, worker loop, queues, UDP, drops. */
#include "signaling/internal.h"
#include "mcu/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

static void process_metrics(struct sbuf *b)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    long rss_pages = 0, size_pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &size_pages, &rss_pages) != 2)
            rss_pages = size_pages = 0;
        fclose(f);
    }
    long page = sysconf(_SC_PAGESIZE);
    sbuf_printf(b,
                "# HELP process_cpu_seconds_total User and system CPU time of the process.\n"
                "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.3f\n"
                "# HELP process_resident_memory_bytes Resident memory.\n"
                "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %ld\n"
                "# HELP process_virtual_memory_bytes Virtual memory.\n"
                "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes %ld\n",
                cpu, rss_pages * page, size_pages * page);
}

/* One metric family over every worker: a HELP/TYPE header, then a line per worker. */
#define FAMILY(b, name, type, help) \
    sbuf_printf(b, "# HELP " name " " help "\n# TYPE " name " " type "\n")

static void worker_metrics(struct sbuf *b, struct server *srv)
{
    int n = srv->nworkers;
    struct worker *ws = srv->workers;
    FAMILY(b, "mcu_worker_ticks_total", "counter", "Media ticks handled.");
    for (int i = 0; i < n; i++)
        sbuf_printf(b, "mcu_worker_ticks_total{worker=\"%d\"} %lu\n", i, stat_get(&ws[i].stats.ticks));
    FAMILY(b, "mcu_worker_ticks_missed_total", "counter", "Ticks folded into a late one.");
    for (int i = 0; i < n; i++)
        sbuf_printf(b, "mcu_worker_ticks_missed_total{worker=\"%d\"} %lu\n", i,
                    stat_get(&ws[i].stats.ticks_missed));
    FAMILY(b, "mcu_worker_loop_lag_seconds", "gauge", "How late the last tick ran after its due time.");
    for (int i = 0; i < n; i++)
        sbuf_printf(b, "mcu_worker_loop_lag_seconds{worker=\"%d\"} %.6f\n", i,
                    atomic_load(&ws[i].stats.lag_last_us) / 1e6);
    FAMILY(b, "mcu_worker_loop_lag_max_seconds", "gauge", "The worst tick lateness since start.");
    for (int i = 0; i < n; i++)
        sbuf_printf(b, "mcu_worker_loop_lag_max_seconds{worker=\"%d\"} %.6f\n", i,
                    atomic_load(&ws[i].stats.lag_max_us) / 1e6);
    FAMILY(b, "mcu_worker_tick_jitter_seconds", "summary", "Deviation of tick intervals from 20 ms.");
    static uint32_t hist[JITTER_BUCKETS]; /* signaling thread only */
    for (int i = 0; i < n; i++) {
        uint64_t count = 0;
        for (int k = 0; k < JITTER_BUCKETS; k++)
            count += hist[k] = atomic_load_explicit(&ws[i].stats.jitter_hist[k], memory_order_relaxed);
        static const double qs[] = {0.5, 0.99};
        for (int q = 0; q < 2; q++)
            sbuf_printf(b, "mcu_worker_tick_jitter_seconds{worker=\"%d\",quantile=\"%g\"} %.6f\n", i,
                        qs[q], stats_hist_quantile(hist, qs[q]) / 1e6);
        sbuf_printf(b, "mcu_worker_tick_jitter_seconds{worker=\"%d\",quantile=\"1\"} %.6f\n", i,
                    atomic_load(&ws[i].stats.jitter_max_us) / 1e6);
        sbuf_printf(b, "mcu_worker_tick_jitter_seconds_count{worker=\"%d\"} %lu\n", i, count);
    }
    FAMILY(b, "mcu_worker_busy_seconds_total", "counter", "Time the worker spent working, not waiting.");
    for (int i = 0; i < n; i++)
        sbuf_printf(b, "mcu_worker_busy_seconds_total{worker=\"%d\"} %.6f\n", i,
                    stat_get(&ws[i].stats.busy_ns) / 1e9);
    FAMILY(b, "mcu_worker_sessions", "gauge", "Media sessions owned by the worker.");
    for (int i = 0; i < n; i++)
        sbuf_printf(b, "mcu_worker_sessions{worker=\"%d\"} %u\n", i, atomic_load(&ws[i].stats.sessions));
    FAMILY(b, "mcu_queue_depth", "gauge", "Messages waiting in a signaling<->worker queue.");
    for (int i = 0; i < n; i++)
        sbuf_printf(b, "mcu_queue_depth{worker=\"%d\",queue=\"command\"} %zu\n"
                       "mcu_queue_depth{worker=\"%d\",queue=\"event\"} %zu\n",
                    i, spsc_depth(&ws[i].cmdq), i, spsc_depth(&ws[i].evq));
    FAMILY(b, "mcu_queue_capacity", "gauge", "Slots in each signaling<->worker queue.");
    for (int i = 0; i < n; i++)
        sbuf_printf(b, "mcu_queue_capacity{worker=\"%d\"} %zu\n", i, spsc_capacity(&ws[i].cmdq));
    FAMILY(b, "mcu_udp_packets_total", "counter", "UDP datagrams through the media sockets.");
    for (int i = 0; i < n; i++)
        sbuf_printf(b, "mcu_udp_packets_total{worker=\"%d\",direction=\"in\"} %lu\n"
                       "mcu_udp_packets_total{worker=\"%d\",direction=\"out\"} %lu\n",
                    i, stat_get(&ws[i].stats.rx_packets), i, stat_get(&ws[i].stats.tx_packets));
    FAMILY(b, "mcu_udp_bytes_total", "counter", "UDP payload bytes through the media sockets.");
    for (int i = 0; i < n; i++)
        sbuf_printf(b, "mcu_udp_bytes_total{worker=\"%d\",direction=\"in\"} %lu\n"
                       "mcu_udp_bytes_total{worker=\"%d\",direction=\"out\"} %lu\n",
                    i, stat_get(&ws[i].stats.rx_bytes), i, stat_get(&ws[i].stats.tx_bytes));
    FAMILY(b, "mcu_drops_total", "counter", "Datagrams dropped, by reason.");
    for (int i = 0; i < n; i++)
        for (int r = 0; r < DROP_MAX; r++)
            sbuf_printf(b, "mcu_drops_total{worker=\"%d\",reason=\"%s\"} %lu\n", i,
                        drop_reason_name((enum drop_reason)r), stat_get(&ws[i].stats.drops[r]));
}

int metrics_handle(struct conn *c)
{
    struct sbuf b = {0};
    process_metrics(&b);
    worker_metrics(&b, c->sig->srv);
    if (b.oom) {
        sbuf_free(&b);
        http_error(c, 500, "out_of_memory", "out of memory");
        return 0;
    }
    size_t len;
    char *s = sbuf_take(&b, &len);
    http_respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", s, len);
    return 0;
}
