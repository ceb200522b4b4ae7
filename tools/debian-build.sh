#!/usr/bin/env bash
# shellcheck disable=SC2016  # dpkg-query -f '${Field}': not shell expansions
# SPDX-License-Identifier: Apache-2.0
# Builds the Debian packages of librnn inside a Debian root (by default the
# trixie root of tools/trixie-root.sh), the way sbuild or pbuilder would, then
# checks them: lintian (no error, no warning), install, and every autopkgtest
# of debian/tests run from the unpacked source package against the installed
# packages. Run as root from anywhere in the git tree.
#
#   tools/debian-build.sh [--worktree] [ROOT]
#
#   ROOT        default ${LIBRNN_TRIXIE_ROOT:-/var/cache/librnn/trixie}; it must
#               hold the build dependencies (tools/trixie-root.sh installs them)
#   --worktree  package the working tree (tracked and untracked files that git
#               does not ignore) instead of the committed HEAD
#
# Environment: DEB_BUILD_OPTIONS is passed to dpkg-buildpackage (default
# "parallel=2", which CI uses too: the build runs the test suite, as Debian's
# buildds would), and so is DEB_BUILD_PROFILES (e.g. nocheck).
# LIBRNN_DEB_KEEP=1 leaves the packages installed at the end (they are always removed first, so runs do not depend on each other).
# Work directory: ROOT/build/librnn-deb (emptied at each run), or the
# directory inside ROOT that LIBRNN_DEB_WORK names (an absolute path such as
# /src/mybranch, so that a second checkout's runs leave CI's alone); the .deb,
# .dsc and .changes files stay there.
set -euo pipefail

mode="head"
if [ "${1:-}" = "--worktree" ]; then
    mode=worktree
    shift
fi
root=${1:-${LIBRNN_TRIXIE_ROOT:-/var/cache/librnn/trixie}}
root=${root%/}
build_options=${DEB_BUILD_OPTIONS-parallel=2}
# Every binary package of debian/control (not the -dbgsym ones).
libs="librnn0 librnn-onnx0 librnn-keras0 librnn-mpi0"   # each with its .symbols
packages="$libs librnn-dev librnn-onnx-dev librnn-keras-dev librnn-mpi-dev python3-librnn"
work=${LIBRNN_DEB_WORK:-/build/librnn-deb}   # inside the root
work=/${work#/}
work=${work%/}
case $work in
    / | */.. | */../* | *[!A-Za-z0-9/._-]*)
        echo "tools/debian-build.sh: LIBRNN_DEB_WORK=$work: not a plain directory inside the root" >&2
        exit 1 ;;
esac
path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"

step() { printf '\n===== %s =====\n' "$*"; }
t0=$(date +%s)
t_step=$t0
timing=""
done_step() { # name: records how long the step since the previous call took
    local now
    now=$(date +%s)
    timing="$timing$(printf '  %-34s %5d s' "$1" $((now - t_step)))"$'\n'
    t_step=$now
}
# Runs a command inside the root with a clean environment.
in_root() {
    chroot "$root" /usr/bin/env -i PATH="$path" HOME=/root LC_ALL=C.UTF-8 TERM=dumb \
        DEBIAN_FRONTEND=noninteractive "$@"
}

if [ "$(id -u)" -ne 0 ]; then
    echo "tools/debian-build.sh: chroot needs root" >&2
    exit 1
fi
if [ ! -x "$root/usr/bin/dpkg-buildpackage" ] || [ ! -x "$root/usr/bin/lintian" ]; then
    echo "tools/debian-build.sh: $root is not a Debian root with dpkg-dev and lintian" >&2
    echo "make it with: tools/trixie-root.sh $root" >&2
    exit 1
fi

mounted=0
cleanup() {
    if [ "$mounted" = 1 ]; then
        umount "$root/proc" || umount -l "$root/proc" || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if ! mountpoint -q "$root/proc"; then
    mount -t proc proc "$root/proc"
    mounted=1
fi
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

# ------------------------------------------------------------------ source
step "source package tree ($mode) -> $root$work"
first=$(sed -n '1p' debian/changelog)
version=$(printf '%s\n' "$first" | sed -n 's/^librnn (\([^)]*\)).*/\1/p')
if [ -z "$version" ]; then
    echo "cannot read the version from debian/changelog: $first" >&2
    exit 1
fi
upstream=${version#*:}
upstream=${upstream%-*}
echo "Debian version $version, upstream $upstream, root $(cat "$root/etc/debian_version")"

# Packages from an earlier run would satisfy the tests without this build's.
installed=""
for p in $packages; do
    if in_root dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        installed="$installed $p"
    fi
done
if [ -n "$installed" ]; then
    echo "removing the packages of an earlier run:$installed"
    # shellcheck disable=SC2086
    in_root dpkg --purge $installed >/dev/null
fi

rm -rf "${root:?}$work"
mkdir -p "$root$work/librnn-$upstream"
dest="$root$work/librnn-$upstream"
if [ "$mode" = head ]; then
    git archive --format=tar HEAD | tar -xf - -C "$dest"
    echo "git archive of HEAD $(git rev-parse --short HEAD)"
    if ! git diff --quiet HEAD -- debian 2>/dev/null; then
        echo "note: debian/ has uncommitted changes, not packaged (use --worktree)"
    fi
else
    git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
        tar --null -T - -cf - | tar -xf - -C "$dest"
    echo "working tree at HEAD $(git rev-parse --short HEAD) with its uncommitted changes"
fi
# The upstream tarball: the same tree without debian/ (format 3.0 (quilt)).
epoch=$(git log -1 --format=%ct HEAD)
tar -C "$root$work" --exclude="librnn-$upstream/debian" --sort=name --mtime="@$epoch" \
    --owner=0 --group=0 --numeric-owner -cJf "$root$work/librnn_$upstream.orig.tar.xz" \
    "librnn-$upstream"
echo "librnn_$upstream.orig.tar.xz: $(stat -c %s "$root$work/librnn_$upstream.orig.tar.xz") bytes"
done_step "copy the tree, orig tarball"

# ------------------------------------------------------------------ build
step "dpkg-buildpackage -us -uc (DEB_BUILD_OPTIONS=\"$build_options\"${DEB_BUILD_PROFILES:+ DEB_BUILD_PROFILES=\"$DEB_BUILD_PROFILES\"})"
in_root dpkg-query -W -f='${Package} ${Version}\n' libdnnl-dev meson debhelper lintian python3 |
    sed 's/^/  /'
set +e
in_root env DEB_BUILD_OPTIONS="$build_options" DEB_BUILD_PROFILES="${DEB_BUILD_PROFILES:-}" sh -c \
    "cd $work/librnn-$upstream && dpkg-buildpackage -us -uc" 2>&1 | tee "$root$work/build.log"
build_rc=${PIPESTATUS[0]}
set -e
if [ "$build_rc" -ne 0 ]; then
    echo "dpkg-buildpackage failed (status $build_rc); log: $root$work/build.log" >&2
    exit 1
fi
changes=$(cd "$root$work" && for f in librnn_*.changes; do
    case $f in *_source.changes) ;; *) echo "$f" ;; esac; done | head -n 1)
echo "built: $changes"
done_step "dpkg-buildpackage"

# ------------------------------------------------------------------ symbols
step "dpkg-gensymbols -c4 (every exported symbol in debian/PACKAGE.symbols)"
in_root sh -c "cd $work && rm -rf symcheck && mkdir symcheck"
for p in $libs; do
    lib_deb=$(cd "$root$work" && ls "${p}"_*.deb)
    soname=${p%0}.so.0
    in_root sh -c "cd $work && dpkg-deb -x $lib_deb symcheck/$p && cd librnn-$upstream &&
        dpkg-gensymbols -c4 -p$p -P../symcheck/$p -v$version -O../symcheck/$p.symbols &&
        echo \"$p: no differences: \$(grep -c '@' ../symcheck/$p.symbols) symbols, nm -D: \$(nm -D --defined-only ../symcheck/$p/usr/lib/*/$soname | wc -l) defined in $soname\""
done
done_step "dpkg-gensymbols"

# ------------------------------------------------------------------ lintian
step "lintian --pedantic --info --show-overrides $changes"
set +e
in_root sh -c "cd $work && lintian --pedantic --info --show-overrides --fail-on error,warning $changes" \
    >"$root$work/lintian.txt" 2>&1
lintian_rc=$?
set -e
cat "$root$work/lintian.txt"
in_root dpkg-query -W -f='(lintian ${Version}) ' lintian
echo "tags by severity: $(grep -E '^[EWIPXO]: ' "$root$work/lintian.txt" | cut -c1 | sort |
    uniq -c | awk '{printf "%s %s  ", $2, $1}')"
if [ "$lintian_rc" -ne 0 ] || grep -q '^[EW]: ' "$root$work/lintian.txt"; then
    echo "lintian: errors or warnings (status $lintian_rc)" >&2
    exit 1
fi
echo "lintian: no errors, no warnings"
done_step "lintian"

# ------------------------------------------------------------------ install
step "install the packages in the root"
debs=""
for p in $packages; do
    f=$(cd "$root$work" && ls "${p}"_*.deb)
    debs="$debs ./$f"
    printf '%-16s %-22s %8s bytes  Installed-Size %s KiB\n' "$p" "$f" \
        "$(stat -c %s "$root$work/$f")" "$(in_root dpkg-deb -f "$work/$f" Installed-Size)"
    in_root dpkg-deb -c "$work/$f" | awk '{print "    " $6 ($7 ? " " $7 " " $8 : "")}'
done
chmod -R a+rX "$root$work"
# shellcheck disable=SC2086
in_root sh -c "cd $work && apt-get install -y -q -o Dpkg::Use-Pty=0 --no-install-recommends $debs" |
    grep -E '^(Setting up|Unpacking|E:)' || true
for p in $packages; do
    in_root dpkg-query -W -f='installed: ${Package} ${Version} (${Status})\n' "$p"
done
done_step "install"

# ------------------------------------------------------------------ autopkgtests
# Run as CI runs them: AUTOPKGTEST_TMP=$(mktemp -d) debian/tests/NAME, from the
# unpacked source package (not the build tree), against the installed packages.
step "autopkgtests (debian/tests/control) from the unpacked source package"
dsc=$(cd "$root$work" && ls librnn_*.dsc)
in_root sh -c "cd $work && dpkg-source -x --skip-patches $dsc test-src >/dev/null"
names=$(sed -n 's/^Tests:[[:space:]]*//p' debian/tests/control | tr ',' ' ')
failed=""
for t in $names; do
    printf '\n--- debian/tests/%s\n' "$t"
    ts=$(date +%s)
    if in_root sh -c "cd $work/test-src && AUTOPKGTEST_TMP=\$(mktemp -d) debian/tests/$t"; then
        echo "--- $t: PASS ($(( $(date +%s) - ts )) s)"
    else
        echo "--- $t: FAIL ($(( $(date +%s) - ts )) s)"
        failed="$failed $t"
    fi
done
done_step "autopkgtests"

if [ "${LIBRNN_DEB_KEEP:-0}" != 1 ]; then
    # shellcheck disable=SC2086
    in_root dpkg --purge $packages >/dev/null
    echo
    echo "packages removed from the root again (LIBRNN_DEB_KEEP=1 keeps them)"
fi

step "summary"
printf '%s' "$timing"
printf '  %-34s %5d s\n' "total" $(( $(date +%s) - t0 ))
if [ -n "$failed" ]; then
    echo "autopkgtests FAILED:$failed"
    exit 1
fi
echo "Debian packages built, lintian clean, autopkgtests passed ($root$work)"
