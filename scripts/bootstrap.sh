#!/usr/bin/env bash
# Posts the platform's configs to the running services, idempotently:
#   Kafka Connect  <- debezium/*.json            (PUT /connectors/<name>/config)
#   Pinot          <- pinot/tables/*/*_schema.json, *_table.json (schema first, then table)
#   Trino          <- the hive.views schema and dags/sql/views/*.sql (non-templated ones)
# Every file is validated before any service is touched. Endpoints come from the environment,
# with the local mode's defaults; compose passes its own.
#
# Usage: scripts/bootstrap.sh [--validate-only]
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONNECT_URL="${CONNECT_URL:-http://127.0.0.1:8083}"
PINOT_CONTROLLER_URL="${PINOT_CONTROLLER_URL:-http://127.0.0.1:9000}"
TRINO_URL="${TRINO_URL:-http://127.0.0.1:8080}"
# Kafka as Pinot's consumers reach it (in compose: kafka:9092).
PINOT_KAFKA_BROKERS="${PINOT_KAFKA_BROKERS:-${KAFKA_BOOTSTRAP:-127.0.0.1:9092}}"
S3_BUCKET="${S3_BUCKET:-realtime-platform}"
# Copies of each Pinot segment, one per server (TOPOLOGY=scaled: 2); the table files say 1.
PINOT_REPLICAS="${PINOT_REPLICAS:-1}"
DEBEZIUM_DIR="${DEBEZIUM_DIR:-$REPO_ROOT/debezium}"
PINOT_TABLES_DIR="${PINOT_TABLES_DIR:-$REPO_ROOT/pinot/tables}"
VIEWS_DIR="${VIEWS_DIR:-$REPO_ROOT/dags/sql/views}"
WAIT_SECONDS="${BOOTSTRAP_WAIT_SECONDS:-180}"
TRINO_USER="${TRINO_USER:-bootstrap}"
# Tries each Pinot table's transforms on sample change events of its source table, with Pinot's own
# classes, before anything is posted (realtime_platform/transform_check.py). The local mode's Python
# runs it; "off" skips it (compose's bootstrap container has neither Pinot's jars nor the venv).
if [[ -z "${PINOT_TRANSFORM_CHECK:-}" && -x "$REPO_ROOT/.venv/bin/python" ]]; then
  PINOT_TRANSFORM_CHECK="$REPO_ROOT/.venv/bin/python -m realtime_platform.transform_check"
fi
PINOT_TRANSFORM_CHECK="${PINOT_TRANSFORM_CHECK:-off}"
# The local mode's venv, or compose's bootstrap image (python3 with pydantic and PyYAML).
if [[ -z "${BOOTSTRAP_PYTHON:-}" ]]; then
  BOOTSTRAP_PYTHON=python3
  [[ -x "$REPO_ROOT/.venv/bin/python" ]] && BOOTSTRAP_PYTHON="$REPO_ROOT/.venv/bin/python"
fi
STREAM_CONFIG="$BOOTSTRAP_PYTHON -m realtime_platform.stream_config"

log() { printf '[bootstrap] %s\n' "$*"; }
die() { printf '[bootstrap] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Validation: every check runs before the first request to any service. The rules of a valid
# stream live in Python (realtime_platform/stream_config.py), which also renders what is posted:
# each connector over debezium/shared/postgres.json, each Pinot table for this topology.
# ---------------------------------------------------------------------------------------------
RENDERED=$(mktemp -d)
problems=()
problem() { problems+=("$1: $2"); }

check_transforms() {  # schema table [schema table ...]
  if [[ "$PINOT_TRANSFORM_CHECK" == off ]]; then
    log "transform check: off"
    return 0
  fi
  local output line rc=0
  output=$(cd "$REPO_ROOT" && $PINOT_TRANSFORM_CHECK "$@" 2>&1) || rc=$?
  while IFS= read -r line; do
    if ((rc == 1)) && [[ "$line" == /*": "* ]]; then
      problem "${line%%: *}" "${line#*: }"  # "<table file>: column ...: ... fails on a sample ... event: ..."
    elif [[ -n "$line" ]]; then
      log "$line"
    fi
  done <<<"$output"
  ((rc <= 1)) || problem "transform check" "failed to run (exit $rc)"
}

validate_all() {
  local output line rc=0 schema table pairs=()
  output=$(cd "$REPO_ROOT" && $STREAM_CONFIG render "$RENDERED" --debezium-dir "$DEBEZIUM_DIR" \
      --pinot-dir "$PINOT_TABLES_DIR" --views-dir "$VIEWS_DIR" \
      --kafka-brokers "$PINOT_KAFKA_BROKERS" --replicas "$PINOT_REPLICAS" 2>&1) || rc=$?
  if ((rc == 2)); then
    while IFS= read -r line; do problems+=("$line"); done <<<"$output"
  elif ((rc != 0)); then
    problem "stream config check" "failed to run (exit $rc): $output"
  else
    while IFS=$'\t' read -r schema table; do pairs+=("$schema" "$table"); done <"$RENDERED/sources.tsv"
    ((${#pairs[@]} == 0)) || check_transforms "${pairs[@]}"
  fi
  if ((${#problems[@]})); then
    printf '[bootstrap] ERROR: invalid config, nothing was posted:\n' >&2
    printf '  - %s\n' "${problems[@]}" >&2
    exit 2
  fi
  log "$output"
}

# ---------------------------------------------------------------------------------------------
# HTTP helpers: show the service's own message on failure.
# ---------------------------------------------------------------------------------------------
BODY=$(mktemp)
trap 'rm -rf "$BODY" "$RENDERED"' EXIT

# request METHOD URL [curl args...] -> prints HTTP status; body in $BODY
request() {
  local method=$1 url=$2; shift 2
  curl -sS -o "$BODY" -w '%{http_code}' -X "$method" "$url" "$@" || echo "000"
}

expect_ok() {  # status what
  local status=$1 what=$2
  if [[ "$status" != 2* ]]; then
    local message
    message=$(jq -r '.message // .error // ._error // .' "$BODY" 2>/dev/null || cat "$BODY")
    die "$what failed (HTTP $status): $message"
  fi
}

wait_for() {  # name url [jq-filter]
  local name=$1 url=$2 filter=${3:-}
  local deadline=$((SECONDS + WAIT_SECONDS))
  printf '[bootstrap] waiting for %s at %s ' "$name" "$url"
  while true; do
    if status=$(curl -s -o "$BODY" -w '%{http_code}' "$url" 2>/dev/null) && [[ "$status" == 2* ]] \
        && { [[ -z "$filter" ]] || jq -e "$filter" "$BODY" >/dev/null 2>&1; }; then
      echo "ok"
      return 0
    fi
    if ((SECONDS >= deadline)); then
      echo
      [[ "${status:-000}" == 000 ]] && die "$name did not answer at $url within ${WAIT_SECONDS}s"
      die "$name at $url is not healthy after ${WAIT_SECONDS}s (last answer: HTTP $status $(head -c 200 "$BODY"))"
    fi
    printf '.'
    sleep 2
  done
}

# ---------------------------------------------------------------------------------------------
# Kafka Connect
# ---------------------------------------------------------------------------------------------
apply_connector() {  # a rendered config: what PUT /connectors/<name>/config takes
  local f=$1 name config status
  name=$(basename "$f" .json)
  config=$(jq -c . "$f")
  status=$(request GET "$CONNECT_URL/connectors/$name/config")
  if [[ "$status" == 200 ]] && jq -e --argjson want "$config" '. == $want' "$BODY" >/dev/null; then
    log "connector $name: unchanged"
  else
    status=$(request PUT "$CONNECT_URL/connectors/$name/config" -H 'Content-Type: application/json' -d "$config")
    expect_ok "$status" "PUT connector $name"
    log "connector $name: $([[ $status == 201 ]] && echo created || echo updated)"
  fi
}

wait_connector_running() {
  local name=$1 deadline=$((SECONDS + WAIT_SECONDS)) state
  while true; do
    request GET "$CONNECT_URL/connectors/$name/status" >/dev/null
    state=$(jq -r '[.connector.state] + [.tasks[]?.state] | if length > 1 then (unique | join(",")) else "NO_TASKS" end' "$BODY" 2>/dev/null || echo UNKNOWN)
    [[ "$state" == RUNNING ]] && { log "connector $name: RUNNING"; return 0; }
    if [[ "$state" == *FAILED* ]]; then
      die "connector $name FAILED: $(jq -r '[.connector.trace, .tasks[]?.trace] | map(select(. != null))[0] // "" | split("\n")[0]' "$BODY")"
    fi
    ((SECONDS < deadline)) || die "connector $name not RUNNING after ${WAIT_SECONDS}s (state: $state)"
    sleep 2
  done
}

# ---------------------------------------------------------------------------------------------
# Pinot
# ---------------------------------------------------------------------------------------------
apply_pinot() {
  local dir=$1 schema table name status body
  schema=$(ls "$dir"*_schema.json); table=$(ls "$dir"*_table.json)
  name=$(jq -r .schemaName "$schema")
  status=$(request GET "$PINOT_CONTROLLER_URL/schemas/$name")
  if [[ "$status" == 200 ]] && jq -e --slurpfile want "$schema" '. == $want[0]' "$BODY" >/dev/null; then
    log "pinot schema $name: unchanged"
  elif [[ "$status" == 200 ]]; then
    status=$(request PUT "$PINOT_CONTROLLER_URL/schemas/$name" -H 'Content-Type: application/json' --data-binary "@$schema")
    expect_ok "$status" "PUT pinot schema $name"
    log "pinot schema $name: updated"
  else
    status=$(request POST "$PINOT_CONTROLLER_URL/schemas" -H 'Content-Type: application/json' --data-binary "@$schema")
    expect_ok "$status" "POST pinot schema $name"
    log "pinot schema $name: created"
  fi
  body=$(jq -c . "$table")
  name=$(jq -r .tableName <<<"$body")
  status=$(request GET "$PINOT_CONTROLLER_URL/tables/$name?type=realtime")
  if [[ "$status" == 200 ]] && jq -e '.REALTIME != null' "$BODY" >/dev/null; then
    # Unchanged when every value the file sets is what Pinot holds (Pinot fills in defaults of its own).
    if jq -e --argjson want "$body" '
        def declared_in($have): . as $w
          | if type == "object" then ($have | type) == "object" and all(keys[]; . as $k | $w[$k] | declared_in($have[$k]))
            elif type == "array" then ($have | type) == "array" and length == ($have | length)
              and all(range(length); . as $i | $w[$i] | declared_in($have[$i]))
            else . == $have end;
        def compared: [.ingestionConfig, .upsertConfig, .routing, .instanceAssignmentConfigMap,
                       .tableIndexConfig.streamConfigs, .tableIndexConfig.segmentPartitionConfig];
        (.REALTIME | compared) as $have | $want | compared | declared_in($have)' "$BODY" >/dev/null; then
      log "pinot table $name: unchanged"
    else
      status=$(request PUT "$PINOT_CONTROLLER_URL/tables/$name" -H 'Content-Type: application/json' -d "$body")
      expect_ok "$status" "PUT pinot table $name"
      log "pinot table $name: updated"
    fi
  else
    local attempt
    for attempt in 1 2 3 4 5; do
      status=$(request POST "$PINOT_CONTROLLER_URL/tables" -H 'Content-Type: application/json' -d "$body")
      # Pinot 0.11 fails with an NPE in partitionsFor when the topic does not exist yet; that same
      # metadata request makes Kafka auto-create it, so a retry a moment later succeeds.
      [[ "$status" == 500 ]] && grep -q partitionsFor "$BODY" || break
      log "pinot table $name: Kafka topic not there yet (attempt $attempt), retrying"
      sleep 3
    done
    expect_ok "$status" "POST pinot table $name"
    log "pinot table $name: created"
  fi
  wait_pinot_consuming "${name}_REALTIME"
  check_topic_partitions "$name" "$body"
}

# The topic's partitions as Pinot sees them (one consuming segment per partition) against what the
# table declares: a topic created earlier with another count keeps it, and then keys would be
# looked up in the wrong partition.
check_topic_partitions() {  # name table-json
  local name=$1 declared seen
  declared=$(jq -r '.tableIndexConfig.segmentPartitionConfig.columnPartitionMap // {} | [.[].numPartitions][0] // empty' <<<"$2")
  [[ -n "$declared" ]] || return 0
  request GET "$PINOT_CONTROLLER_URL/tables/$name/idealstate" >/dev/null
  seen=$(jq -r '[.REALTIME // {} | keys[] | split("__")[1]] | unique | length' "$BODY")
  [[ "$seen" == "$declared" ]] || die "pinot table $name declares $declared partitions, but its topic has $seen: recreate the topic with $declared partitions (or change numPartitions and the connector's topic.creation.default.partitions together)"
  log "pinot table $name: $seen partitions, as declared"
}

wait_pinot_consuming() {
  local table=$1 deadline=$((SECONDS + WAIT_SECONDS))
  while true; do
    request GET "$PINOT_CONTROLLER_URL/tables/${table%_REALTIME}/externalview" >/dev/null
    # Every consuming segment on PINOT_REPLICAS servers.
    if jq -e --argjson replicas "$PINOT_REPLICAS" '[.REALTIME // {} | .[] | select(any(.[]; . == "CONSUMING"))
        | [.[] | select(. == "CONSUMING")] | length] | length > 0 and min >= $replicas' "$BODY" >/dev/null 2>&1; then
      log "pinot table $table: consuming ($PINOT_REPLICAS replica(s))"
      return 0
    fi
    ((SECONDS < deadline)) || die "pinot table $table has no CONSUMING segment on $PINOT_REPLICAS server(s) after ${WAIT_SECONDS}s"
    sleep 2
  done
}

# ---------------------------------------------------------------------------------------------
# Trino (its HTTP protocol: POST the statement, follow nextUri until done)
# ---------------------------------------------------------------------------------------------
TRINO_ERROR=""
trino_try() {  # sql what -> 0, or 1 with Trino's message in TRINO_ERROR
  local sql=$1 what=$2 status next
  status=$(request POST "$TRINO_URL/v1/statement" -H "X-Trino-User: $TRINO_USER" --data-binary "$sql")
  expect_ok "$status" "$what"
  while true; do
    if jq -e '.error' "$BODY" >/dev/null; then
      TRINO_ERROR=$(jq -r '.error.message' "$BODY")
      return 1
    fi
    next=$(jq -r '.nextUri // empty' "$BODY")
    [[ -n "$next" ]] || return 0
    status=$(request GET "$next" -H "X-Trino-User: $TRINO_USER")
    expect_ok "$status" "$what"
  done
}

trino_sql() {  # sql what
  trino_try "$1" "$2" || die "$2 failed in Trino: $TRINO_ERROR"
}

apply_views() {
  trino_sql "CREATE SCHEMA IF NOT EXISTS hive.views WITH (location = 's3://$S3_BUCKET/views/')" \
    "CREATE SCHEMA hive.views"
  log "trino schema hive.views: present"
  local f
  for f in "$VIEWS_DIR"/*.sql; do
    if grep -q '{{' "$f"; then
      log "view $(basename "$f" .sql): templated, built by the create_views DAG"
      continue
    fi
    local sql attempt deadline=$((SECONDS + WAIT_SECONDS)) column_deadline=$((SECONDS + 30))
    sql=$(sed -e 's/;[[:space:]]*$//' "$f")
    for ((attempt = 1; ; attempt++)); do
      trino_try "$sql" "view $(basename "$f")" && break
      # Trino's pinot catalog caches Pinot's tables and their columns (pinot.metadata-expiry, 15s): a
      # table created or a column added a moment ago appears within that time.
      if [[ "$TRINO_ERROR" == *"Table 'pinot."*"does not exist"* ]] && ((SECONDS < deadline)); then
        log "view $(basename "$f" .sql): Trino does not see the new Pinot table yet (attempt $attempt), retrying"
        sleep 5
        continue
      fi
      if [[ "$TRINO_ERROR" == *"Column '"*"' cannot be resolved"* ]] && ((SECONDS < column_deadline)); then
        log "view $(basename "$f" .sql): $TRINO_ERROR; Trino may not see a new Pinot column yet (attempt $attempt), retrying"
        sleep 5
        continue
      fi
      die "view $(basename "$f") failed in Trino: $TRINO_ERROR"
    done
    log "view $(basename "$f" .sql): created or replaced"
  done
}

main() {
  validate_all
  [[ "${1:-}" == "--validate-only" ]] && exit 0

  wait_for "Kafka Connect" "$CONNECT_URL/connectors"
  wait_for "Pinot controller" "$PINOT_CONTROLLER_URL/health"
  wait_for "Trino" "$TRINO_URL/v1/info" '.starting == false'

  local f dir
  for f in "$RENDERED"/connectors/*.json; do apply_connector "$f"; done
  for f in "$RENDERED"/connectors/*.json; do wait_connector_running "$(basename "$f" .json)"; done
  for dir in "$RENDERED"/pinot/*/; do apply_pinot "$dir"; done
  apply_views
  log "done"
}

main "$@"
