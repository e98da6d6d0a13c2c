/* metrics - ltail's own families in the --metrics-file */
#include "metrics.h"

#include "ltail.h"

static void
watched(struct metrics_sink *k)
{
	metrics_put(k, NULL, (double)files.nwatched);
}

static void
dropped(struct metrics_sink *k)
{
	metrics_put(k, "line_too_long", (double)counts.skipped);
}

static const struct metric fams[] = {
	{ "lkit_files_watched", "Files open and followed.", METRIC_GAUGE,
	    NULL, NULL, watched, NULL },
	{ "lkit_lines_split_total", "Lines longer than --max-line-size, "
	    "split into several events.", METRIC_COUNTER, NULL,
	    &counts.split, NULL, NULL },
	{ "lkit_lines_skipped_total", "Lines longer than --max-line-size, "
	    "skipped (--long-lines skip).", METRIC_COUNTER, NULL,
	    &counts.skipped, NULL, NULL },
	{ "lkit_rotations_total", "Files rotated away or deleted while "
	    "followed.", METRIC_COUNTER, NULL, &counts.rotations, NULL, NULL },
	{ "lkit_truncations_total", "Files truncated while followed.",
	    METRIC_COUNTER, NULL, &counts.truncations, NULL, NULL }
};

void
metrics_families(void)
{
	metrics_add(fams, sizeof(fams) / sizeof(fams[0]));
	metrics_dropped(dropped);
}
