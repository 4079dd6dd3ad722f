/*
 * cluster.c — brook's private PostgreSQL cluster (see cluster.h for the layout, the
 * states and who performs each transition).
 *
 * Every PostgreSQL binary runs in a forked child: signals unblocked (brook's CLI blocks
 * SIGINT/SIGTERM in its threads and the mask is inherited), stdout and stderr appended
 * to DIR/postgres.log (brook's stdout is for command output), working directory DIR,
 * and — when brook is root — setgid/initgroups/setuid to the `postgres` user first.
 * pg_ctl start detaches the postmaster, so brook never owns it as a child; it follows
 * it through pgdata/postmaster.pid and stops it with pg_ctl stop -m fast.
 */
#include "pg/cluster.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/fileio.h"
#include "core/log.h"
#include "core/mem.h"

#define COMP "postgres"
#define PG_ROOT "/usr/lib/postgresql"
#define PASSWORD_BYTES 18 /* 36 hex characters */
#define SUN_PATH_MAX 107  /* sizeof(sockaddr_un.sun_path) - 1 on Linux */

const brook_cfg_key pg_config_keys[] = {
	{"postgres.dsn", BROOK_CFG_STR, NULL,
	 "PostgreSQL connection string; unset: brook's private cluster under the data dir", NULL},
	{"postgres.listen", BROOK_CFG_STR, "127.0.0.1:5433",
	 "address of brook's private PostgreSQL cluster (brook postgres)", NULL},
	{NULL, 0, NULL, NULL, NULL},
};

struct pg_cluster {
	char *dir;     /* absolute */
	char *pgdata;  /* dir/pgdata */
	char *bindir;
	char *host;
	int port;
	char *dsn;
	char version[16];
	bool as_postgres; /* brook is root: binaries run as the postgres user */
	uid_t uid;
	gid_t gid;
	bool running;
};

static char *path_join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = brook_malloc(n);
	snprintf(p, n, "%s/%s", a, b);
	return p;
}

static bool file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

char *pg_find_bindir(void)
{
	const char *env = getenv("BROOK_PG_BINDIR");
	if (env && *env)
		return brook_strdup(env);
	DIR *d = opendir(PG_ROOT);
	if (!d)
		return NULL;
	long best = -1;
	char bestname[64] = "";
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end;
		long v = strtol(e->d_name, &end, 10);
		if (end == e->d_name || *end != '\0' || strlen(e->d_name) >= sizeof bestname)
			continue;
		char pgctl[PATH_MAX];
		snprintf(pgctl, sizeof pgctl, "%s/%s/bin/pg_ctl", PG_ROOT, e->d_name);
		if (v > best && access(pgctl, X_OK) == 0) {
			best = v;
			snprintf(bestname, sizeof bestname, "%s", e->d_name);
		}
	}
	closedir(d);
	if (best < 0)
		return NULL;
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s/bin", PG_ROOT, bestname);
	return brook_strdup(path);
}

int pg_parse_listen(const char *listen, char **host, int *port, char *err, size_t errlen)
{
	const char *colon = listen ? strrchr(listen, ':') : NULL;
	if (!colon || colon == listen) {
		snprintf(err, errlen, "bad listen address '%s': expected HOST:PORT",
			 listen ? listen : "");
		return BROOK_ERR;
	}
	char *end;
	errno = 0;
	long p = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end != '\0' || p < 1 || p > 65535) {
		snprintf(err, errlen,
			 "bad port in listen address '%s': PostgreSQL needs a fixed port 1-65535",
			 listen);
		return BROOK_ERR;
	}
	const char *h = listen;
	size_t hl = (size_t)(colon - listen);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') { /* [::1]:5433 */
		h++;
		hl -= 2;
	}
	*host = brook_strndup(h, hl);
	*port = (int)p;
	return BROOK_OK;
}

/* The host clients connect to: a wildcard listen address means this machine. */
static const char *connect_host(const char *listen_host)
{
	if (!*listen_host || !strcmp(listen_host, "*") || !strcmp(listen_host, "0.0.0.0"))
		return "127.0.0.1";
	if (!strcmp(listen_host, "::"))
		return "::1";
	return listen_host;
}

static char *make_dsn(const char *host, int port, const char *password)
{
	brook_buf b = BROOK_BUF_INIT;
	brook_buf_printf(&b, "host=%s port=%d user=brook password=%s dbname=brook",
			 connect_host(host), port, password);
	return brook_buf_detach(&b, NULL);
}

/* Reads DIR/password (one line of hex). */
static char *read_password(const char *dir, char *err, size_t errlen)
{
	char *path = path_join(dir, "password");
	brook_buf b = BROOK_BUF_INIT;
	if (brook_file_read(path, 4096, &b) != BROOK_OK) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		free(path);
		brook_buf_release(&b);
		return NULL;
	}
	free(path);
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		brook_buf_truncate(&b, b.len - 1);
	if (b.len == 0 || strpbrk(b.data, " \t\n'\\")) {
		snprintf(err, errlen, "%s/password is empty or malformed", dir);
		brook_buf_release(&b);
		return NULL;
	}
	return brook_buf_detach(&b, NULL);
}

/* Creates DIR/password (mode 0600) with a fresh random password, unless it exists. */
static int ensure_password(pg_cluster *c, char *err, size_t errlen)
{
	char *path = path_join(c->dir, "password");
	int rc = BROOK_ERR;
	if (file_exists(path)) {
		rc = BROOK_OK;
		goto out;
	}
	unsigned char raw[PASSWORD_BYTES];
	int rfd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (rfd < 0 || read(rfd, raw, sizeof raw) != (ssize_t)sizeof raw) {
		snprintf(err, errlen, "cannot read /dev/urandom: %s", strerror(errno));
		if (rfd >= 0)
			close(rfd);
		goto out;
	}
	close(rfd);
	char hex[2 * PASSWORD_BYTES + 2];
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	size_t n = 2 * PASSWORD_BYTES;
	hex[n++] = '\n';
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) != 0 || brook_write_all(fd, hex, n) != BROOK_OK ||
	    fsync(fd) != 0 || (c->as_postgres && fchown(fd, c->uid, c->gid) != 0)) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(path);
		goto out;
	}
	close(fd);
	brook_fsync_dir(c->dir);
	rc = BROOK_OK;
out:
	free(path);
	return rc;
}

/*
 * Runs bindir/argv[0] with argv in a child (as postgres when brook is root), output
 * appended to DIR/postgres.log. Returns the exit status, or -1 if it did not exit.
 */
static int run_pg(const pg_cluster *c, char *const argv[])
{
	char *logpath = path_join(c->dir, "postgres.log");
	int logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (logfd >= 0 && c->as_postgres && fchown(logfd, c->uid, c->gid) != 0) {
		brook_warn(COMP, "cannot chown %s: %s", logpath, strerror(errno));
	}
	free(logpath);
	char *prog = path_join(c->bindir, argv[0]);
	pid_t pid = fork();
	if (pid < 0) {
		brook_error(COMP, "cannot fork: %s", strerror(errno));
		free(prog);
		if (logfd >= 0)
			close(logfd);
		return -1;
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0)
			dup2(devnull, 0);
		if (logfd >= 0) {
			dup2(logfd, 1);
			dup2(logfd, 2);
		}
		if (c->as_postgres) {
			if (setgid(c->gid) != 0 || initgroups("postgres", c->gid) != 0 ||
			    setuid(c->uid) != 0) {
				fprintf(stderr, "brook: cannot switch to user postgres: %s\n",
					strerror(errno));
				_exit(126);
			}
		}
		if (chdir(c->dir) != 0) {
			fprintf(stderr, "brook: cannot enter %s: %s%s\n", c->dir, strerror(errno),
				c->as_postgres ? " (every parent directory must be searchable by "
						 "user postgres)"
					       : "");
			_exit(126);
		}
		execv(prog, argv);
		fprintf(stderr, "brook: cannot run %s: %s\n", prog, strerror(errno));
		_exit(127);
	}
	free(prog);
	if (logfd >= 0)
		close(logfd);
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The last line of DIR/postgres.log, for error messages. */
static void log_tail(const pg_cluster *c, char *out, size_t outlen)
{
	out[0] = '\0';
	char *path = path_join(c->dir, "postgres.log");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return;
	char buf[1024];
	off_t size = lseek(fd, 0, SEEK_END);
	off_t off = size > (off_t)sizeof buf - 1 ? size - (off_t)sizeof buf + 1 : 0;
	ssize_t n = pread(fd, buf, sizeof buf - 1, off);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	char *nl = strrchr(buf, '\n');
	snprintf(out, outlen, "%s", nl ? nl + 1 : buf);
}

static void fail_with_log(const pg_cluster *c, const char *what, int status, char *err,
			  size_t errlen)
{
	char tail[512];
	log_tail(c, tail, sizeof tail);
	snprintf(err, errlen, "%s failed (exit %d); see %s/postgres.log%s%s", what, status,
		 c->dir, tail[0] ? ": " : "", tail);
}

static void put_conf_str(brook_buf *b, const char *name, const char *value)
{
	brook_buf_printf(b, "%s = '", name);
	for (const char *p = value; *p; p++) {
		if (*p == '\'')
			brook_buf_putc(b, '\'');
		brook_buf_putc(b, *p);
	}
	brook_buf_puts(b, "'\n");
}

/* pgdata/brook.conf: the settings brook owns, rewritten on every start. */
static int write_brook_conf(const pg_cluster *c, char *err, size_t errlen)
{
	brook_buf b = BROOK_BUF_INIT;
	brook_buf_puts(&b, "# Written by brook on every start; use ALTER SYSTEM for your own "
			   "settings.\n");
	put_conf_str(&b, "listen_addresses", c->host);
	brook_buf_printf(&b, "port = %d\n", c->port);
	put_conf_str(&b, "unix_socket_directories", c->dir);
	brook_buf_puts(&b, "password_encryption = 'scram-sha-256'\n"
			   "wal_level = logical\n"
			   "max_replication_slots = 8\n"
			   "max_wal_senders = 8\n");
	char *path = path_join(c->pgdata, "brook.conf");
	int rc = brook_file_write_atomic(path, b.data, b.len);
	if (rc != BROOK_OK)
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
	else if (c->as_postgres && chown(path, c->uid, c->gid) != 0)
		brook_warn(COMP, "cannot chown %s: %s", path, strerror(errno));
	free(path);
	brook_buf_release(&b);
	return rc;
}

static int initdb(pg_cluster *c, char *err, size_t errlen)
{
	brook_info(COMP, "initialising a new PostgreSQL cluster in %s", c->pgdata);
	char *pwfile = path_join(c->dir, "password");
	char pwopt[PATH_MAX + 16];
	snprintf(pwopt, sizeof pwopt, "--pwfile=%s", pwfile);
	free(pwfile);
	char *const argv[] = {"initdb", "-D", c->pgdata, "-U", "brook", pwopt,
			      "--auth-local=scram-sha-256", "--auth-host=scram-sha-256",
			      "-E", "UTF8", "--locale=C", "--no-instructions", NULL};
	int st = run_pg(c, argv);
	if (st != 0) {
		fail_with_log(c, "initdb", st, err, errlen);
		return BROOK_ERR;
	}
	char *conf = path_join(c->pgdata, "postgresql.conf");
	int fd = open(conf, O_WRONLY | O_APPEND | O_CLOEXEC);
	static const char inc[] = "\n# brook's settings (listen address, port, wal_level)\n"
				  "include_if_exists = 'brook.conf'\n";
	int rc = BROOK_OK;
	if (fd < 0 || brook_write_all(fd, inc, sizeof inc - 1) != BROOK_OK || fsync(fd) != 0) {
		snprintf(err, errlen, "cannot append to %s: %s", conf, strerror(errno));
		rc = BROOK_ERR;
	}
	if (fd >= 0)
		close(fd);
	free(conf);
	if (rc != BROOK_OK)
		return rc;
	/* initdb's pg_hba.conf only admits loopback TCP clients; listen_addresses decides
	 * who can reach the server, and every client must know the password. */
	char *hba = path_join(c->pgdata, "pg_hba.conf");
	fd = open(hba, O_WRONLY | O_APPEND | O_CLOEXEC);
	static const char any[] = "\n# brook: any address, always with a password\n"
				  "host    all             all             all"
				  "                     scram-sha-256\n"
				  "host    replication     all             all"
				  "                     scram-sha-256\n";
	if (fd < 0 || brook_write_all(fd, any, sizeof any - 1) != BROOK_OK || fsync(fd) != 0) {
		snprintf(err, errlen, "cannot append to %s: %s", hba, strerror(errno));
		rc = BROOK_ERR;
	}
	if (fd >= 0)
		close(fd);
	free(hba);
	return rc;
}

pid_t pg_cluster_postmaster_pid(const pg_cluster *c)
{
	char *path = path_join(c->pgdata, "postmaster.pid");
	brook_buf b = BROOK_BUF_INIT;
	pid_t pid = 0;
	if (brook_file_read(path, 1 << 16, &b) == BROOK_OK && b.len) {
		long v = strtol(b.data, NULL, 10);
		if (v > 0 && kill((pid_t)v, 0) == 0)
			pid = (pid_t)v;
	}
	brook_buf_release(&b);
	free(path);
	return pid;
}

/* Creates database brook if it is missing (connected to the postgres database). */
static int ensure_database(pg_cluster *c, const char *password, char *err, size_t errlen)
{
	char conninfo[512];
	snprintf(conninfo, sizeof conninfo,
		 "host=%s port=%d user=brook password=%s dbname=postgres connect_timeout=30",
		 connect_host(c->host), c->port, password);
	PGconn *conn = PQconnectdb(conninfo);
	int rc = BROOK_ERR;
	if (PQstatus(conn) != CONNECTION_OK) {
		snprintf(err, errlen, "cannot connect to the new server on %s:%d: %s", c->host,
			 c->port, PQerrorMessage(conn));
		goto out;
	}
	PGresult *r = PQexec(conn, "SELECT 1 FROM pg_database WHERE datname = 'brook'");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "cannot list databases: %s", PQerrorMessage(conn));
		PQclear(r);
		goto out;
	}
	int have = PQntuples(r);
	PQclear(r);
	if (!have) {
		r = PQexec(conn, "CREATE DATABASE brook");
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			snprintf(err, errlen, "cannot create database brook: %s",
				 PQerrorMessage(conn));
			PQclear(r);
			goto out;
		}
		PQclear(r);
		brook_info(COMP, "created database brook");
	}
	rc = BROOK_OK;
out:
	PQfinish(conn);
	return rc;
}

static int write_listen_file(const pg_cluster *c)
{
	char text[300];
	bool v6 = strchr(c->host, ':') != NULL;
	int n = snprintf(text, sizeof text, "%s%s%s:%d\n", v6 ? "[" : "", c->host, v6 ? "]" : "",
			 c->port);
	char *path = path_join(c->dir, "listen");
	int rc = brook_file_write_atomic(path, text, (size_t)n);
	free(path);
	return rc;
}

/* A loopback port free right now (PostgreSQL cannot bind port 0 itself), or -1. */
static int free_loopback_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int port = -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

pg_cluster *pg_cluster_open(const char *dir, const char *listen_host, int port, char *err,
			    size_t errlen)
{
	if (port == 0 && (port = free_loopback_port()) <= 0) {
		snprintf(err, errlen, "cannot find a free port for PostgreSQL: %s", strerror(errno));
		return NULL;
	}
	/* Parents 0755 (user postgres must reach DIR when brook is root); DIR itself is
	 * made 0700 below. */
	if (brook_mkdirs(dir, 0755) != BROOK_OK) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return NULL;
	}
	char abs[PATH_MAX];
	if (!realpath(dir, abs)) {
		snprintf(err, errlen, "cannot resolve %s: %s", dir, strerror(errno));
		return NULL;
	}
	/* The socket DIR/.s.PGSQL.PORT must fit in sockaddr_un. */
	size_t socklen = strlen(abs) + strlen("/.s.PGSQL.") + 5;
	if (socklen > SUN_PATH_MAX) {
		snprintf(err, errlen,
			 "the directory %s is too long for PostgreSQL's unix socket (%zu bytes "
			 "with the socket name, the limit is %d): use a shorter --data path",
			 abs, socklen, SUN_PATH_MAX);
		return NULL;
	}
	char *bindir = pg_find_bindir();
	if (!bindir) {
		snprintf(err, errlen, "no PostgreSQL found under %s (install postgresql, or set "
				      "BROOK_PG_BINDIR)", PG_ROOT);
		return NULL;
	}

	pg_cluster *c = brook_calloc(1, sizeof *c);
	c->dir = brook_strdup(abs);
	c->pgdata = path_join(abs, "pgdata");
	c->bindir = bindir;
	c->host = brook_strdup(listen_host);
	c->port = port;
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("postgres");
		if (!pw) {
			snprintf(err, errlen, "PostgreSQL cannot run as root and there is no "
					      "'postgres' user: create one or run brook as another user");
			goto fail;
		}
		c->as_postgres = true;
		c->uid = pw->pw_uid;
		c->gid = pw->pw_gid;
		if (chown(c->dir, c->uid, c->gid) != 0) {
			snprintf(err, errlen, "cannot chown %s to postgres: %s", c->dir,
				 strerror(errno));
			goto fail;
		}
	}
	if (chmod(c->dir, 0700) != 0) {
		snprintf(err, errlen, "cannot chmod %s: %s", c->dir, strerror(errno));
		goto fail;
	}

	char *pgversion = path_join(c->pgdata, "PG_VERSION");
	bool initialised = file_exists(pgversion);
	if (!initialised) {
		if (ensure_password(c, err, errlen) != BROOK_OK || initdb(c, err, errlen) != BROOK_OK) {
			free(pgversion);
			goto fail;
		}
	}
	brook_buf vb = BROOK_BUF_INIT;
	if (brook_file_read(pgversion, 64, &vb) == BROOK_OK) {
		while (vb.len && (vb.data[vb.len - 1] == '\n'))
			brook_buf_truncate(&vb, vb.len - 1);
		snprintf(c->version, sizeof c->version, "%s", vb.data ? vb.data : "");
	}
	brook_buf_release(&vb);
	free(pgversion);

	char *password = read_password(c->dir, err, errlen);
	if (!password)
		goto fail;
	c->dsn = make_dsn(c->host, c->port, password);

	if (c->as_postgres && chown(c->pgdata, c->uid, c->gid) != 0) {
		snprintf(err, errlen, "cannot chown %s to postgres: %s", c->pgdata, strerror(errno));
		goto fail_pw;
	}
	if (pg_cluster_postmaster_pid(c)) {
		brook_warn(COMP, "a server from an earlier run is still running in %s; "
				 "restarting it", c->pgdata);
		char *const stop[] = {"pg_ctl", "stop", "-D", c->pgdata, "-m", "fast", "-w",
				      "-s", NULL};
		run_pg(c, stop);
	}
	if (write_brook_conf(c, err, errlen) != BROOK_OK)
		goto fail_pw;
	char *logpath = path_join(c->dir, "postgres.log");
	char *const start[] = {"pg_ctl", "start", "-D", c->pgdata, "-l", logpath, "-w",
			       "-t", "120", "-s", NULL};
	int st = run_pg(c, start);
	free(logpath);
	if (st != 0) {
		fail_with_log(c, "starting PostgreSQL", st, err, errlen);
		goto fail_pw;
	}
	c->running = true;
	if (ensure_database(c, password, err, errlen) != BROOK_OK) {
		pg_cluster_stop(c, NULL, 0);
		goto fail_pw;
	}
	if (write_listen_file(c) != BROOK_OK)
		brook_warn(COMP, "cannot write %s/listen: %s", c->dir, strerror(errno));
	free(password);
	return c;

fail_pw:
	free(password);
fail:
	c->running = false;
	pg_cluster_close(c);
	return NULL;
}

const char *pg_cluster_dsn(const pg_cluster *c)
{
	return c->dsn;
}

const char *pg_cluster_datadir(const pg_cluster *c)
{
	return c->pgdata;
}

int pg_cluster_port(const pg_cluster *c)
{
	return c->port;
}

const char *pg_cluster_version(const pg_cluster *c)
{
	return c->version;
}

int pg_cluster_stop(pg_cluster *c, char *err, size_t errlen)
{
	if (c->running && !pg_cluster_postmaster_pid(c))
		c->running = false; /* it exited on its own (logged by the caller) */
	if (!c->running)
		return BROOK_OK;
	char *const argv[] = {"pg_ctl", "stop", "-D", c->pgdata, "-m", "fast", "-w",
			      "-t", "120", "-s", NULL};
	int st = run_pg(c, argv);
	if (st != 0) {
		if (err)
			fail_with_log(c, "stopping PostgreSQL", st, err, errlen);
		return BROOK_ERR;
	}
	c->running = false;
	return BROOK_OK;
}

void pg_cluster_close(pg_cluster *c)
{
	if (!c)
		return;
	if (c->running) {
		char err[512];
		if (pg_cluster_stop(c, err, sizeof err) != BROOK_OK)
			brook_error(COMP, "%s", err);
	}
	free(c->dir);
	free(c->pgdata);
	free(c->bindir);
	free(c->host);
	free(c->dsn);
	free(c);
}

char *pg_cluster_read_dsn(const char *dir, const char *listen_host, int port, char *err,
			  size_t errlen)
{
	char *pgversion = path_join(dir, "pgdata/PG_VERSION");
	bool initialised = file_exists(pgversion);
	free(pgversion);
	if (!initialised) {
		snprintf(err, errlen, "no PostgreSQL cluster in %s: start one with "
				      "`brook postgres --data DIR`", dir);
		return NULL;
	}
	char *password = read_password(dir, err, errlen);
	if (!password)
		return NULL;
	char *host = NULL;
	char *listen_path = path_join(dir, "listen");
	brook_buf b = BROOK_BUF_INIT;
	if (brook_file_read(listen_path, 512, &b) == BROOK_OK && b.len) {
		while (b.len && b.data[b.len - 1] == '\n')
			brook_buf_truncate(&b, b.len - 1);
		char e2[256];
		if (pg_parse_listen(b.data, &host, &port, e2, sizeof e2) != BROOK_OK)
			host = NULL;
	}
	brook_buf_release(&b);
	free(listen_path);
	char *dsn = make_dsn(host ? host : listen_host, port, password);
	free(host);
	free(password);
	return dsn;
}
