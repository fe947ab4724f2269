# shellcheck shell=bash
# Shared settings and helpers for tests/cluster/{build,up,down,apiserver}. Sourced, not run.
#
# Environment (all optional):
#   PEARL_CACHE        where built binaries are cached (default ~/.cache/kubectl-pearl)
#   PEARL_CLUSTER_DIR  state dir of the running cluster (default /tmp/pearl-cluster)
#   PEARL_NODES        number of fake kwok nodes (default 2)
#   PEARL_UP_TIMEOUT   seconds to wait for each startup step (default 120)
#   PEARL_APISERVER_EXTRA_ARGS  extra kube-apiserver flags for `up` (whitespace-separated)

CLUSTER_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

export GOTOOLCHAIN=local
export CGO_ENABLED=0

PEARL_CACHE=${PEARL_CACHE:-$HOME/.cache/kubectl-pearl}
PEARL_CLUSTER_DIR=${PEARL_CLUSTER_DIR:-/tmp/pearl-cluster}
PEARL_NODES=${PEARL_NODES:-2}
PEARL_UP_TIMEOUT=${PEARL_UP_TIMEOUT:-120}

# The pinned versions live in the wrapper modules' go.mod files (single source of truth).
_modver() { # go.mod module-path
	awk -v m="$2" '($1 == m) { print $2; exit } ($1 == "require" && $2 == m) { print $3; exit }' "$1"
}
K8S_VERSION=$(_modver "$CLUSTER_SRC/go/k8s/go.mod" k8s.io/kubernetes)
ETCD_VERSION=$(_modver "$CLUSTER_SRC/go/etcd/go.mod" go.etcd.io/etcd/server/v3)
KWOK_VERSION=$(_modver "$CLUSTER_SRC/go/kwok/go.mod" sigs.k8s.io/kwok)

K8S_BIN=$PEARL_CACHE/k8s-$K8S_VERSION/bin
ETCD_BIN=$PEARL_CACHE/etcd-$ETCD_VERSION/bin
KWOK_DIR=$PEARL_CACHE/kwok-$KWOK_VERSION
KWOK_BIN=$KWOK_DIR/bin
KWOK_CRDS=$KWOK_DIR/crd

K8S_TOOLS=(kube-apiserver kube-controller-manager kube-scheduler kubectl)

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }

binaries_present() {
	local t
	for t in "${K8S_TOOLS[@]}"; do [[ -x $K8S_BIN/$t ]] || return 1; done
	[[ -x $ETCD_BIN/etcd && -x $KWOK_BIN/kwok && -f $KWOK_CRDS/kwok.x-k8s.io_logs.yaml ]]
}

# Components in start order; pid files are $PEARL_CLUSTER_DIR/run/<name>.pid, logs in logs/<name>.log.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

pidfile() { echo "$PEARL_CLUSTER_DIR/run/$1.pid"; }
logfile() { echo "$PEARL_CLUSTER_DIR/logs/$1.log"; }

component_pid() { # name -> pid if its pid file names a live process, else nothing
	local f pid
	f=$(pidfile "$1")
	[[ -f $f ]] || return 1
	pid=$(<"$f")
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
	# Guard against pid reuse: the process must run our binary from $PEARL_CLUSTER_DIR/bin.
	[[ $(tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline" | head -n1) == "$PEARL_CLUSTER_DIR/bin/$1" ]] || return 1
	echo "$pid"
}

# Start "name" with the argv stored in run/<name>.args (one arg per line) so that it can be
# restarted later with exactly the same flags. setsid: own process group, immune to the
# caller's Ctrl-C / job control; stdin from /dev/null.
start_component() { # name
	local name=$1 args=() bin
	mapfile -t args <"$PEARL_CLUSTER_DIR/run/$name.args"
	bin="$PEARL_CLUSTER_DIR/bin/$name"
	echo "==== $(date -u +%FT%TZ) starting $name" >>"$(logfile "$name")"
	# 9>&-: don't hand the scripts' lock (fd 9) to a long-lived process.
	setsid "$bin" "${args[@]}" </dev/null >>"$(logfile "$name")" 2>&1 9>&- &
	local pid=$! i
	echo "$pid" >"$(pidfile "$name")"
	# Until the forked shell has exec'd the binary, /proc/<pid>/cmdline still shows bash/setsid
	# and component_pid would call it dead: wait (max 5 s) for the exec, or for an early exit.
	for ((i = 0; i < 50; i++)); do
		[[ $(tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline" | head -n1) == "$bin" ]] && return 0
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
}

# TERM, wait up to $2 seconds (default 10), then KILL; returns when the process is gone.
stop_pid() { # pid [timeout]
	local pid=$1 timeout=${2:-10} i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < timeout * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	log "pid $pid did not stop after ${timeout}s; sending KILL"
	kill -KILL "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

stop_component() { # name [timeout]
	local pid
	if pid=$(component_pid "$1"); then
		stop_pid "$pid" "${2:-10}" || { log "could not stop $1 (pid $pid)"; return 1; }
	fi
	rm -f "$(pidfile "$1")"
}

# Print the tail of a component's log, for crash reports.
show_log_tail() { # name [lines]
	local f
	f=$(logfile "$1")
	echo "----- last ${2:-30} lines of $f -----" >&2
	tail -n "${2:-30}" "$f" >&2 2>/dev/null || true
	echo "----- end of $1 log -----" >&2
}

# Fails (after printing the log tail) if one of the named components is not running.
check_alive() { # names...
	local n
	for n in "$@"; do
		if ! component_pid "$n" >/dev/null; then
			log "$n exited during startup"
			show_log_tail "$n" 30
			return 1
		fi
	done
}

apiserver_url() { echo "https://127.0.0.1:$(<"$PEARL_CLUSTER_DIR/run/apiserver.port")"; }

# curl the API server as the bootstrap (system:masters) user.
api_curl() { # path [curl args...]
	local p=$1
	shift
	curl -sS --max-time 5 --cacert "$PEARL_CLUSTER_DIR/pki/ca.crt" \
		--cert "$PEARL_CLUSTER_DIR/pki/bootstrap.crt" --key "$PEARL_CLUSTER_DIR/pki/bootstrap.key" \
		"$(apiserver_url)$p" "$@"
}

apiserver_ready() { [[ $(api_curl /readyz 2>/dev/null) == ok ]]; }

# Wait until "$@" succeeds, checking that the given components stay alive.
# usage: wait_for "description" "comp1 comp2" timeout cmd args...
wait_for() {
	local what=$1 comps=$2 timeout=$3 start=$SECONDS
	shift 3
	# shellcheck disable=SC2086
	until "$@" >/dev/null 2>&1; do
		check_alive $comps || return 1
		if ((SECONDS - start >= timeout)); then
			log "timed out after ${timeout}s waiting for $what"
			return 1
		fi
		sleep 0.2
	done
}

bkubectl() { "$PEARL_CLUSTER_DIR/bin/kubectl" --kubeconfig "$PEARL_CLUSTER_DIR/bootstrap.kubeconfig" "$@"; }

# Write $PEARL_CLUSTER_DIR/env (sourced by tests/run and by people): kubeconfigs, ports, pids.
write_env() {
	local c var pid tmp
	tmp=$(mktemp "$PEARL_CLUSTER_DIR/.env.XXXXXX")
	{
		echo "# written by tests/cluster/up at $(date -u +%FT%TZ); source this file"
		echo "export PEARL_CLUSTER_DIR=$PEARL_CLUSTER_DIR"
		echo "export KUBECONFIG=$PEARL_CLUSTER_DIR/kubeconfig"
		echo "export PEARL_KUBECONFIG=$PEARL_CLUSTER_DIR/kubeconfig"
		echo "export PEARL_RESTRICTED_KUBECONFIG=$PEARL_CLUSTER_DIR/restricted.kubeconfig"
		echo "export PEARL_RESTRICTED_NAMESPACE=pearl-restricted"
		echo "export PEARL_KUBECTL=$PEARL_CLUSTER_DIR/bin/kubectl"
		echo "export PEARL_APISERVER_URL=$(apiserver_url)"
		echo "export PEARL_K8S_VERSION=$K8S_VERSION"
		sed 's/^/export /' "$PEARL_CLUSTER_DIR/run/ports"
		for c in "${COMPONENTS[@]}"; do
			var=$(echo "$c" | tr 'a-z-' 'A-Z_')
			var=${var#KUBE_}
			pid=$(component_pid "$c" || true)
			echo "export PEARL_${var}_PID=${pid}"
		done
	} >"$tmp"
	mv -f "$tmp" "$PEARL_CLUSTER_DIR/env"
}
