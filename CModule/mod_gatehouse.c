/*
 * mod_gatehouse - identity-aware authorization for lighttpd
 *
 * A thin shim: it reads the gatehouse.* directives, hands their values to
 * GatehouseCore (Swift) to compile, and on each request hands the request to
 * GatehouseCore to decide, then applies the decision with lighttpd's own API.
 * It never parses tokens, JSON or policy (see gatehouse.h, and docs/architecture.md for how a
 * request and a directive flow through it).
 */
#include "first.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base.h"
#include "array.h"
#include "buffer.h"
#include "burl.h"
#include "configfile.h"
#include "fdevent.h"
#include "fdlog.h"
#include "chunk.h"
#include "http_header.h"
#include "http_kv.h"
#include "log.h"
#include "plugin.h"
#include "response.h"
#include "request.h"

#include "gatehouse.h"

/* The layouts this file reads, as lighttpd 1.4.69 on x86_64 with Debian's
 * configure choices (config.h) lays them out: a different lighttpd, or a
 * config.h that drifted from Debian's, fails here instead of at run time.
 * (Debian's own binaries agree: mod_accesslog.so reads con->dst_addr_buf at
 * 0x408, mod_auth.so and mod_dirlisting.so read r->uri.path at 0x120.) */
#if LIGHTTPD_VERSION_ID == 0x10445 && defined(__x86_64__)
_Static_assert(offsetof(data_config, value) == 144, "data_config layout differs from Debian's lighttpd 1.4.69");
_Static_assert(offsetof(connection, dst_addr_buf) == 1032, "connection layout differs from Debian's lighttpd 1.4.69");
_Static_assert(offsetof(request_st, rqst_headers) == 232, "request_st layout differs from Debian's lighttpd 1.4.69");
_Static_assert(offsetof(request_st, uri.path) == 288, "request_st layout differs from Debian's lighttpd 1.4.69");
_Static_assert(sizeof(request_st) == 800, "request_st layout differs from Debian's lighttpd 1.4.69");
#endif

typedef struct {
    const gh_setting *v[GH_V1_DIRECTIVE_COUNT]; /* NULL: unset in every matching context */
    fdlog_st *audit; /* where the audit lines of v[GH_V1_AUDIT_LOG] go; NULL under -tt */
} plugin_config;

/* The value of gatehouse.audit-log in one context (its cpv's v.v): the compiled setting, and the
 * target opened for it like accesslog.filename (once however many contexts name it; reopened on
 * SIGHUP and closed by lighttpd). */
typedef struct {
    gh_setting *setting;
    fdlog_st *log;
} mod_gatehouse_audit;

/* A request suspended while an off-loop job (a sign-in's code exchange, a token's signature) runs:
 * in r->plugin_ctx and on the plugin's in-flight list until the request resumes or resets. The job
 * knows only its id, never the request; requests presenting the same token wait for the same id. */
enum { GH_JOB_PENDING = 1, GH_JOB_DONE, GH_JOB_TIMEOUT };
typedef struct mod_gatehouse_job {
    struct mod_gatehouse_job *next, *prev;
    request_st *r;
    uint64_t id;
    unix_time64_t deadline;
    int state;
} mod_gatehouse_job;

typedef struct {
    PLUGIN_DATA;
    plugin_config defaults;
    plugin_config conf;
    gh_engine *engine;
    buffer *original; /* scratch: the path the client asked for, when lighttpd serves another */
    /* off-loop jobs: started in worker_init, stopped in cleanup */
    server *srv;
    int wake_fd;              /* eventfd the worker threads write when a job completes; -1: none */
    fdnode *wake_fdn;
    int job_deadline;         /* seconds a suspended request waits at most */
    pid_t pid;                /* the process whose threads run the jobs (worker_init's) */
    mod_gatehouse_job jobs;   /* the in-flight list's head */
} plugin_data;

/* Every directive the module knows, from gatehouse.h's list: index i here is directive i.
 * T_CONFIG_LOCAL: lighttpd leaves the value alone and the module compiles it. */
#define MOD_GATEHOUSE_CPK(id, name, scope) \
    { CONST_STR_LEN(name), T_CONFIG_LOCAL, \
      (scope) == GH_V1_SCOPE_SERVER ? T_CONFIG_SCOPE_SERVER : T_CONFIG_SCOPE_CONNECTION },
static const config_plugin_keys_t cpk[] = {
    GH_V1_DIRECTIVES(MOD_GATEHOUSE_CPK)
    { NULL, 0, T_CONFIG_UNSET, T_CONFIG_SCOPE_UNSET }
};
#undef MOD_GATEHOUSE_CPK
_Static_assert(sizeof(cpk) / sizeof(*cpk) == GH_V1_DIRECTIVE_COUNT + 1, "cpk[] and gatehouse.h disagree");

INIT_FUNC(mod_gatehouse_init) {
    plugin_data * const p = ck_calloc(1, sizeof(plugin_data));
    p->original = buffer_init();
    p->wake_fd = -1;
    p->jobs.next = p->jobs.prev = &p->jobs;
    return p;
}

static void mod_gatehouse_jobs_stop(plugin_data *p);

FREE_FUNC(mod_gatehouse_free) {
    plugin_data * const p = p_d;
    mod_gatehouse_jobs_stop(p);
    buffer_free(p->original);
    if (NULL == p->cvlist) return;
    /* (init i to 0 if global context; to 1 to skip empty global context) */
    for (int i = !p->cvlist[0].v.u2[1], used = p->nconfig; i < used; ++i) {
        config_plugin_value_t *cpv = p->cvlist + p->cvlist[i].v.u2[0];
        for (; -1 != cpv->k_id; ++cpv) {
            if (cpv->vtype != T_CONFIG_LOCAL) continue;
            if (cpv->k_id == GH_V1_AUDIT_LOG) {
                mod_gatehouse_audit * const audit = cpv->v.v;
                gh_v1_setting_free(audit->setting);
                free(audit);
            }
            else
                gh_v1_setting_free(cpv->v.v);
        }
    }
    gh_v1_engine_free(p->engine);
}

static void mod_gatehouse_merge_config_cpv(plugin_config * const pconf, const config_plugin_value_t * const cpv) {
    if (cpv->vtype != T_CONFIG_LOCAL || (uint32_t)cpv->k_id >= GH_V1_DIRECTIVE_COUNT) return;
    if (cpv->k_id == GH_V1_AUDIT_LOG) {
        const mod_gatehouse_audit * const audit = cpv->v.v;
        pconf->v[GH_V1_AUDIT_LOG] = audit->setting;
        pconf->audit = audit->log;
    }
    else
        pconf->v[cpv->k_id] = cpv->v.v;
}

static void mod_gatehouse_merge_config(plugin_config * const pconf, const config_plugin_value_t *cpv) {
    do {
        mod_gatehouse_merge_config_cpv(pconf, cpv);
    } while ((++cpv)->k_id != -1);
}

static void mod_gatehouse_patch_config(request_st * const r, plugin_data * const p) {
    p->conf = p->defaults; /* copy small struct instead of memcpy() */
    for (int i = 1, used = p->nconfig; i < used; ++i) {
        if (config_check_cond(r, (uint32_t)p->cvlist[i].k_id))
            mod_gatehouse_merge_config(&p->conf, p->cvlist + p->cvlist[i].v.u2[0]);
    }
}

/* Logs one line (GatehouseCore escapes control characters: a message is never two lines), tagged
 * "(mod_gatehouse.0)": lighttpd prefixes "(FILE.LINE)", and the module's name says more to an
 * administrator than this file's name and line. */
__attribute_cold__
static void mod_gatehouse_log(log_error_st * const errh, const int kind, const char * const s, const size_t len) {
    log_error(errh, "mod_gatehouse", 0, "%s%.*s", kind == GH_V1_LOG_WARNING ? "WARNING: " : "", (int)len, s);
}

/* Log lines GatehouseCore sends outside a request: loading the configuration, reloading keys (ctx: server). */
__attribute_cold__
static void mod_gatehouse_config_output(void * const ctx, const int kind, const char * const name, const size_t nlen,
                                        const char * const value, const size_t vlen) {
    server * const srv = ctx;
    UNUSED(name);
    UNUSED(nlen);
    mod_gatehouse_log(srv->errh, kind, value, vlen);
}

/* lighttpd only warns about unknown keys, and finds keys in any letter case:
 * a misspelt gatehouse.* key would silently leave a location unguarded, so
 * it stops startup here (GatehouseCore words the message). */
__attribute_cold__
static int mod_gatehouse_check_spelling(server * const srv) {
    int rc = 1;
    for (uint32_t u = 0; u < srv->config_context->used; ++u) {
        const array * const ca = ((const data_config *)srv->config_context->data[u])->value;
        for (uint32_t j = 0; j < ca->used; ++j) {
            const buffer * const k = &ca->data[j]->key;
            if (buffer_clen(k) < sizeof("gatehouse.") - 1
                || !buffer_eq_icase_ssn(k->ptr, CONST_STR_LEN("gatehouse.")))
                continue;
            if (!gh_v1_directive_name_check(BUF_PTR_LEN(k), mod_gatehouse_config_output, srv))
                rc = 0;
        }
    }
    return rc;
}

/* Warns where a directive that decides who gets through sits in a block that
 * holds, or not, by a condition the client decides alone (GatehouseCore
 * judges each condition by its text). A block depends on its own condition,
 * on the earlier branches of its else chain (which must not hold) and on
 * whatever encloses it, in that order; one warning per directive. */
__attribute_cold__
static void mod_gatehouse_check_conditions(server * const srv, const plugin_data * const p) {
    for (int i = 1; i < p->nconfig; ++i) {
        const data_config * const dc =
          (const data_config *)srv->config_context->data[p->cvlist[i].k_id];
        for (const config_plugin_value_t *cpv = p->cvlist + p->cvlist[i].v.u2[0]; -1 != cpv->k_id; ++cpv) {
            int warned = 0;
            for (const data_config *c = dc; c && c->context_ndx && !warned; c = c->parent) {
                for (const data_config *b = c; b && !warned; b = b->prev) {
                    if (b->cond != CONFIG_COND_ELSE && b->comp_key)
                        warned = gh_v1_condition_check(cpv->k_id, b->comp_key, strlen(b->comp_key),
                                                       mod_gatehouse_config_output, srv);
                }
            }
        }
    }
}

/* Hands one directive's value, as lighttpd parsed it, to GatehouseCore to compile (`in_condition`:
 * set inside a condition, where a server-wide directive is refused). */
__attribute_cold__
static gh_setting * mod_gatehouse_compile(server * const srv, plugin_data * const p, const int directive,
                                          const int in_condition, const data_unset * const du) {
    char digits[LI_ITOSTRING_LENGTH];
    gh_v1_entry one = { NULL, 0, "", 0, GH_V1_VALUE_STRING };
    const gh_v1_entry *entries = &one;
    gh_v1_entry *list = NULL;
    size_t count = 1;
    int kind = GH_V1_VALUE_STRING;
    /* (integers become decimal text; list elements are strings or, nested, only marked) */
    char (*numbers)[LI_ITOSTRING_LENGTH] = NULL;

    if (du->type == TYPE_STRING) {
        const buffer * const b = &((const data_string *)du)->value;
        one.value = b->ptr ? b->ptr : "";
        one.value_len = buffer_clen(b);
    }
    else if (du->type == TYPE_INTEGER) {
        kind = one.kind = GH_V1_VALUE_INTEGER;
        one.value = digits;
        one.value_len = li_itostrn(digits, sizeof(digits), ((const data_integer *)du)->value);
    }
    else if (du->type == TYPE_ARRAY) {
        const array * const a = &((const data_array *)du)->value;
        kind = GH_V1_VALUE_ARRAY;
        count = a->used;
        list = ck_calloc(count ? count : 1, sizeof(*list));
        numbers = ck_calloc(count ? count : 1, sizeof(*numbers));
        for (uint32_t i = 0; i < a->used; ++i) {
            const data_unset * const e = a->data[i];
            gh_v1_entry * const x = list + i;
            if (buffer_clen(&e->key)) {
                x->key = e->key.ptr;
                x->key_len = buffer_clen(&e->key);
            }
            x->value = "";
            if (e->type == TYPE_STRING) {
                const buffer * const b = &((const data_string *)e)->value;
                x->kind = GH_V1_VALUE_STRING;
                x->value = b->ptr ? b->ptr : "";
                x->value_len = buffer_clen(b);
            }
            else if (e->type == TYPE_INTEGER) {
                x->kind = GH_V1_VALUE_INTEGER;
                x->value = numbers[i];
                x->value_len = li_itostrn(numbers[i], sizeof(*numbers), ((const data_integer *)e)->value);
            }
            else
                x->kind = GH_V1_VALUE_ARRAY;
        }
        entries = list;
    }
    else {
        kind = GH_V1_VALUE_ARRAY; /* (a nested condition; reported as a bad value) */
        count = 0;
    }

    gh_setting * const s =
      gh_v1_setting_compile(p->engine, directive, in_condition, kind, entries, count,
                            mod_gatehouse_config_output, srv);
    free(list);
    free(numbers);
    return s;
}

/* The settings in force in context `ctx` when only it and its enclosing
 * conditions match: what startup can check for consistency. */
__attribute_cold__
static void mod_gatehouse_context_config(server * const srv, plugin_data * const p, const data_config *dc,
                                         plugin_config * const pconf) {
    if (NULL == dc || 0 == dc->context_ndx) {
        *pconf = p->defaults;
        return;
    }
    mod_gatehouse_context_config(srv, p, dc->parent, pconf);
    for (int i = 1, used = p->nconfig; i < used; ++i) {
        if (p->cvlist[i].k_id == dc->context_ndx)
            mod_gatehouse_merge_config(pconf, p->cvlist + p->cvlist[i].v.u2[0]);
    }
}

/* The audit target of context `upto`'s gatehouse.audit-log: opened once however many contexts name
 * it (the contexts compiled before this one are searched), and not under -tt, like mod_accesslog (a
 * "|command" would start the program). Returns 0 when it cannot be opened. */
__attribute_cold__
static int mod_gatehouse_audit_open(server * const srv, const plugin_data * const p, const int upto,
                                    const data_unset * const du, mod_gatehouse_audit * const audit) {
    audit->log = NULL;
    if (srv->srvconf.preflight_check || du->type != TYPE_STRING) return 1;
    const buffer * const target = &((const data_string *)du)->value;
    for (int i = !p->cvlist[0].v.u2[1]; i < upto; ++i) {
        for (const config_plugin_value_t *cpv = p->cvlist + p->cvlist[i].v.u2[0]; -1 != cpv->k_id; ++cpv) {
            if (cpv->k_id != GH_V1_AUDIT_LOG) continue;
            const mod_gatehouse_audit * const other = cpv->v.v;
            if (other->log && 0 == strcmp(other->log->fn, target->ptr)) {
                audit->log = other->log;
                return 1;
            }
        }
    }
    audit->log = fdlog_open(target->ptr);
    if (NULL == audit->log) {
        log_perror(srv->errh, __FILE__, __LINE__, "gatehouse.audit-log: opening '%s' failed", target->ptr);
        return 0;
    }
    return 1;
}

SETDEFAULTS_FUNC(mod_gatehouse_set_defaults) {
    plugin_data * const p = p_d;
    if (!mod_gatehouse_check_spelling(srv))
        return HANDLER_ERROR;
    if (!config_plugin_values_init(srv, p, cpk, "mod_gatehouse"))
        return HANDLER_ERROR;
    p->engine = gh_v1_engine_new();
    if (NULL == p->engine)
        return HANDLER_ERROR;

    /* config_plugin_values_init() reserved a slot for each gatehouse.* key of
     * each context, but stores nothing for T_CONFIG_LOCAL keys: compile each
     * value into its slot, in cpk[] order, and close each list with -1. */
    int rc = 1;
    for (int i = !p->cvlist[0].v.u2[1]; i < p->nconfig; ++i) {
        const data_config * const dc =
          (const data_config *)srv->config_context->data[p->cvlist[i].k_id];
        config_plugin_value_t *cpv = p->cvlist + p->cvlist[i].v.u2[0];
        for (int k = 0; cpk[k].k; ++k) {
            const data_unset * const du = array_get_element_klen(dc->value, cpk[k].k, cpk[k].klen);
            if (NULL == du) continue;
            gh_setting * const s = mod_gatehouse_compile(srv, p, k, 0 != p->cvlist[i].k_id, du);
            if (NULL == s) {
                rc = 0;
                continue;
            }
            void *v = s;
            if (k == GH_V1_AUDIT_LOG) {
                mod_gatehouse_audit * const audit = ck_malloc(sizeof(*audit));
                audit->setting = s;
                if (!mod_gatehouse_audit_open(srv, p, i, du, audit))
                    rc = 0;
                v = audit;
            }
            cpv->k_id = k;
            cpv->vtype = T_CONFIG_LOCAL;
            cpv->v.v = v;
            ++cpv;
        }
        cpv->k_id = -1;
    }
    if (!rc) return HANDLER_ERROR;
    mod_gatehouse_check_conditions(srv, p);

    /* initialize p->defaults from global config context */
    if (p->nconfig > 0 && p->cvlist->v.u2[1]) {
        const config_plugin_value_t *cpv = p->cvlist + p->cvlist->v.u2[0];
        if (-1 != cpv->k_id)
            mod_gatehouse_merge_config(&p->defaults, cpv);
    }

    /* each context, with what encloses it, must fit together */
    for (int i = 0; i < p->nconfig; ++i) {
        plugin_config pconf;
        mod_gatehouse_context_config(srv, p, (const data_config *)srv->config_context->data[p->cvlist[i].k_id],
                                     &pconf);
        if (!gh_v1_settings_check(p->engine, pconf.v, mod_gatehouse_config_output, srv))
            rc = 0;
    }
    return rc ? HANDLER_GO_ON : HANDLER_ERROR;
}

/* Header names as CGI sees them: letters and digits case-folded, anything else '_'. */
static int mod_gatehouse_same_cgi_name(const char *a, const char *b, const size_t len) {
    for (size_t i = 0; i < len; ++i) {
        const unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        const int xa = light_isalnum(x), ya = light_isalnum(y);
        if (xa != ya || (xa && (x | 0x20) != (y | 0x20))) return 0;
    }
    return 1;
}

/* Whether another header name can read as `name` in CGI: only through a character other than a
 * letter or digit (lighttpd keeps one header for spellings that differ in letter case alone). */
static int mod_gatehouse_has_other_spellings(const char * const name, const size_t nlen) {
    for (size_t i = 0; i < nlen; ++i) {
        if (!light_isalnum((unsigned char)name[i])) return 1;
    }
    return 0;
}

/* Removes the request headers that CGI reads as `name`; `aliases`: only those whose name is
 * not `name` in another letter case. */
static void mod_gatehouse_strip_header(request_st * const r, const char * const name, const size_t nlen,
                                       const int aliases) {
    if (aliases && !mod_gatehouse_has_other_spellings(name, nlen)) return;
    const array * const headers = &r->rqst_headers;
    for (uint32_t i = 0; i < headers->used; ++i) {
        const data_string * const ds = (const data_string *)headers->data[i];
        if (buffer_clen(&ds->key) == nlen && !buffer_is_blank(&ds->value)
            && mod_gatehouse_same_cgi_name(ds->key.ptr, name, nlen)
            && !(aliases && buffer_eq_icase_ssn(ds->key.ptr, name, nlen))) {
            http_header_request_unset(r, ds->ext, BUF_PTR_LEN(&ds->key));
            --i; /* (unset moved the next header into this slot) */
        }
    }
}

/* How many request headers CGI reads as `name` (ctx: the request). */
static size_t mod_gatehouse_header_count(void * const ctx, const char * const name, const size_t nlen) {
    const request_st * const r = ctx;
    if (!mod_gatehouse_has_other_spellings(name, nlen)) { /* (the common case: Authorization) */
        const buffer * const vb = http_header_request_get(r, http_header_hkey_get(name, nlen), name, (uint32_t)nlen);
        return NULL != vb && !buffer_is_blank(vb);
    }
    size_t n = 0;
    for (uint32_t i = 0; i < r->rqst_headers.used; ++i) {
        const data_string * const ds = (const data_string *)r->rqst_headers.data[i];
        n += buffer_clen(&ds->key) == nlen && !buffer_is_blank(&ds->value)
             && mod_gatehouse_same_cgi_name(ds->key.ptr, name, nlen);
    }
    return n;
}

typedef struct {
    request_st *r;
    const plugin_data *p;
    int response_headers; /* set a response header: a refusal then needs a body of its own */
    int body;             /* the module's own answer has a body */
    uint64_t job;         /* GH_V1_JOB: the off-loop job the decision waits for */
} mod_gatehouse_output;

/* Writes one audit line to the context's target (with its newline, in one write: atomic on a pipe). */
static void mod_gatehouse_audit_write(request_st * const r, fdlog_st * const log, const char * const line,
                                      const size_t len) {
    if (NULL == log) return;
    buffer * const b = r->tmp_buf;
    buffer_copy_string_len(b, line, len);
    buffer_append_string_len(b, CONST_STR_LEN("\n"));
    if (write_all(log->fd, BUF_PTR_LEN(b)) < 0)
        log_perror(r->conf.errh, __FILE__, __LINE__, "gatehouse.audit-log: writing to '%s' failed", log->fn);
}

/* Applies what GatehouseCore decided (ctx: mod_gatehouse_output). */
static void mod_gatehouse_request_output(void * const ctx, const int kind, const char * const name, const size_t nlen,
                                         const char * const value, const size_t vlen) {
    mod_gatehouse_output * const out = ctx;
    request_st * const r = out->r;
    switch (kind) {
      case GH_V1_STRIP_REQUEST_HEADER:
      case GH_V1_STRIP_REQUEST_HEADER_ALIASES:
        mod_gatehouse_strip_header(r, name, nlen, kind == GH_V1_STRIP_REQUEST_HEADER_ALIASES);
        break;
      case GH_V1_SET_REQUEST_HEADER:
        http_header_request_set(r, http_header_hkey_get(name, nlen), name, (uint32_t)nlen, value, (uint32_t)vlen);
        break;
      case GH_V1_SET_ENV:
        http_header_env_set(r, name, (uint32_t)nlen, value, (uint32_t)vlen);
        break;
      case GH_V1_SET_RESPONSE_HEADER: {
        const enum http_header_e id = http_header_hkey_get(name, nlen);
        if (id == HTTP_HEADER_SET_COOKIE) /* (each cookie a header of its own) */
            http_header_response_insert(r, id, name, (uint32_t)nlen, value, (uint32_t)vlen);
        else
            http_header_response_set(r, id, name, (uint32_t)nlen, value, (uint32_t)vlen);
        out->response_headers = 1;
        break;
      }
      case GH_V1_JOB:
        out->job = 0;
        for (size_t i = 0; i < vlen && light_isdigit(value[i]); ++i)
            out->job = out->job * 10 + (uint64_t)(value[i] - '0');
        break;
      case GH_V1_AUDIT:
        mod_gatehouse_audit_write(r, out->p->conf.audit, value, vlen);
        break;
      case GH_V1_RESPONSE_BODY:
        http_header_response_set(r, HTTP_HEADER_CONTENT_TYPE, CONST_STR_LEN("Content-Type"), name, (uint32_t)nlen);
        chunkqueue_append_mem(&r->write_queue, value, vlen);
        out->body = 1;
        break;
      default: /* GH_V1_LOG_ERROR, GH_V1_LOG_WARNING, GH_V1_LOG_DEBUG */
        mod_gatehouse_log(r->conf.errh, kind, value, vlen);
        break;
    }
}

/* The module answers: a refusal (GH_V1_REFUSE), or an answer of its own (GH_V1_ANSWER: the status
 * page, a CORS preflight).
 * A refusal is final: the request's error handlers (server.error-handler, -404) and
 * server.error-intercept are turned off for it, so no handler script or backend runs with the
 * refused request's method, target and body (lighttpd re-dispatches errors to them).
 * lighttpd's error pages keep only a 401's WWW-Authenticate: a refusal that carries other
 * headers (a 403's insufficient_scope challenge, a 429's Retry-After) answers with a short body
 * of its own, as the handler of the request. */
__attribute_cold__
static handler_t mod_gatehouse_answer(request_st * const r, const plugin_data * const p, const int outcome,
                                      const int status, const int response_headers, const int body) {
    const int refused = outcome == GH_V1_REFUSE;
    r->http_status = status;
    r->error_handler_saved_status = 0; /* (in a re-dispatch: this status, not the one that started it) */
    r->conf.error_handler = NULL;
    r->conf.error_handler_404 = NULL;
    r->conf.error_intercept = 0;
    if (refused && (status == 401 || !response_headers)) {
        r->handler_module = NULL; /* lighttpd's error page, errorfile-prefix and all */
        return HANDLER_FINISHED;
    }
    r->handler_module = p->self;
    if (refused) {
        buffer * const b = chunkqueue_append_buffer_open(&r->write_queue);
        http_status_append(b, status);
        buffer_append_string_len(b, CONST_STR_LEN("\n"));
        chunkqueue_append_buffer_commit(&r->write_queue);
        http_header_response_set(r, HTTP_HEADER_CONTENT_TYPE, CONST_STR_LEN("Content-Type"),
                                 CONST_STR_LEN("text/plain; charset=utf-8"));
    }
    else if (!body)
        http_response_body_clear(r, 0);
    r->resp_body_finished = 1;
    return HANDLER_FINISHED;
}

static const char * mod_gatehouse_request_header(void * const ctx, const char * const name, const size_t nlen,
                                                 size_t * const vlen) {
    const request_st * const r = ctx;
    const buffer * const vb =
      http_header_request_get(r, http_header_hkey_get(name, nlen), name, (uint32_t)nlen);
    if (NULL == vb || buffer_is_blank(vb)) return NULL; /* (blank: absent or removed) */
    *vlen = buffer_clen(vb);
    return vb->ptr;
}

/* The path the client asked for (r->target_orig), normalised as lighttpd normalised the
 * target it serves, when that differs from the path lighttpd serves (mod_rewrite, mod_magnet or
 * an error handler changed it); NULL otherwise (the common case costs one comparison). */
static const buffer * mod_gatehouse_original_path(request_st * const r, buffer * const b) {
    if (buffer_is_equal(&r->target, &r->target_orig) && 0 == r->error_handler_saved_status)
        return NULL;
    buffer_copy_buffer(b, &r->target_orig);
    if (r->conf.http_parseopts & HTTP_PARSEOPT_URL_NORMALIZE) {
        const int qs = burl_normalize(b, r->tmp_buf, r->conf.http_parseopts);
        if (qs >= 0) buffer_truncate(b, (uint32_t)qs);
    }
    else {
        const char * const q = strpbrk(b->ptr, "?#");
        if (q) buffer_truncate(b, (uint32_t)(q - b->ptr));
    }
    buffer_urldecode_path(b);
    buffer_path_simplify(b);
    return buffer_is_equal(b, &r->uri.path) ? NULL : b;
}

static void mod_gatehouse_job_unlink(mod_gatehouse_job * const j) {
    j->prev->next = j->next;
    j->next->prev = j->prev;
    j->next = j->prev = j;
}

/* Suspends the request until job `id` completes (the design of docs/browser-sign-in.md: the
 * module takes the request's handler, so lighttpd polls only mod_gatehouse_subrequest). */
static handler_t mod_gatehouse_job_wait(request_st * const r, plugin_data * const p, const uint64_t id) {
    mod_gatehouse_job * const j = ck_calloc(1, sizeof(*j));
    j->r = r;
    j->id = id;
    j->state = GH_JOB_PENDING;
    j->deadline = log_monotonic_secs + p->job_deadline;
    j->next = p->jobs.next;
    j->prev = &p->jobs;
    p->jobs.next->prev = j;
    p->jobs.next = j;
    r->plugin_ctx[p->id] = j;
    r->handler_module = p->self;
    return HANDLER_WAIT_FOR_EVENT;
}

/* Hands the request to GatehouseCore and applies its decision; `job`: the off-loop job the request
 * was suspended for, when it resumes (completed, or past its deadline), else 0. */
static handler_t mod_gatehouse_decide(request_st * const r, plugin_data * const p, const uint64_t job) {
    const buffer * const method = http_method_buf(r->http_method);
    const buffer * const ip = &r->con->dst_addr_buf;
    const buffer * const original = mod_gatehouse_original_path(r, p->original);
    /* The clock itself: lighttpd's log_epoch_secs lags by up to a second and time() by up to a
     * tick (CLOCK_REALTIME_COARSE), so a token issued this second would be "from the future". */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    const gh_v1_request req = {
        .method = method->ptr,          .method_len = buffer_clen(method),
        .path = r->uri.path.ptr,        .path_len = buffer_clen(&r->uri.path),
        .original_path = original ? original->ptr : NULL, .original_path_len = original ? buffer_clen(original) : 0,
        .host = r->uri.authority.ptr ? r->uri.authority.ptr : "",
        .host_len = buffer_clen(&r->uri.authority),
        .remote_ip = ip->ptr ? ip->ptr : "", .remote_ip_len = buffer_clen(ip),
        .query = r->uri.query.ptr ? r->uri.query.ptr : "", .query_len = buffer_clen(&r->uri.query),
        .now = (int64_t)now.tv_sec,
        .debug = r->conf.log_request_handling,
        .lowercase_paths = 0 != r->conf.force_lowercase_filenames,
        .header = mod_gatehouse_request_header,
        .header_count = mod_gatehouse_header_count,
        .header_ctx = r,
        .scheme = r->uri.scheme.ptr ? r->uri.scheme.ptr : "http", .scheme_len = r->uri.scheme.ptr ? buffer_clen(&r->uri.scheme) : 4,
        .job = job,
    };
    mod_gatehouse_output out = { r, p, 0, 0, 0 };
    int status = 0;
    const int outcome = gh_v1_decide(p->engine, p->conf.v, &req, &status, mod_gatehouse_request_output, &out);
    if (GH_V1_SUSPEND == outcome) return mod_gatehouse_job_wait(r, p, out.job);
    return GH_V1_PASS == outcome
      ? HANDLER_GO_ON
      : mod_gatehouse_answer(r, p, outcome, status, out.response_headers, out.body);
}

URIHANDLER_FUNC(mod_gatehouse_uri_handler) {
    plugin_data * const p = p_d;
    mod_gatehouse_patch_config(r, p);
    mod_gatehouse_job * const j = r->plugin_ctx[p->id];
    if (j) { /* resumed: its job completed, or its deadline passed */
        const uint64_t job = j->id;
        r->plugin_ctx[p->id] = NULL;
        mod_gatehouse_job_unlink(j);
        free(j);
        return mod_gatehouse_decide(r, p, job);
    }
    if (NULL == p->conf.v[GH_V1_REQUIRE] && NULL == p->conf.v[GH_V1_LOGIN])
        return HANDLER_GO_ON; /* not guarded here */
    return mod_gatehouse_decide(r, p, 0);
}

/* lighttpd polls the handler of a suspended request: it waits until the job is done, then
 * runs the request again from uri_clean (HANDLER_COMEBACK), which answers it. For the module's
 * own finished answers (no job) there is nothing left to do. */
SUBREQUEST_FUNC(mod_gatehouse_subrequest) {
    plugin_data * const p = p_d;
    mod_gatehouse_job * const j = r->plugin_ctx[p->id];
    if (NULL == j) return HANDLER_FINISHED;
    if (j->state == GH_JOB_PENDING) return HANDLER_WAIT_FOR_EVENT;
    r->handler_module = NULL; /* (physical.path is still unset: prepare stopped at uri_clean) */
    return HANDLER_COMEBACK;
}

/* A request that ends while its job runs (the client left, the server stops): the job is
 * discarded (cancelled; its result dropped when it completes). */
REQUEST_FUNC(mod_gatehouse_request_reset) {
    plugin_data * const p = p_d;
    mod_gatehouse_job * const j = r->plugin_ctx[p->id];
    if (NULL == j) return HANDLER_GO_ON;
    r->plugin_ctx[p->id] = NULL;
    mod_gatehouse_job_unlink(j);
    gh_v1_job_discard(p->engine, j->id);
    free(j);
    return HANDLER_GO_ON;
}

/* The worker threads wrote the eventfd: each request whose job completed is scheduled again (every
 * request waiting for the job: those that presented the same token). */
static handler_t mod_gatehouse_wake(void * const ctx, const int revents) {
    plugin_data * const p = ctx;
    uint64_t n, ids[64];
    UNUSED(revents);
    if (read(p->wake_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        log_perror(p->srv->errh, __FILE__, __LINE__, "gatehouse: reading the wake eventfd");
    for (size_t k; (k = gh_v1_pool_drain(p->engine, ids, sizeof(ids) / sizeof(*ids))); ) {
        for (size_t i = 0; i < k; ++i) {
            for (mod_gatehouse_job *j = p->jobs.next; j != &p->jobs; j = j->next) {
                if (j->id != ids[i] || j->state != GH_JOB_PENDING) continue;
                j->state = GH_JOB_DONE; /* (several requests may wait for one job: a session's refresh) */
                joblist_append(j->r->con);
            }
        }
    }
    return HANDLER_GO_ON;
}

/* Each process that serves requests (after lighttpd forks its workers; never under -tt) has its
 * own worker threads (GatehouseCore's JobPool starts them with every signal blocked: lighttpd's
 * handlers run on the main thread). */
SERVER_FUNC(mod_gatehouse_worker_init) {
    plugin_data * const p = p_d;
    if (NULL == p->engine) return HANDLER_GO_ON;
    p->srv = srv;
    p->pid = getpid();
    p->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->wake_fd < 0) {
        log_perror(srv->errh, __FILE__, __LINE__, "gatehouse: eventfd");
        return HANDLER_ERROR;
    }
    p->job_deadline = gh_v1_pool_start(p->engine, p->defaults.v, p->wake_fd, mod_gatehouse_config_output, srv);
    if (p->job_deadline <= 0) {
        close(p->wake_fd);
        p->wake_fd = -1;
        return p->job_deadline < 0 ? HANDLER_ERROR : HANDLER_GO_ON;
    }
    ++srv->cur_fds;
    p->wake_fdn = fdevent_register(srv->ev, p->wake_fd, mod_gatehouse_wake, p);
    fdevent_fdnode_event_set(srv->ev, p->wake_fdn, FDEVENT_IN);
    return HANDLER_GO_ON;
}

/* At cleanup every request has been reset already (connections_free runs first): stop the
 * threads, then close the eventfd. */
static void mod_gatehouse_jobs_stop(plugin_data * const p) {
    if (p->engine) gh_v1_pool_stop(p->engine);
    if (p->wake_fd < 0) return;
    fdevent_fdnode_event_del(p->srv->ev, p->wake_fdn);
    fdevent_unregister(p->srv->ev, p->wake_fdn);
    close(p->wake_fd);
    --p->srv->cur_fds;
    p->wake_fd = -1;
}

/* Once a second: key files that changed are read again (in GatehouseCore). */
TRIGGER_FUNC(mod_gatehouse_trigger) {
    plugin_data * const p = p_d;
    if (p->engine)
        gh_v1_engine_tick(p->engine, mod_gatehouse_config_output, srv);
    /* A suspended request past its deadline is decided again whatever its job still does; so is
     * every one in a child that server.graceful-restart-bg forked to finish the connections in
     * progress: a fork keeps only the forking thread, so no job completes there. */
    const int forked = p->wake_fd >= 0 && p->pid != getpid();
    for (mod_gatehouse_job *j = p->jobs.next; j != &p->jobs; j = j->next) {
        if (j->state == GH_JOB_PENDING && (forked || log_monotonic_secs > j->deadline)) {
            j->state = GH_JOB_TIMEOUT;
            joblist_append(j->r->con);
        }
    }
    return HANDLER_GO_ON;
}

__attribute_cold__
int mod_gatehouse_plugin_init(plugin *p);
int mod_gatehouse_plugin_init(plugin *p) {
    p->version          = LIGHTTPD_VERSION_ID;
    p->name             = "gatehouse";

    p->init             = mod_gatehouse_init;
    p->cleanup          = mod_gatehouse_free;
    p->set_defaults     = mod_gatehouse_set_defaults;
    p->handle_uri_clean = mod_gatehouse_uri_handler;
    p->handle_trigger   = mod_gatehouse_trigger;
    p->handle_subrequest = mod_gatehouse_subrequest;
    p->handle_request_reset = mod_gatehouse_request_reset;
    p->worker_init      = mod_gatehouse_worker_init;

    return 0;
}
