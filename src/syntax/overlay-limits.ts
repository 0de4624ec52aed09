/**
 * What the illumos overlay driver accepts as an overlay's MTU
 * (OVERLAY_MTU_MIN/MAX in usr/src/uts/common/io/overlay/overlay.c, enforced
 * with EINVAL when the property is set; docs/smartos-rules.md). The kernel
 * refuses anything above 8900, whatever the overlay(7) page says. A leaf, so
 * the schema, the rule strings and the MTU arithmetic share one number.
 */
export const OVERLAY_MTU_MIN = 576;
export const OVERLAY_MTU_MAX = 8900;
