#!/bin/sh
# A peer for `hypha bench compare`: rsyslog receiving syslog over TCP (imptcp) on
# 127.0.0.1:$PEER_PORT and writing every message as one line to $PEER_DIR/messages.log (omfile).
#
#   PEER_PORT=5515 PEER_DIR=/tmp/peer scripts/peers/rsyslog.sh      # runs until SIGTERM / Ctrl-C
#   hypha bench compare --against scripts/peers/rsyslog.sh
#
# Installs Debian's rsyslog when rsyslogd is missing (sudo when not root). Runs its own
# rsyslogd in the foreground with its own configuration, pid file and work directory under
# $PEER_DIR: the system rsyslog, if any, is neither used nor touched. SIGTERM or SIGINT stops
# it (rsyslogd flushes its buffers first).
#
# The configuration is meant to be fair and fast, the way one would tune rsyslog for a
# loopback throughput test:
#   - imptcp (the epoll-based TCP input) with 2 worker threads, newline or octet-counted framing;
#   - the ruleset gets its own in-memory queue (LinkedList, up to 1M messages, dequeued in
#     batches of 4096 by one worker: one file has one writer anyway);
#   - omfile writes through a 4 MiB buffer on its own writer thread (asyncWriting), never
#     syncs, and hands each dequeued batch to the writer at its end (flushOnTXEnd). With
#     flushOnTXEnd="off" the last partial buffer waits for flushInterval (1 s at least), which
#     only adds a tail to every run; measured here, "on" was also the faster of the two
#     (docs/benchmarks.md). RSYSLOG_TraditionalFileFormat, as on a stock Debian system.
# Override the settings with RSYSLOG_TCP_THREADS, RSYSLOG_QUEUE_WORKERS, RSYSLOG_BATCH,
# RSYSLOG_IO_BUFFER, RSYSLOG_ASYNC and RSYSLOG_FLUSH_ON_TX_END to try others.
set -eu

: "${PEER_PORT:?set PEER_PORT to the TCP port to listen on}"
: "${PEER_DIR:?set PEER_DIR to the directory for messages.log}"

rsyslogd=$(command -v rsyslogd || true)
[ -n "$rsyslogd" ] || [ ! -x /usr/sbin/rsyslogd ] || rsyslogd=/usr/sbin/rsyslogd
if [ -z "$rsyslogd" ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    echo "rsyslog.sh: installing rsyslog from Debian" >&2
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y --no-install-recommends rsyslog >&2 \
        || { $sudo apt-get update >&2 && $sudo apt-get install -y --no-install-recommends rsyslog >&2; }
    rsyslogd=/usr/sbin/rsyslogd
fi

mkdir -p "$PEER_DIR/rsyslog-work"
conf="$PEER_DIR/rsyslog.conf"
cat > "$conf" <<CONF
global(workDirectory="$PEER_DIR/rsyslog-work" maxMessageSize="64k")
module(load="imptcp" threads="${RSYSLOG_TCP_THREADS:-2}")
input(type="imptcp" address="127.0.0.1" port="$PEER_PORT" ruleset="bench")
ruleset(name="bench"
        queue.type="LinkedList" queue.size="1000000" queue.dequeueBatchSize="${RSYSLOG_BATCH:-4096}"
        queue.workerThreads="${RSYSLOG_QUEUE_WORKERS:-1}") {
    action(type="omfile" file="$PEER_DIR/messages.log" template="RSYSLOG_TraditionalFileFormat"
           asyncWriting="${RSYSLOG_ASYNC:-on}" flushOnTXEnd="${RSYSLOG_FLUSH_ON_TX_END:-on}" flushInterval="1"
           ioBufferSize="${RSYSLOG_IO_BUFFER:-4m}")
}
CONF

"$rsyslogd" -n -f "$conf" -i "$PEER_DIR/rsyslogd.pid" &
child=$!
stop() {
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
    exit 0
}
trap stop TERM INT
wait "$child"
