/* config.h for building mod_gatehouse against Debian 12's lighttpd 1.4.69.
 *
 * Pins the choices Debian's autotools build made (debian/rules: --with-pcre2,
 * IPv6, Linux), because these macros change the layout of structs the module
 * touches: HAVE_IPV6 and HAVE_SYS_UN_H (sock_addr, so connection fields move),
 * HAVE_PCRE2_H (data_config, cond_match_t), HAVE_MMAP (chunk),
 * HAVE_SYS_INOTIFY_H (stat_cache_entry). mod_gatehouse.c asserts the offsets
 * it relies on, so a mismatch fails the build instead of corrupting memory.
 *
 * LIGHTTPD_VERSION_ID comes from scripts/build.sh, computed from the installed
 * package's version the way lighttpd's configure does (0x%x%02x%02x:
 * 1.4.69 -> 0x10445); lighttpd refuses to load a module whose id differs. */
#ifndef GATEHOUSE_LIGHTTPD_CONFIG_H
#define GATEHOUSE_LIGHTTPD_CONFIG_H

#ifndef LIGHTTPD_VERSION_ID
#error "LIGHTTPD_VERSION_ID must be defined (scripts/build.sh passes it)"
#endif

#define _GNU_SOURCE 1
#define HAVE_STDINT_H 1
#define HAVE_INTTYPES_H 1
#define HAVE_SYS_TIME_H 1
#define HAVE_CLOCK_GETTIME 1
#define HAVE_LOCALTIME_R 1
#define HAVE_GMTIME_R 1
#define HAVE_TIMEGM 1
#define HAVE_SOCKLEN_T 1
#define HAVE_IPV6 1
#define HAVE_SYS_UN_H 1
#define HAVE_PCRE2_H 1
#define HAVE_MMAP 1
#define HAVE_SYS_INOTIFY_H 1
#define HAVE_XATTR 1

#endif
