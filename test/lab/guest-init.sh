#!/bin/sh
# /init of the lab's throw-away QEMU guest: mount the basics, load the
# modules the cases need (in dependency order, listed in /lab/modules), run
# every case in /lab/cases.sh (one case.sh call per line) and the
# three-node check if present, print one line per result on the serial
# console, power off.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p /run/netns /var
ln -sf /run /var/run
echo "LAB-GUEST kernel $(uname -r)"
while read -r mod; do
  [ -n "$mod" ] || continue
  insmod "/lab/modules/$mod" || echo "LAB-GUEST insmod failed: $mod"
done < /lab/modules.order
echo "LAB-GUEST modules loaded"
ip link set lo up
[ -f /lab/cases.sh ] && bash /lab/cases.sh < /dev/null
[ -f /lab/three-nodes.sh ] && bash /lab/three-nodes.sh /lab/linux-target < /dev/null
echo "LAB-DONE"
sync
poweroff -f
