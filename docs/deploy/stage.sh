#!/bin/sh
# Stages a gostash installation under $DESTDIR for a package builder
# (dpkg-deb, rpmbuild, nfpm) or a plain copy: see docs/deploy.md.
#
#   DESTDIR=pkgroot docs/deploy/stage.sh bin/gostash
set -eu
bin=${1:?usage: DESTDIR=DIR stage.sh PATH/TO/gostash}
dest=${DESTDIR:?set DESTDIR to the directory to stage into}
here=$(dirname "$0")
docs=$here/..

install -D -m 0755 "$bin" "$dest/usr/bin/gostash"
install -D -m 0644 "$here/gostash.service" "$dest/usr/lib/systemd/system/gostash.service"
# The user and group, made by systemd-sysusers when the package installs.
install -D -m 0644 "$here/gostash.sysusers" "$dest/usr/lib/sysusers.d/gostash.conf"
# Pipelines: every *.hcl here, joined in lexical order (-f DIR).
install -d -m 0755 "$dest/etc/gostash/conf.d"
# Third-party plugin binaries (add --path.plugins /usr/lib/gostash/plugins).
install -d -m 0755 "$dest/usr/lib/gostash/plugins"
# /var/lib/gostash is systemd's StateDirectory=: made at start, owned by
# the user; the package leaves it alone, so state survives an upgrade.
for doc in operations.md deploy.md getting-started.md; do
	install -D -m 0644 "$docs/$doc" "$dest/usr/share/doc/gostash/$doc"
done
"$bin" completion bash | install -D -m 0644 /dev/stdin "$dest/usr/share/bash-completion/completions/gostash"
"$bin" completion zsh | install -D -m 0644 /dev/stdin "$dest/usr/share/zsh/vendor-completions/_gostash"
"$bin" completion fish | install -D -m 0644 /dev/stdin "$dest/usr/share/fish/vendor_completions.d/gostash.fish"
