#!/usr/bin/env bash
# testenv.sh: real servers for gostash's tests, as plain JVMs on 127.0.0.1.
#
#   testenv.sh up       start the servers (a no-op for those already running)
#   testenv.sh down     stop them all and remove their data
#   testenv.sh status   say what runs
#   testenv.sh env      print the path of the env file the Go helpers read
#   testenv.sh kafka-node kill|stop|cont|revive|start|pid|port CLUSTER NODE
#                       what fault tests do to one broker of kafka-faults (or kafka)
#   testenv.sh es-node kill|start|pid|url NODE
#                       what fault tests do to one node of es-faults
#
# Environment:
#   TESTENV=kafka,kafka-faults,elasticsearch,opensearch   which servers `up` starts
#                                           (any subset; all by default; es-faults
#                                           only when named or with ES_NODES)
#   KAFKA_BROKERS=1                         3 gives a three-broker cluster, one quorum
#   ES_NODES=2                              also start es-faults, a cluster of that many
#                                           Elasticsearch nodes (2..9) for fault tests
#   ES_FAULTS_HEAP                          heap of each es-faults node (320m)
#   KAFKA_FAULTS_HEAP                       heap of each of kafka-faults' 3 brokers (384m)
#   KAFKA_VERSION, ES_VERSION, OPENSEARCH_VERSION, LOG4J_VERSION   pin other versions
#   KAFKA_HEAP, ES_HEAP, OPENSEARCH_HEAP    JVM heaps (default 512m each)
#   TESTENV_USER                             user the search engines run as when we are root
#   TESTENV_TIMEOUT                          seconds to wait for a server (default 180)
#   TESTENV_ENGINE_JVM_OPTS, KAFKA_JVM_OPTS  extra JVM options for the engines, for Kafka
#
# Everything comes from package registries only: the jars and zips from Maven Central
# through Maven's local repository (~/.m2), kcat from Debian. The unpacked servers are
# cached under .testenv/cache so a second `up` takes seconds; `down` keeps the cache.
set -euo pipefail

KAFKA_VERSION=${KAFKA_VERSION:-4.4.0}
LOG4J_VERSION=${LOG4J_VERSION:-2.25.5}
ES_VERSION=${ES_VERSION:-8.19.21}
OPENSEARCH_VERSION=${OPENSEARCH_VERSION:-2.19.6}
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

KAFKA_HEAP=${KAFKA_HEAP:-512m}
KAFKA_FAULTS_HEAP=${KAFKA_FAULTS_HEAP:-384m}
ES_HEAP=${ES_HEAP:-512m}
ES_FAULTS_HEAP=${ES_FAULTS_HEAP:-320m}
OPENSEARCH_HEAP=${OPENSEARCH_HEAP:-512m}
TESTENV_USER=${TESTENV_USER:-gostash-testenv}
TESTENV_TIMEOUT=${TESTENV_TIMEOUT:-180}
ALL_SERVICES="kafka kafka-faults elasticsearch opensearch"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { echo "testenv: $*" >&2; exit 1; }
say() { echo "testenv: $*"; }

# The repository root is where go.mod is; .testenv/ lives there.
find_root() {
	local d=$HERE
	while [[ $d != / ]]; do
		[[ -f $d/go.mod ]] && { echo "$d"; return; }
		d=$(dirname "$d")
	done
	die "no go.mod above $HERE: run this script from a gostash checkout"
}
ROOT=$(find_root)

# others_can_enter DIR: every folder from / down to DIR lets other users through.
others_can_enter() {
	local d=$1
	while [[ $d != / ]]; do
		[[ $(stat -c %A "$d") == *[xt] ]] || return 1
		d=$(dirname "$d")
	done
}

# The search engines run as another user, who must reach their files. A checkout
# under a private folder (/root is 0700) gets its .testenv in /var/tmp instead,
# linked from the checkout; TE is the real path, so every path the engines see is
# reachable.
if [[ ! -e $ROOT/.testenv && $(id -u) -eq 0 ]] && ! others_can_enter "$ROOT"; then
	alt=/var/tmp/gostash-testenv-$(printf %s "$ROOT" | md5sum | cut -c1-12)
	mkdir -p "$alt"
	chmod 755 "$alt"
	ln -s "$alt" "$ROOT/.testenv"
fi
TE=$(readlink -f "$ROOT/.testenv" 2>/dev/null || echo "$ROOT/.testenv")
CACHE=$TE/cache
DATA=$TE/data
LOGS=$TE/logs
ENV_FILE=$TE/env

# ---------------------------------------------------------------- prerequisites

as_root() { [[ $(id -u) -eq 0 ]]; }

# apt_install PKG...: Debian packages the script needs on a fresh machine.
# retry TRIES COMMAND...: run COMMAND until it succeeds, TRIES times at most,
# waiting 2, 4, 8... s between tries. Registries answer 503 now and then, and a
# fresh machine's first `make test` must not fail on one.
retry() {
	local tries=$1 i wait=2
	shift
	for ((i = 1; ; i++)); do
		"$@" && return 0
		((i >= tries)) && return 1
		say "$1 failed (try $i of $tries); again in ${wait}s"
		sleep "$wait"
		wait=$((wait * 2))
	done
}

apt_get_install() {
	# The package lists may be absent or stale on a fresh machine: update only if needed.
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; }
}

apt_install() {
	as_root || die "missing $*: install it with 'sudo apt-get install -y $*' and rerun"
	say "installing $* from Debian's packages"
	retry 4 apt_get_install "$@" || die "apt-get install $* failed; install it by hand and rerun"
}

need_cmd() { # need_cmd COMMAND DEBIAN_PACKAGE
	command -v "$1" >/dev/null 2>&1 || apt_install "$2"
}

# Both engines and Kafka 4 run on Java 17 (Elasticsearch 8 and OpenSearch 2 also
# on 21, but 9.x/3.x would need 21: we stay on 17, what the machines ship).
find_java17() {
	local j
	for j in "${JAVA17_HOME:-}" "${JAVA_HOME:-}" /usr/lib/jvm/java-17-openjdk-* /usr/lib/jvm/*17*; do
		[[ -n $j && -x $j/bin/java ]] || continue
		if "$j/bin/java" -version 2>&1 | grep -q 'version "17'; then
			echo "$j"
			return
		fi
	done
	return 1
}

ensure_java() {
	JAVA17=$(find_java17) || { apt_install openjdk-17-jre-headless; JAVA17=$(find_java17); } ||
		die "no Java 17 found: install openjdk-17-jre-headless or set JAVA17_HOME"
	JAVA=$JAVA17/bin/java
}

# Elasticsearch and OpenSearch refuse to run as root. When we are root, they run as
# an unprivileged system user created here; otherwise as whoever runs this script.
ensure_user() {
	if ! as_root; then
		RUN_AS=()
		return
	fi
	if ! id -u "$TESTENV_USER" >/dev/null 2>&1; then
		say "creating user $TESTENV_USER to run the search engines (they refuse root)"
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$TESTENV_USER" ||
			die "useradd $TESTENV_USER failed; create an unprivileged user and set TESTENV_USER"
	fi
	RUN_AS=(runuser -u "$TESTENV_USER" --)
	# The user must reach the unpacked servers; a checkout under a private home (0700)
	# would make the engines die with a puzzling "permission denied".
	runuser -u "$TESTENV_USER" -- test -x "$TE" ||
		die "user $TESTENV_USER cannot enter $TE: make its parent folders traversable (chmod o+x), or remove $TE to have it made in /var/tmp"
}

# ---------------------------------------------------------------- ports

# free_port VAR: sets VAR to a port nothing listens on, below Linux's ephemeral
# range (32768+) so outgoing connections cannot take it before the server binds it.
# No $(...): the ports picked so far must be remembered in this shell.
PICKED=" "
free_port() {
	local p i
	for i in $(seq 1 200); do
		p=$((20000 + RANDOM % 12000))
		[[ $PICKED == *" $p "* ]] && continue
		if [[ -z $(ss -Htan "( sport = :$p )" 2>/dev/null) ]]; then
			PICKED+="$p "
			printf -v "$1" %s "$p"
			return
		fi
	done
	die "found no free port in 20000-32000"
}

# ---------------------------------------------------------------- processes

# alive PID: the process runs and is one of ours (its command line names this
# checkout's .testenv, or it is this script's launcher subshell): a pid file left by
# a reboot must not get an unrelated process that reused the number killed.
alive() {
	[[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null &&
		tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -e "$TE/" -e "testenv.sh"
}
pid_of() { cat "$1" 2>/dev/null || true; }

# stop_pids SECONDS NAME PID...: TERM them all at once, KILL what still runs after
# SECONDS; returns when all are gone. All at once matters for Kafka: a broker
# stopped last in a cluster waits for a controller quorum that is already gone.
stop_pids() {
	local secs=$1 name=$2 pid left="" i
	shift 2
	for pid in "$@"; do alive "$pid" && left+=" $pid"; done
	[[ -n $left ]] || return 0
	# shellcheck disable=SC2086 # a list of pids, split on purpose
	set -- $left # only our own processes get signals
	kill -TERM "$@" 2>/dev/null || true
	kill -CONT "$@" 2>/dev/null || true # a broker a fault test froze (SIGSTOP) must see it
	for i in $(seq 1 $((secs * 10))); do
		left=""
		for pid in "$@"; do alive "$pid" && left+=" $pid"; done
		[[ -z $left ]] && { reaped "$@"; return 0; }
		sleep 0.1
	done
	# The data is deleted next, so nothing is lost by not waiting longer.
	say "$name (pid$left) still running ${secs}s after SIGTERM; killing it"
	for pid in $left; do
		kill -KILL "$pid" 2>/dev/null || true
		while alive "$pid"; do sleep 0.1; done
	done
	reaped "$@"
}

# reaped PID...: an exited server is a zombie until init reaps it, and `pgrep java`
# still lists it: wait (5 s at most) so "down" really leaves no JVM behind.
reaped() {
	local pid i
	for pid in "$@"; do
		for i in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	done
}

stop_pid() { # stop_pid PID NAME
	[[ -n ${1:-} ]] || return 0
	stop_pids 30 "$2" "$1"
}

# show_log FILE...: the last lines of each log that exists, for a failed start.
show_log() {
	local f
	for f in "$@"; do
		[[ -s $f ]] || continue
		echo "----- last lines of $f -----" >&2
		tail -n 40 "$f" >&2
	done
}

# ---------------------------------------------------------------- artifacts

# Kafka's jars, copied from ~/.m2 (downloaded there first if missing).
fetch_kafka() {
	KAFKA_LIBS=$CACHE/kafka-$KAFKA_VERSION/libs
	# kafka-tools joined the list later: a cache without it is collected again.
	[[ -f $KAFKA_LIBS/.complete && -f $KAFKA_LIBS/kafka-tools-$KAFKA_VERSION.jar ]] && return
	need_cmd mvn maven
	say "collecting Kafka $KAFKA_VERSION jars through Maven (first run only)"
	rm -rf "$KAFKA_LIBS"
	mkdir -p "$KAFKA_LIBS"
	retry 4 mvn -B -q -f "$HERE/kafka.pom.xml" "$DEP_PLUGIN:copy-dependencies" \
		-Dkafka.version="$KAFKA_VERSION" -Dlog4j.version="$LOG4J_VERSION" \
		-DoutputDirectory="$KAFKA_LIBS" -DincludeScope=runtime >"$LOGS/maven-kafka.log" 2>&1 ||
		{ show_log "$LOGS/maven-kafka.log"; die "Maven could not collect Kafka's jars (log above)"; }
	touch "$KAFKA_LIBS/.complete"
}

# fetch_zip NAME GROUP ARTIFACT VERSION: unpack a search engine's test distribution
# (a zip on Maven Central) into the cache; sets ZIP_HOME.
fetch_zip() {
	local name=$1 group=$2 artifact=$3 version=$4 dl
	ZIP_HOME=$CACHE/$artifact-$version
	[[ -f $ZIP_HOME/.complete ]] && return
	need_cmd mvn maven
	need_cmd unzip unzip
	say "fetching $name $version through Maven (first run only)"
	dl=$CACHE/download
	rm -rf "$ZIP_HOME" "$dl"
	mkdir -p "$dl"
	retry 4 mvn -B -q "$DEP_PLUGIN:copy" -Dartifact="$group:$artifact:$version:zip" \
		-DoutputDirectory="$dl" >"$LOGS/maven-$name.log" 2>&1 ||
		{ show_log "$LOGS/maven-$name.log"; die "Maven could not fetch $group:$artifact:$version:zip (log above)"; }
	unzip -q "$dl/$artifact-$version.zip" -d "$CACHE" ||
		die "unzip of $dl/$artifact-$version.zip failed; remove $CACHE and rerun"
	rm -rf "$dl"
	[[ -x $ZIP_HOME/bin/$artifact ]] || die "$ZIP_HOME/bin/$artifact missing after unzip"
	touch "$ZIP_HOME/.complete"
}

# ---------------------------------------------------------------- kafka
# Two clusters, one code path: "kafka", which every test shares (KAFKA_BROKERS
# nodes), and "kafka-faults", three nodes that only the fault tests use: they kill
# and stop its brokers, which would break any other test on the shared one.
# kafka_vars CLUSTER sets K_* for the functions below.
kafka_vars() {
	case $1 in
	kafka) K_NODES=$KAFKA_BROKERS K_HEAP=$KAFKA_HEAP K_ENV=KAFKA ;;
	kafka-faults) K_NODES=3 K_HEAP=$KAFKA_FAULTS_HEAP K_ENV=KAFKA_FAULTS ;;
	*) die "unknown Kafka cluster '$1': kafka or kafka-faults" ;;
	esac
	K_NAME=$1 K_DIR=$DATA/$1
}

kafka_bootstrap() { # CLUSTER [LISTENER]: from the nodes' recorded ports (broker, sasl, ssl, sasl_ssl)
	local f out=""
	for f in "$DATA/$1"/node-*/"${2:-broker}.port"; do
		[[ -f $f ]] || continue
		out+="${out:+,}127.0.0.1:$(cat "$f")"
	done
	echo "$out"
}

kafka_count() { # CLUSTER
	local d n=0
	for d in "$DATA/$1"/node-*; do [[ -d $d ]] && n=$((n + 1)); done
	echo "$n"
}

kafka_alive_count() { # CLUSTER: how many recorded nodes run
	local d n=0
	for d in "$DATA/$1"/node-*; do
		[[ -d $d ]] && alive "$(pid_of "$d/pid")" && n=$((n + 1))
	done
	echo "$n"
}

kafka_running() { # CLUSTER: all recorded nodes alive
	local n
	n=$(kafka_count "$1")
	[[ $n -gt 0 && $(kafka_alive_count "$1") -eq $n ]]
}

# kafka_ready CLUSTER N [BROKER]: BROKER (by default each node in turn) answers a
# metadata request listing all N brokers. Each node, not any: for a few seconds
# after a kill the others still list the dead one.
kafka_ready() {
	local f
	if [[ -n ${3:-} ]]; then
		kcat -L -b "$3" -m 3 2>/dev/null | grep -q "^ *$2 brokers:"
		return
	fi
	for f in "$DATA/$1"/node-*/broker.port; do
		kafka_ready "$1" "$2" "127.0.0.1:$(cat "$f")" || return 1
	done
}

# Uuid.randomUuid's string form: 16 random bytes, URL-safe base64 without padding.
# Generated here to save a JVM start; Kafka rejects ids that start with '-'.
kafka_cluster_id() {
	local id
	while :; do
		id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22)
		[[ $id != -* ]] && { echo "$id"; return; }
	done
}

# stopped PID: the process is stopped by a signal (SIGSTOP), state T in /proc.
stopped() {
	[[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) == [Tt] ]]
}

# launch_node CLUSTER NODE: start node NODE from the command recorded in its
# folder (node-N/cmd, NUL-separated) when the cluster was made, so a node a fault
# test killed comes back exactly as it was: same ports, data and cluster id.
launch_node() {
	local cluster=$1 i=$2 d=$DATA/$1/node-$2
	local -a cmd
	[[ -f $d/cmd ]] || return 1
	mapfile -d '' cmd <"$d/cmd"
	[[ ${#cmd[@]} -gt 0 ]] || return 1
	echo "----- $(date '+%F %T') launched" >>"$LOGS/$cluster-$i.out"
	# setsid: the broker must not die with the shell, make or test that started it.
	setsid "${cmd[@]}" >>"$LOGS/$cluster-$i.out" 2>&1 </dev/null 8>&- 9>&- &
	echo $! >"$d/pid"
}

# revive_node CLUSTER NODE: a stopped node continues, a dead one is launched
# again; a running one is left alone. One at a time per node (testenv.sh up and a
# test's cleanup may both try).
revive_node() {
	local d=$DATA/$1/node-$2 pid
	[[ -d $d ]] || die "$1 has no node $2 (nodes: $(kafka_count "$1"))"
	exec 8>"$d/lock"
	flock -w 60 8 || die "$d/lock is held for a minute"
	pid=$(pid_of "$d/pid")
	if alive "$pid"; then
		stopped "$pid" && { kill -CONT "$pid"; say "$1 node $2 (pid $pid) continued"; }
	else
		launch_node "$1" "$2" || { exec 8>&-; return 1; }
		say "$1 node $2 restarted (pid $(pid_of "$d/pid"))"
	fi
	exec 8>&-
}

# The shared cluster "kafka" also has SASL_PLAINTEXT, SSL and SASL_SSL listeners
# (kafka-security.properties.tmpl) for the security tests; kafka-faults has not.
# One user for PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512; test credentials, not secrets.
KAFKA_SASL_USER=gostash
KAFKA_SASL_PASSWORD=gostash-secret
SECURE_LISTENERS="sasl ssl sasl_ssl" # node-N/<name>.port; listener SASL_PLAINTEXT, SSL, SASL_SSL

kafka_has_security() { [[ $1 == kafka ]]; } # CLUSTER: is it made with the security listeners?

# kafka_secured CLUSTER: every node of it runs with the security listeners (a
# cluster made by an older testenv.sh has none, and no SCRAM users).
kafka_secured() {
	local d
	for d in "$DATA/$1"/node-*; do
		[[ -f $d/sasl_ssl.port ]] && grep -q '^listener.name.sasl_ssl' "$d/server.properties" 2>/dev/null || return 1
	done
}

# kafka_tls DIR: a test CA (ca.pem) and a broker certificate for 127.0.0.1 and
# localhost signed by it; broker.pem is the unencrypted PKCS#8 key and the chain,
# what Kafka's ssl.keystore.type=PEM reads. Kept while the cluster lives.
kafka_tls() {
	local dir=$1 ext
	[[ -s $dir/broker.pem && -s $dir/ca.pem ]] && return
	need_cmd openssl openssl
	rm -rf "$dir"
	mkdir -p "$dir"
	ext=$dir/broker.ext
	printf '%s\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost' 'basicConstraints=critical,CA:FALSE' \
		'keyUsage=critical,digitalSignature,keyEncipherment' 'extendedKeyUsage=serverAuth' >"$ext"
	{
		openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj '/CN=gostash testenv CA' \
			-addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
			-keyout "$dir/ca.key" -out "$dir/ca.pem" &&
			openssl req -newkey rsa:2048 -nodes -subj '/CN=localhost' -keyout "$dir/broker.key" -out "$dir/broker.csr" &&
			openssl x509 -req -in "$dir/broker.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
				-days 3650 -extfile "$ext" -out "$dir/broker.crt"
	} >"$LOGS/kafka-tls.log" 2>&1 || { show_log "$LOGS/kafka-tls.log"; die "openssl could not make the test certificates (log above)"; }
	cat "$dir/broker.key" "$dir/broker.crt" "$dir/ca.pem" >"$dir/broker.pem"
	chmod 644 "$dir"/*.pem
}

# kafka_render_node CLUSTER NODE VOTERS: node-N/server.properties and node-N/cmd
# from the ports recorded in node-N (broker.port, controller.port, and for a
# cluster with security sasl.port, ssl.port, sasl_ssl.port). Needs K_*, JAVA, KAFKA_LIBS.
kafka_render_node() {
	local cluster=$1 i=$2 voters=$3 d=$DATA/$1/node-$2 listeners="" protocols="" tls=""
	local bport cport
	bport=$(cat "$d/broker.port")
	cport=$(cat "$d/controller.port")
	if kafka_has_security "$cluster"; then
		listeners=",SASL_PLAINTEXT://127.0.0.1:$(cat "$d/sasl.port"),SSL://127.0.0.1:$(cat "$d/ssl.port"),SASL_SSL://127.0.0.1:$(cat "$d/sasl_ssl.port")"
		protocols=",SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL"
		tls=$DATA/$cluster/tls
	fi
	{
		sed -e "s|@NODE_ID@|$i|g" -e "s|@VOTERS@|$voters|g" \
			-e "s|@BROKER_PORT@|$bport|g" -e "s|@CONTROLLER_PORT@|$cport|g" \
			-e "s|@SECURE_LISTENERS@|$listeners|g" -e "s|@SECURE_PROTOCOLS@|$protocols|g" \
			-e "s|@DATA_DIR@|$d|g" -e "s|@REPLICATION@|$K_NODES|g" \
			"$HERE/kafka-server.properties.tmpl"
		if kafka_has_security "$cluster"; then
			sed -e "s|@SASL_USER@|$KAFKA_SASL_USER|g" -e "s|@SASL_PASSWORD@|$KAFKA_SASL_PASSWORD|g" \
				-e "s|@TLS_DIR@|$tls|g" "$HERE/kafka-security.properties.tmpl"
		fi
	} >"$d/server.properties"
	# shellcheck disable=SC2206 # KAFKA_JVM_OPTS is a list of options
	local -a cmd=("$JAVA" -Xms"$K_HEAP" -Xmx"$K_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
		-Djava.awt.headless=true -XX:ErrorFile="$LOGS/$cluster-$i-hs_err_pid%p.log" ${KAFKA_JVM_OPTS:-}
		-Dlog4j2.configurationFile="file:$HERE/kafka-log4j2.properties"
		-Dgostash.testenv.logfile="$LOGS/$cluster-$i.log"
		-cp "$KAFKA_LIBS/*" kafka.Kafka "$d/server.properties")
	printf '%s\0' "${cmd[@]}" >"$d/cmd"
}

kafka_pick_secure_ports() { # NODE_DIR: free ports for the security listeners
	local l port # not "p": free_port's own local would take the value
	for l in $SECURE_LISTENERS; do
		free_port port
		echo "$port" >"$1/$l.port"
	done
}

kafka_voters() { # CLUSTER: controller.quorum.voters from the recorded ports
	local d out=""
	for d in "$DATA/$1"/node-*; do
		out+="${out:+,}${d##*-}@127.0.0.1:$(cat "$d/controller.port")"
	done
	echo "$out"
}

# kafka_add_security: the shared cluster runs without its security listeners
# (an older testenv.sh made it): restart it with them, keeping its ports, data
# and cluster id, so a test using only KAFKA_BOOTSTRAP sees a short outage at
# most. SCRAM users cannot be formatted into storage that exists: ConfigCommand
# (Kafka's Admin API) adds them once it runs.
kafka_add_security() {
	local d i voters
	local -a pids=()
	say "$K_NAME runs without the SASL/SSL listeners: restarting it with them (same ports and data)"
	kafka_tls "$K_DIR/tls"
	voters=$(kafka_voters "$K_NAME")
	for d in "$K_DIR"/node-*; do
		i=${d##*-}
		kafka_pick_secure_ports "$d"
		kafka_render_node "$K_NAME" "$i" "$voters"
		pids+=("$(pid_of "$d/pid")")
	done
	stop_pids 30 "$K_NAME" "${pids[@]}"
	for d in "$K_DIR"/node-*; do
		launch_node "$K_NAME" "${d##*-}"
	done
	wait_kafka "$K_NAME"
	kafka_vars "$K_NAME"
	# One mechanism a call: both in one request is refused ("A user credential
	# cannot be altered twice in the same request").
	local m
	: >"$LOGS/$K_NAME-scram.log"
	for m in SCRAM-SHA-256 SCRAM-SHA-512; do
		"$JAVA" -Xmx256m -cp "$KAFKA_LIBS/*" org.apache.kafka.tools.ConfigCommand \
			--bootstrap-server "$(kafka_bootstrap "$K_NAME")" --alter --entity-type users --entity-name "$KAFKA_SASL_USER" \
			--add-config "$m=[password=$KAFKA_SASL_PASSWORD]" >>"$LOGS/$K_NAME-scram.log" 2>&1 9>&- ||
			{ show_log "$LOGS/$K_NAME-scram.log"; die "adding the $m user to $K_NAME failed (log above)"; }
	done
	say "$K_NAME restarted with SASL_PLAINTEXT, SSL and SASL_SSL listeners"
}

start_kafka() { # CLUSTER
	kafka_vars "$1"
	local n=$K_NODES i d voters="" cid alive_n
	fetch_kafka # a no-op once cached; tests also use the jars (DumpLogSegments)
	need_cmd kcat kcat
	alive_n=$(kafka_alive_count "$K_NAME")
	if [[ $alive_n -gt 0 ]]; then
		if [[ $(kafka_count "$K_NAME") -ne $n ]]; then
			die "$K_NAME runs with $(kafka_count "$K_NAME") broker(s), not $n: run 'make testenv-down' first"
		fi
		# A fault test that died midway may have left a node killed or stopped:
		# bring it back as it was rather than losing the cluster's data.
		for d in "$K_DIR"/node-*; do
			i=${d##*-}
			if ! alive "$(pid_of "$d/pid")" || stopped "$(pid_of "$d/pid")"; then
				revive_node "$K_NAME" "$i" || { stop_kafka "$K_NAME" quiet; break; }
			fi
		done
		if [[ -d $K_DIR ]]; then
			if kafka_has_security "$K_NAME" && ! kafka_secured "$K_NAME"; then
				kafka_add_security
			fi
			say "$K_NAME already running at $(kafka_bootstrap "$K_NAME")"
			return
		fi
	fi
	stop_kafka "$K_NAME" quiet # a dead cluster from before: start afresh
	local -a bports cports scram=()
	for i in $(seq 1 "$n"); do
		free_port "bports[$i]"
		free_port "cports[$i]"
		voters+="${voters:+,}$i@127.0.0.1:${cports[i]}"
	done
	if kafka_has_security "$K_NAME"; then
		kafka_tls "$K_DIR/tls"
		scram=(--add-scram "SCRAM-SHA-256=[name=$KAFKA_SASL_USER,password=$KAFKA_SASL_PASSWORD]"
			--add-scram "SCRAM-SHA-512=[name=$KAFKA_SASL_USER,password=$KAFKA_SASL_PASSWORD]")
	fi
	cid=$(kafka_cluster_id)
	local cp="$KAFKA_LIBS/*"
	local -a fmt_pids=()
	for i in $(seq 1 "$n"); do
		d=$K_DIR/node-$i
		mkdir -p "$d"
		echo "${bports[i]}" >"$d/broker.port"
		echo "${cports[i]}" >"$d/controller.port"
		kafka_has_security "$K_NAME" && kafka_pick_secure_ports "$d"
		kafka_render_node "$K_NAME" "$i" "$voters"
		# Static voters (controller.quorum.voters), so no --standalone; formats in parallel.
		# SCRAM users go into the metadata log's bootstrap records here, for free.
		"$JAVA" -Xmx256m -cp "$cp" kafka.tools.StorageTool format -t "$cid" -c "$d/server.properties" "${scram[@]}" \
			>"$LOGS/$K_NAME-$i-format.log" 2>&1 9>&- &
		fmt_pids+=($!)
	done
	for i in $(seq 1 "$n"); do
		wait "${fmt_pids[i - 1]}" ||
			{ show_log "$LOGS/$K_NAME-$i-format.log"; die "formatting $K_NAME node $i's storage failed (log above)"; }
	done
	for i in $(seq 1 "$n"); do
		: >"$LOGS/$K_NAME-$i.log"
		: >"$LOGS/$K_NAME-$i.out"
		launch_node "$K_NAME" "$i"
	done
	say "$K_NAME $KAFKA_VERSION starting ($n broker(s)) at $(kafka_bootstrap "$K_NAME")"
}

wait_kafka() { # CLUSTER
	kafka_vars "$1"
	local deadline=$((SECONDS + TESTENV_TIMEOUT)) d i
	while ! kafka_ready "$K_NAME" "$K_NODES"; do
		for d in "$K_DIR"/node-*; do
			i=${d##*-}
			if ! alive "$(pid_of "$d/pid")"; then
				show_log "$LOGS/$K_NAME-$i.out" "$LOGS/$K_NAME-$i.log"
				die "$K_NAME node $i exited during start (log above)"
			fi
		done
		if ((SECONDS > deadline)); then
			show_log "$LOGS/$K_NAME-1.log"
			die "$K_NAME did not answer a metadata request within ${TESTENV_TIMEOUT}s (log above)"
		fi
		sleep 0.3
	done
	say "$K_NAME ready: $(kafka_bootstrap "$K_NAME")"
}

# stop_nodes DIR SECS NAME: stops the processes of DIR's node-* (SIGTERM,
# SIGKILL after SECS) and removes DIR.
stop_nodes() {
	local d pid
	local -a pids=()
	for d in "$1"/node-*; do
		pid=$(pid_of "$d/pid")
		[[ -n $pid ]] && pids+=("$pid")
	done
	[[ ${#pids[@]} -gt 0 ]] && stop_pids "$2" "$3" "${pids[@]}"
	rm -rf "${1:?}"
}

stop_kafka() { # CLUSTER [quiet]
	stop_nodes "$DATA/$1" 15 "$1"
	[[ ${2:-} == quiet ]] || say "$1 stopped"
}

# cmd_kafka_node ACTION CLUSTER NODE: what fault tests do to one broker.
#   kill    SIGKILL, returns once it is gone     stop   SIGSTOP (frozen, sockets open)
#   cont    SIGCONT                              revive continue it if frozen, launch it
#   start   revive, then wait until it answers          again if dead; no waiting
#           with every node in its metadata      pid    its pid (nothing if dead)
#   port    its broker port
# Bringing back several nodes: revive each, then start each (a node's metadata
# lists every node only once they all run).
# No global lock: a test must not wait for another checkout's `up`.
cmd_kafka_node() {
	[[ $# -eq 3 ]] || die "usage: $0 kafka-node kill|stop|cont|revive|start|pid|port CLUSTER NODE"
	local action=$1 node=$3 pid d deadline
	kafka_vars "$2"
	d=$K_DIR/node-$node
	[[ -d $d ]] || die "$K_NAME has no node $node (is it up? 'make testenv-up TESTENV=$K_NAME')"
	K_NODES=$(kafka_count "$K_NAME") # as made, whatever KAFKA_BROKERS says now
	pid=$(pid_of "$d/pid")
	case $action in
	kill)
		alive "$pid" || return 0
		kill -KILL "$pid"
		while alive "$pid"; do sleep 0.05; done
		;;
	stop | cont)
		alive "$pid" || die "$K_NAME node $node does not run"
		kill "-${action^^}" "$pid"
		;;
	pid) if alive "$pid"; then echo "$pid"; fi ;;
	revive) revive_node "$K_NAME" "$node" ;;
	port) cat "$d/broker.port" ;;
	start)
		revive_node "$K_NAME" "$node"
		deadline=$((SECONDS + TESTENV_TIMEOUT))
		# Back when it answers for itself and sees the whole cluster.
		until kafka_ready "$K_NAME" "$K_NODES" "127.0.0.1:$(cat "$d/broker.port")"; do
			if ! alive "$(pid_of "$d/pid")"; then
				show_log "$LOGS/$K_NAME-$node.out" "$LOGS/$K_NAME-$node.log"
				die "$K_NAME node $node exited during start (log above)"
			fi
			((SECONDS > deadline)) && die "$K_NAME node $node did not answer within ${TESTENV_TIMEOUT}s"
			sleep 0.2
		done
		;;
	*) die "unknown kafka-node action '$action': kill, stop, cont, revive, start, pid or port" ;;
	esac
}

# ---------------------------------------------------------------- search engines
# One code path for both: Elasticsearch's and OpenSearch's test zips share the
# launcher's shape (bin/NAME -d -p PIDFILE -E k=v), differing only in names.

engine_vars() { # sets E_* for engine $1
	case $1 in
	elasticsearch)
		E_VERSION=$ES_VERSION E_HEAP=$ES_HEAP E_PREFIX=ES
		# Elasticsearch's -d returns once the node started (or failed): clean and exact.
		E_DAEMON=(-d)
		E_GROUP=org.elasticsearch.distribution.integ-test-zip E_ARTIFACT=elasticsearch
		;;
	opensearch)
		E_VERSION=$OPENSEARCH_VERSION E_HEAP=$OPENSEARCH_HEAP E_PREFIX=OPENSEARCH
		# OpenSearch's -d returns at once, before the JVM even wrote its pid file, so a
		# JVM dying early would go unseen: run it in the foreground (in background), its
		# exit status then tells wait_engine at once.
		E_DAEMON=()
		E_GROUP=org.opensearch.distribution.integ-test-zip E_ARTIFACT=opensearch
		;;
	esac
	E_DIR=$DATA/$1
}

engine_url() { [[ -f $DATA/$1/http.port ]] && echo "http://127.0.0.1:$(cat "$DATA/$1/http.port")"; }
engine_running() { alive "$(pid_of "$DATA/$1/pid")"; }

engine_ready() {
	curl -fsS --max-time 5 "$(engine_url "$1")/_cluster/health?wait_for_status=yellow&timeout=2s" >/dev/null 2>&1
}

start_engine() {
	local name=$1
	engine_vars "$name"
	if engine_running "$name"; then
		say "$name already running at $(engine_url "$name")"
		return
	fi
	stop_engine "$name" quiet
	need_cmd curl curl
	fetch_zip "$name" "$E_GROUP" "$E_ARTIFACT" "$E_VERSION"
	local home=$ZIP_HOME http transport
	free_port http
	free_port transport
	# Config is copied per run: the engines write their keystore into it, and the
	# cached home stays pristine (and owned by whoever unpacked it).
	mkdir -p "$E_DIR"/{data,tmp} "$LOGS/$name"
	rm -f "$LOGS/$name"/*
	cp -r "$home/config" "$E_DIR/config"
	# Drop options that write GC logs, heap dumps and crash files relative to the
	# working folder (not writable by the engine's user); heap is set below.
	sed -i -E '/-Xlog:gc|-Xloggc|HeapDumpOnOutOfMemoryError|HeapDumpPath|ErrorFile|^-Xm[sx]/d' "$E_DIR/config/jvm.options"
	mkdir -p "$E_DIR/config/jvm.options.d"
	{
		printf -- '-Xms%s\n-Xmx%s\n-XX:ErrorFile=%s\n' "$E_HEAP" "$E_HEAP" "$LOGS/$name/hs_err_pid%p.log"
		for o in ${TESTENV_ENGINE_JVM_OPTS:-}; do echo "$o"; done
	} >"$E_DIR/config/jvm.options.d/gostash-testenv.options"
	echo "$http" >"$E_DIR/http.port"
	echo "$transport" >"$E_DIR/transport.port"
	[[ ${#RUN_AS[@]} -gt 0 ]] && chown -R "$TESTENV_USER:" "$E_DIR" "$LOGS/$name"
	local -a settings=(
		-E cluster.name=gostash-testenv
		-E node.name="$name-1"
		-E discovery.type=single-node
		-E network.host=127.0.0.1
		-E http.port="$http"
		-E transport.port="$transport"
		-E path.data="$E_DIR/data"
		-E path.logs="$LOGS/$name"
		# A nearly full disk would otherwise make indices read-only or unassigned.
		-E cluster.routing.allocation.disk.threshold_enabled=false
	)
	# Elastic's test zip carries x-pack-core and x-pack-security (no ML, no geoip):
	# security would want TLS and passwords, which tests of a plain client don't need.
	[[ $name == elasticsearch ]] && settings+=(-E xpack.security.enabled=false)
	: >"$LOGS/$name.out"
	# -p records the server JVM's pid. The launcher runs in the background while Kafka
	# and the other engine start alongside; its exit status goes to launcher.rc for
	# wait_engine (which runs in another subshell, so `wait` cannot get it).
	(
		cd "$E_DIR"
		rc=0
		"${RUN_AS[@]}" env "${E_PREFIX}_JAVA_HOME=$JAVA17" "${E_PREFIX}_PATH_CONF=$E_DIR/config" \
			"${E_PREFIX}_TMPDIR=$E_DIR/tmp" "${E_PREFIX}_JAVA_OPTS=" \
			"$home/bin/$E_ARTIFACT" "${E_DAEMON[@]}" -p "$E_DIR/pid" "${settings[@]}" || rc=$?
		echo "$rc" >"$E_DIR/launcher.rc"
	) >"$LOGS/$name.out" 2>&1 </dev/null 9>&- &
	echo $! >"$E_DIR/launcher.pid"
	say "$name $E_VERSION starting at http://127.0.0.1:$http"
}

wait_engine() {
	local name=$1 deadline=$((SECONDS + TESTENV_TIMEOUT)) rc
	engine_vars "$name"
	local logs=("$LOGS/$name.out" "$LOGS/$name/gostash-testenv.log")
	while ! engine_ready "$name"; do
		# A launcher that exited is fine only if it left a running daemon behind.
		rc=$(cat "$E_DIR/launcher.rc" 2>/dev/null || true)
		if [[ -n $rc ]] && { [[ $rc -ne 0 ]] || ! engine_running "$name"; }; then
			show_log "${logs[@]}"
			die "$name failed to start (launcher exit $rc; log above)"
		fi
		if ((SECONDS > deadline)); then
			show_log "${logs[@]}"
			die "$name was not yellow or green within ${TESTENV_TIMEOUT}s (log above)"
		fi
		sleep 0.5
	done
	rm -f "$E_DIR/launcher.pid" "$E_DIR/launcher.rc"
	say "$name ready: $(engine_url "$name")"
}

stop_engine() {
	local name=$1
	engine_vars "$name"
	# The server first: a foreground launcher then ends by itself.
	stop_pid "$(pid_of "$E_DIR/pid")" "$name"
	stop_pid "$(pid_of "$E_DIR/launcher.pid")" "$name launcher"
	rm -rf "$E_DIR"
	[[ ${2:-} == quiet ]] || say "$name stopped"
}

# ---------------------------------------------------------------- es-faults
# A cluster of ES_NODES (2 by default) Elasticsearch nodes that only fault tests
# use: they kill a node, which on the shared single node would break every other
# test. Node 1 is the only master-eligible node, the others hold data only, so
# killing one of those never leaves the cluster without a master (with two
# master-eligible nodes the voting configuration keeps one: which one dies would
# decide whether the cluster stays writable). Small heaps: it holds test data
# only. Not started by default (two more JVMs on a 2-core box): `up` with
# ES_NODES=2 or TESTENV=es-faults, or sdktest/testenv.ESFaults, on demand.
ESF_DIR=$DATA/es-faults

esf_count() {
	local d n=0
	for d in "$ESF_DIR"/node-*; do [[ -d $d ]] && n=$((n + 1)); done
	echo "$n"
}
esf_url() { echo "http://127.0.0.1:$(cat "$ESF_DIR/node-$1/http.port")"; }
esf_urls() {
	local d out=""
	for d in "$ESF_DIR"/node-*; do
		[[ -f $d/http.port ]] && out+="${out:+,}$(esf_url "${d##*-}")"
	done
	echo "$out"
}
esf_running() { # every recorded node alive
	local d n=0
	for d in "$ESF_DIR"/node-*; do
		[[ -d $d ]] || continue
		alive "$(pid_of "$d/pid")" || return 1
		n=$((n + 1))
	done
	[[ $n -gt 0 ]]
}

# esf_ready NODE: the node answers, in a cluster of every recorded node.
esf_ready() {
	curl -fsS --max-time 5 "$(esf_url "$1")/_cluster/health?wait_for_nodes=$(esf_count)&wait_for_status=yellow&timeout=2s" >/dev/null 2>&1
}

# esf_launch NODE: start the node from the command recorded when the cluster
# was made (node-N/cmd), so a killed node comes back with its ports and data.
# Elasticsearch's -d returns once the node runs; the launcher's exit status goes
# to node-N/launcher.rc. setsid: the node must outlive the test that revives it.
esf_launch() {
	local d=$ESF_DIR/node-$1
	local -a cmd
	mapfile -d '' cmd <"$d/cmd"
	rm -f "$d/launcher.rc"
	echo "----- $(date '+%F %T') launched" >>"$LOGS/es-faults-$1.out"
	(
		cd "$d"
		rc=0
		setsid "${cmd[@]}" || rc=$?
		echo "$rc" >"$d/launcher.rc"
	) >>"$LOGS/es-faults-$1.out" 2>&1 </dev/null 8>&- 9>&- &
	echo $! >"$d/launcher.pid"
}

# esf_wait NODE: until it answers in the whole cluster; dies if it failed to start.
esf_wait() {
	local d=$ESF_DIR/node-$1 deadline=$((SECONDS + TESTENV_TIMEOUT)) rc
	while ! esf_ready "$1"; do
		rc=$(cat "$d/launcher.rc" 2>/dev/null || true)
		if [[ -n $rc ]] && { [[ $rc -ne 0 ]] || ! alive "$(pid_of "$d/pid")"; }; then
			show_log "$LOGS/es-faults-$1.out" "$LOGS/es-faults/node-$1/gostash-es-faults.log"
			die "es-faults node $1 failed to start (launcher exit $rc; log above)"
		fi
		((SECONDS > deadline)) && {
			show_log "$LOGS/es-faults/node-$1/gostash-es-faults.log"
			die "es-faults node $1 did not join a cluster of $(esf_count) within ${TESTENV_TIMEOUT}s (log above)"
		}
		sleep 0.5
	done
}

start_es_faults() {
	local n=${ES_NODES:-2} i d home seeds="" http transport
	if esf_running; then
		[[ $(esf_count) -eq $n ]] || die "es-faults runs with $(esf_count) nodes, not $n: run 'make testenv-down' first"
		say "es-faults already running at $(esf_urls)"
		return
	fi
	if [[ $(esf_count) -gt 0 ]] && [[ $(esf_count) -eq $n ]]; then
		# A fault test that died midway left a node killed: bring it back as it was.
		for d in "$ESF_DIR"/node-*; do
			alive "$(pid_of "$d/pid")" || esf_launch "${d##*-}"
		done
		say "es-faults: restarting the nodes that were down"
		return
	fi
	stop_es_faults quiet
	need_cmd curl curl
	engine_vars elasticsearch
	fetch_zip elasticsearch "$E_GROUP" "$E_ARTIFACT" "$E_VERSION"
	home=$ZIP_HOME
	for i in $(seq 1 "$n"); do
		d=$ESF_DIR/node-$i
		mkdir -p "$d"/{data,tmp} "$LOGS/es-faults/node-$i"
		free_port http
		free_port transport
		echo "$http" >"$d/http.port"
		echo "$transport" >"$d/transport.port"
		seeds+="${seeds:+,}127.0.0.1:$transport"
	done
	for i in $(seq 1 "$n"); do
		d=$ESF_DIR/node-$i
		cp -r "$home/config" "$d/config"
		sed -i -E '/-Xlog:gc|-Xloggc|HeapDumpOnOutOfMemoryError|HeapDumpPath|ErrorFile|^-Xm[sx]/d' "$d/config/jvm.options"
		mkdir -p "$d/config/jvm.options.d"
		printf -- '-Xms%s\n-Xmx%s\n-XX:ErrorFile=%s\n' "$ES_FAULTS_HEAP" "$ES_FAULTS_HEAP" \
			"$LOGS/es-faults/node-$i/hs_err_pid%p.log" >"$d/config/jvm.options.d/gostash-testenv.options"
		[[ ${#RUN_AS[@]} -gt 0 ]] && chown -R "$TESTENV_USER:" "$d" "$LOGS/es-faults"
		local roles="master,data,ingest"
		[[ $i -gt 1 ]] && roles="data,ingest"
		local -a cmd=("${RUN_AS[@]}" env "ES_JAVA_HOME=$JAVA17" "ES_PATH_CONF=$d/config" "ES_TMPDIR=$d/tmp"
			"ES_JAVA_OPTS=" "$home/bin/elasticsearch" -d -p "$d/pid"
			-E cluster.name=gostash-es-faults -E node.name="es-faults-$i" -E node.roles="[$roles]"
			-E discovery.seed_hosts="$seeds" -E cluster.initial_master_nodes=es-faults-1
			-E network.host=127.0.0.1 -E http.port="$(cat "$d/http.port")"
			-E transport.port="$(cat "$d/transport.port")"
			-E path.data="$d/data" -E path.logs="$LOGS/es-faults/node-$i"
			-E cluster.routing.allocation.disk.threshold_enabled=false
			-E xpack.security.enabled=false)
		printf '%s\0' "${cmd[@]}" >"$d/cmd"
		: >"$LOGS/es-faults-$i.out"
		esf_launch "$i"
	done
	say "elasticsearch $E_VERSION starting as es-faults ($n nodes) at $(esf_urls)"
}

wait_es_faults() {
	local d
	for d in "$ESF_DIR"/node-*; do esf_wait "${d##*-}"; done
	say "es-faults ready: $(esf_urls)"
}

stop_es_faults() {
	stop_nodes "$ESF_DIR" 30 es-faults
	[[ ${1:-} == quiet ]] || say "es-faults stopped"
}

# cmd_es_node ACTION NODE: what fault tests do to one node of es-faults.
#   kill   SIGKILL, returns once it is gone      revive launch it again if dead;
#   pid    its pid (nothing if dead)                    no waiting
#   url    its HTTP address                      start  revive, then wait until it
#                                                       answers in the whole cluster
# Bringing back several nodes: revive each, then start each (the cluster is
# whole only once they all run). One launch at a time per node.
cmd_es_node() {
	[[ $# -eq 2 ]] || die "usage: $0 es-node kill|revive|start|pid|url NODE"
	local action=$1 node=$2 d pid
	d=$ESF_DIR/node-$node
	[[ -d $d ]] || die "es-faults has no node $node (is it up? 'make testenv-up ES_NODES=2')"
	pid=$(pid_of "$d/pid")
	case $action in
	kill)
		alive "$pid" || return 0
		kill -KILL "$pid"
		while alive "$pid"; do sleep 0.05; done
		;;
	pid) if alive "$pid"; then echo "$pid"; fi ;;
	url) esf_url "$node" ;;
	revive | start)
		exec 8>"$d/lock"
		flock -w 120 8 || die "$d/lock is held for two minutes"
		# A launch under way (its launcher still runs) is left to finish.
		if ! alive "$pid" && ! alive "$(pid_of "$d/launcher.pid")"; then
			esf_launch "$node"
			say "es-faults node $node restarted"
		fi
		exec 8>&-
		if [[ $action == start ]]; then esf_wait "$node"; fi
		;;
	*) die "unknown es-node action '$action': kill, revive, start, pid or url" ;;
	esac
}

# ---------------------------------------------------------------- env file

# write_env: KEY=VALUE lines for every server that runs, read by the Go helpers
# (sdk/sdktest/testenv) and sourceable by a shell (set -a; . .testenv/env).
write_env() {
	local tmp=$ENV_FILE.tmp
	{
		echo "# Written by sdk/sdktest/testenv/testenv.sh; removed by 'make testenv-down'."
		if kafka_running kafka; then
			echo "KAFKA_BOOTSTRAP=$(kafka_bootstrap kafka)"
			echo "KAFKA_BROKERS=$(kafka_count kafka)"
			echo "KAFKA_VERSION=$KAFKA_VERSION"
			# For the broker's own tools (kafka.tools.DumpLogSegments) in tests.
			echo "KAFKA_LIBS=$CACHE/kafka-$KAFKA_VERSION/libs"
			echo "KAFKA_DATA=$DATA/kafka"
			echo "JAVA=$JAVA"
			# The security listeners (cluster "kafka" only); the CA signed the broker's
			# certificate, which names 127.0.0.1 and localhost.
			if kafka_secured kafka; then
				echo "KAFKA_SASL_BOOTSTRAP=$(kafka_bootstrap kafka sasl)"
				echo "KAFKA_SSL_BOOTSTRAP=$(kafka_bootstrap kafka ssl)"
				echo "KAFKA_SASL_SSL_BOOTSTRAP=$(kafka_bootstrap kafka sasl_ssl)"
				echo "KAFKA_SASL_MECHANISMS=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"
				echo "KAFKA_SASL_USER=$KAFKA_SASL_USER"
				echo "KAFKA_SASL_PASSWORD=$KAFKA_SASL_PASSWORD"
				echo "KAFKA_CA_FILE=$DATA/kafka/tls/ca.pem"
			fi
		fi
		# The fault tests' own cluster; a node is KAFKA_FAULTS_NODE_<node.id>.
		if kafka_running kafka-faults; then
			echo "KAFKA_FAULTS_BOOTSTRAP=$(kafka_bootstrap kafka-faults)"
			echo "KAFKA_FAULTS_BROKERS=$(kafka_count kafka-faults)"
			echo "KAFKA_FAULTS_DATA=$DATA/kafka-faults"
			local d
			for d in "$DATA"/kafka-faults/node-*; do
				echo "KAFKA_FAULTS_NODE_${d##*-}=127.0.0.1:$(cat "$d/broker.port")"
			done
		fi
		if engine_running elasticsearch; then
			echo "ELASTICSEARCH_URL=$(engine_url elasticsearch)"
			echo "ELASTICSEARCH_VERSION=$ES_VERSION"
		fi
		if engine_running opensearch; then
			echo "OPENSEARCH_URL=$(engine_url opensearch)"
			echo "OPENSEARCH_VERSION=$OPENSEARCH_VERSION"
		fi
		# The fault tests' Elasticsearch cluster; a node is ES_FAULTS_NODE_<n>.
		if esf_running; then
			echo "ES_FAULTS_URLS=$(esf_urls)"
			echo "ES_FAULTS_DATA=$ESF_DIR"
			local n
			for d in "$ESF_DIR"/node-*; do
				n=${d##*-}
				echo "ES_FAULTS_NODE_$n=$(esf_url "$n")"
			done
		fi
	} >"$tmp"
	mv "$tmp" "$ENV_FILE"
}

# ---------------------------------------------------------------- commands

parse_services() {
	local s out=""
	for s in ${TESTENV:-$ALL_SERVICES}; do
		case $s in
		kafka | kafka-faults) ;;
		faults) s=kafka-faults ;;
		elasticsearch | es) s=elasticsearch ;;
		opensearch | os) s=opensearch ;;
		es-faults | es2) s=es-faults ;;
		all) out="$ALL_SERVICES" && continue ;;
		*) die "unknown service '$s' in TESTENV: use any of kafka,kafka-faults,elasticsearch,opensearch,es-faults" ;;
		esac
		out+=" $s"
	done
	# ES_NODES asks for the fault tests' Elasticsearch cluster too.
	[[ -n ${ES_NODES:-} && $out != *es-faults* ]] && out+=" es-faults"
	echo "$out"
}

lock() {
	mkdir -p "$TE" "$CACHE" "$DATA" "$LOGS"
	# One up/down at a time per checkout: make test in two shells must not race.
	# Every server is started with 9>&-, or it would hold the lock for its lifetime.
	exec 9>"$TE/lock"
	flock -w 600 9 || die "another testenv.sh holds $TE/lock for 10 minutes; is it stuck?"
}

cmd_up() {
	local services s
	services=$(parse_services)
	[[ $KAFKA_BROKERS =~ ^[1-9]$ ]] || die "KAFKA_BROKERS must be 1..9, not '$KAFKA_BROKERS'"
	[[ -z ${ES_NODES:-} || $ES_NODES =~ ^[2-9]$ ]] || die "ES_NODES must be 2..9, not '$ES_NODES' (the shared node stays single)"
	lock
	need_cmd ss iproute2 # free_port
	need_cmd prometheus prometheus # scrapes the monitoring API in cmd/gostash's tests
	ensure_java
	ensure_user
	local t0=$SECONDS
	# Start everything first, then wait: on 2 cores the JVMs' start-up overlaps.
	# The engines go first: Elasticsearch is the slowest to start (the critical
	# path), and Kafka's storage format would delay it by a JVM start.
	for s in $services; do
		case $s in
		kafka*) ;;
		es-faults) start_es_faults ;;
		*) start_engine "$s" ;;
		esac
	done
	for s in $services; do
		[[ $s == kafka* ]] && start_kafka "$s"
	done
	local failed=0
	for s in $services; do
		case $s in
		kafka*) (wait_kafka "$s") || failed=1 ;;
		es-faults) (wait_es_faults) || failed=1 ;;
		*) (wait_engine "$s") || failed=1 ;;
		esac
	done
	write_env
	if [[ $failed -ne 0 ]]; then
		die "some servers failed to start (see above); logs are in $LOGS. 'make testenv-down' cleans up."
	fi
	say "up in $((SECONDS - t0))s; env in $ENV_FILE:"
	grep -v '^#' "$ENV_FILE" | sed 's/^/  /'
}

cmd_down() {
	lock
	stop_kafka kafka
	stop_kafka kafka-faults
	stop_engine elasticsearch
	stop_engine opensearch
	stop_es_faults
	# A JVM whose pid file was lost (a killed script, a removed data dir) still names
	# this checkout's .testenv in its command line: stop those too, by pid.
	local pid
	for pid in $(pgrep -f -- "$TE/" || true); do
		[[ $(cat "/proc/$pid/comm" 2>/dev/null) == java ]] || continue
		say "stopping stray JVM $pid from $TE"
		stop_pid "$pid" "stray JVM"
	done
	rm -rf "$DATA" "$ENV_FILE"
	say "down: no server runs, data removed (cache kept in $CACHE)"
}

cmd_status() {
	local any=0 s up
	for s in kafka kafka-faults; do
		up=$(kafka_alive_count "$s")
		if kafka_running "$s"; then
			say "$s: running, $(kafka_count "$s") broker(s) at $(kafka_bootstrap "$s")$(kafka_ready "$s" "$(kafka_count "$s")" || echo ' (not answering metadata requests)')"
			any=1
		elif [[ $up -gt 0 ]]; then
			# A fault test may have killed a broker; 'up' restarts it in place.
			say "$s: only $up of $(kafka_count "$s") brokers running at $(kafka_bootstrap "$s")"
			any=1
		else
			say "$s: not running"
		fi
	done
	for s in elasticsearch opensearch; do
		if engine_running "$s"; then
			say "$s: running at $(engine_url "$s") (pid $(pid_of "$DATA/$s/pid"))$(engine_ready "$s" || echo ' (health not yellow/green)')"
			any=1
		else
			say "$s: not running"
		fi
	done
	if esf_running; then
		say "es-faults: running, $(esf_count) nodes at $(esf_urls)"
		any=1
	elif [[ $(esf_count) -gt 0 ]]; then
		say "es-faults: a node is down ('up' with ES_NODES=$(esf_count) restarts it)"
		any=1
	fi
	[[ -f $ENV_FILE ]] && say "env file: $ENV_FILE"
	[[ $any -eq 1 ]] || say "start them with 'make testenv-up'"
}

KAFKA_BROKERS=${KAFKA_BROKERS:-1}
TESTENV=${TESTENV:-}
TESTENV=${TESTENV//,/ }

case ${1:-} in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
env) echo "$ENV_FILE" ;;
kafka-node)
	shift
	mkdir -p "$LOGS"
	cmd_kafka_node "$@"
	;;
es-node)
	shift
	mkdir -p "$LOGS"
	cmd_es_node "$@"
	;;
*)
	echo "usage: $0 up|down|status|env|kafka-node   (TESTENV=kafka,kafka-faults,elasticsearch,opensearch KAFKA_BROKERS=1|3)" >&2
	exit 2
	;;
esac
