#!/usr/bin/env bash
# Sourced by .ci/run (or by hand: `source .ci/mosquitto.sh`): starts a real
# mosquitto on loopback for the MQTT integration tests, with
#   - a plain listener with username/password auth and an ACL,
#   - a TLS listener whose CA and server certificate are generated here,
# and exports the TELEBRIDGE_MOSQUITTO_* variables the tests read.
# Requires mosquitto, mosquitto-clients (mosquitto_passwd, mosquitto_sub)
# and openssl. Stop it with: kill "$(cat "$TELEBRIDGE_MOSQUITTO_DIR/mosquitto.pid")"

mq_dir="$(mktemp -d /tmp/telebridge-mosquitto.XXXXXX)"
mq_user=telebridge
mq_pass="ci-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
mq_port="${TELEBRIDGE_MOSQUITTO_PORT:-18883}"
mq_tls_port="${TELEBRIDGE_MOSQUITTO_TLS_PORT:-18884}"

(
  set -euo pipefail
  cd "$mq_dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=telebridge CI CA" \
    -keyout ca.key -out ca.pem 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout server.key -out server.csr 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile server.ext -out server.pem 2>/dev/null
  mosquitto_passwd -b -c passwd "$mq_user" "$mq_pass" 2>/dev/null
  cat > acl <<ACL
user $mq_user
topic readwrite telebridge/#
topic read denied/#
ACL
  cat > mosquitto.conf <<CONF
per_listener_settings false
allow_anonymous false
password_file $mq_dir/passwd
acl_file $mq_dir/acl
persistence false
max_packet_size 65536
pid_file $mq_dir/mosquitto.pid
log_dest file $mq_dir/mosquitto.log
listener $mq_port 127.0.0.1
listener $mq_tls_port 127.0.0.1
cafile $mq_dir/ca.pem
certfile $mq_dir/server.pem
keyfile $mq_dir/server.key
CONF
  if [ "$(id -u)" = 0 ]; then echo "user root" >> mosquitto.conf; fi
  chmod 0700 "$mq_dir"
  mosquitto -c mosquitto.conf -d
  for _ in $(seq 1 50); do
    if mosquitto_pub -h 127.0.0.1 -p "$mq_port" -u "$mq_user" -P "$mq_pass" -t telebridge/ci/ping -m up 2>/dev/null; then
      exit 0
    fi
    sleep 0.1
  done
  echo "mosquitto did not start; log:" >&2
  cat mosquitto.log >&2 || true
  exit 1
)

export TELEBRIDGE_TEST_MOSQUITTO=1
export TELEBRIDGE_MOSQUITTO_DIR="$mq_dir"
export TELEBRIDGE_MOSQUITTO_HOST=127.0.0.1
export TELEBRIDGE_MOSQUITTO_PORT="$mq_port"
export TELEBRIDGE_MOSQUITTO_TLS_PORT="$mq_tls_port"
export TELEBRIDGE_MOSQUITTO_USER="$mq_user"
export TELEBRIDGE_MOSQUITTO_PASSWORD="$mq_pass"
export TELEBRIDGE_MOSQUITTO_CAFILE="$mq_dir/ca.pem"
echo "mosquitto $(mosquitto -h 2>/dev/null | head -n1 | awk '{print $3}') on 127.0.0.1:$mq_port (auth) and :$mq_tls_port (TLS), files in $mq_dir"
