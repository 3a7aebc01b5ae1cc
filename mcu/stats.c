/* Names of drop reasons and histogram quantiles. */
#include "mcu/stats.h"

#define DROP_NAME(e, s) s,
static const char *const names[] = {DROP_REASONS(DROP_NAME)};
#undef DROP_NAME

const char *drop_reason_name(enum drop_reason r)
{
    return r < DROP_MAX ? names[r] : "?";
}

uint32_t stats_hist_quantile(const uint32_t *hist, double q)
{
    uint64_t total = 0;
    for (int i = 0; i < JITTER_BUCKETS; i++)
        total += hist[i];
    if (!total)
        return 0;
    uint64_t want = (uint64_t)(q * (double)total);
    if (want >= total)
        want = total - 1;
    uint64_t seen = 0;
    for (int i = 0; i < JITTER_BUCKETS; i++) {
        seen += hist[i];
        if (seen > want)
            return (uint32_t)i;
    }
    return JITTER_BUCKETS - 1;
}
