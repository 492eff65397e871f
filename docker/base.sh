#!/bin/sh
# The offline base image of the gait images: Debian bookworm's own packages, no registry.
#
#   sudo docker/base.sh [tag]        # default tag gait-base:bookworm; needs root (debootstrap)
#
# debootstrap (--variant=minbase) fetches bookworm from the Debian mirror into a folder, with the
# runtime the images need: CPython 3.11 and its venv module, CA certificates, and Pango with the
# DejaVu fonts for WeasyPrint (the analysis image's PDF report). `docker import` makes the folder
# an image. Its apt lists are dropped, so the image is as small as the packages allow.
# docker/build.py --offline runs this when the tag is missing (docs/images.md).
set -eu
TAG="${1:-gait-base:bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PACKAGES="python3,python3-venv,ca-certificates,libpango-1.0-0,libpangoft2-1.0-0,libharfbuzz-subset0,fonts-dejavu-core"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/gait-base.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
debootstrap --variant=minbase --include="$PACKAGES" bookworm "$WORK/rootfs" "$MIRROR"
chroot "$WORK/rootfs" apt-get clean
rm -rf "$WORK/rootfs/var/lib/apt/lists/"* "$WORK/rootfs/var/cache/apt/"*.bin "$WORK/rootfs/var/log/"*
tar -C "$WORK/rootfs" --numeric-owner -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    --message "debootstrap --variant=minbase bookworm + $PACKAGES" - "$TAG"
