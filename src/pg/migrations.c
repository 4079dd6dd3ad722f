/*
 * migrations.c — the scheduler's PostgreSQL schema as a list of migrations (applied by
 * pg_migrate, see migrate.h). Append new versions; never edit an applied one.
 *
 * Version 1:
 *   staging.raw_users / staging.batches — fetched payloads; a batch is staged
 *     idempotently by inserting its staging.batches row first in the same transaction
 *     (ON CONFLICT DO NOTHING; 0 rows = already staged, skip) — pg_stage_batch.
 *   scheduler.dag_run → task_instance → xcom (each deleted with its parent), and
 *     scheduler.task_log. task_instance.state NULL means "not yet scheduled".
 *
 * Version 2 (the scheduler engine):
 *   scheduler.dag — one row per DAG ever loaded: is_paused survives restarts.
 *   one run per (dag_id, logical_date), as Airflow; dag_run.queued_at;
 *   task_instance.operator and queued_at; task_log.seq orders lines written in the
 *   same microsecond.
 *
 * Version 3 (throughput of the staging table):
 *   staging.raw_users.payload becomes json (was jsonb): the payload is kept as the API
 *   sent it (still validated as JSON by the server), and PostgreSQL no longer builds a
 *   jsonb value per row on COPY and renders it back to text for logical decoding,
 *   about a third of its CPU per staged user. Cast to jsonb (payload::jsonb) for
 *   containment operators. The ALTER rewrites the table once.
 *
 * Version 4 (throughput of the staging table):
 *   the B-tree on staging.raw_users (run_id, batch_no), which nothing in brook reads,
 *   becomes a BRIN index: rows are appended run by run, so block ranges still find a
 *   run's rows, and an insert costs next to nothing instead of a B-tree insertion and
 *   its WAL record per row (~2 µs of PostgreSQL's CPU per staged user).
 */
#include <stddef.h>

#include "pg/migrate.h"

static const char v1_sql[] =
	"CREATE SCHEMA staging;\n"
	"CREATE TABLE staging.raw_users (\n"
	"  id bigserial PRIMARY KEY,\n"
	"  run_id text NOT NULL,\n"
	"  batch_no int NOT NULL,\n"
	"  fetched_at timestamptz NOT NULL,\n"
	"  source_url text NOT NULL,\n"
	"  payload jsonb NOT NULL);\n"
	"CREATE INDEX raw_users_run_batch_idx ON staging.raw_users (run_id, batch_no);\n"
	"CREATE TABLE staging.batches (\n"
	"  run_id text,\n"
	"  batch_no int,\n"
	"  rows int NOT NULL,\n"
	"  staged_at timestamptz DEFAULT now(),\n"
	"  PRIMARY KEY (run_id, batch_no));\n"
	"CREATE SCHEMA scheduler;\n"
	"CREATE TABLE scheduler.dag_run (\n"
	"  dag_id text,\n"
	"  run_id text,\n"
	"  logical_date timestamptz,\n"
	"  data_interval_start timestamptz,\n"
	"  data_interval_end timestamptz,\n"
	"  run_type text CHECK (run_type IN ('scheduled', 'manual', 'backfill')),\n"
	"  state text CHECK (state IN ('queued', 'running', 'success', 'failed')),\n"
	"  conf jsonb DEFAULT '{}',\n"
	"  start_date timestamptz,\n"
	"  end_date timestamptz,\n"
	"  PRIMARY KEY (dag_id, run_id));\n"
	"CREATE TABLE scheduler.task_instance (\n"
	"  dag_id text,\n"
	"  run_id text,\n"
	"  task_id text,\n"
	"  try_number int DEFAULT 0,\n"
	"  max_tries int,\n"
	"  state text NULL CHECK (state IN ('queued', 'running', 'success', 'failed',\n"
	"    'up_for_retry', 'upstream_failed', 'skipped')),\n"
	"  start_date timestamptz,\n"
	"  end_date timestamptz,\n"
	"  next_retry_at timestamptz,\n"
	"  hostname text,\n"
	"  pid int,\n"
	"  PRIMARY KEY (dag_id, run_id, task_id),\n"
	"  FOREIGN KEY (dag_id, run_id) REFERENCES scheduler.dag_run (dag_id, run_id)\n"
	"    ON DELETE CASCADE);\n"
	"CREATE TABLE scheduler.xcom (\n"
	"  dag_id text,\n"
	"  run_id text,\n"
	"  task_id text,\n"
	"  key text,\n"
	"  value jsonb,\n"
	"  PRIMARY KEY (dag_id, run_id, task_id, key),\n"
	"  FOREIGN KEY (dag_id, run_id, task_id)\n"
	"    REFERENCES scheduler.task_instance (dag_id, run_id, task_id) ON DELETE CASCADE);\n"
	"CREATE TABLE scheduler.task_log (\n"
	"  dag_id text,\n"
	"  run_id text,\n"
	"  task_id text,\n"
	"  try_number int,\n"
	"  at timestamptz DEFAULT now(),\n"
	"  line text);\n"
	"CREATE INDEX task_log_task_try_idx\n"
	"  ON scheduler.task_log (dag_id, run_id, task_id, try_number);\n";

static const char v2_sql[] =
	"CREATE TABLE scheduler.dag (\n"
	"  dag_id text PRIMARY KEY,\n"
	"  is_paused boolean NOT NULL,\n"
	"  is_active boolean NOT NULL DEFAULT true,\n"
	"  fileloc text,\n"
	"  last_parsed_time timestamptz DEFAULT now());\n"
	"CREATE UNIQUE INDEX dag_run_logical_date_idx\n"
	"  ON scheduler.dag_run (dag_id, logical_date);\n"
	"CREATE INDEX dag_run_state_idx ON scheduler.dag_run (state);\n"
	"ALTER TABLE scheduler.dag_run ADD COLUMN queued_at timestamptz DEFAULT now();\n"
	"ALTER TABLE scheduler.task_instance ADD COLUMN operator text;\n"
	"ALTER TABLE scheduler.task_instance ADD COLUMN queued_at timestamptz;\n"
	"ALTER TABLE scheduler.task_log ADD COLUMN seq bigserial;\n";

static const char v3_sql[] =
	"ALTER TABLE staging.raw_users ALTER COLUMN payload TYPE json USING payload::json;\n";

static const char v4_sql[] =
	"DROP INDEX staging.raw_users_run_batch_idx;\n"
	"CREATE INDEX raw_users_run_batch_brin ON staging.raw_users\n"
	"  USING brin (run_id, batch_no) WITH (autosummarize = on);\n";

const pg_migration pg_scheduler_migrations[] = {
	{1, "scheduler and staging schemas", v1_sql},
	{2, "scheduler engine: dag table, one run per logical date", v2_sql},
	{3, "staging payload as json: the API's text, cheaper to stage and decode", v3_sql},
	{4, "staging (run_id, batch_no) index as BRIN: cheaper to stage", v4_sql},
};

const size_t pg_scheduler_migrations_count =
	sizeof pg_scheduler_migrations / sizeof pg_scheduler_migrations[0];
