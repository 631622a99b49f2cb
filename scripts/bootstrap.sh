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

log() { printf '[bootstrap] %s\n' "$*"; }
die() { printf '[bootstrap] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Validation: every check runs before the first request to any service.
# ---------------------------------------------------------------------------------------------
problems=()
problem() { problems+=("$1: $2"); }

check_json() {  # file -> 0 when it parses
  local err
  if ! err=$(jq empty "$1" 2>&1); then
    problem "$1" "malformed JSON (${err#jq: error (at *): })"
    return 1
  fi
}

validate_connector() {
  local f=$1
  check_json "$f" || return 0
  jq -e '.name | type == "string" and length > 0' "$f" >/dev/null || problem "$f" "missing \"name\""
  jq -e '.config["connector.class"] | type == "string"' "$f" >/dev/null \
    || problem "$f" "missing config.\"connector.class\""
  local literal
  literal=$(jq -r '.config // {} | to_entries[]
      | select((.key | test("password|secret"; "i")) and ((.value | tostring) | test("^\\$\\{(env|file):") | not))
      | .key' "$f")
  [[ -z "$literal" ]] || problem "$f" "literal secret in $(echo "$literal" | paste -sd, -): use \${env:NAME} or \${file:...}"
}

validate_pinot_pair() {
  local schema=$1 table=$2
  check_json "$schema" || return 0
  check_json "$table" || return 0
  local missing
  missing=$(jq -r '
      ([(.dimensionFieldSpecs // []), (.metricFieldSpecs // []), (.dateTimeFieldSpecs // [])] | add | map(.name)) as $cols
      | (.primaryKeyColumns // [])[] | select(. as $c | $cols | index($c) | not)' "$schema")
  [[ -z "$missing" ]] || problem "$schema" "primary key column(s) not in the schema: $(echo "$missing" | paste -sd, -)"
  local schema_name table_schema
  schema_name=$(jq -r '.schemaName // empty' "$schema")
  [[ -n "$schema_name" ]] || problem "$schema" "missing schemaName"
  table_schema=$(jq -r '.tableIndexConfig.schemaName // .validationConfig.schemaName // .segmentsConfig.schemaName // .tableName // empty' "$table")
  [[ "$table_schema" == "$schema_name" ]] || problem "$table" "table's schema \"$table_schema\" is not \"$schema_name\""
  if jq -e '.upsertConfig != null and .upsertConfig.mode != "NONE"' "$table" >/dev/null; then
    jq -e '(.primaryKeyColumns // []) | length > 0' "$schema" >/dev/null \
      || problem "$schema" "an upsert table needs primaryKeyColumns"
    jq -e '.routing.instanceSelectorType == "strictReplicaGroup"' "$table" >/dev/null \
      || problem "$table" "an upsert table needs routing.instanceSelectorType = strictReplicaGroup"
    local column
    for column in $(jq -r '[.upsertConfig.comparisonColumn, .upsertConfig.deleteRecordColumn] | map(select(. != null))[]' "$table"); do
      jq -e --arg c "$column" '[(.dimensionFieldSpecs // []), (.metricFieldSpecs // []), (.dateTimeFieldSpecs // [])] | add | map(.name) | index($c)' \
        "$schema" >/dev/null || problem "$table" "upsert column \"$column\" is not in the schema"
    done
  fi
}

# A partitioned upsert table: Kafka must put every change of a key in the partition Pinot's Murmur
# function gives that key, or the broker's partition pruning skips the segment that holds it. That
# holds when the connector writing the topic keys its records by the table's one-column primary
# key, as a plain string (ExtractField$Key on that topic + StringConverter: Kafka's murmur2 of the
# key bytes is then Pinot's murmur2 of the value), into as many partitions as the table declares.
validate_partitioning() {  # schema table
  local schema=$1 table=$2 topic spec column function partitions key connector
  spec=$(jq -r '.tableIndexConfig.segmentPartitionConfig.columnPartitionMap // {} | to_entries
      | if length == 0 then "" elif length > 1 then "MANY" else
        "\(.[0].key) \(.[0].value.functionName) \(.[0].value.numPartitions)" end' "$table")
  [[ -n "$spec" ]] || return 0
  [[ "$spec" != MANY ]] || { problem "$table" "segmentPartitionConfig: one column only (Kafka partitions by one key)"; return 0; }
  read -r column function partitions <<<"$spec"
  topic=$(jq -r '.tableIndexConfig.streamConfigs["stream.kafka.topic.name"] // empty' "$table")
  key=$(jq -r '.primaryKeyColumns // [] | join(",")' "$schema")
  [[ "$key" == "$column" ]] \
    || problem "$table" "partitioned on $column, but the primary key is ($key): every change of a key must land in one partition"
  [[ "$function" == Murmur ]] \
    || problem "$table" "partition function $function: Kafka's default partitioner is Murmur (murmur2 of the key)"
  # The connector that keys this topic: "name field converter partitions", one line per match.
  connector=$(jq -rs --arg topic "$topic" '.[] | .name as $name | .config as $c
      | ($c.transforms // "" | split(",") | map(gsub("\\s"; "")))[] as $t
      | select(($c["transforms.\($t).type"] // "") | endswith("ExtractField$Key"))
      | ($c["transforms.\($t).predicate"] // "") as $p
      | select(($c["predicates.\($p).type"] // "" | endswith("TopicNameMatches")) and $c["predicates.\($p).pattern"] == $topic)
      | "\($name) \($c["transforms.\($t).field"]) \($c["key.converter"] // "-") \($c["topic.creation.default.partitions"] // "-")"' \
      "$DEBEZIUM_DIR"/*.json 2>/dev/null) || true  # a malformed file is reported on its own
  if [[ -z "$connector" ]]; then
    problem "$table" "partitioned on $column, but no connector in $DEBEZIUM_DIR keys topic $topic by it (ExtractField\$Key with a TopicNameMatches predicate on $topic)"
    return 0
  fi
  local name field converter topic_partitions
  read -r name field converter topic_partitions <<<"$connector"
  [[ "$field" == "$column" ]] || problem "$table" "partitioned on $column, but connector $name keys topic $topic by $field"
  [[ "$converter" == org.apache.kafka.connect.storage.StringConverter ]] \
    || problem "$table" "connector $name must write its key with key.converter=org.apache.kafka.connect.storage.StringConverter (is: $converter), or Kafka hashes other bytes than Pinot"
  [[ "$topic_partitions" == "$partitions" ]] \
    || problem "$table" "numPartitions $partitions, but connector $name creates topic $topic with topic.creation.default.partitions=$topic_partitions"
}

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
  local f dir schema table tables=0 pairs=()
  shopt -s nullglob
  local connectors=("$DEBEZIUM_DIR"/*.json)
  [[ "$PINOT_REPLICAS" =~ ^[1-9][0-9]*$ ]] || problem PINOT_REPLICAS "must be a positive integer, is '$PINOT_REPLICAS'"
  ((${#connectors[@]})) || problem "$DEBEZIUM_DIR" "no connector files"
  for f in "${connectors[@]}"; do validate_connector "$f"; done
  for dir in "$PINOT_TABLES_DIR"/*/; do
    schema=("$dir"*_schema.json); table=("$dir"*_table.json)
    if ((${#schema[@]} != 1 || ${#table[@]} != 1)); then
      problem "$dir" "needs exactly one *_schema.json and one *_table.json"
      continue
    fi
    validate_pinot_pair "${schema[0]}" "${table[0]}"
    validate_partitioning "${schema[0]}" "${table[0]}"
    pairs+=("${schema[0]}" "${table[0]}")
    tables=$((tables + 1))
  done
  if ((${#problems[@]} == 0 && ${#pairs[@]})); then
    check_transforms "${pairs[@]}"
  fi
  if ((${#problems[@]})); then
    printf '[bootstrap] ERROR: invalid config, nothing was posted:\n' >&2
    printf '  - %s\n' "${problems[@]}" >&2
    exit 2
  fi
  log "validated ${#connectors[@]} connector file(s) and $tables Pinot table(s)"
}

# ---------------------------------------------------------------------------------------------
# HTTP helpers: show the service's own message on failure.
# ---------------------------------------------------------------------------------------------
BODY=$(mktemp)
trap 'rm -f "$BODY"' EXIT

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
apply_connector() {
  local f=$1 name config status
  name=$(jq -r .name "$f")
  config=$(jq -c --arg name "$name" '.config + {name: $name}' "$f")
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
render_pinot_table() {  # fills ${PINOT_KAFKA_BROKERS} in string values; PINOT_REPLICAS copies
  # Each replica group is one copy of every partition, so upsert keeps one primary-key map per copy.
  jq -c --arg brokers "$PINOT_KAFKA_BROKERS" --argjson replicas "$PINOT_REPLICAS" '
    walk(if type == "string" then gsub("\\$\\{PINOT_KAFKA_BROKERS\\}"; $brokers) else . end)
    | .segmentsConfig.replicasPerPartition = ($replicas | tostring)
    | if .instanceAssignmentConfigMap.CONSUMING.replicaGroupPartitionConfig != null
      then .instanceAssignmentConfigMap.CONSUMING.replicaGroupPartitionConfig.numReplicaGroups = $replicas
      else . end' "$1"
}

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
  body=$(render_pinot_table "$table")
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
    local sql attempt deadline=$((SECONDS + WAIT_SECONDS))
    sql=$(sed -e 's/;[[:space:]]*$//' "$f")
    for ((attempt = 1; ; attempt++)); do
      trino_try "$sql" "view $(basename "$f")" && break
      # Trino's pinot catalog caches Pinot's table list (pinot.metadata-expiry): a table created
      # a moment ago appears within that time.
      if [[ "$TRINO_ERROR" == *"Table 'pinot."*"does not exist"* ]] && ((SECONDS < deadline)); then
        log "view $(basename "$f" .sql): Trino does not see the new Pinot table yet (attempt $attempt), retrying"
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
  for f in "$DEBEZIUM_DIR"/*.json; do apply_connector "$f"; done
  for f in "$DEBEZIUM_DIR"/*.json; do wait_connector_running "$(jq -r .name "$f")"; done
  for dir in "$PINOT_TABLES_DIR"/*/; do apply_pinot "$dir"; done
  apply_views
  log "done"
}

main "$@"
