#!/bin/sh
# port.sh LOGSTASH_PATTERNS_CORE_DIR: runs its spec/patterns/*.rb with
# this folder's spec_helper.rb, which records each grok run and each
# expectation instead of matching, and writes ../spec.jsonl. Needs ruby
# and rspec 3 (Debian: apt-get install ruby-rspec).
set -eu
src=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lib/logstash/patterns" "$work/specs"
cp "$here/spec_helper.rb" "$work/lib/"
touch "$work/lib/logstash/patterns/core.rb"
cp "$src"/spec/patterns/*_spec.rb "$work/specs/"
# RSpec reports the two pending examples that pass as failures (the port
# records them, with their pending note, all the same), so its exit status
# says nothing; the helper writes the file only when every example ported.
out="$here/../spec.jsonl"
rm -f "$out"
(cd "$work" && PORT_OUT="$out" rspec -I lib --require spec_helper --order defined specs/ >/dev/null) || true
test -s "$out" || { echo "port.sh: no $out written: see the examples listed above" >&2; exit 1; }
echo "$(wc -l < "$here/../spec.jsonl") examples in $here/../spec.jsonl"
