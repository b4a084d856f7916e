/* gatehouse.h: the C ABI between mod_gatehouse (lighttpd) and GatehouseCore (Swift).
 *
 * Written by hand and the one source of truth: the shim includes it, and the
 * Swift side implements every function with `@c @implementation`, so the
 * compiler rejects any difference between this file and the Swift code.
 *
 * Rules of the boundary:
 * - every exported name carries the version prefix gh_v1_;
 * - strings cross as (pointer, length) and need no NUL terminator;
 * - no function throws, traps or keeps a pointer it was given beyond the call;
 * - output (headers, environment, log lines) goes through a caller's callback.
 * Who allocates and frees what, and how long it lives: docs/architecture.md, "The C boundary".
 */
#ifndef GATEHOUSE_H
#define GATEHOUSE_H

#include <stddef.h>
#include <stdint.h>

/* Nullability is checked by clang (and by Swift, which imports this header);
 * other compilers see plain pointers. */
#if !defined(__clang__) && !defined(_Nullable)
#define _Nullable
#define _Nonnull
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Key sets and caches, shared by every configuration context of one lighttpd. */
typedef struct gh_engine gh_engine;
/* The compiled value of one gatehouse.* directive in one configuration context. */
typedef struct gh_setting gh_setting;

/* Where a directive may be set. */
enum gh_v1_scope {
    GH_V1_SCOPE_CONTEXT = 0, /* anywhere: the global context or any condition */
    GH_V1_SCOPE_SERVER       /* the global context only: set inside a condition, it stops startup */
};

/* Every directive, the one list of them: X(ID, NAME, SCOPE) generates enum gh_v1_directive
 * (GH_V1_ID), the shim's cpk[] table and gh_v1_directive_name/_scope below. Append only: a
 * directive's number is its place here. What its value compiles to and the Configuration field it
 * fills is its descriptor in Sources/GatehouseCore/Config/Directives.swift (docs/architecture.md,
 * "Adding a directive"). */
#define GH_V1_DIRECTIVES(X) \
    X(ISSUER, "gatehouse.issuer", GH_V1_SCOPE_CONTEXT) \
    X(AUDIENCE, "gatehouse.audience", GH_V1_SCOPE_CONTEXT) \
    X(JWKS, "gatehouse.jwks", GH_V1_SCOPE_CONTEXT) \
    X(ALGORITHMS, "gatehouse.algorithms", GH_V1_SCOPE_CONTEXT) \
    X(LEEWAY, "gatehouse.leeway", GH_V1_SCOPE_CONTEXT) \
    X(MAX_TOKEN_AGE, "gatehouse.max-token-age", GH_V1_SCOPE_CONTEXT) \
    X(TOKEN_TYPE, "gatehouse.token-type", GH_V1_SCOPE_CONTEXT) \
    X(ROLES_CLAIM, "gatehouse.roles-claim", GH_V1_SCOPE_CONTEXT) \
    X(GROUPS_CLAIM, "gatehouse.groups-claim", GH_V1_SCOPE_CONTEXT) \
    X(SCOPE_CLAIM, "gatehouse.scope-claim", GH_V1_SCOPE_CONTEXT) \
    X(REQUIRE, "gatehouse.require", GH_V1_SCOPE_CONTEXT) \
    X(DEFAULT, "gatehouse.default", GH_V1_SCOPE_CONTEXT) \
    X(HEADERS, "gatehouse.headers", GH_V1_SCOPE_CONTEXT) \
    X(STRIP_HEADERS, "gatehouse.strip-headers", GH_V1_SCOPE_CONTEXT) \
    X(ENV, "gatehouse.env", GH_V1_SCOPE_CONTEXT) \
    X(REALM, "gatehouse.realm", GH_V1_SCOPE_CONTEXT) \
    X(HMAC_SECRET_FILE, "gatehouse.hmac-secret-file", GH_V1_SCOPE_CONTEXT) \
    X(CACHE_SIZE, "gatehouse.cache-size", GH_V1_SCOPE_SERVER) \
    X(ROLE_INHERITS, "gatehouse.role-inherits", GH_V1_SCOPE_CONTEXT) \
    X(MODE, "gatehouse.mode", GH_V1_SCOPE_CONTEXT) \
    X(CORS_PREFLIGHT, "gatehouse.cors-preflight", GH_V1_SCOPE_CONTEXT) \
    X(TOKEN_SOURCES, "gatehouse.token-sources", GH_V1_SCOPE_CONTEXT) \
    X(AUDIT_LOG, "gatehouse.audit-log", GH_V1_SCOPE_CONTEXT) \
    X(AUDIT_EVENTS, "gatehouse.audit-events", GH_V1_SCOPE_CONTEXT) \
    X(RATE_LIMIT, "gatehouse.rate-limit", GH_V1_SCOPE_CONTEXT) \
    X(STATUS_URL, "gatehouse.status-url", GH_V1_SCOPE_CONTEXT) \
    X(PATH_CHECKS, "gatehouse.path-checks", GH_V1_SCOPE_CONTEXT) \
    X(LOGIN, "gatehouse.login", GH_V1_SCOPE_CONTEXT) \
    X(CLIENT_ID, "gatehouse.client-id", GH_V1_SCOPE_CONTEXT) \
    X(CLIENT_SECRET_FILE, "gatehouse.client-secret-file", GH_V1_SCOPE_CONTEXT) \
    X(TOKEN_ENDPOINT_AUTH, "gatehouse.token-endpoint-auth", GH_V1_SCOPE_CONTEXT) \
    X(SESSION_KEY_FILE, "gatehouse.session-key-file", GH_V1_SCOPE_CONTEXT) \
    X(PROVIDER_METADATA, "gatehouse.provider-metadata", GH_V1_SCOPE_CONTEXT) \
    X(LOGIN_SCOPES, "gatehouse.login-scopes", GH_V1_SCOPE_CONTEXT) \
    X(CALLBACK_PATH, "gatehouse.callback-path", GH_V1_SCOPE_CONTEXT) \
    X(LOGOUT_PATH, "gatehouse.logout-path", GH_V1_SCOPE_CONTEXT) \
    X(POST_LOGOUT_REDIRECT, "gatehouse.post-logout-redirect", GH_V1_SCOPE_CONTEXT) \
    X(SESSION_LIFETIME, "gatehouse.session-lifetime", GH_V1_SCOPE_CONTEXT) \
    X(SESSION_IDLE_TIMEOUT, "gatehouse.session-idle-timeout", GH_V1_SCOPE_CONTEXT) \
    X(SIGN_IN_WORKERS, "gatehouse.sign-in-workers", GH_V1_SCOPE_SERVER) \
    X(SIGN_IN_TIMEOUT, "gatehouse.sign-in-timeout", GH_V1_SCOPE_SERVER) \
    X(CLAIMS_SCHEMA, "gatehouse.claims-schema", GH_V1_SCOPE_CONTEXT) \
    X(REFRESH_BEFORE, "gatehouse.refresh-before", GH_V1_SCOPE_CONTEXT) \
    X(VERIFY_THREADS, "gatehouse.verify-threads", GH_V1_SCOPE_SERVER) \
    X(VERIFY_QUEUE, "gatehouse.verify-queue", GH_V1_SCOPE_SERVER) \
    /* (a new directive goes above this line) */

#define GH_V1_DIRECTIVE_ENUM(id, name, scope) GH_V1_##id,
enum gh_v1_directive {
    GH_V1_DIRECTIVES(GH_V1_DIRECTIVE_ENUM)
    GH_V1_DIRECTIVE_COUNT
};
#undef GH_V1_DIRECTIVE_ENUM

/* The name of `directive` ("gatehouse.issuer"), NUL-terminated; NULL out of range. */
static inline const char *_Nullable gh_v1_directive_name(int directive) {
#define GH_V1_DIRECTIVE_NAME(id, name, scope) name,
    static const char *const names[] = { GH_V1_DIRECTIVES(GH_V1_DIRECTIVE_NAME) };
#undef GH_V1_DIRECTIVE_NAME
    return directive >= 0 && directive < GH_V1_DIRECTIVE_COUNT ? names[directive] : NULL;
}

/* Where `directive` may be set: an enum gh_v1_scope. */
static inline int gh_v1_directive_scope(int directive) {
#define GH_V1_DIRECTIVE_SCOPE(id, name, scope) scope,
    static const int scopes[] = { GH_V1_DIRECTIVES(GH_V1_DIRECTIVE_SCOPE) };
#undef GH_V1_DIRECTIVE_SCOPE
    return directive >= 0 && directive < GH_V1_DIRECTIVE_COUNT ? scopes[directive] : GH_V1_SCOPE_CONTEXT;
}

/* The shape of a value as lighttpd's configuration parser produced it. */
enum gh_v1_value_kind {
    GH_V1_VALUE_STRING = 0,
    GH_V1_VALUE_INTEGER, /* value holds the decimal digits */
    GH_V1_VALUE_ARRAY    /* a nested list: value is empty */
};

/* One element of a directive's value: the whole value for a string or an
 * integer, one element for a list (key is NULL for "value", set for "key" => "value"). */
typedef struct gh_v1_entry {
    const char *_Nullable key;
    size_t key_len;
    const char *_Nonnull value;
    size_t value_len;
    int kind; /* enum gh_v1_value_kind */
} gh_v1_entry;

/* What the Swift side asks the shim to do, through gh_v1_output_fn. */
enum gh_v1_output_kind {
    GH_V1_STRIP_REQUEST_HEADER = 0, /* remove every request header with this name, compared
                                       the way CGI sees names: case-insensitive, and every
                                       character other than a letter or digit equal to '_' */
    GH_V1_SET_REQUEST_HEADER,
    GH_V1_SET_ENV,
    GH_V1_SET_RESPONSE_HEADER,
    GH_V1_LOG_ERROR,                /* name is empty; value is the message */
    GH_V1_LOG_WARNING,
    GH_V1_LOG_DEBUG,
    GH_V1_LOG_NOTICE,               /* an event worth a line in the error log (a key file reloaded) */
    GH_V1_AUDIT,                    /* name: the gatehouse.audit-log target (the shim writes to the
                                       one it opened for the request's context); value: one line */
    GH_V1_RESPONSE_BODY,            /* the body of the module's own answer (GH_V1_ANSWER): name is
                                       the Content-Type, value the body */
    GH_V1_STRIP_REQUEST_HEADER_ALIASES, /* remove every request header that CGI reads as this name
                                           (compared as for GH_V1_STRIP_REQUEST_HEADER) but whose
                                           name is not this one in another letter case */
    GH_V1_JOB                       /* the decision waits for an off-loop job (GH_V1_SUSPEND): value
                                       is its id in decimal */
};

typedef void (*gh_v1_output_fn)(void *_Nullable ctx, int kind,
                                const char *_Nonnull name, size_t name_len,
                                const char *_Nonnull value, size_t value_len);

/* Looks up a request header by name; NULL when the request has none. */
typedef const char *_Nullable (*gh_v1_header_fn)(void *_Nullable ctx,
                                                 const char *_Nonnull name, size_t name_len,
                                                 size_t *_Nonnull value_len);

/* Counts the request headers that CGI reads as `name` (case-insensitive, and every character
 * other than a letter or digit equal to '_'): 2 for "X-Token" and "X_Token". */
typedef size_t (*gh_v1_header_count_fn)(void *_Nullable ctx, const char *_Nonnull name, size_t name_len);

typedef struct gh_v1_request {
    const char *_Nonnull method;    size_t method_len;
    const char *_Nonnull path;      size_t path_len;   /* normalised: decoded, dot segments removed */
    /* The path the client asked for, normalised the same way, when lighttpd is serving another
     * one for it (a url.rewrite, an error handler re-dispatch); else NULL. */
    const char *_Nullable original_path; size_t original_path_len;
    const char *_Nonnull host;      size_t host_len;
    const char *_Nonnull remote_ip; size_t remote_ip_len;
    const char *_Nonnull query;     size_t query_len;  /* after '?', as the client sent it */
    int64_t now;                    /* Unix time in seconds, read from the clock for this request */
    int debug;                      /* non-zero: explain the decision with GH_V1_LOG_DEBUG lines */
    int lowercase_paths;            /* server.force-lowercase-filenames: paths compare in any case */
    gh_v1_header_fn _Nonnull header;
    gh_v1_header_count_fn _Nonnull header_count;
    void *_Nullable header_ctx;     /* for header and header_count */
    const char *_Nonnull scheme;    size_t scheme_len; /* "http" or "https", as lighttpd serves it */
    uint64_t job;                   /* the off-loop job this request was suspended for (GH_V1_SUSPEND),
                                       when it resumes: completed, or past its deadline; else 0 */
} gh_v1_request;

gh_engine *_Nullable gh_v1_engine_new(void);
void gh_v1_engine_free(gh_engine *_Nullable engine);

/* Once a second (lighttpd's handle_trigger, never on a request): reads again the key files
 * that changed, reporting each reload (GH_V1_LOG_NOTICE) or refused file (GH_V1_LOG_ERROR,
 * the last good keys stay); empties the verified-token cache after a reload. */
void gh_v1_engine_tick(gh_engine *_Nonnull engine, gh_v1_output_fn _Nonnull output, void *_Nullable output_ctx);

/* Compiles the value of one directive, set in the global context or (`in_condition` non-zero)
 * inside a condition, where a server-wide directive (GH_V1_SCOPE_SERVER) is refused. A string or an
 * integer comes as one entry; a list as one entry per element. On error, reports the problem with
 * GH_V1_LOG_ERROR and returns NULL. */
gh_setting *_Nullable gh_v1_setting_compile(gh_engine *_Nonnull engine, int directive, int in_condition,
                                            int kind, /* enum gh_v1_value_kind of the whole value */
                                            const gh_v1_entry *_Nonnull entries, size_t count,
                                            gh_v1_output_fn _Nonnull output, void *_Nullable output_ctx);
void gh_v1_setting_free(gh_setting *_Nullable setting);

/* Checks that the settings in force for one context fit together (rules that
 * need a token have keys, an issuer and an audience). `settings` has
 * GH_V1_DIRECTIVE_COUNT entries, NULL where a directive is unset.
 * Returns 1 when they do; otherwise reports with GH_V1_LOG_ERROR and returns 0. */
int gh_v1_settings_check(gh_engine *_Nonnull engine,
                         const gh_setting *_Nullable const *_Nonnull settings,
                         gh_v1_output_fn _Nonnull output, void *_Nullable output_ctx);

/* What becomes of a request, as gh_v1_decide returns it. */
enum gh_v1_outcome {
    GH_V1_PASS = 0, /* let through, with the request headers and environment sent through `output` */
    GH_V1_ANSWER,   /* the module answers itself with *status (gatehouse.status-url's 200, with its
                       body sent as GH_V1_RESPONSE_BODY; a CORS preflight's 204) */
    GH_V1_REFUSE,   /* refused with *status, final: no handler, backend or error handler may run for
                       the request after it */
    GH_V1_SUSPEND   /* the decision waits for work done off lighttpd's loop (a sign-in callback's code
                       exchange, a session's refresh, a token's signature), whose job id came through
                       GH_V1_JOB: suspend the request; when the id comes out of gh_v1_pool_drain
                       (several requests may wait for one id: the same session, the same token), or
                       the request's deadline passes, decide it again with that id in
                       gh_v1_request.job */
};

/* Decides one request. Returns an enum gh_v1_outcome and, for GH_V1_ANSWER and GH_V1_REFUSE, stores
 * the HTTP status in *status; headers, environment, the audit line and log lines come through
 * `output` before it returns. Log lines never hold a control character (each is one line). */
int gh_v1_decide(gh_engine *_Nonnull engine,
                 const gh_setting *_Nullable const *_Nonnull settings,
                 const gh_v1_request *_Nonnull request, int *_Nonnull status,
                 gh_v1_output_fn _Nonnull output, void *_Nullable output_ctx);

/* Off-loop jobs (docs/browser-sign-in.md, "How it works"; docs/architecture.md, "Signatures off the
 * event loop"): worker threads per lighttpd process that serves requests, started after lighttpd
 * forks (worker_init) and stopped before the settings are freed (cleanup). Every function here runs
 * on lighttpd's main thread; the workers call nothing of lighttpd's, and write 8 bytes to `wake_fd`
 * (an eventfd) each time a job completes.
 * Starts the sign-in pool when some context signs people in, and the verify threads when some
 * context has keys and gatehouse.verify-threads is not 0. `settings`: the server-wide settings.
 * Returns the seconds after which a suspended request is decided again whatever its job does (a
 * callback or a token's signature is answered 504, a refreshing session goes on as it was); 0 when
 * no pool is needed; -1 on error (reported with GH_V1_LOG_ERROR). */
int gh_v1_pool_start(gh_engine *_Nonnull engine, const gh_setting *_Nullable const *_Nonnull settings, int wake_fd,
                     gh_v1_output_fn _Nonnull output, void *_Nullable output_ctx);
/* Writes the ids of up to `max` jobs completed since the last call; returns how many. */
size_t gh_v1_pool_drain(gh_engine *_Nonnull engine, uint64_t *_Nonnull ids, size_t max);
/* A request waiting for job `id` is gone or was answered (504): when no other request waits for
 * it, the job is cancelled and its result dropped. */
void gh_v1_job_discard(gh_engine *_Nonnull engine, uint64_t id);
/* Stops the pool: aborts what runs, joins the threads. Idempotent. */
void gh_v1_pool_stop(gh_engine *_Nonnull engine);

/* Checks a configuration key that starts with "gatehouse." in any letter case (lighttpd finds keys
 * in any letter case). Returns 1 for a directive as written; otherwise reports the key with
 * GH_V1_LOG_ERROR, naming the directive meant when one is close, and returns 0. */
int gh_v1_directive_name_check(const char *_Nonnull name, size_t name_len,
                               gh_v1_output_fn _Nonnull output, void *_Nullable output_ctx);

/* For `directive`, set in a block that holds only when `condition` (as lighttpd prints it:
 * `$HTTP["host"] == "x"`) holds, or only when it does not: when the client alone decides that
 * condition and the directive decides who gets through, warns with GH_V1_LOG_WARNING and returns 1;
 * otherwise returns 0. */
int gh_v1_condition_check(int directive, const char *_Nonnull condition, size_t condition_len,
                          gh_v1_output_fn _Nonnull output, void *_Nullable output_ctx);

#ifdef __cplusplus
}
#endif

#endif
