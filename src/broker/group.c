/*
 * group.c — the consumer group coordinator: Kafka's classic group protocol.
 *
 * NOTES ON THE DESIGN
 *
 * One group_coord holds every group (brook is the coordinator of all of them), kept in
 * an array sorted by group id. A group has members (in join order), the member ids
 * handed out with MEMBER_ID_REQUIRED that have not rejoined yet ("pending ids"), and
 * its committed offsets (an array sorted by topic, partition).
 *
 * States (Kafka's GroupMetadata states) and which function performs each transition:
 *
 *   Empty ---------------- group_join adds a member -> PreparingRebalance
 *     (prepare_rebalance)
 *   PreparingRebalance --- complete_join: every member rejoined (and the initial delay
 *                           passed) or the rebalance timeout expired (from join_check /
 *                           group_coord_tick) -> CompletingRebalance, or -> Empty when no
 *                           member is left
 *   CompletingRebalance -- group_sync from the leader (apply_assignment) -> Stable
 *   CompletingRebalance,
 *   Stable --------------- a member joins, leaves, changes protocols, its session
 *                           expires (remove_member / prepare_rebalance) -> PreparingRebalance
 *   any ------------------ a group tombstone loaded with no offsets left (drop_group)
 *                           -> Dead (the group is forgotten; DescribeGroups reports Dead)
 *
 * Invariants:
 *   - the leader, when set, is a member; protocol is set iff generation's rebalance
 *     completed with members (CompletingRebalance, Stable; also loaded groups);
 *   - a member has at most one pending JoinGroup and one pending SyncGroup; pending joins
 *     exist only in PreparingRebalance, pending syncs only in CompletingRebalance or
 *     while a Stable group's metadata is being persisted (g->persisting);
 *   - every pending request is answered exactly once: on completion, on removal of its
 *     member, or in group_coord_free.
 *
 * Durability: an OffsetCommit becomes a batch of OffsetCommitKey/Value records handed
 * to group_io.append; the offsets are applied in memory and the request answered only
 * in the append's completion (commit_io_done). The leader's SyncGroup persists the
 * group metadata record and members' SyncGroups are answered in its completion
 * (sync_io_done). A group that becomes Empty persists its metadata without waiting.
 *
 * Sessions: a member's session is last_hb + session timeout; it is renewed by every
 * request of that member and does not run while a JoinGroup or SyncGroup of the member
 * is pending (Kafka does the same). group_coord_tick expires sessions, pending ids and
 * rebalance timeouts.
 */
#include "broker/group.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "broker/offsets_format.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/uuid.h"
#include "kafka/errors.h"
#include "kafka/msgs.h"

#define LOG "groups"

enum gstate { G_EMPTY, G_PREPARING, G_COMPLETING, G_STABLE, G_DEAD };

static const char *const state_names[] = {"Empty", "PreparingRebalance", "CompletingRebalance",
                                          "Stable", "Dead"};

typedef struct gproto {
	char *name;
	uint8_t *meta;
	int32_t len;
} gproto;

typedef struct gmember {
	char *id;
	char *instance_id; /* NULL: dynamic member */
	char *client_id, *client_host;
	char *protocol_type;
	int32_t session_ms, rebalance_ms;
	gproto *protos;
	int32_t n_protos;
	uint8_t *assign;
	int32_t assign_len;
	int64_t last_hb; /* -1: loaded from disk; the session starts at the next tick */
	group_done_fn join_done;
	void *join_ctx;
	int16_t join_ver;
	group_done_fn sync_done;
	void *sync_ctx;
	int16_t sync_ver;
	struct gmember *next;
} gmember;

typedef struct gpending {
	char *id;
	int64_t deadline;
	struct gpending *next;
} gpending;

typedef struct goffset {
	char *topic;
	int32_t partition;
	int64_t offset;
	int32_t leader_epoch;
	char *metadata;
	int64_t commit_ts;
} goffset;

typedef struct group {
	char *id;
	enum gstate state;
	char *protocol_type; /* NULL: none yet */
	char *protocol;      /* NULL: none */
	char *leader;        /* NULL: none; else equal to a member's id */
	int32_t generation;
	int64_t state_ts;
	gmember *members;
	int32_t n_members;
	gpending *pending;
	int64_t rebalance_start;  /* PreparingRebalance: when it began */
	int64_t join_delay_until; /* PreparingRebalance: initial delay end (0: none) */
	bool persisting;          /* the Stable generation's metadata is being written */
	goffset *offsets;
	size_t n_offsets, cap_offsets;
} group;

struct group_coord {
	group_config cfg;
	group_io io;
	group **groups; /* sorted by id */
	size_t n_groups, cap_groups;
	int64_t now; /* time of the latest call that gave one */
};

/* --- small helpers ------------------------------------------------------------------- */

static char *sdup(kafka_str s)
{
	return s.len < 0 ? NULL : brook_strndup(s.ptr, (size_t)s.len);
}

static kafka_str kstr(const char *s)
{
	return kafka_str_from(s);
}

/* A non-nullable string field: NULL becomes "". */
static kafka_str kstr_nn(const char *s)
{
	return kafka_str_from(s ? s : "");
}

static bool str_is(kafka_str a, const char *b)
{
	if (!b)
		return a.len < 0;
	return kafka_str_eq(a, b);
}

static bool str_empty(kafka_str s)
{
	return s.len <= 0;
}

/* Group ids and topics are kept as C strings: one with a NUL byte cannot be stored. */
static bool has_nul(kafka_str s)
{
	return s.len > 0 && memchr(s.ptr, '\0', (size_t)s.len) != NULL;
}

void group_config_defaults(group_config *cfg)
{
	cfg->offsets_partitions = 50;
	cfg->initial_rebalance_delay_ms = 0;
	cfg->min_session_timeout_ms = 6000;
	cfg->max_session_timeout_ms = 1800000;
	cfg->max_group_size = 0;
	cfg->max_metadata_bytes = 4096;
}

/* --- groups -------------------------------------------------------------------------- */

static int group_cmp_key(const char *id, size_t len, const group *gr)
{
	size_t glen = strlen(gr->id);
	int c = memcmp(id, gr->id, len < glen ? len : glen);
	if (c)
		return c;
	return len < glen ? -1 : len > glen;
}

/* Index of the group or where it would be inserted; *found set accordingly. */
static size_t group_pos(const group_coord *g, kafka_str id, bool *found)
{
	size_t lo = 0, hi = g->n_groups;
	size_t len = id.len < 0 ? 0 : (size_t)id.len;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = group_cmp_key(id.ptr ? id.ptr : "", len, g->groups[mid]);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*found = false;
	return lo;
}

static group *group_find(const group_coord *g, kafka_str id)
{
	if (has_nul(id))
		return NULL;
	bool found;
	size_t i = group_pos(g, id, &found);
	return found ? g->groups[i] : NULL;
}

static group *group_get(group_coord *g, kafka_str id)
{
	bool found;
	assert(!has_nul(id));
	size_t i = group_pos(g, id, &found);
	if (found)
		return g->groups[i];
	if (g->n_groups == g->cap_groups) {
		g->cap_groups = g->cap_groups ? g->cap_groups * 2 : 16;
		g->groups = brook_realloc(g->groups, g->cap_groups * sizeof *g->groups);
	}
	memmove(&g->groups[i + 1], &g->groups[i], (g->n_groups - i) * sizeof *g->groups);
	group *gr = brook_calloc(1, sizeof *gr);
	gr->id = sdup(id.len < 0 ? KAFKA_STR("") : id);
	gr->state = G_EMPTY;
	gr->state_ts = g->now;
	g->groups[i] = gr;
	g->n_groups++;
	return gr;
}

static void member_free_protos(gmember *m)
{
	for (int32_t i = 0; i < m->n_protos; i++) {
		free(m->protos[i].name);
		free(m->protos[i].meta);
	}
	free(m->protos);
	m->protos = NULL;
	m->n_protos = 0;
}

static void member_free(gmember *m)
{
	member_free_protos(m);
	free(m->id);
	free(m->instance_id);
	free(m->client_id);
	free(m->client_host);
	free(m->protocol_type);
	free(m->assign);
	free(m);
}

static void offsets_clear(group *gr)
{
	for (size_t i = 0; i < gr->n_offsets; i++) {
		free(gr->offsets[i].topic);
		free(gr->offsets[i].metadata);
	}
	gr->n_offsets = 0;
}

static void set_str(char **dst, const char *src)
{
	char *c = src ? brook_strdup(src) : NULL;
	free(*dst);
	*dst = c;
}

static void set_state(group_coord *g, group *gr, enum gstate st)
{
	if (gr->state != st)
		brook_debug(LOG, "group %s: %s -> %s (generation %d)", gr->id,
		            state_names[gr->state], state_names[st], gr->generation);
	gr->state = st;
	gr->state_ts = g->now;
}

/* --- members ------------------------------------------------------------------------- */

static gmember *member_find(const group *gr, kafka_str id)
{
	if (id.len < 0)
		return NULL;
	for (gmember *m = gr->members; m; m = m->next)
		if (kafka_str_eq(id, m->id))
			return m;
	return NULL;
}

static gmember *member_by_instance(const group *gr, kafka_str inst)
{
	if (inst.len < 0)
		return NULL;
	for (gmember *m = gr->members; m; m = m->next)
		if (m->instance_id && kafka_str_eq(inst, m->instance_id))
			return m;
	return NULL;
}

static gpending *pending_find(const group *gr, kafka_str id)
{
	for (gpending *p = gr->pending; p; p = p->next)
		if (kafka_str_eq(id, p->id))
			return p;
	return NULL;
}

static void pending_remove(group *gr, gpending *victim)
{
	for (gpending **pp = &gr->pending; *pp; pp = &(*pp)->next) {
		if (*pp == victim) {
			*pp = victim->next;
			free(victim->id);
			free(victim);
			return;
		}
	}
}

static void pending_clear(group *gr)
{
	while (gr->pending)
		pending_remove(gr, gr->pending);
}

static char *new_member_id(kafka_str prefix)
{
	brook_uuid u;
	char us[BROOK_UUID_STRLEN + 1];
	brook_uuid_v4(&u);
	brook_uuid_format(&u, us);
	brook_buf b = BROOK_BUF_INIT;
	if (prefix.len > 0)
		brook_buf_append(&b, prefix.ptr, (size_t)prefix.len);
	brook_buf_putc(&b, '-');
	brook_buf_puts(&b, us);
	return brook_buf_detach(&b, NULL);
}

static void member_set_protocols(gmember *m, const kafka_join_group_req *req)
{
	member_free_protos(m);
	if (req->n_protocols <= 0)
		return;
	m->protos = brook_calloc((size_t)req->n_protocols, sizeof *m->protos);
	for (int32_t i = 0; i < req->n_protocols; i++) {
		const kafka_join_group_request_protocol *p = &req->protocols[i];
		m->protos[i].name = sdup(p->name.len < 0 ? KAFKA_STR("") : p->name);
		int32_t len = p->metadata.len < 0 ? 0 : p->metadata.len;
		m->protos[i].meta = brook_malloc(len ? (size_t)len : 1);
		if (len)
			memcpy(m->protos[i].meta, p->metadata.ptr, (size_t)len);
		m->protos[i].len = len;
	}
	m->n_protos = req->n_protocols;
}

static bool member_same_protocols(const gmember *m, const kafka_join_group_req *req)
{
	if (m->n_protos != req->n_protocols)
		return false;
	for (int32_t i = 0; i < m->n_protos; i++) {
		const kafka_join_group_request_protocol *p = &req->protocols[i];
		int32_t len = p->metadata.len < 0 ? 0 : p->metadata.len;
		if (!kafka_str_eq(p->name, m->protos[i].name) || len != m->protos[i].len ||
		    (len && memcmp(p->metadata.ptr, m->protos[i].meta, (size_t)len)))
			return false;
	}
	return true;
}

static const gproto *member_proto(const gmember *m, const char *name)
{
	if (!name)
		return NULL;
	for (int32_t i = 0; i < m->n_protos; i++)
		if (!strcmp(m->protos[i].name, name))
			return &m->protos[i];
	return NULL;
}

/* Does every current member support protocol `name`? */
static bool all_support(const group *gr, const char *name, size_t len)
{
	for (const gmember *m = gr->members; m; m = m->next) {
		bool ok = false;
		for (int32_t i = 0; i < m->n_protos && !ok; i++)
			ok = strlen(m->protos[i].name) == len &&
			     !memcmp(m->protos[i].name, name, len);
		if (!ok)
			return false;
	}
	return true;
}

/* Kafka's supportsProtocols: an empty group takes any non-empty type and protocol list;
 * otherwise the type must match and one of the protocols be supported by every member. */
static bool supports_protocols(const group *gr, const kafka_join_group_req *req)
{
	if (str_empty(req->protocol_type) || req->n_protocols <= 0)
		return false;
	if (!gr->members)
		return true;
	if (!gr->protocol_type || !kafka_str_eq(req->protocol_type, gr->protocol_type))
		return false;
	for (int32_t i = 0; i < req->n_protocols; i++) {
		kafka_str n = req->protocols[i].name;
		if (n.len >= 0 && all_support(gr, n.ptr ? n.ptr : "", (size_t)n.len))
			return true;
	}
	return false;
}

/* Kafka's selectProtocol: among the protocols every member supports, each member votes
 * for the first one in its own preference order; most votes wins, ties go to the
 * candidate listed first by the first member. */
static char *select_protocol(const group *gr)
{
	const gmember *first = gr->members;
	const char *best = NULL;
	int best_votes = -1;
	for (int32_t c = 0; c < first->n_protos; c++) {
		const char *cand = first->protos[c].name;
		if (!all_support(gr, cand, strlen(cand)))
			continue;
		int votes = 0;
		for (const gmember *m = gr->members; m; m = m->next) {
			for (int32_t i = 0; i < m->n_protos; i++) {
				const char *pn = m->protos[i].name;
				if (!all_support(gr, pn, strlen(pn)))
					continue;
				votes += !strcmp(pn, cand);
				break;
			}
		}
		if (votes > best_votes) {
			best = cand;
			best_votes = votes;
		}
	}
	return best ? brook_strdup(best) : NULL;
}

static int32_t max_rebalance_ms(const group *gr)
{
	int32_t mx = 0;
	for (const gmember *m = gr->members; m; m = m->next)
		if (m->rebalance_ms > mx)
			mx = m->rebalance_ms;
	return mx;
}

/* --- responses ------------------------------------------------------------------------ */

static void answer_join_error(group_done_fn done, void *ctx, int16_t err, kafka_str member_id)
{
	kafka_join_group_resp r;
	memset(&r, 0, sizeof r);
	r.error_code = err;
	r.generation_id = -1;
	r.protocol_type = KAFKA_STR_NULL;
	r.protocol_name = KAFKA_STR("");
	r.leader = KAFKA_STR("");
	r.member_id = member_id.len < 0 ? KAFKA_STR("") : member_id;
	done(ctx, &r);
}

/* Answer m's pending JoinGroup with the current generation. */
static void answer_join(group *gr, gmember *m, int16_t err)
{
	group_done_fn done = m->join_done;
	void *ctx = m->join_ctx;
	m->join_done = NULL;
	m->join_ctx = NULL;
	if (!done)
		return;
	if (err) {
		answer_join_error(done, ctx, err, kstr(m->id));
		return;
	}
	brook_arena a = BROOK_ARENA_INIT;
	kafka_join_group_resp r;
	memset(&r, 0, sizeof r);
	r.error_code = 0;
	r.generation_id = gr->generation;
	r.protocol_type = kstr(gr->protocol_type);
	r.protocol_name = kstr_nn(gr->protocol);
	r.leader = kstr_nn(gr->leader);
	r.member_id = kstr(m->id);
	if (gr->leader && !strcmp(gr->leader, m->id)) {
		r.members = brook_arena_calloc(&a, (size_t)(gr->n_members ? gr->n_members : 1) *
		                                       sizeof *r.members);
		for (gmember *o = gr->members; o; o = o->next) {
			kafka_join_group_response_member *rm = &r.members[r.n_members++];
			const gproto *p = member_proto(o, gr->protocol);
			rm->member_id = kstr(o->id);
			rm->group_instance_id = kstr(o->instance_id);
			rm->metadata = p ? (kafka_bytes){p->meta, p->len} : (kafka_bytes){NULL, 0};
		}
	}
	done(ctx, &r);
	brook_arena_release(&a);
}

static void answer_sync_error(group_done_fn done, void *ctx, int16_t err)
{
	kafka_sync_group_resp r;
	memset(&r, 0, sizeof r);
	r.error_code = err;
	r.protocol_type = KAFKA_STR_NULL;
	r.protocol_name = KAFKA_STR_NULL;
	r.assignment = (kafka_bytes){NULL, 0};
	done(ctx, &r);
}

static void answer_sync(group *gr, gmember *m, int16_t err)
{
	group_done_fn done = m->sync_done;
	void *ctx = m->sync_ctx;
	m->sync_done = NULL;
	m->sync_ctx = NULL;
	if (!done)
		return;
	if (err) {
		answer_sync_error(done, ctx, err);
		return;
	}
	kafka_sync_group_resp r;
	memset(&r, 0, sizeof r);
	r.protocol_type = kstr(gr->protocol_type);
	r.protocol_name = kstr(gr->protocol);
	r.assignment = (kafka_bytes){m->assign ? m->assign : (const uint8_t *)"", m->assign_len};
	done(ctx, &r);
}

/* --- persistence of group metadata ---------------------------------------------------- */

typedef struct sync_op {
	group_coord *g;
	char *group_id;
	int32_t generation;
} sync_op;

static void encode_group_record(const group *gr, brook_buf *key, brook_buf *val, brook_arena *a)
{
	offsets_key_encode_group(key, (offsets_str){gr->id, (int32_t)strlen(gr->id)});
	struct offsets_group_value v;
	memset(&v, 0, sizeof v);
	v.protocol_type =
	    (offsets_str){gr->protocol_type ? gr->protocol_type : "",
	                  (int32_t)(gr->protocol_type ? strlen(gr->protocol_type) : 0)};
	v.generation = gr->generation;
	v.protocol = gr->protocol ? (offsets_str){gr->protocol, (int32_t)strlen(gr->protocol)}
	                          : (offsets_str){NULL, -1};
	v.leader = gr->leader ? (offsets_str){gr->leader, (int32_t)strlen(gr->leader)}
	                      : (offsets_str){NULL, -1};
	v.current_state_timestamp = gr->state_ts;
	if (gr->n_members)
		v.members = brook_arena_calloc(a, (size_t)gr->n_members * sizeof *v.members);
	for (const gmember *m = gr->members; m; m = m->next) {
		struct offsets_member *om = &v.members[v.n_members++];
		const gproto *p = member_proto(m, gr->protocol);
#define OS(s) ((s) ? (offsets_str){(s), (int32_t)strlen(s)} : (offsets_str){NULL, -1})
		om->member_id = OS(m->id);
		om->group_instance_id = OS(m->instance_id);
		om->client_id = OS(m->client_id);
		om->client_host = OS(m->client_host);
#undef OS
		om->rebalance_timeout = m->rebalance_ms;
		om->session_timeout = m->session_ms;
		om->subscription =
		    p ? (offsets_str){(const char *)p->meta, p->len} : (offsets_str){"", 0};
		om->assignment =
		    (offsets_str){m->assign ? (const char *)m->assign : "", m->assign_len};
	}
	offsets_value_encode_group(val, &v);
}

static void persist_group(group_coord *g, group *gr, group_io_done_fn done, void *ctx)
{
	brook_buf key = BROOK_BUF_INIT, val = BROOK_BUF_INIT;
	brook_arena a = BROOK_ARENA_INIT;
	encode_group_record(gr, &key, &val, &a);
	kafka_bytes k = {(const uint8_t *)key.data, (int32_t)key.len};
	kafka_bytes v = {(const uint8_t *)val.data, (int32_t)val.len};
	int32_t part = offsets_partition_for(gr->id, strlen(gr->id), g->cfg.offsets_partitions);
	g->io.append(g->io.io_arg, part, &k, &v, 1, done, ctx);
	brook_buf_release(&key);
	brook_buf_release(&val);
	brook_arena_release(&a);
}

static void ignore_io_done(void *ctx, int16_t err)
{
	char *id = ctx;
	if (err)
		brook_warn(LOG,
		           "group %s: writing its metadata failed (error %d); it is rewritten "
		           "at the next rebalance",
		           id, err);
	free(id);
}

static void persist_group_nowait(group_coord *g, group *gr)
{
	persist_group(g, gr, ignore_io_done, brook_strdup(gr->id));
}

/* --- state transitions --------------------------------------------------------------- */

static void prepare_rebalance(group_coord *g, group *gr, const char *why);
static void join_check(group_coord *g, group *gr);

/* Remove m (answering its pending requests with err) and react as Kafka's
 * removeMemberAndUpdateGroup does. */
static void remove_member(group_coord *g, group *gr, gmember *m, int16_t err, const char *why)
{
	for (gmember **pp = &gr->members; *pp; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	}
	gr->n_members--;
	if (gr->leader && !strcmp(gr->leader, m->id)) {
		free(gr->leader);
		gr->leader = NULL;
	}
	brook_info(LOG, "group %s: member %s removed: %s", gr->id, m->id, why);
	answer_join(gr, m, err);
	answer_sync(gr, m, err);
	member_free(m);
	switch (gr->state) {
	case G_STABLE:
	case G_COMPLETING:
		prepare_rebalance(g, gr, why);
		/* Like Kafka's joinPurgatory.checkAndComplete: when the last member left, the
		 * rebalance is complete at once and the group Empty (and persisted as such). */
		join_check(g, gr);
		break;
	case G_PREPARING:
		join_check(g, gr);
		break;
	default:
		break;
	}
}

static void prepare_rebalance(group_coord *g, group *gr, const char *why)
{
	bool was_empty = gr->state == G_EMPTY;
	if (gr->state == G_COMPLETING || gr->persisting) {
		/* Assignments of the abandoned generation are void. */
		for (gmember *m = gr->members; m; m = m->next)
			answer_sync(gr, m, KAFKA_ERR_REBALANCE_IN_PROGRESS);
		gr->persisting = false;
	}
	for (gmember *m = gr->members; m; m = m->next) {
		free(m->assign);
		m->assign = NULL;
		m->assign_len = 0;
	}
	gr->rebalance_start = g->now;
	gr->join_delay_until = 0;
	if (was_empty && g->cfg.initial_rebalance_delay_ms > 0)
		gr->join_delay_until = g->now + g->cfg.initial_rebalance_delay_ms;
	brook_info(LOG, "group %s: rebalancing generation %d: %s", gr->id, gr->generation, why);
	set_state(g, gr, G_PREPARING);
}

/* PreparingRebalance is done: every member rejoined (or the timeout removed those that
 * did not). Start the next generation and answer every pending JoinGroup. */
static void complete_join(group_coord *g, group *gr)
{
	gmember *m = gr->members, *next;
	for (; m; m = next) {
		next = m->next;
		if (!m->join_done) {
			/* Cannot re-enter join_check: the state stays PreparingRebalance and
			 * remove_member's join_check would recurse; unlink directly. */
			for (gmember **pp = &gr->members; *pp; pp = &(*pp)->next)
				if (*pp == m) {
					*pp = m->next;
					break;
				}
			gr->n_members--;
			if (gr->leader && !strcmp(gr->leader, m->id)) {
				free(gr->leader);
				gr->leader = NULL;
			}
			brook_info(LOG, "group %s: member %s removed: it did not rejoin in time",
			           gr->id, m->id);
			answer_sync(gr, m, KAFKA_ERR_UNKNOWN_MEMBER_ID);
			member_free(m);
		}
	}
	pending_clear(gr);
	/* Generations stay positive (a loaded record may hold any value). */
	gr->generation = gr->generation >= 0 && gr->generation < INT32_MAX ? gr->generation + 1 : 1;
	free(gr->protocol);
	gr->protocol = NULL;
	if (!gr->members) {
		free(gr->leader);
		gr->leader = NULL;
		set_state(g, gr, G_EMPTY);
		persist_group_nowait(g, gr);
		return;
	}
	gr->protocol = select_protocol(gr);
	if (!gr->leader)
		gr->leader = brook_strdup(gr->members->id);
	set_state(g, gr, G_COMPLETING);
	brook_info(LOG, "group %s: generation %d with %d members, protocol %s, leader %s", gr->id,
	           gr->generation, gr->n_members, gr->protocol ? gr->protocol : "-", gr->leader);
	for (m = gr->members; m; m = m->next) {
		m->last_hb = g->now;
		answer_join(gr, m, 0);
	}
}

static bool all_joined(const group *gr)
{
	if (gr->pending)
		return false;
	for (const gmember *m = gr->members; m; m = m->next)
		if (!m->join_done)
			return false;
	return true;
}

static void join_check(group_coord *g, group *gr)
{
	if (gr->state != G_PREPARING)
		return;
	bool timeout = g->now >= gr->rebalance_start + max_rebalance_ms(gr);
	bool delay_over = g->now >= gr->join_delay_until;
	if (timeout || (all_joined(gr) && delay_over))
		complete_join(g, gr);
}

/* --- JoinGroup ----------------------------------------------------------------------- */

static gmember *add_member(group_coord *g, group *gr, char *id, const kafka_join_group_req *req,
                           int16_t ver, const char *client_id, const char *client_host,
                           group_done_fn done, void *ctx)
{
	gmember *m = brook_calloc(1, sizeof *m);
	m->id = id;
	m->instance_id = sdup(req->group_instance_id);
	m->client_id = brook_strdup(client_id ? client_id : "");
	m->client_host = brook_strdup(client_host ? client_host : "");
	m->protocol_type = sdup(req->protocol_type);
	m->session_ms = req->session_timeout_ms;
	m->rebalance_ms = ver >= 1 && req->rebalance_timeout_ms > 0 ? req->rebalance_timeout_ms
	                                                            : req->session_timeout_ms;
	member_set_protocols(m, req);
	m->last_hb = g->now;
	m->join_done = done;
	m->join_ctx = ctx;
	m->join_ver = ver;
	if (!gr->members)
		set_str(&gr->protocol_type, m->protocol_type);
	gmember **pp = &gr->members;
	while (*pp)
		pp = &(*pp)->next;
	*pp = m;
	gr->n_members++;
	return m;
}

/* An existing member rejoins (Kafka's updateMemberAndRebalance / the known-member path). */
static void update_member(group_coord *g, gmember *m, const kafka_join_group_req *req, int16_t ver,
                          group_done_fn done, void *ctx)
{
	if (m->join_done) /* a duplicate JoinGroup: the older one loses */
		answer_join_error(m->join_done, m->join_ctx, KAFKA_ERR_REBALANCE_IN_PROGRESS,
		                  kstr(m->id));
	member_set_protocols(m, req);
	m->session_ms = req->session_timeout_ms;
	m->rebalance_ms = ver >= 1 && req->rebalance_timeout_ms > 0 ? req->rebalance_timeout_ms
	                                                            : req->session_timeout_ms;
	m->join_done = done;
	m->join_ctx = ctx;
	m->join_ver = ver;
	m->last_hb = g->now;
}

/* A new member (no member id). */
static void join_unknown(group_coord *g, group *gr, int16_t ver, const kafka_join_group_req *req,
                         const char *client_id, const char *client_host, group_done_fn done,
                         void *ctx)
{
	if (g->cfg.max_group_size > 0 && gr->n_members >= g->cfg.max_group_size) {
		answer_join_error(done, ctx, KAFKA_ERR_GROUP_MAX_SIZE_REACHED, KAFKA_STR(""));
		return;
	}
	kafka_str prefix = req->group_instance_id.len >= 0
	                       ? req->group_instance_id
	                       : kafka_str_from(client_id ? client_id : "");
	gmember *old = member_by_instance(gr, req->group_instance_id);
	if (old) {
		/* Kafka's updateStaticMemberAndRebalance: the instance comes back under a new
		 * member id; the old id is fenced. */
		char *nid = new_member_id(prefix);
		answer_join(gr, old, KAFKA_ERR_FENCED_INSTANCE_ID);
		answer_sync(gr, old, KAFKA_ERR_FENCED_INSTANCE_ID);
		bool was_leader = gr->leader && !strcmp(gr->leader, old->id);
		brook_info(LOG, "group %s: static member %s replaced %s by %s", gr->id,
		           old->instance_id, old->id, nid);
		free(old->id);
		old->id = nid;
		if (was_leader)
			set_str(&gr->leader, nid);
		if (gr->state == G_STABLE && !was_leader && member_same_protocols(old, req)) {
			/* Same subscription, not the leader: no rebalance, the member gets
			 * the current generation and keeps its assignment. */
			old->session_ms = req->session_timeout_ms;
			old->last_hb = g->now;
			old->join_done = done;
			old->join_ctx = ctx;
			old->join_ver = ver;
			answer_join(gr, old, 0);
			persist_group_nowait(g, gr);
			return;
		}
		update_member(g, old, req, ver, done, ctx);
		if (gr->state != G_PREPARING)
			prepare_rebalance(g, gr, "a static member rejoined with a new member id");
		join_check(g, gr);
		return;
	}
	if (ver >= 4 && req->group_instance_id.len < 0) {
		/* KIP-394: hand out the id first; the member rejoins with it. */
		gpending *p = brook_calloc(1, sizeof *p);
		p->id = new_member_id(prefix);
		p->deadline = g->now + req->session_timeout_ms;
		p->next = gr->pending;
		gr->pending = p;
		answer_join_error(done, ctx, KAFKA_ERR_MEMBER_ID_REQUIRED, kstr(p->id));
		return;
	}
	add_member(g, gr, new_member_id(prefix), req, ver, client_id, client_host, done, ctx);
	if (gr->state != G_PREPARING)
		prepare_rebalance(g, gr, "a new member joined");
	else if (gr->join_delay_until) /* initial delay: wait a bit more, up to the timeout */
		gr->join_delay_until = g->now + g->cfg.initial_rebalance_delay_ms;
	join_check(g, gr);
}

void group_join(group_coord *g, int16_t ver, const kafka_join_group_req *req, const char *client_id,
                const char *client_host, int64_t now_ms, group_done_fn done, void *ctx)
{
	g->now = now_ms;
	if (str_empty(req->group_id) || has_nul(req->group_id)) {
		answer_join_error(done, ctx, KAFKA_ERR_INVALID_GROUP_ID, req->member_id);
		return;
	}
	if (req->session_timeout_ms < g->cfg.min_session_timeout_ms ||
	    req->session_timeout_ms > g->cfg.max_session_timeout_ms) {
		answer_join_error(done, ctx, KAFKA_ERR_INVALID_SESSION_TIMEOUT, req->member_id);
		return;
	}
	bool unknown = str_empty(req->member_id);
	group *gr = unknown ? group_get(g, req->group_id) : group_find(g, req->group_id);
	if (!gr) {
		answer_join_error(done, ctx, KAFKA_ERR_UNKNOWN_MEMBER_ID, req->member_id);
		return;
	}
	if (gr->state == G_DEAD) {
		answer_join_error(done, ctx, KAFKA_ERR_COORDINATOR_NOT_AVAILABLE, req->member_id);
		return;
	}
	if (!supports_protocols(gr, req)) {
		answer_join_error(done, ctx, KAFKA_ERR_INCONSISTENT_GROUP_PROTOCOL, req->member_id);
		return;
	}
	if (unknown) {
		join_unknown(g, gr, ver, req, client_id, client_host, done, ctx);
		return;
	}

	/* A member that knows its id. */
	gmember *m = member_find(gr, req->member_id);
	gmember *inst = member_by_instance(gr, req->group_instance_id);
	if (inst && inst != m) {
		answer_join_error(done, ctx, KAFKA_ERR_FENCED_INSTANCE_ID, req->member_id);
		return;
	}
	if (!m) {
		gpending *p = pending_find(gr, req->member_id);
		if (!p) {
			answer_join_error(done, ctx, KAFKA_ERR_UNKNOWN_MEMBER_ID, req->member_id);
			return;
		}
		if (g->cfg.max_group_size > 0 && gr->n_members >= g->cfg.max_group_size) {
			pending_remove(gr, p);
			answer_join_error(done, ctx, KAFKA_ERR_GROUP_MAX_SIZE_REACHED,
			                  req->member_id);
			return;
		}
		char *id = p->id;
		p->id = NULL;
		pending_remove(gr, p);
		add_member(g, gr, id, req, ver, client_id, client_host, done, ctx);
		if (gr->state != G_PREPARING)
			prepare_rebalance(g, gr, "a new member joined");
		else if (gr->join_delay_until)
			gr->join_delay_until = g->now + g->cfg.initial_rebalance_delay_ms;
		join_check(g, gr);
		return;
	}
	switch (gr->state) {
	case G_PREPARING:
		update_member(g, m, req, ver, done, ctx);
		join_check(g, gr);
		return;
	case G_COMPLETING:
		if (member_same_protocols(m, req)) {
			/* The member lost our response: send it again. */
			m->join_done = done;
			m->join_ctx = ctx;
			m->join_ver = ver;
			m->last_hb = g->now;
			answer_join(gr, m, 0);
			return;
		}
		update_member(g, m, req, ver, done, ctx);
		prepare_rebalance(g, gr, "a member changed its protocols");
		join_check(g, gr);
		return;
	case G_STABLE:
		if (!(gr->leader && !strcmp(gr->leader, m->id)) && member_same_protocols(m, req)) {
			m->join_done = done;
			m->join_ctx = ctx;
			m->join_ver = ver;
			m->last_hb = g->now;
			answer_join(gr, m, 0);
			return;
		}
		update_member(g, m, req, ver, done, ctx);
		prepare_rebalance(g, gr, "the leader rejoined or a member changed its protocols");
		join_check(g, gr);
		return;
	default: /* Empty with members cannot happen; Dead handled above */
		answer_join_error(done, ctx, KAFKA_ERR_UNKNOWN_MEMBER_ID, req->member_id);
		return;
	}
}

/* --- SyncGroup ----------------------------------------------------------------------- */

/* Common member validation (Kafka's validateCurrentMember): 0, UNKNOWN_MEMBER_ID or
 * FENCED_INSTANCE_ID. */
static int16_t validate_member(const group *gr, kafka_str member_id, kafka_str instance_id,
                               gmember **out)
{
	gmember *m = member_find(gr, member_id);
	if (instance_id.len >= 0) {
		gmember *inst = member_by_instance(gr, instance_id);
		if (inst && inst != m)
			return KAFKA_ERR_FENCED_INSTANCE_ID;
	}
	if (!m)
		return KAFKA_ERR_UNKNOWN_MEMBER_ID;
	*out = m;
	return 0;
}

static void sync_io_done(void *arg, int16_t err)
{
	sync_op *op = arg;
	group *gr = group_find(op->g, kafka_str_from(op->group_id));
	if (gr && gr->persisting && gr->generation == op->generation) {
		gr->persisting = false;
		if (err) {
			brook_warn(LOG,
			           "group %s: writing generation %d failed (error %d); "
			           "rebalancing",
			           gr->id, gr->generation, err);
			for (gmember *m = gr->members; m; m = m->next)
				answer_sync(gr, m, KAFKA_ERR_COORDINATOR_NOT_AVAILABLE);
			prepare_rebalance(op->g, gr, "its metadata could not be written");
		} else {
			for (gmember *m = gr->members; m; m = m->next)
				answer_sync(gr, m, 0);
		}
	}
	free(op->group_id);
	free(op);
}

/* The leader's SyncGroup: store every assignment and go Stable once persisted. */
static void apply_assignment(group_coord *g, group *gr, const kafka_sync_group_req *req)
{
	for (gmember *m = gr->members; m; m = m->next) {
		free(m->assign);
		m->assign = NULL;
		m->assign_len = 0;
	}
	for (int32_t i = 0; i < req->n_assignments; i++) {
		const kafka_sync_group_request_assignment *as = &req->assignments[i];
		gmember *m = member_find(gr, as->member_id);
		if (!m || as->assignment.len <= 0)
			continue;
		free(m->assign);
		m->assign = brook_malloc((size_t)as->assignment.len);
		memcpy(m->assign, as->assignment.ptr, (size_t)as->assignment.len);
		m->assign_len = as->assignment.len;
	}
	set_state(g, gr, G_STABLE);
	gr->persisting = true;
	sync_op *op = brook_calloc(1, sizeof *op);
	op->g = g;
	op->group_id = brook_strdup(gr->id);
	op->generation = gr->generation;
	persist_group(g, gr, sync_io_done, op);
}

void group_sync(group_coord *g, int16_t ver, const kafka_sync_group_req *req, int64_t now_ms,
                group_done_fn done, void *ctx)
{
	g->now = now_ms;
	group *gr = group_find(g, req->group_id);
	if (!gr || gr->state == G_EMPTY) {
		answer_sync_error(done, ctx, KAFKA_ERR_UNKNOWN_MEMBER_ID);
		return;
	}
	if (gr->state == G_DEAD) {
		answer_sync_error(done, ctx, KAFKA_ERR_COORDINATOR_NOT_AVAILABLE);
		return;
	}
	gmember *m = NULL;
	int16_t err = validate_member(gr, req->member_id,
	                              ver >= 3 ? req->group_instance_id : KAFKA_STR_NULL, &m);
	if (!err && req->generation_id != gr->generation)
		err = KAFKA_ERR_ILLEGAL_GENERATION;
	if (!err &&
	    ((req->protocol_type.len >= 0 && !str_is(req->protocol_type, gr->protocol_type)) ||
	     (req->protocol_name.len >= 0 && !str_is(req->protocol_name, gr->protocol))))
		err = KAFKA_ERR_INCONSISTENT_GROUP_PROTOCOL;
	if (!err && gr->state == G_PREPARING)
		err = KAFKA_ERR_REBALANCE_IN_PROGRESS;
	if (err) {
		answer_sync_error(done, ctx, err);
		return;
	}
	m->last_hb = now_ms;
	if (m->sync_done)
		answer_sync_error(m->sync_done, m->sync_ctx, KAFKA_ERR_REBALANCE_IN_PROGRESS);
	m->sync_done = done;
	m->sync_ctx = ctx;
	m->sync_ver = ver;
	if (gr->state == G_COMPLETING) {
		if (gr->leader && !strcmp(gr->leader, m->id))
			apply_assignment(g, gr, req);
		return; /* followers wait for the leader */
	}
	/* Stable: answer now unless the generation is still being written. */
	if (!gr->persisting)
		answer_sync(gr, m, 0);
}

/* --- Heartbeat ----------------------------------------------------------------------- */

void group_heartbeat(group_coord *g, int16_t ver, const kafka_heartbeat_req *req, int64_t now_ms,
                     group_done_fn done, void *ctx)
{
	g->now = now_ms;
	kafka_heartbeat_resp r;
	memset(&r, 0, sizeof r);
	group *gr = group_find(g, req->group_id);
	gmember *m = NULL;
	if (!gr || gr->state == G_EMPTY) {
		r.error_code = KAFKA_ERR_UNKNOWN_MEMBER_ID;
	} else if (gr->state == G_DEAD) {
		r.error_code = KAFKA_ERR_COORDINATOR_NOT_AVAILABLE;
	} else {
		r.error_code = validate_member(
		    gr, req->member_id, ver >= 3 ? req->group_instance_id : KAFKA_STR_NULL, &m);
		if (!r.error_code && req->generation_id != gr->generation)
			r.error_code = KAFKA_ERR_ILLEGAL_GENERATION;
		if (!r.error_code) {
			m->last_hb = now_ms;
			if (gr->state == G_PREPARING)
				r.error_code = KAFKA_ERR_REBALANCE_IN_PROGRESS;
		}
	}
	done(ctx, &r);
}

/* --- LeaveGroup ---------------------------------------------------------------------- */

static int16_t leave_one(group_coord *g, group *gr, kafka_str member_id, kafka_str instance_id)
{
	if (!gr || gr->state == G_DEAD)
		return KAFKA_ERR_UNKNOWN_MEMBER_ID;
	gmember *m = NULL;
	if (instance_id.len >= 0) {
		/* v3+: a static member may leave by instance id alone. */
		m = member_by_instance(gr, instance_id);
		if (!m)
			return KAFKA_ERR_UNKNOWN_MEMBER_ID;
		if (!str_empty(member_id) && !kafka_str_eq(member_id, m->id))
			return KAFKA_ERR_FENCED_INSTANCE_ID;
	} else {
		m = member_find(gr, member_id);
		if (!m) {
			gpending *p = pending_find(gr, member_id);
			if (!p)
				return KAFKA_ERR_UNKNOWN_MEMBER_ID;
			pending_remove(gr, p);
			join_check(g, gr);
			return 0;
		}
	}
	remove_member(g, gr, m, KAFKA_ERR_UNKNOWN_MEMBER_ID, "it left the group");
	return 0;
}

void group_leave(group_coord *g, int16_t ver, const kafka_leave_group_req *req, int64_t now_ms,
                 group_done_fn done, void *ctx)
{
	g->now = now_ms;
	brook_arena a = BROOK_ARENA_INIT;
	kafka_leave_group_resp r;
	memset(&r, 0, sizeof r);
	group *gr = group_find(g, req->group_id);
	if (ver < 3) {
		r.error_code = leave_one(g, gr, req->member_id, KAFKA_STR_NULL);
	} else if (!gr) {
		r.error_code = KAFKA_ERR_UNKNOWN_MEMBER_ID;
	} else {
		int32_t n = req->n_members > 0 ? req->n_members : 0;
		r.members = brook_arena_calloc(&a, (size_t)(n ? n : 1) * sizeof *r.members);
		r.n_members = n;
		for (int32_t i = 0; i < n; i++) {
			const kafka_member_identity *mi = &req->members[i];
			r.members[i].member_id = mi->member_id;
			r.members[i].group_instance_id = mi->group_instance_id;
			r.members[i].error_code =
			    leave_one(g, gr, mi->member_id, mi->group_instance_id);
		}
	}
	done(ctx, &r);
	brook_arena_release(&a);
}

/* --- offsets ------------------------------------------------------------------------- */

static int offset_cmp(const char *t1, int32_t p1, const char *t2, size_t t2len, int32_t p2)
{
	size_t l1 = strlen(t1);
	int c = memcmp(t1, t2, l1 < t2len ? l1 : t2len);
	if (!c)
		c = l1 < t2len ? -1 : l1 > t2len;
	if (!c)
		c = p1 < p2 ? -1 : p1 > p2;
	return c;
}

static size_t offset_pos(const group *gr, kafka_str topic, int32_t part, bool *found)
{
	size_t lo = 0, hi = gr->n_offsets;
	size_t tl = topic.len < 0 ? 0 : (size_t)topic.len;
	const char *tp = topic.ptr ? topic.ptr : "";
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c =
		    -offset_cmp(gr->offsets[mid].topic, gr->offsets[mid].partition, tp, tl, part);
		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*found = false;
	return lo;
}

static const goffset *offset_find(const group *gr, kafka_str topic, int32_t part)
{
	bool found;
	size_t i = offset_pos(gr, topic, part, &found);
	return found ? &gr->offsets[i] : NULL;
}

static void offset_put(group *gr, kafka_str topic, int32_t part, int64_t off, int32_t epoch,
                       kafka_str meta, int64_t ts)
{
	bool found;
	size_t i = offset_pos(gr, topic, part, &found);
	if (!found) {
		if (gr->n_offsets == gr->cap_offsets) {
			gr->cap_offsets = gr->cap_offsets ? gr->cap_offsets * 2 : 16;
			gr->offsets =
			    brook_realloc(gr->offsets, gr->cap_offsets * sizeof *gr->offsets);
		}
		memmove(&gr->offsets[i + 1], &gr->offsets[i],
		        (gr->n_offsets - i) * sizeof *gr->offsets);
		gr->n_offsets++;
		gr->offsets[i].topic = sdup(topic.len < 0 ? KAFKA_STR("") : topic);
		gr->offsets[i].partition = part;
		gr->offsets[i].metadata = NULL;
	}
	goffset *o = &gr->offsets[i];
	o->offset = off;
	o->leader_epoch = epoch;
	free(o->metadata);
	o->metadata = sdup(meta.len < 0 ? KAFKA_STR("") : meta);
	o->commit_ts = ts;
}

static void offset_delete(group *gr, kafka_str topic, int32_t part)
{
	bool found;
	size_t i = offset_pos(gr, topic, part, &found);
	if (!found)
		return;
	free(gr->offsets[i].topic);
	free(gr->offsets[i].metadata);
	memmove(&gr->offsets[i], &gr->offsets[i + 1],
	        (gr->n_offsets - i - 1) * sizeof *gr->offsets);
	gr->n_offsets--;
}

typedef struct commit_item {
	int32_t partition;
	int64_t offset;
	int32_t leader_epoch;
	kafka_str metadata; /* points into op->arena */
	int16_t err;
	bool write;
} commit_item;

typedef struct commit_op {
	group_coord *g;
	char *group_id;
	group_done_fn done;
	void *ctx;
	int64_t commit_ts;
	brook_arena arena;
	kafka_str *topics; /* per request topic */
	commit_item **items;
	int32_t *n_items;
	int32_t n_topics;
} commit_op;

/* Kafka maps log-append failures of offset commits to these. */
static int16_t commit_store_error(int16_t err)
{
	switch (err) {
	case KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION:
	case KAFKA_ERR_NOT_ENOUGH_REPLICAS:
	case KAFKA_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
	case KAFKA_ERR_REQUEST_TIMED_OUT:
		return KAFKA_ERR_COORDINATOR_NOT_AVAILABLE;
	case KAFKA_ERR_NOT_LEADER_OR_FOLLOWER:
		return KAFKA_ERR_NOT_COORDINATOR;
	case KAFKA_ERR_MESSAGE_TOO_LARGE:
	case KAFKA_ERR_RECORD_LIST_TOO_LARGE:
	case KAFKA_ERR_INVALID_FETCH_SIZE:
		return KAFKA_ERR_INVALID_COMMIT_OFFSET_SIZE;
	default:
		return err;
	}
}

static void commit_finish(commit_op *op, int16_t io_err)
{
	group *gr = group_find(op->g, kafka_str_from(op->group_id));
	kafka_offset_commit_resp r;
	memset(&r, 0, sizeof r);
	r.n_topics = op->n_topics;
	r.topics = brook_arena_calloc(&op->arena,
	                              (size_t)(op->n_topics ? op->n_topics : 1) * sizeof *r.topics);
	for (int32_t t = 0; t < op->n_topics; t++) {
		kafka_offset_commit_response_topic *rt = &r.topics[t];
		rt->name = op->topics[t];
		rt->n_partitions = op->n_items[t];
		rt->partitions =
		    brook_arena_calloc(&op->arena, (size_t)(op->n_items[t] ? op->n_items[t] : 1) *
		                                       sizeof *rt->partitions);
		for (int32_t i = 0; i < op->n_items[t]; i++) {
			commit_item *it = &op->items[t][i];
			if (it->write) {
				if (io_err)
					it->err = commit_store_error(io_err);
				else if (gr)
					offset_put(gr, op->topics[t], it->partition, it->offset,
					           it->leader_epoch, it->metadata, op->commit_ts);
				else
					it->err = KAFKA_ERR_COORDINATOR_NOT_AVAILABLE;
			}
			rt->partitions[i].partition_index = it->partition;
			rt->partitions[i].error_code = it->err;
		}
	}
	op->done(op->ctx, &r);
	brook_arena_release(&op->arena);
	free(op->group_id);
	free(op);
}

static void commit_io_done(void *arg, int16_t err)
{
	commit_finish(arg, err);
}

/* Kafka's validateOffsetCommit. */
static int16_t commit_check(group_coord *g, const kafka_offset_commit_req *req, int16_t ver)
{
	if (str_empty(req->group_id) || has_nul(req->group_id))
		return KAFKA_ERR_INVALID_GROUP_ID;
	int32_t gen = ver >= 1 ? req->generation_id_or_member_epoch : -1;
	kafka_str inst = ver >= 7 ? req->group_instance_id : KAFKA_STR_NULL;
	group *gr = group_find(g, req->group_id);
	if (!gr) {
		if (gen >= 0)
			return KAFKA_ERR_ILLEGAL_GENERATION;
		gr = group_get(g, req->group_id); /* a standalone consumer's group */
	}
	if (gr->state == G_DEAD)
		return KAFKA_ERR_COORDINATOR_NOT_AVAILABLE;
	if (gen >= 0 || !str_empty(req->member_id) || inst.len >= 0) {
		gmember *m = NULL;
		int16_t err = validate_member(gr, req->member_id, inst, &m);
		if (err)
			return err;
		if (gen != gr->generation)
			return KAFKA_ERR_ILLEGAL_GENERATION;
		if (gr->state == G_COMPLETING)
			return KAFKA_ERR_REBALANCE_IN_PROGRESS;
		m->last_hb = g->now;
	} else if (gr->state != G_EMPTY) {
		return KAFKA_ERR_UNKNOWN_MEMBER_ID; /* only members commit to a live group */
	}
	return 0;
}

void group_offset_commit(group_coord *g, int16_t ver, const kafka_offset_commit_req *req,
                         int64_t now_ms, group_done_fn done, void *ctx)
{
	g->now = now_ms;
	commit_op *op = brook_calloc(1, sizeof *op);
	op->g = g;
	op->group_id = sdup(req->group_id.len < 0 ? KAFKA_STR("") : req->group_id);
	op->done = done;
	op->ctx = ctx;
	op->commit_ts = now_ms;
	int32_t nt = req->n_topics > 0 ? req->n_topics : 0;
	op->n_topics = nt;
	op->topics = brook_arena_calloc(&op->arena, (size_t)(nt ? nt : 1) * sizeof *op->topics);
	op->items = brook_arena_calloc(&op->arena, (size_t)(nt ? nt : 1) * sizeof *op->items);
	op->n_items = brook_arena_calloc(&op->arena, (size_t)(nt ? nt : 1) * sizeof *op->n_items);

	int16_t gerr = commit_check(g, req, ver);
	brook_buf keys = BROOK_BUF_INIT, vals = BROOK_BUF_INIT;
	size_t n_write = 0;
	/* Offsets of each record's key and value in keys/vals, to build kafka_bytes later. */
	size_t *koff = NULL, *voff = NULL, cap = 0;
	for (int32_t t = 0; t < nt; t++) {
		const kafka_offset_commit_request_topic *rt = &req->topics[t];
		op->topics[t] = (kafka_str){kafka_str_dup(&op->arena, rt->name), rt->name.len};
		int32_t np = rt->n_partitions > 0 ? rt->n_partitions : 0;
		op->n_items[t] = np;
		op->items[t] =
		    brook_arena_calloc(&op->arena, (size_t)(np ? np : 1) * sizeof *op->items[t]);
		for (int32_t i = 0; i < np; i++) {
			const kafka_offset_commit_request_partition *rp = &rt->partitions[i];
			commit_item *it = &op->items[t][i];
			it->partition = rp->partition_index;
			it->offset = rp->committed_offset;
			it->leader_epoch = ver >= 6 ? rp->committed_leader_epoch : -1;
			kafka_str meta =
			    rp->committed_metadata.len < 0 ? KAFKA_STR("") : rp->committed_metadata;
			it->err = gerr;
			if (!it->err && meta.len > g->cfg.max_metadata_bytes)
				it->err = KAFKA_ERR_OFFSET_METADATA_TOO_LARGE;
			if (!it->err &&
			    (rt->name.len <= 0 || rt->name.len > INT16_MAX || has_nul(rt->name)))
				it->err = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
			if (it->err)
				continue;
			it->metadata = (kafka_str){kafka_str_dup(&op->arena, meta), meta.len};
			it->write = true;
			if (n_write == cap) {
				cap = cap ? cap * 2 : 16;
				koff = brook_realloc(koff, 2 * cap * sizeof *koff);
				voff = brook_realloc(voff, 2 * cap * sizeof *voff);
			}
			koff[2 * n_write] = keys.len;
			offsets_key_encode_commit(
			    &keys, (offsets_str){op->group_id, (int32_t)strlen(op->group_id)},
			    (offsets_str){rt->name.ptr, rt->name.len}, rp->partition_index);
			koff[2 * n_write + 1] = keys.len - koff[2 * n_write];
			struct offsets_commit_value v = {
			    .version = OFFSETS_COMMIT_VALUE_VERSION,
			    .offset = it->offset,
			    .leader_epoch = it->leader_epoch,
			    .metadata = {meta.ptr, meta.len},
			    .commit_timestamp = now_ms,
			    .expire_timestamp = -1,
			};
			voff[2 * n_write] = vals.len;
			offsets_value_encode_commit(&vals, &v);
			voff[2 * n_write + 1] = vals.len - voff[2 * n_write];
			n_write++;
		}
	}
	if (n_write == 0) {
		brook_buf_release(&keys);
		brook_buf_release(&vals);
		free(koff);
		free(voff);
		commit_finish(op, 0);
		return;
	}
	kafka_bytes *kb = brook_malloc(n_write * sizeof *kb);
	kafka_bytes *vb = brook_malloc(n_write * sizeof *vb);
	for (size_t i = 0; i < n_write; i++) {
		kb[i] = (kafka_bytes){(const uint8_t *)keys.data + koff[2 * i],
		                      (int32_t)koff[2 * i + 1]};
		vb[i] = (kafka_bytes){(const uint8_t *)vals.data + voff[2 * i],
		                      (int32_t)voff[2 * i + 1]};
	}
	int32_t part =
	    offsets_partition_for(op->group_id, strlen(op->group_id), g->cfg.offsets_partitions);
	g->io.append(g->io.io_arg, part, kb, vb, (int)n_write, commit_io_done, op);
	free(kb);
	free(vb);
	free(koff);
	free(voff);
	brook_buf_release(&keys);
	brook_buf_release(&vals);
}

/* --- OffsetFetch --------------------------------------------------------------------- */

static void fill_fetch_partition(kafka_offset_fetch_response_partition *rp, const goffset *o,
                                 int32_t part)
{
	rp->partition_index = part;
	rp->committed_offset = o ? o->offset : -1;
	rp->committed_leader_epoch = o ? o->leader_epoch : -1;
	rp->metadata = o ? kstr(o->metadata) : KAFKA_STR("");
	rp->error_code = 0;
}

void group_offset_fetch(group_coord *g, int16_t ver, const kafka_offset_fetch_req *req,
                        group_done_fn done, void *ctx)
{
	(void)ver;
	brook_arena a = BROOK_ARENA_INIT;
	kafka_offset_fetch_resp r;
	memset(&r, 0, sizeof r);
	group *gr = group_find(g, req->group_id);
	if (req->n_topics >= 0) {
		r.n_topics = req->n_topics;
		r.topics = brook_arena_calloc(&a, (size_t)(r.n_topics ? r.n_topics : 1) *
		                                      sizeof *r.topics);
		for (int32_t t = 0; t < req->n_topics; t++) {
			const kafka_offset_fetch_request_topic *qt = &req->topics[t];
			kafka_offset_fetch_response_topic *rt = &r.topics[t];
			int32_t np = qt->n_partition_indexes > 0 ? qt->n_partition_indexes : 0;
			rt->name = qt->name;
			rt->n_partitions = np;
			rt->partitions =
			    brook_arena_calloc(&a, (size_t)(np ? np : 1) * sizeof *rt->partitions);
			for (int32_t i = 0; i < np; i++) {
				int32_t p = qt->partition_indexes[i];
				const goffset *o = gr ? offset_find(gr, qt->name, p) : NULL;
				fill_fetch_partition(&rt->partitions[i], o, p);
			}
		}
	} else if (gr && gr->n_offsets) {
		/* All committed offsets; the array is sorted, so topics are runs. */
		r.topics = brook_arena_calloc(&a, gr->n_offsets * sizeof *r.topics);
		for (size_t i = 0; i < gr->n_offsets;) {
			size_t j = i;
			while (j < gr->n_offsets &&
			       !strcmp(gr->offsets[j].topic, gr->offsets[i].topic))
				j++;
			kafka_offset_fetch_response_topic *rt = &r.topics[r.n_topics++];
			rt->name = kstr(gr->offsets[i].topic);
			rt->n_partitions = (int32_t)(j - i);
			rt->partitions = brook_arena_calloc(&a, (j - i) * sizeof *rt->partitions);
			for (size_t k = i; k < j; k++)
				fill_fetch_partition(&rt->partitions[k - i], &gr->offsets[k],
				                     gr->offsets[k].partition);
			i = j;
		}
	}
	r.error_code = 0;
	done(ctx, &r);
	brook_arena_release(&a);
}

/* --- DescribeGroups / ListGroups ----------------------------------------------------- */

void group_describe(group_coord *g, int16_t ver, const kafka_describe_groups_req *req,
                    group_done_fn done, void *ctx)
{
	(void)ver;
	brook_arena a = BROOK_ARENA_INIT;
	kafka_describe_groups_resp r;
	memset(&r, 0, sizeof r);
	int32_t n = req->n_groups > 0 ? req->n_groups : 0;
	r.n_groups = n;
	r.groups = brook_arena_calloc(&a, (size_t)(n ? n : 1) * sizeof *r.groups);
	for (int32_t i = 0; i < n; i++) {
		kafka_described_group *d = &r.groups[i];
		const group *gr = group_find(g, req->groups[i]);
		d->group_id = req->groups[i];
		d->authorized_operations = INT32_MIN;
		if (!gr) {
			d->error_code = str_empty(req->groups[i]) ? KAFKA_ERR_INVALID_GROUP_ID : 0;
			d->group_state = KAFKA_STR("Dead");
			d->protocol_type = KAFKA_STR("");
			d->protocol_data = KAFKA_STR("");
			continue;
		}
		d->group_state = kstr(state_names[gr->state]);
		d->protocol_type = kstr_nn(gr->protocol_type);
		d->protocol_data = gr->state == G_STABLE ? kstr_nn(gr->protocol) : KAFKA_STR("");
		d->n_members = gr->n_members;
		d->members = brook_arena_calloc(&a, (size_t)(gr->n_members ? gr->n_members : 1) *
		                                        sizeof *d->members);
		int32_t k = 0;
		for (const gmember *m = gr->members; m; m = m->next, k++) {
			kafka_described_group_member *dm = &d->members[k];
			dm->member_id = kstr(m->id);
			dm->group_instance_id = kstr(m->instance_id);
			dm->client_id = kstr(m->client_id);
			dm->client_host = kstr(m->client_host);
			const gproto *p =
			    gr->state == G_STABLE ? member_proto(m, gr->protocol) : NULL;
			dm->member_metadata =
			    p ? (kafka_bytes){p->meta, p->len} : (kafka_bytes){NULL, 0};
			dm->member_assignment = gr->state == G_STABLE && m->assign
			                            ? (kafka_bytes){m->assign, m->assign_len}
			                            : (kafka_bytes){NULL, 0};
		}
	}
	done(ctx, &r);
	brook_arena_release(&a);
}

void group_list(group_coord *g, int16_t ver, const kafka_list_groups_req *req, group_done_fn done,
                void *ctx)
{
	brook_arena a = BROOK_ARENA_INIT;
	kafka_list_groups_resp r;
	memset(&r, 0, sizeof r);
	r.groups = brook_arena_calloc(&a, (g->n_groups ? g->n_groups : 1) * sizeof *r.groups);
	for (size_t i = 0; i < g->n_groups; i++) {
		const group *gr = g->groups[i];
		if (gr->state == G_DEAD)
			continue;
		kafka_str st = kstr(state_names[gr->state]);
		if (ver >= 4 && req->n_states_filter > 0) {
			bool match = false;
			for (int32_t k = 0; k < req->n_states_filter && !match; k++)
				match = kafka_str_same(req->states_filter[k], st);
			if (!match)
				continue;
		}
		kafka_listed_group *lg = &r.groups[r.n_groups++];
		lg->group_id = kstr(gr->id);
		lg->protocol_type = kstr_nn(gr->protocol_type);
		lg->group_state = st;
		lg->group_type = KAFKA_STR("classic");
	}
	done(ctx, &r);
	brook_arena_release(&a);
}

/* --- loading ------------------------------------------------------------------------- */

static void drop_group(group_coord *g, group *gr);

static void load_group_value(group *gr, const struct offsets_group_value *v)
{
	while (gr->members) {
		gmember *m = gr->members;
		gr->members = m->next;
		member_free(m);
	}
	gr->n_members = 0;
	pending_clear(gr);
	free(gr->protocol_type);
	gr->protocol_type = v->protocol_type.len > 0
	                        ? brook_strndup(v->protocol_type.ptr, (size_t)v->protocol_type.len)
	                        : NULL;
	gr->generation = v->generation;
	free(gr->protocol);
	gr->protocol =
	    v->protocol.len >= 0 ? brook_strndup(v->protocol.ptr, (size_t)v->protocol.len) : NULL;
	free(gr->leader);
	gr->leader = NULL;
	gmember **tail = &gr->members;
	for (int32_t i = 0; i < v->n_members && gr->protocol; i++) {
		const struct offsets_member *om = &v->members[i];
		if (member_find(gr, (kafka_str){om->member_id.ptr, om->member_id.len}))
			continue; /* a corrupt record repeating a member: keep the first */
		gmember *m = brook_calloc(1, sizeof *m);
#define ODUP(s) ((s).len >= 0 ? brook_strndup((s).ptr, (size_t)(s).len) : NULL)
		m->id = ODUP(om->member_id);
		m->instance_id = ODUP(om->group_instance_id);
		m->client_id = ODUP(om->client_id);
		m->client_host = ODUP(om->client_host);
#undef ODUP
		m->protocol_type = gr->protocol_type ? brook_strdup(gr->protocol_type) : NULL;
		m->session_ms = om->session_timeout;
		m->rebalance_ms = om->rebalance_timeout;
		m->protos = brook_calloc(1, sizeof *m->protos);
		m->n_protos = 1;
		m->protos[0].name = brook_strdup(gr->protocol);
		m->protos[0].len = om->subscription.len > 0 ? om->subscription.len : 0;
		m->protos[0].meta = brook_malloc(m->protos[0].len ? (size_t)m->protos[0].len : 1);
		if (m->protos[0].len)
			memcpy(m->protos[0].meta, om->subscription.ptr, (size_t)m->protos[0].len);
		if (om->assignment.len > 0) {
			m->assign = brook_malloc((size_t)om->assignment.len);
			memcpy(m->assign, om->assignment.ptr, (size_t)om->assignment.len);
			m->assign_len = om->assignment.len;
		}
		m->last_hb = -1;
		*tail = m;
		tail = &m->next;
		gr->n_members++;
		if (!gr->leader && v->leader.len >= 0 &&
		    kafka_str_eq((kafka_str){v->leader.ptr, v->leader.len}, m->id))
			gr->leader = brook_strdup(m->id);
	}
	if (gr->members && !gr->leader)
		gr->leader = brook_strdup(gr->members->id);
	gr->state = gr->members ? G_STABLE : G_EMPTY;
	gr->state_ts = v->current_state_timestamp;
	gr->persisting = false;
}

int group_coord_load(group_coord *g, const uint8_t *key, size_t klen, const uint8_t *value,
                     size_t vlen)
{
	char err[160];
	struct offsets_key k;
	if (offsets_key_decode(key, klen, &k, err, sizeof err) < 0) {
		brook_warn(LOG,
		           "__consumer_offsets: skipping a record whose key does not decode "
		           "(%s)",
		           err);
		return BROOK_ERR;
	}
	if (k.type == OFFSETS_KEY_OTHER)
		return BROOK_OK;
	kafka_str gid = {k.group.ptr, k.group.len};
	if (has_nul(gid) ||
	    (k.type == OFFSETS_KEY_OFFSET && has_nul((kafka_str){k.topic.ptr, k.topic.len}))) {
		brook_warn(LOG, "__consumer_offsets: skipping a record whose group id or topic "
		                "holds a NUL byte");
		return BROOK_ERR;
	}
	if (k.type == OFFSETS_KEY_OFFSET) {
		kafka_str topic = {k.topic.ptr, k.topic.len};
		if (!value) {
			group *gr = group_find(g, gid);
			if (gr) {
				offset_delete(gr, topic, k.partition);
				if (!gr->n_offsets && gr->state == G_EMPTY && !gr->generation)
					drop_group(g, gr);
			}
			return BROOK_OK;
		}
		struct offsets_commit_value v;
		if (offsets_value_decode_commit(value, vlen, &v, err, sizeof err) < 0) {
			brook_warn(LOG,
			           "__consumer_offsets: skipping an offset of group %.*s that "
			           "does not decode (%s)",
			           (int)k.group.len, k.group.ptr, err);
			return BROOK_ERR;
		}
		group *gr = group_get(g, gid);
		offset_put(gr, topic, k.partition, v.offset, v.leader_epoch,
		           (kafka_str){v.metadata.ptr, v.metadata.len}, v.commit_timestamp);
		return BROOK_OK;
	}
	/* Group metadata. */
	if (!value) {
		group *gr = group_find(g, gid);
		if (gr)
			drop_group(g, gr);
		return BROOK_OK;
	}
	brook_arena a = BROOK_ARENA_INIT;
	struct offsets_group_value v;
	if (offsets_value_decode_group(value, vlen, &a, &v, err, sizeof err) < 0) {
		brook_warn(LOG,
		           "__consumer_offsets: skipping metadata of group %.*s that does "
		           "not decode (%s)",
		           (int)k.group.len, k.group.ptr, err);
		brook_arena_release(&a);
		return BROOK_ERR;
	}
	load_group_value(group_get(g, gid), &v);
	brook_arena_release(&a);
	return BROOK_OK;
}

/* --- lifecycle, ticks, iteration ----------------------------------------------------- */

group_coord *group_coord_new(const group_config *cfg, const group_io *io)
{
	group_coord *g = brook_calloc(1, sizeof *g);
	g->cfg = *cfg;
	if (g->cfg.offsets_partitions <= 0)
		g->cfg.offsets_partitions = 50;
	if (g->cfg.max_metadata_bytes <= 0)
		g->cfg.max_metadata_bytes = 4096;
	g->io = *io;
	return g;
}

static void group_free_one(group *gr)
{
	while (gr->members) {
		gmember *m = gr->members;
		gr->members = m->next;
		answer_join(gr, m, KAFKA_ERR_COORDINATOR_NOT_AVAILABLE);
		answer_sync(gr, m, KAFKA_ERR_COORDINATOR_NOT_AVAILABLE);
		member_free(m);
	}
	pending_clear(gr);
	offsets_clear(gr);
	free(gr->offsets);
	free(gr->id);
	free(gr->protocol_type);
	free(gr->protocol);
	free(gr->leader);
	free(gr);
}

/* The group is forgotten (Dead): its members' requests are answered first. */
static void drop_group(group_coord *g, group *gr)
{
	bool found;
	size_t i = group_pos(g, kafka_str_from(gr->id), &found);
	assert(found && g->groups[i] == gr);
	memmove(&g->groups[i], &g->groups[i + 1], (g->n_groups - i - 1) * sizeof *g->groups);
	g->n_groups--;
	gr->state = G_DEAD;
	group_free_one(gr);
}

void group_coord_free(group_coord *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n_groups; i++)
		group_free_one(g->groups[i]);
	free(g->groups);
	free(g);
}

int32_t group_coord_partition_for(const group_coord *g, kafka_str group_id)
{
	return offsets_partition_for(group_id.ptr ? group_id.ptr : "",
	                             group_id.len < 0 ? 0 : (size_t)group_id.len,
	                             g->cfg.offsets_partitions);
}

void group_coord_tick(group_coord *g, int64_t now_ms)
{
	g->now = now_ms;
	/* Removing members never removes groups, so indexes stay valid. */
	for (size_t i = 0; i < g->n_groups; i++) {
		group *gr = g->groups[i];
		for (gpending *p = gr->pending, *pn; p; p = pn) {
			pn = p->next;
			if (now_ms >= p->deadline)
				pending_remove(gr, p);
		}
		gmember *m = gr->members, *next;
		for (; m; m = next) {
			next = m->next;
			if (m->last_hb < 0) {
				m->last_hb = now_ms;
				continue;
			}
			if (m->join_done || m->sync_done)
				continue;
			if (now_ms - m->last_hb > m->session_ms) {
				/* remove_member may re-enter join_check, which may remove members
				 * that did not rejoin; restart the scan to stay safe. */
				remove_member(g, gr, m, KAFKA_ERR_UNKNOWN_MEMBER_ID,
				              "its session expired");
				next = gr->members;
			}
		}
		join_check(g, gr);
	}
}

void group_coord_each_group(group_coord *g, group_each_fn fn, void *arg)
{
	for (size_t i = 0; i < g->n_groups; i++) {
		const group *gr = g->groups[i];
		group_info gi = {gr->id, state_names[gr->state],
		                 gr->protocol_type ? gr->protocol_type : "", gr->generation,
		                 gr->n_members};
		fn(arg, &gi);
	}
}

void group_coord_each_offset(group_coord *g, group_offset_fn fn, void *arg)
{
	for (size_t i = 0; i < g->n_groups; i++) {
		const group *gr = g->groups[i];
		for (size_t k = 0; k < gr->n_offsets; k++)
			fn(arg, gr->id, gr->offsets[k].topic, gr->offsets[k].partition,
			   gr->offsets[k].offset);
	}
}
