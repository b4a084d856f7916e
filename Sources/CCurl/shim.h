/* libcurl for GatehouseCore's off-loop jobs (Sources/GatehouseCore/OffLoop).
 *
 * Swift cannot call curl_easy_setopt (it is variadic), so the one call the core makes, a POST
 * with a form body, is written here in C: static inline, compiled into the Swift object that
 * calls it. It runs on a worker thread only, never on lighttpd's event loop. */
#ifndef GATEHOUSE_CCURL_SHIM_H
#define GATEHOUSE_CCURL_SHIM_H

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef struct gh_curl_response {
    char *body;         /* malloc'd, NUL-terminated; free with free() */
    size_t length;
    size_t limit;       /* the most bytes accepted */
    long status;        /* the HTTP status, 0 when none came */
    int code;           /* CURLcode */
    int too_large;
    char error[CURL_ERROR_SIZE];
    const int *cancelled; /* non-zero (set with gh_flag_set): abort the transfer */
} gh_curl_response;

static inline size_t gh_curl_write(char *data, size_t size, size_t count, void *ctx) {
    gh_curl_response *const r = ctx;
    const size_t n = size * count;
    if (r->length + n > r->limit) { r->too_large = 1; return 0; }
    char *const grown = realloc(r->body, r->length + n + 1);
    if (grown == NULL) return 0;
    r->body = grown;
    memcpy(r->body + r->length, data, n);
    r->length += n;
    r->body[r->length] = '\0';
    return n;
}

static inline int gh_curl_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
    (void)dt; (void)dn; (void)ut; (void)un;
    const gh_curl_response *const r = ctx;
    return r->cancelled != NULL && __atomic_load_n(r->cancelled, __ATOMIC_RELAXED) ? 1 : 0;
}

/* Sockets close-on-exec: a CGI that lighttpd forks meanwhile does not inherit them. */
static inline curl_socket_t gh_curl_open_socket(void *ctx, curlsocktype purpose, struct curl_sockaddr *a) {
    (void)ctx; (void)purpose;
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* A flag one thread sets and another reads (a job's cancellation). */
static inline void gh_flag_set(int *flag) { __atomic_store_n(flag, 1, __ATOMIC_RELAXED); }
static inline int gh_flag_get(const int *flag) { return __atomic_load_n(flag, __ATOMIC_RELAXED); }

static inline void gh_curl_global_init(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* POSTs `body` (application/x-www-form-urlencoded) to `url`; `authorization` (may be NULL) is a
 * whole header line. No redirect is followed; http and https only (the caller checked the
 * endpoint when the configuration loaded). Fills *r; returns r->code. */
static inline int gh_curl_post_form(const char *url, const char *body, const char *authorization,
                                    long connect_ms, long total_ms, gh_curl_response *r) {
    CURL *const h = curl_easy_init();
    if (h == NULL) { r->code = CURLE_FAILED_INIT; strcpy(r->error, "curl_easy_init failed"); return r->code; }
    struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
    headers = curl_slist_append(headers, "Content-Type: application/x-www-form-urlencoded");
    if (authorization != NULL) headers = curl_slist_append(headers, authorization);
    r->error[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total_ms);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "gatehouse");
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->error);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, gh_curl_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, gh_curl_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, r);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, gh_curl_open_socket);
    r->code = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    if (r->code != CURLE_OK && r->error[0] == '\0')
        strncpy(r->error, curl_easy_strerror((CURLcode)r->code), sizeof(r->error) - 1);
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    return r->code;
}

static const int GH_CURLE_OPERATION_TIMEDOUT = CURLE_OPERATION_TIMEDOUT;
static const int GH_CURLE_ABORTED_BY_CALLBACK = CURLE_ABORTED_BY_CALLBACK;

#endif
