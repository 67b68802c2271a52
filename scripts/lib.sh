# Shared shell functions for scripts/demo, scripts/bench and scripts/soak.

# Prints a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$(( 20000 + RANDOM % 40000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "no free port found" >&2
  return 1
}

# Waits until something accepts TCP connections on 127.0.0.1:$1 (at most $2 seconds).
wait_for_port() {
  local port=$1 deadline=$(( SECONDS + ${2:-10} ))
  while (( SECONDS < deadline )); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "nothing listens on 127.0.0.1:$port" >&2
  return 1
}

# Starts a private Mosquitto on 127.0.0.1:$2 with its files in $1; prints its pid.
start_broker() {
  local dir=$1 port=$2
  mkdir -p "$dir/db"
  cat > "$dir/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence true
persistence_location $dir/db/
max_queued_messages 1000000
max_inflight_messages 0
log_dest file $dir/mosquitto.log
CONF
  mosquitto -c "$dir/mosquitto.conf" >/dev/null 2>&1 &
  echo $!
}
