/* libFuzzer target for media/vpx with VP9 descriptors: the driver of fuzz_vp8.c (see there
 * for the input format and the checks), parsing VP9 and filtering with vpx_track_keep_vp9. */
#define FUZZ_VPX_CODEC VPX_VP9
#include "fuzz/fuzz_vp8.c"
