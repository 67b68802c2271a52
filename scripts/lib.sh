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

# Starts a private PostgreSQL cluster in $1 on 127.0.0.1:$2 with a database
# "plant" owned by the user "plant" (trust on loopback). initdb and pg_ctl
# refuse to run as root, so as root they run as the 'postgres' user.
start_postgres() {
  local dir=$1 port=$2 bin as_owner=()
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$dir"
    chmod 755 "$(dirname "$dir")"
    as_owner=(runuser -u postgres --)
  fi
  "${as_owner[@]}" "$bin/initdb" -D "$dir/data" -A trust -U plant >/dev/null
  "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
  psql -X -q -h 127.0.0.1 -p "$port" -U plant -d postgres -c "CREATE DATABASE plant"
}

# Stops the cluster started by start_postgres in $1.
stop_postgres() {
  local dir=$1 bin as_owner=()
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  [ "$(id -u)" -eq 0 ] && as_owner=(runuser -u postgres --)
  "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
}

# Writes a WMS export to $1: material $2 (kg), hourly over the last $5 hours up to
# now, from $3 kg falling by $4 kg an hour (0 = steady).
write_stock_history() {
  local file=$1 material=$2 start=$3 per_hour=$4 hours=$5 now h
  now=$(date +%s)
  {
    echo "material,quantity,unit,time"
    for (( h = hours; h >= 0; h-- )); do
      echo "$material,$(( start - per_hour * (hours - h) )),kg,$(( now - h * 3600 ))"
    done
  } > "$file.tmp"
  mv "$file.tmp" "$file"
}

