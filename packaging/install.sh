#!/bin/sh
# `make install` and `make uninstall` for nmstated.  The Makefile decides the
# directories and passes them in the environment; this script does the work:
#
#   install    a private virtualenv in $PKGLIBDIR with nmstated and its PyPI
#              dependencies (Debian 12's python3-dbus-fast, -pyroute2 and
#              -jsonschema are older than the project needs, and PEP 668 keeps
#              pip out of the system interpreter), nmstated and nmstatectl linked
#              into $SBINDIR and $BINDIR, and the service files: the unit and the
#              D-Bus activation file are written naming $SBINDIR/nmstated.
#              Everything it creates, files and directories, is listed in
#              $PKGLIBDIR/install-manifest.
#   uninstall  removes what the manifest lists, and nothing else.
#
# Paths in the manifest are final paths (without $DESTDIR), so a tree staged
# with DESTDIR= can be uninstalled wherever it was moved to.
set -eu
umask 022  # users must be able to run nmstatectl whatever root's umask is

SOURCE=$(cd "$(dirname "$0")/.." && pwd)
DESTDIR=${DESTDIR:-}
MANIFEST_NAME=install-manifest

say() { printf '%s\n' "$*"; }
die() {
    printf 'make %s: %s\n' "$ACTION" "$*" >&2
    exit 1
}

check_paths() {
    # Directories end up in sed replacements, the manifest and the unit: keep
    # them to plain absolute paths.
    for var in PREFIX BINDIR SBINDIR PKGLIBDIR UNITDIR DBUS_SERVICEDIR DBUS_POLICYDIR \
        DBUS_INTERFACEDIR POLKIT_ACTIONDIR MANDIR BASH_COMPLETIONDIR SERVICE_PYTHON; do
        eval "value=\${$var:-}"
        case $value in
            /*) ;;
            *) die "$var='$value' must be an absolute path" ;;
        esac
        case $value in
            *[!A-Za-z0-9._/+-]*) die "$var='$value': only letters, digits and . _ / + - are allowed" ;;
        esac
    done
    case $DESTDIR in
        '' | /*) ;;
        *) die "DESTDIR='$DESTDIR' must be empty or an absolute path" ;;
    esac
    case $DESTDIR in
        *[!A-Za-z0-9._/+-]*) die "DESTDIR='$DESTDIR': only letters, digits and . _ / + - are allowed" ;;
    esac
}

# -- where the readers look ------------------------------------------------------------------

in_list() { # in_list WORD LIST-SEPARATED-BY-COLONS
    case ":$2:" in *":$1:"*) return 0 ;; esac
    return 1
}

warn_unread() {
    # A custom PREFIX may put a file where its reader never looks: say so.
    unit_path=$(pkg-config --variable=systemd_system_unit_path systemd 2>/dev/null ||
        echo /etc/systemd/system:/usr/local/lib/systemd/system:/lib/systemd/system:/usr/lib/systemd/system)
    in_list "$UNITDIR" "$unit_path" ||
        say "warning: systemd does not read units from $UNITDIR; link nmstated.service into /etc/systemd/system"
    in_list "$DBUS_SERVICEDIR" \
        /usr/local/share/dbus-1/system-services:/usr/share/dbus-1/system-services:/lib/dbus-1/system-services ||
        say "warning: dbus-daemon does not read activation files from $DBUS_SERVICEDIR"
    in_list "$DBUS_POLICYDIR" /usr/share/dbus-1/system.d:/etc/dbus-1/system.d ||
        say "warning: dbus-daemon does not read bus policies from $DBUS_POLICYDIR"
    in_list "$POLKIT_ACTIONDIR" /usr/share/polkit-1/actions ||
        say "warning: polkitd does not read actions from $POLKIT_ACTIONDIR"
}

check_build_needs() {
    # systemd-python has no wheel on PyPI: pip compiles it.
    missing=
    "$SERVICE_PYTHON" -c 'import ensurepip, venv' 2>/dev/null || missing="$missing python3-venv"
    "$SERVICE_PYTHON" -c 'import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
        2>/dev/null || missing="$missing python3-dev"
    command -v gcc >/dev/null || missing="$missing gcc"
    command -v pkg-config >/dev/null || missing="$missing pkg-config"
    pkg-config --exists libsystemd 2>/dev/null || missing="$missing libsystemd-dev"
    [ -z "$missing" ] || die "missing Debian packages:$missing (apt-get install$missing)"
}

# -- install ---------------------------------------------------------------------------------

new_dirs() { # the directories (final paths) that creating $1 would create
    dir=$1
    while [ "$dir" != / ] && [ ! -e "$DESTDIR$dir" ]; do
        say "$dir"
        dir=$(dirname "$dir")
    done
}

refuse_foreign() { # refuse to overwrite a file make install did not put there
    [ ! -e "$DESTDIR$1" ] && [ ! -L "$DESTDIR$1" ] ||
        die "$DESTDIR$1 exists and was not installed by make install (a package's?); remove it first"
}

# put and link run twice: with PASS=check they only refuse to overwrite a
# file that is not ours, before anything is created; with PASS=copy they
# install and record.
put() { # put MODE SOURCE DEST-DIR [NAME]: copy a file
    dest=$3/${4:-$(basename "$2")}
    if [ "$PASS" = check ]; then
        refuse_foreign "$dest"
        return 0
    fi
    install -m "$1" "$2" "$DESTDIR$dest"
    say "f $dest" >>"$RECORD"
}

link() { # link TARGET DEST: a relative symlink, so that it also resolves under DESTDIR
    if [ "$PASS" = check ]; then
        refuse_foreign "$2"
        return 0
    fi
    ln -s "$(realpath -m -s --relative-to="$(dirname "$2")" "$1")" "$DESTDIR$2"
    say "f $2" >>"$RECORD"
}

template() { # template SOURCE KEY: $WORK/NAME is SOURCE with its KEY= line naming the daemon
    [ "$(grep -c "^$2=" "$1")" = 1 ] || die "$1: expected exactly one $2= line"
    sed "s|^$2=.*|$2=$SBINDIR/nmstated|" "$1" >"$WORK/$(basename "$1")"
}

place_files() {
    link "$PKGLIBDIR/bin/nmstated" "$SBINDIR/nmstated"
    link "$PKGLIBDIR/bin/nmstatectl" "$BINDIR/nmstatectl"
    template "$SOURCE/systemd/nmstated.service" ExecStart
    put 0644 "$WORK/nmstated.service" "$UNITDIR"
    template "$SOURCE/dbus/org.nmstate.service" Exec
    put 0644 "$WORK/org.nmstate.service" "$DBUS_SERVICEDIR"
    put 0644 "$SOURCE/dbus/org.nmstate.conf" "$DBUS_POLICYDIR"
    for xml in "$SOURCE"/dbus/org.nmstate.*.xml; do
        put 0644 "$xml" "$DBUS_INTERFACEDIR"
    done
    put 0644 "$SOURCE/dbus/org.nmstate.policy" "$POLKIT_ACTIONDIR"
    put 0644 "$SOURCE/docs/nmstatectl.1" "$MANDIR/man1"
    put 0644 "$SOURCE/docs/nmstatectl.bash-completion" "$BASH_COMPLETIONDIR" nmstatectl
}

build_venv() {
    venv=$DESTDIR$PKGLIBDIR
    "$SERVICE_PYTHON" -m venv "$venv"
    # Build from a copy: setuptools writes build/ and *.egg-info into the tree
    # it builds, and the checkout's belong to its development virtualenv.
    mkdir "$WORK/src"
    tar -C "$SOURCE" --exclude=__pycache__ -cf - pyproject.toml README.md nmstated client |
        tar -C "$WORK/src" -xf -
    "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check --no-input \
        --no-warn-script-location "$WORK/src"
    if [ -n "$DESTDIR" ]; then
        # The venv was made at its staging path: name its final one instead
        # (script shebangs, activate, pyvenv.cfg), and compile the bytecode
        # again so that tracebacks name the installed files.
        for file in "$venv"/bin/* "$venv/pyvenv.cfg"; do
            if [ -f "$file" ] && [ ! -L "$file" ] && grep -q -F "$venv" "$file"; then
                sed -i "s|$venv|$PKGLIBDIR|g" "$file"
            fi
        done
        "$venv/bin/python3" -m compileall -q -f -j 0 -s "$DESTDIR" -p / "$venv/lib" >/dev/null
    else
        "$venv/bin/python3" -m compileall -q -j 0 "$venv/lib" >/dev/null
    fi
    find "$venv" ! -type d | cut -c "$((${#DESTDIR} + 1))-" | sed 's/^/f /' >>"$RECORD"
    find "$venv" -type d | cut -c "$((${#DESTDIR} + 1))-" | sed 's/^/d /' >>"$RECORD"
}

remove_listed() { # remove the files, then the directories, a manifest lists
    sed -n 's/^f //p' "$1" | sed "s|^|$DESTDIR|" | xargs -r -d '\n' rm -f --
    # children sort after their parents: reversed, every directory comes
    # before the one holding it
    sed -n 's/^d //p' "$1" | sort -r | sed "s|^|$DESTDIR|" >"$1.dirs"
    # (one that is gone already is fine; one that is not empty is reported below)
    xargs -r -d '\n' rmdir --ignore-fail-on-non-empty -- <"$1.dirs" 2>/dev/null || true
    while IFS= read -r dir; do
        [ ! -d "$dir" ] || say "kept $dir: it holds files make install did not put there"
    done <"$1.dirs"
    rm -f "$1.dirs"
}

finish_install() { # on exit: clean up; after a failure, remove what was installed so far
    status=$?
    if [ "$status" != 0 ] && [ -n "${RECORD:-}" ]; then
        say "make install failed: removing what it installed" >&2
        [ -z "${VENV_STARTED:-}" ] || rm -rf -- "$DESTDIR$PKGLIBDIR"
        remove_listed "$RECORD" >&2
    fi
    rm -rf -- "$WORK" "${RECORD:-}"
    exit "$status"
}

do_install() {
    check_paths
    if [ -f "$DESTDIR$PKGLIBDIR/$MANIFEST_NAME" ]; then
        say "removing the previous install first"
        do_uninstall
    elif [ -e "$DESTDIR$PKGLIBDIR" ]; then
        die "$DESTDIR$PKGLIBDIR exists but has no $MANIFEST_NAME: remove it or choose another PKGLIBDIR"
    fi
    WORK=$(mktemp -d)
    trap finish_install EXIT
    PASS=check
    place_files
    check_build_needs
    warn_unread

    RECORD=$WORK/manifest
    dirs="$BINDIR $SBINDIR $(dirname "$PKGLIBDIR") $UNITDIR $DBUS_SERVICEDIR $DBUS_POLICYDIR"
    dirs="$dirs $DBUS_INTERFACEDIR $POLKIT_ACTIONDIR $MANDIR/man1 $BASH_COMPLETIONDIR"
    for dir in $dirs; do
        new_dirs "$dir" | sed 's/^/d /' >>"$RECORD"
        install -d -m 0755 "$DESTDIR$dir"
    done

    say "building the virtualenv $DESTDIR$PKGLIBDIR (nmstated and its dependencies from PyPI)"
    VENV_STARTED=1
    build_venv
    PASS=copy
    place_files

    say "f $PKGLIBDIR/$MANIFEST_NAME" >>"$RECORD"
    sort -u "$RECORD" >"$DESTDIR$PKGLIBDIR/$MANIFEST_NAME"
    chmod 0644 "$DESTDIR$PKGLIBDIR/$MANIFEST_NAME"

    say "installed nmstated into ${DESTDIR:-/} (files listed in $PKGLIBDIR/$MANIFEST_NAME)"
    if [ -z "$DESTDIR" ]; then
        say "next: systemctl daemon-reload; the first call to org.nmstate starts nmstated.service"
    fi
}

# -- uninstall -------------------------------------------------------------------------------

do_uninstall() {
    check_paths
    manifest=$DESTDIR$PKGLIBDIR/$MANIFEST_NAME
    if [ ! -f "$manifest" ]; then
        say "nothing to uninstall: no $manifest"
        return 0
    fi
    # the manifest lists itself: read it from a copy
    listed=$(mktemp)
    cp "$manifest" "$listed"
    remove_listed "$listed"
    rm -f "$listed"
    say "uninstalled nmstated from ${DESTDIR:-/}"
}

ACTION=${1:-}
case $ACTION in
    install) do_install ;;
    uninstall) do_uninstall ;;
    *) die "usage: $0 install|uninstall (run through make, which sets the directories)" ;;
esac
