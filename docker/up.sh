#!/usr/bin/env bash
# Starts the compose stack and waits until it is ready (docs/operations.md, "Start the stack").
#
#   docker/up.sh [cpu|gpu]      # default cpu; gpu needs the NVIDIA Container Toolkit
#
# Creates .env from docker/env.example with a generated registry token when there is no .env, builds the images,
# starts the services of the profile, waits for every health check (and for topics-init to exit 0), then prints
# where each service answers. MQDET_UP_TIMEOUT (seconds, default 600) bounds the wait. Uses `docker compose`
# (v2), or `docker-compose` where only that is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

profile="${1:-cpu}"
case "$profile" in
  cpu) app=streams-app-cpu ;;
  gpu) app=streams-app ;;
  *) echo "usage: docker/up.sh [cpu|gpu]" >&2; exit 2 ;;
esac

if docker compose version >/dev/null 2>&1; then
  compose=(docker compose --profile "$profile")
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose --profile "$profile")
else
  echo "up.sh: needs Docker Compose (docker compose, or docker-compose)" >&2
  exit 1
fi

if [ ! -f .env ]; then
  # 24 random bytes as hex: far beyond the registry's 16-character minimum.
  token="$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
  umask 077
  sed "s/^MQDET_REGISTRY_TOKEN=.*/MQDET_REGISTRY_TOKEN=$token/" docker/env.example > .env
  echo "up.sh: wrote .env from docker/env.example with a new MQDET_REGISTRY_TOKEN (see .env)"
elif grep -q '^MQDET_REGISTRY_TOKEN=change-me' .env; then
  echo "up.sh: .env still has the example's MQDET_REGISTRY_TOKEN; set one (16+ characters) or delete .env" >&2
  exit 1
fi

"${compose[@]}" build
"${compose[@]}" up -d

container() {
  "${compose[@]}" ps -a -q "$1"
}

fail() {
  echo "up.sh: $1" >&2
  "${compose[@]}" ps -a >&2 || true
  "${compose[@]}" logs --tail 60 "$2" >&2 || true
  exit 1
}

deadline=$((SECONDS + ${MQDET_UP_TIMEOUT:-600}))
for service in kafka schema-registry topics-init exemplar-registry "$app"; do
  echo "up.sh: waiting for $service"
  while true; do
    id="$(container "$service")"
    if [ -n "$id" ]; then
      if [ "$service" = topics-init ]; then
        state="$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$id")"
        [ "$state" = "exited 0" ] && break
        case "$state" in exited*) fail "topics-init failed ($state)" "$service" ;; esac
      else
        health="$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.RestartCount}}' "$id")"
        [ "${health% *}" = healthy ] && break
        # A restart before the first healthy state is a crash loop (restart: unless-stopped would hide it).
        [ "${health#* }" != 0 ] && fail "$service restarted ${health#* } time(s) before it was healthy" "$service"
      fi
    fi
    [ "$SECONDS" -ge "$deadline" ] && fail "$service is not ready after ${MQDET_UP_TIMEOUT:-600} s" "$service"
    sleep 3
  done
done

address() { # host:port a service's container port is published on
  "${compose[@]}" port "$1" "$2" | head -n 1 | sed 's/^0\.0\.0\.0:/localhost:/; s/^\[::\]:/localhost:/'
}

echo "up.sh: the stack is ready (profile $profile)"
echo "  exemplar registry (web page, REST API)  http://$(address exemplar-registry 8088)/"
echo "  streams app health and metrics          http://$(address "$app" 8080)/health/ready  http://$(address "$app" 8080)/metrics"
echo "  schema registry                          http://$(address schema-registry 8081)/subjects"
echo "  kafka (from the host)                    $(address kafka 9094)"
echo "  registry token                           MQDET_REGISTRY_TOKEN in .env"
