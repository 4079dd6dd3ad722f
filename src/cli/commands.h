/*
 * commands.h — the entry point of every `brook <command>`; argv[0] is the command name.
 * Each returns the process exit code: 0 success, 1 failure, 2 usage error.
 */
#ifndef BROOK_CLI_COMMANDS_H
#define BROOK_CLI_COMMANDS_H

int cmd_randomuser(int argc, char **argv);
int cmd_fetch(int argc, char **argv);
int cmd_cron(int argc, char **argv);
int cmd_broker(int argc, char **argv);
int cmd_store(int argc, char **argv);
int cmd_cql(int argc, char **argv);
int cmd_postgres(int argc, char **argv);
int cmd_psql(int argc, char **argv);
int cmd_scheduler(int argc, char **argv);
int cmd_dags(int argc, char **argv);
int cmd_registry(int argc, char **argv);
int cmd_connect(int argc, char **argv);
int cmd_stream(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_up(int argc, char **argv);

#endif
